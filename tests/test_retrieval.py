"""Retrieval bank (core.inverse.retrieval), its builder (train.build_retrieval) and the ranked first guess."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from core.inverse.retrieval import (
    DEFAULT_BANK,
    BankError,
    RetrievalBank,
    load_bank,
    query_feature,
    scene_features,
    view_for,
)
from core.params import sample_params, validate
from core.params.sampling import sample_one
from core.render import render
from train import build_retrieval

SEED = 4242


@pytest.fixture(scope="module")
def tiny_bank(tmp_path_factory: pytest.TempPathFactory) -> tuple[RetrievalBank, Path]:
    """A 2-chunk bank of 24 weighted scenes, built by the real builder."""
    work = tmp_path_factory.mktemp("bank")
    out = work / "bank.npz"
    args = ["--n", "24", "--chunk", "12", "--seed", str(SEED), "--components", "16", "--workers", "1"]
    assert build_retrieval.main([*args, "--out", str(out), "--work-dir", str(work / "chunks")]) == 0
    return load_bank(out), out


def test_sample_one_is_the_batch_member() -> None:
    batch = sample_params(30, 77, "weighted", n_layers=0)
    assert all(sample_one(77, i, "weighted", n_layers=0) == batch[i] for i in range(30))
    with pytest.raises(ValueError, match="stratified"):
        sample_one(77, 0, "stratified")


def test_bank_finds_its_own_scenes_at_both_aspects(tiny_bank: tuple[RetrievalBank, Path]) -> None:
    bank, _ = tiny_bank
    assert 0 < len(bank) <= 24
    hits = 0
    for i in range(len(bank)):
        seed, index = bank.key(i)
        params = bank.params_of(i)
        assert params == sample_one(seed, index, "weighted", n_layers=0)
        wide = bank.neighbours(render(params, 320, 180, quality="fast"), k=1)
        square = bank.neighbours(render(params, 200, 200, quality="fast"), k=1)
        hits += (wide[0].key == (seed, index)) + (square[0].key == (seed, index))
    # the same scene at another size should nearly always be its own nearest neighbour
    assert hits >= 0.9 * 2 * len(bank)


def test_neighbours_are_ranked_and_valid(tiny_bank: tuple[RetrievalBank, Path]) -> None:
    bank, _ = tiny_bank
    found = bank.neighbours(render(bank.params_of(0), 256, 144, quality="fast"), k=5)
    sims = [n.similarity for n in found]
    assert len(found) == min(5, len(bank)) and sims == sorted(sims, reverse=True)
    assert all(validate(n.params) for n in found)


def test_black_target_has_no_neighbours(tiny_bank: tuple[RetrievalBank, Path]) -> None:
    bank, _ = tiny_bank
    assert bank.neighbours(np.zeros((90, 160, 3), np.uint8)) == []


def test_tall_target_is_matched_by_its_central_band() -> None:
    """A render taller than square shows the same scene as a square render plus more above and below."""
    checked = 0
    for params in sample_params(12, 5, "weighted", n_layers=0):
        expected = scene_features(render(params, 64, 64, quality="fast"))["square"]
        if expected is None:  # a black scene: nothing to compare
            continue
        view, feature = query_feature(render(params, 64, 128, quality="fast"))
        assert view == "square" and feature is not None
        assert float(feature @ expected) > 0.97
        checked += 1
    assert checked >= 3
    assert view_for(1652, 919) == "wide" and view_for(1024, 1024) == "square"


def test_builder_resumes_and_refuses_other_options(tiny_bank: tuple[RetrievalBank, Path], capsys) -> None:
    _, out = tiny_bank
    work = out.parent / "chunks"
    stamps = {p.name: p.stat().st_mtime_ns for p in work.glob("chunk-*.npz")}
    args = ["--n", "24", "--chunk", "12", "--seed", str(SEED), "--components", "16", "--workers", "1"]
    with pytest.raises(SystemExit) as refused:  # a trial run replaced the shipped bank (an audit)
        build_retrieval.main([*args, "--out", str(out), "--work-dir", str(work)])
    assert refused.value.code == 2 and "exists: --overwrite replaces it" in capsys.readouterr().err
    args.append("--overwrite")
    assert build_retrieval.main([*args, "--out", str(out), "--work-dir", str(work)]) == 0
    assert {p.name: p.stat().st_mtime_ns for p in work.glob("chunk-*.npz")} == stamps  # nothing re-rendered
    with pytest.raises(SystemExit, match=r"other options \(seed 4242 there, 1500000 here\)"):
        build_retrieval.main(
            ["--n", "30", "--chunk", "12", "--out", str(out), "--work-dir", str(work), "--overwrite"]
        )
    for seed, words in ((1_000_000, "range of generate_data shards"), (10_000_000, "range of evaluation")):
        with pytest.raises(SystemExit):  # a bank holding the evaluation's scenes would retrieve them
            build_retrieval.main([*args[:-1], "--seed", str(seed), "--out", str(out.parent / "x.npz")])
        assert words in capsys.readouterr().err
    assert not (out.parent / "x.npz").exists()
    (work / "config.json").write_text("{broken")
    with pytest.raises(SystemExit, match="not a chunk record"):
        build_retrieval.main([*args, "--out", str(out), "--work-dir", str(work)])


def test_builder_grows_and_shrinks_n_in_one_work_dir_rendering_only_what_is_new(tmp_path: Path) -> None:
    """A grown --n used to be refused ("other options"), so a bigger bank rendered everything again."""
    work = tmp_path / "chunks"

    def build(n: int, where: Path) -> RetrievalBank:
        args = ["--n", str(n), "--chunk", "4", "--seed", str(SEED), "--components", "4", "--workers", "1"]
        out = tmp_path / f"bank-{n}-{where.name}.npz"
        assert build_retrieval.main([*args, "--out", str(out), "--work-dir", str(where)]) == 0
        return load_bank(out)

    build(10, work)  # chunks of 4, 4 and 2 scenes
    stamps = {p.name: p.stat().st_mtime_ns for p in work.glob("chunk-*.npz")}
    grown = build(14, work)
    now = {p.name: p.stat().st_mtime_ns for p in work.glob("chunk-*.npz")}
    assert [name for name in sorted(now) if stamps.get(name) != now[name]] == [
        "chunk-00002.npz",
        "chunk-00003.npz",
    ]
    assert np.array_equal(grown.keys, build(14, tmp_path / "fresh14").keys)
    shrunk = build(6, work)  # a prefix of each chunk: nothing rendered
    assert {p.name: p.stat().st_mtime_ns for p in work.glob("chunk-*.npz")} == now
    assert np.array_equal(shrunk.keys, build(6, tmp_path / "fresh6").keys)
    assert json.loads((work / "config.json").read_text())["n"] == 6


def test_chunks_written_before_they_held_their_count_are_read_by_their_records_n(tmp_path: Path) -> None:
    work = tmp_path / "chunks"
    args = [
        "--chunk",
        "4",
        "--seed",
        str(SEED),
        "--components",
        "4",
        "--workers",
        "1",
        "--work-dir",
        str(work),
    ]
    assert build_retrieval.main(["--n", "10", *args, "--out", str(tmp_path / "a.npz")]) == 0
    for path in work.glob("chunk-*.npz"):  # as the builder wrote them before: no count
        with np.load(path) as part:
            arrays = {name: part[name] for name in part.files if name != "count"}
        np.savez(path, **arrays)
    stamps = {p.name: p.stat().st_mtime_ns for p in work.glob("chunk-*.npz")}
    assert build_retrieval.main(["--n", "12", *args, "--out", str(tmp_path / "b.npz")]) == 0
    now = {p.name: p.stat().st_mtime_ns for p in work.glob("chunk-*.npz")}
    assert [name for name in sorted(now) if stamps[name] != now[name]] == ["chunk-00002.npz"]  # 2 → 4 scenes


def test_builder_checks_where_it_writes_before_rendering(tmp_path: Path, capsys) -> None:
    (tmp_path / "file").write_text("x")
    for flags, words in (
        (["--work-dir", str(tmp_path / "file")], "--work-dir: "),
        (["--out", str(tmp_path)], "--out: "),  # a folder: used to fail after all the renders and the PCA
    ):
        with pytest.raises(SystemExit):
            build_retrieval.main(["--n", "4", "--chunk", "2", "--workers", "1", *flags])
        assert words in capsys.readouterr().err
    assert not list(tmp_path.glob("chunk-*"))


def test_missing_or_broken_bank_says_how_to_build(tmp_path: Path) -> None:
    with pytest.raises(BankError, match="build_retrieval"):
        load_bank(tmp_path / "absent.npz")
    broken = tmp_path / "broken.npz"
    broken.write_bytes(b"not a bank")
    with pytest.raises(BankError, match=r"is not a retrieval bank \(an .npz"):  # was "pickled data"
        load_bank(broken)
    cut = tmp_path / "cut.npz"
    cut.write_bytes(b"PK\x03\x04" + b"\0" * 40)  # a zip cut short
    with pytest.raises(BankError, match="cannot read"):
        load_bank(cut)


def test_shipped_bank_loads() -> None:
    if not DEFAULT_BANK.exists():
        pytest.skip(f"{DEFAULT_BANK} is not built (python -m train.build_retrieval)")
    bank = load_bank()
    assert len(bank) > 10_000 and bank.config["version"] == 1
    assert json.loads(json.dumps(bank.config))["mode"] == "weighted"


def test_guess_ranks_cnn_and_bank_by_rendering(tiny_bank: tuple[RetrievalBank, Path]) -> None:
    from core.inverse import load_model
    from core.inverse.guess import guess

    bank, _ = tiny_bank
    target = render(bank.params_of(1), 192, 108, quality="exact")
    first = guess(load_model(), target, bank, k_neighbours=6)
    assert first.params == first.starts[0]
    assert first.losses == sorted(first.losses)
    assert any(s == "cnn" for s in first.sources) and any(s.startswith("bank") for s in first.sources)
    # the target's own scene is in the bank, so a bank guess should win
    assert first.sources[0].startswith("bank")
    assert first.to_dict()["source"] == first.sources[0]
    # the best guesses were also tried in each symmetry and moved onto the target's light
    for variant in (
        "+ 180° rotation",
        "+ mirror top-bottom",
        "+ no copy",
        "+ shifted",
        "+ turned",
        "+ zoomed",
    ):
        assert any(variant in s for s in first.sources), variant


def test_race_keeps_the_best_and_the_cnn() -> None:
    from core.inverse.guess import Guess
    from core.inverse.predict import Prediction

    starts = [{"geometry": g} for g in ("ring", "bar", "arch", "wave", "u")]
    sources = ["bank 1/1 (similarity 0.90)", "bank 1/2 (similarity 0.80)", "bank 1/3", "bank 1/4", "cnn"]
    g = Guess(starts, [0.1, 0.2, 0.3, 0.4, 0.5], sources, Prediction(starts[4]))
    assert g.race(3) == [starts[0], starts[4], starts[1]]
    assert g.race(1) == [starts[0]]
    solo = Guess([starts[4]], [0.5], ["cnn"], Prediction(starts[4]))
    assert solo.race(4) == [starts[4]]
    # a scene's variants are near-twins: one start per scene first, the twins only to fill up
    twins = [
        "bank 1/1 (similarity 0.90)",
        "bank 1/1 (similarity 0.90) + shifted",
        "cnn",
        "bank 1/4 + no copy",
    ]
    g = Guess(starts[:4], [0.1, 0.2, 0.3, 0.4], twins, Prediction(starts[2]))
    assert g.race(3) == [starts[0], starts[2], starts[3]]
    assert g.race(4) == [starts[0], starts[2], starts[3], starts[1]]
