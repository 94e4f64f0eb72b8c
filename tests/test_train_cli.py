"""Headless scripts end to end on tiny data: generate (and resume), train two steps, evaluate, validate."""

from __future__ import annotations

import json
import os
import re
import signal
import threading
from pathlib import Path

import numpy as np
import pytest
import torch

from core.imageio import save_png
from core.inverse import BOOLEANS, CATEGORICALS, CONTINUOUS_NAMES, InverseModel, ModelConfig, save_checkpoint
from core.params import decode
from core.render import render
from train import evaluate, generate_data, train_inverse, validate
from train.augment import AugmentConfig, augment, letterbox
from train.data import ShardDataset
from train.losses import continuous_weights, head_losses
from train.seeds import EVAL_BASE, check_eval_seed
from train.shards import ShardError, list_shards, read_shard

os.environ.setdefault("HF_HUB_OFFLINE", "1")
TINY = ["--backbone", "test_resnet", "--no-pretrained", "--input-size", "32"]


@pytest.fixture(scope="module")
def shards(tmp_path_factory):
    out = tmp_path_factory.mktemp("shards")
    args = ["--out", str(out), "--n", "6", "--shard-size", "4", "--size", "32", "--quality", "draft"]
    assert generate_data.main(args) == 0
    return out, args


def test_generate_writes_shards_and_resumes(shards, capsys):
    out, args = shards
    assert [p.name for p in list_shards(out)] == ["shard-00000.tar", "shard-00001.tar"]
    samples = [s for p in list_shards(out) for s in read_shard(p)]
    assert len(samples) == 6
    _key, _png, record = samples[5]
    assert record["seed"] == 1_000_001 and record["index"] == 1 and record["params"]["layers"] == []
    first = (out / "shard-00000.tar").stat().st_mtime_ns
    (out / "shard-00001.tar").unlink()  # an interrupted run: the second shard never landed
    capsys.readouterr()
    assert generate_data.main(args) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["shards_skipped"] == 1 and summary["images_rendered"] == 2
    assert (out / "shard-00000.tar").stat().st_mtime_ns == first
    assert [s[2] for s in read_shard(out / "shard-00001.tar")] == [s[2] for s in samples[4:]]
    with pytest.raises(SystemExit, match=r"other settings \(size 32 there, 48 here\)"):
        generate_data.main([*args[:-4], "--size", "48", "--quality", "draft"])


@pytest.mark.parametrize(
    "bad",
    [
        ["--size", "100000"],
        ["--n-layers", "5-2"],
        ["--seed", "-1"],
        ["--seed", "10000000"],  # the evaluation's own scenes (train/seeds.py)
        ["--renderer", "notaurl"],
    ],
)
def test_bad_generate_settings_are_refused_before_the_manifest(tmp_path, bad):
    """Each used to fail in the first shard, after manifest.json was written: every later run on that
    folder, settings corrected, was refused as 'generated with other settings'."""
    args = ["--out", str(tmp_path / "gd"), "--n", "4", "--size", "16", "--quality", "draft"]
    with pytest.raises(SystemExit) as refused:
        generate_data.main([*args, *bad])
    assert refused.value.code == 2  # a refusal, not a crash
    assert not (tmp_path / "gd" / "manifest.json").exists()
    assert generate_data.main(args) == 0


def test_a_larger_n_refills_the_shard_a_smaller_one_left_short(tmp_path, capsys):
    base = ["--out", str(tmp_path), "--shard-size", "5", "--size", "16", "--quality", "draft"]
    assert generate_data.main([*base, "--n", "3"]) == 0
    assert generate_data.main([*base, "--n", "8"]) == 0
    counts = [sum(1 for _ in read_shard(p)) for p in list_shards(tmp_path)]
    assert counts == [5, 3]  # shard 0 used to keep its 3 under a manifest of 8
    assert json.loads((tmp_path / "manifest.json").read_text())["n"] == 8
    assert len(ShardDataset([tmp_path], 16, None, limit=4)) == 4  # the limit used to take one per later shard


@pytest.mark.parametrize(
    ("flags", "words"),
    [
        (["--shard", "1"], "expected i/n"),
        (["--shard", "2/2"], "need 0 ≤ i < n"),
        (["--n-layers", "x"], '"lo-hi" or "sampler"'),
        (["--shard-size", "0"], "at least 1"),
        (["--n", "-5"], "at least 1"),
        (["--size", "0"], "must be 1 to 8192 px"),
    ],
)
def test_generate_refuses_bad_settings_in_one_line(tmp_path, capsys, flags, words):
    with pytest.raises(SystemExit):
        generate_data.main(["--out", str(tmp_path / "d"), "--n", "2", *flags])
    assert words in capsys.readouterr().err and not (tmp_path / "d").exists()


def test_generate_refuses_a_file_or_a_broken_manifest_as_out(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(SystemExit, match="is a file, not a folder"):
        generate_data.main(["--out", str(tmp_path / "file"), "--n", "2"])
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "manifest.json").write_text("{broken")
    with pytest.raises(SystemExit, match="is not a manifest"):
        generate_data.main(["--out", str(tmp_path / "d"), "--n", "2"])


def test_shard_slices_partition_the_work(tmp_path):
    base = ["--n", "6", "--shard-size", "2", "--size", "16", "--quality", "draft"]
    generate_data.main(["--out", str(tmp_path), *base, "--shard", "1/2", "--plan-layout"])
    assert [p.name for p in list_shards(tmp_path)] == ["shard-00001.tar"]
    assert sorted(p.name for p in (tmp_path / "images").iterdir()) == ["000002.png", "000003.png"]


def test_two_step_training_smoke(shards, tmp_path):
    out, _ = shards
    run = tmp_path / "run"
    args = ["--data", str(out), *TINY, "--epochs", "1", "--max-steps", "2", "--batch-size", "2"]
    args += ["--n-val", "4", "--workers", "0", "--out", str(run), "--warmup-steps", "1"]
    assert train_inverse.main(args) == 0
    record = json.loads((run / "history.jsonl").read_text().splitlines()[-1])
    assert record["step"] == 2
    assert set(record["val"]["accuracy"]) >= {"geometry", "origin", "positionCoupled"}
    assert np.isfinite(record["val"]["loss"]["total"])
    assert (run / "best.pt").exists() and (run / "last.pt").exists()
    # resume continues the step count from last.pt
    resumed = [*args, "--epochs", "2", "--max-steps", "3", "--resume", str(run / "last.pt")]
    assert train_inverse.main(resumed) == 0
    assert json.loads((run / "history.jsonl").read_text().splitlines()[-1])["step"] == 3


def test_a_resume_that_validates_no_better_says_export_was_not_written(shards, tmp_path, monkeypatch, capsys):
    """--export is written when an epoch beats the run's best; a resumed run that never did exited 0 without
    a word, and the file the user asked for did not exist (an audit)."""
    out, _ = shards
    run = tmp_path / "run"
    args = [
        "--data",
        str(out),
        *TINY,
        "--batch-size",
        "2",
        "--n-val",
        "4",
        "--workers",
        "0",
        "--out",
        str(run),
    ]
    assert train_inverse.main([*args, "--epochs", "1", "--max-steps", "1"]) == 0
    real = train_inverse.validate

    def worse(*a, **k):
        report = real(*a, **k)
        report["loss"]["total"] = 1e9
        return report

    monkeypatch.setattr(train_inverse, "validate", worse)
    exported = tmp_path / "inv.pt"
    resumed = [*args, "--epochs", "2", "--max-steps", "2", "--resume", str(run / "last.pt")]
    assert train_inverse.main([*resumed, "--export", str(exported)]) == 0
    assert not exported.exists()
    assert f"--export {exported} not written: no epoch of this run validated below" in capsys.readouterr().err


def ctrl_c_in_step(step: int):
    """head_losses that sends this process a real SIGINT during training step `step` (1-based)."""
    calls = []

    def losses_then_ctrl_c(*args, **kwargs):
        calls.append(1)
        if len(calls) == step:
            os.kill(os.getpid(), signal.SIGINT)
        return head_losses(*args, **kwargs)

    return losses_then_ctrl_c


def test_ctrl_c_in_training_validates_and_saves_the_epoch_so_far(shards, tmp_path, monkeypatch, capsys):
    """Ctrl-C used to end the run in a traceback and lose the epoch (checkpoints come at its end)."""
    out, _ = shards
    run = tmp_path / "run"
    monkeypatch.setattr(train_inverse, "head_losses", ctrl_c_in_step(2))
    args = ["--data", str(out), *TINY, "--epochs", "3", "--batch-size", "2", "--n-val", "2", "--workers", "0"]
    args += ["--out", str(run), "--warmup-steps", "1"]
    assert train_inverse.main(args) == 130
    record = json.loads((run / "history.jsonl").read_text().splitlines()[-1])
    assert (record["epoch"], record["step"]) == (1, 2)  # the epoch ended after the step Ctrl-C fell in
    assert record["cut_short"] is True  # 2 of its 3 steps
    assert (run / "last.pt").exists() and (run / "best.pt").exists()
    err = capsys.readouterr().err
    assert "stopping the training" in err and f"--resume {run / 'last.pt'}` continues" in err
    assert "(epoch 1 is redone from its start)" in err
    monkeypatch.setattr(train_inverse, "head_losses", head_losses)
    # the cut epoch is redone whole (it used to count as done: a resume skipped its last step and the
    # cosine schedule never reached its end)
    assert train_inverse.main([*args, "--resume", str(run / "last.pt"), "--max-steps", "3"]) == 0
    resumed = json.loads((run / "history.jsonl").read_text().splitlines()[-1])
    assert (resumed["epoch"], resumed["step"], "cut_short" in resumed) == (1, 3, False)


def test_ctrl_c_in_an_epochs_last_step_says_the_epoch_ended(shards, tmp_path, monkeypatch, capsys):
    """It used to say "interrupted in epoch 2" of a run whose epoch 1 had just finished whole."""
    out, _ = shards
    run = tmp_path / "run"
    monkeypatch.setattr(train_inverse, "head_losses", ctrl_c_in_step(3))  # the epoch's third and last
    args = ["--data", str(out), *TINY, "--epochs", "3", "--batch-size", "2", "--n-val", "2", "--workers", "0"]
    assert train_inverse.main([*args, "--out", str(run), "--warmup-steps", "1"]) == 130
    record = json.loads((run / "history.jsonl").read_text().splitlines()[-1])
    assert (record["epoch"], record["step"], "cut_short" in record) == (1, 3, False)
    err = capsys.readouterr().err
    assert "interrupted after epoch 1:" in err and "redone" not in err


def test_training_refuses_what_would_train_nothing_or_resume_wrongly(shards, tmp_path, capsys):
    out, _ = shards
    run = tmp_path / "run"
    args = ["--data", str(out), *TINY, "--epochs", "1", "--n-val", "2", "--workers", "0", "--out", str(run)]
    # a batch larger than the data made no step and still wrote an untrained best.pt
    with pytest.raises(SystemExit, match=r"--batch-size 64 is more than the 6 training samples"):
        train_inverse.main([*args, "--batch-size", "64"])
    assert not (run / "best.pt").exists()
    assert train_inverse.main([*args, "--batch-size", "2", "--max-steps", "1"]) == 0
    with pytest.raises(SystemExit, match=r"has done 1 epochs of --epochs 1: give a larger --epochs"):
        train_inverse.main([*args, "--batch-size", "2", "--resume", str(run / "last.pt")])
    with pytest.raises(SystemExit, match=r"no optimiser state .*--resume takes a run's last.pt"):
        train_inverse.main([*args, "--epochs", "2", "--resume", str(run / "best.pt")])
    (tmp_path / "bad.pt").write_text("not a checkpoint")
    with pytest.raises(SystemExit, match=r"^error: .*bad.pt could not be read as a checkpoint"):
        train_inverse.main([*args, "--resume", str(tmp_path / "bad.pt")])
    # a new run in the same --out replaced the earlier run's best.pt, by a worse one as often as not
    with pytest.raises(SystemExit, match=r"holds an earlier run \(last.pt, best.pt, history.jsonl\)"):
        train_inverse.main([*args, "--batch-size", "2", "--max-steps", "1"])
    with pytest.raises(SystemExit, match=r"--input-size 64 \(the checkpoint's: 32\)"):  # it trained at 64
        train_inverse.main([*args, "--epochs", "2", "--resume", str(run / "last.pt"), "--input-size", "64"])
    with pytest.raises(SystemExit) as both:
        train_inverse.main([*args, "--resume", str(run / "last.pt"), "--overwrite"])
    assert both.value.code == 2 and "not allowed with argument --resume" in capsys.readouterr().err
    assert train_inverse.main([*args, "--batch-size", "2", "--max-steps", "1", "--overwrite"]) == 0
    assert len((run / "history.jsonl").read_text().splitlines()) == 1  # the earlier run's history is gone
    for flag, value in (("--epochs", "0"), ("--batch-size", "1")):  # argparse: at least 1; 2 (batch norm)
        with pytest.raises(SystemExit):
            train_inverse.main([*args, flag, value])


def test_an_epoch_ends_early_when_ctrl_c_killed_the_loader_workers():
    """The terminal's SIGINT reaches DataLoader workers too; the next batch is then an error, not a batch."""
    hits = []

    def loader():
        yield "a"
        hits.append(1)  # Ctrl-C: the workers exit
        raise RuntimeError("DataLoader worker (pid 1) exited unexpectedly")

    assert list(train_inverse.epoch_batches(loader(), 5, lambda: bool(hits))) == ["a"]
    with pytest.raises(RuntimeError, match="exited unexpectedly"):  # without a Ctrl-C it is a real error
        list(train_inverse.epoch_batches(loader(), 5, lambda: False))
    assert list(train_inverse.epoch_batches(iter("abcdef"), 3, lambda: False)) == ["a", "b", "c"]


def test_basin_weights_favour_the_pose_and_keep_the_continuous_term_scale():
    names = list(CONTINUOUS_NAMES)
    uniform, basin = continuous_weights("uniform"), continuous_weights("basin")
    assert torch.equal(uniform, torch.ones(len(names)))
    assert basin.mean().item() == pytest.approx(1.0) and (basin > 0).all()
    rotation, repetitions = basin[names.index("rotation.sin")], basin[names.index("repetitions")]
    assert basin[names.index("rotation.cos")] == rotation and rotation > 10 * repetitions
    assert basin[names.index("scale")] > basin[names.index("startAngle.sin")] > repetitions
    with pytest.raises(ValueError, match="uniform or basin"):
        continuous_weights("loud")


def test_weighted_continuous_loss_scales_each_output():
    out = {"continuous": torch.zeros(2, len(CONTINUOUS_NAMES)), "flags": torch.zeros(2, len(BOOLEANS))}
    out["classes"] = {k: torch.zeros(2, len(v)) for k, v in CATEGORICALS.items()}
    batch = {"continuous": torch.ones(2, len(CONTINUOUS_NAMES)), "mask": torch.ones(2, len(CONTINUOUS_NAMES))}
    batch |= {f"class.{k}": torch.zeros(2, dtype=torch.long) for k in CATEGORICALS}
    batch["flags"] = torch.zeros(2, len(BOOLEANS))
    plain = head_losses(out, batch)["continuous"]
    doubled = head_losses(out, batch, torch.full((len(CONTINUOUS_NAMES),), 2.0))["continuous"]
    assert doubled.item() == pytest.approx(2 * plain.item())


def test_streamed_training_smoke(tmp_path):
    args = ["--stream", *TINY, "--epochs", "1", "--steps-per-epoch", "1", "--batch-size", "2", "--n-val", "2"]
    args += ["--continuous-weights", "basin"]
    assert train_inverse.main([*args, "--workers", "0", "--out", str(tmp_path)]) == 0
    record = json.loads((tmp_path / "history.jsonl").read_text().splitlines()[-1])
    assert np.isfinite(record["val"]["loss"]["total"])


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory):
    torch.manual_seed(0)
    model = InverseModel(ModelConfig(backbone="test_resnet", input_size=32, neck=16))
    return save_checkpoint(model, tmp_path_factory.mktemp("ckpt") / "tiny.pt")


def test_evaluate_cli_writes_json(tiny_checkpoint, tmp_path):
    out = tmp_path / "eval.json"
    args = ["--model", str(tiny_checkpoint), "--n", "3", "--seed", str(EVAL_BASE + 5), "--size", "64"]
    assert evaluate.main([*args, "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["n"] == 3 and set(result["match"]) == {"ssim", "ssim_skill", "lum_corr"}
    assert 0 <= result["accuracy"]["geometry"] <= 1
    assert result["match"]["lum_corr"]["p10"] <= result["match"]["lum_corr"]["median"]
    # the shipped retrieval bank adds the first guess's figures
    assert set(result["match_with_bank"]) == {"ssim", "ssim_skill", "lum_corr"}
    assert sum(result["first_guess_sources"].values()) == 3 and result["bank"]["scenes"] > 0
    assert 0 <= result["lit_targets"] <= 3
    alone = (
        json.loads(out.read_text())
        if evaluate.main([*args, "--bank", "none", "--json", str(out)]) == 0
        else {}
    )
    assert "match_with_bank" not in alone and alone["match"] == result["match"]
    with pytest.raises(SystemExit, match="build_retrieval"):
        evaluate.main([*args, "--bank", str(tmp_path / "absent.npz")])
    with pytest.raises(SystemExit, match="training/validation"):
        evaluate.main(["--model", str(tiny_checkpoint), "--seed", "1000000"])
    with pytest.raises(ValueError):
        check_eval_seed(9_000_000)


def test_validate_cli_writes_json_and_side_by_side(tiny_checkpoint, tmp_path, capsys):
    targets = tmp_path / "targets"
    save_png(render({"geometry": "ring"}, 96, 54, quality="draft"), targets / "wide.png")
    save_png(render({"geometry": "bar"}, 40, 40, quality="draft"), targets / "square.png")
    out, pngs = tmp_path / "val.json", tmp_path / "side"
    args = [
        "--model",
        str(tiny_checkpoint),
        "--targets",
        str(targets),
        "--json",
        str(out),
        "--out-dir",
        str(pngs),
    ]
    assert validate.main(args) == 0
    entries = json.loads(out.read_text())["targets"]
    assert [e["size"] for e in entries] == [[40, 40], [96, 54]]
    assert entries[1]["render_size"] == [96, 54]
    assert set(entries[0]["report"]) >= {"ssim", "ssim_skill", "lum_corr"}
    from PIL import Image

    assert Image.open(pngs / "wide-compare.png").size == (96 * 3 + 8, 54)
    assert Image.open(pngs / "wide-guess-compare.png").size == (96 * 3 + 8, 54)
    assert all(e["first_guess"]["ranked"][0]["source"] == e["first_guess"]["source"] for e in entries)
    # the last stage (here the first guess) gets its gap analysis: eight checks, words, a picture
    assert all(len(e["gap"]["findings"]) == 8 and e["gap"]["ceiling"] for e in entries)
    # …and where it opens in bb-particles: the c-string draws the last stage's params (quantised to
    # 0.001 as the original quantises its URL, and as the twin does)
    for e in entries:
        shown = decode(e["bb_particles"]["cstring"])
        assert np.array_equal(render(shown, 48, 27), render(e["first_guess"]["params"], 48, 27))
        assert e["bb_particles"]["render"].startswith("http://localhost:3000/render?c=")
    assert Image.open(pngs / "wide-gap.png").size == (512, 288)
    printed = capsys.readouterr().out
    assert "wide.png" in printed and "who can close it" in printed


def test_augmentations_keep_shape_and_letterbox_blacks_out_rows():
    image = np.full((32, 32, 3), 200, np.uint8)
    rng = np.random.default_rng(0)
    for _ in range(20):
        out = augment(image, rng, AugmentConfig(p_aspect=0.5, p_jpeg=0.5))
        assert out.shape == image.shape and out.dtype == np.uint8
    boxed = letterbox(image, 2.0)
    assert boxed[:8].max() == 0 and boxed[-8:].max() == 0 and boxed[16].min() == 200


def test_validate_refine_reports_before_and_after(tiny_checkpoint, tmp_path, capsys):
    target = tmp_path / "target.png"
    save_png(render({"geometry": "ring", "repetitions": 40, "scale": 0.8}, 96, 54), target)
    out, pngs = tmp_path / "val.json", tmp_path / "side"
    args = [
        "--model",
        str(tiny_checkpoint),
        "--targets",
        str(target),
        "--json",
        str(out),
        "--out-dir",
        str(pngs),
    ]
    assert validate.main([*args, "--refine", "--budget", "60", "--seconds", "30", "--workers", "1"]) == 0
    [entry] = json.loads(out.read_text())["targets"]
    refined = entry["refined"]
    assert refined["evaluations"] >= 60 and refined["stop_reason"] == "budget_evals"
    assert set(refined["report"]) >= {"ssim", "ssim_skill", "lum_corr"}
    # the refiner keeps the start when nothing beats it, so the loss never gets worse than the CNN's
    before, after = entry["report"], refined["report"]
    assert (1 - after["ssim"]) + (1 - after["lum_corr"]) <= (1 - before["ssim"]) + (
        1 - before["lum_corr"]
    ) + 0.05
    assert (pngs / "target-refined-compare.png").exists() and (pngs / "target-gap.png").exists()
    aspects = {f["aspect"] for f in entry["gap"]["findings"]}
    assert aspects == {
        "light placement",
        "brightness",
        "symmetry",
        "colour",
        "stroke width",
        "one-sided fade",
        "exactness",
        "frame border",
    }
    captured = capsys.readouterr()
    assert "refined" in captured.out
    assert "target.png: CNN ssim" in captured.err and " → refined in " in captured.err  # the progress log
    assert re.search(r"target: +\d+%.*eval/s", captured.err)  # the refinement's own bar…
    assert captured.err.count("eval/s") <= 3  # …drawn, not redrawn per evaluation, in a log


def test_validate_ctrl_c_keeps_what_is_done(tiny_checkpoint, tmp_path, capsys):
    """The first Ctrl-C ends the target being refined at its best so far; the rest are skipped, and the
    table and JSON are still written (exit 130)."""
    targets = []
    for i, geometry in enumerate(("ring", "square")):
        targets.append(
            save_png(render({"geometry": geometry, "repetitions": 40}, 96, 54), tmp_path / f"{i}.png")
        )
    out = tmp_path / "val.json"
    args = ["--model", str(tiny_checkpoint), "--targets", *map(str, targets), "--json", str(out), "--refine"]
    timer = threading.Timer(3.0, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    try:
        code = validate.main([*args, "--budget", "1000000", "--seconds", "300", "--workers", "1"])
    finally:
        timer.cancel()
    assert code == 130
    [entry] = json.loads(out.read_text())["targets"]
    assert entry["refined"]["stop_reason"] == "cancelled" and entry["refined"]["evaluations"] < 1000000
    captured = capsys.readouterr()
    assert "interrupted after 1 of 2 targets" in captured.err and "refined" in captured.out
    assert "`--resume` with the same --json does the 2 left" in captured.err  # the cut one is redone


def test_a_resumed_validation_cut_short_again_keeps_the_targets_done_before(
    tiny_checkpoint, tmp_path, capsys, monkeypatch
):
    """Ctrl-C while a resumed run redid its first target used to write only that target: the finished
    results of the others were deleted from --json (an audit of the training tools)."""
    targets = [
        save_png(
            render({"geometry": g, "repetitions": 40}, 64, 36, quality="draft"), tmp_path / f"{i}-{g}.png"
        )
        for i, g in enumerate(("ring", "square", "bar"))
    ]
    out = tmp_path / "val.json"
    base = ["--model", str(tiny_checkpoint), "--json", str(out), "--bank", "none", "--workers", "1"]
    base += ["--refine", "--budget", "30", "--targets", *map(str, targets)]
    assert validate.main(base) == 0
    first = json.loads(out.read_text())
    first["targets"][0]["refined"]["stop_reason"] = "cancelled"  # to be redone by --resume
    out.write_text(json.dumps(first))
    redo = validate.validate_target

    def ctrl_c_during(*args, **kwargs):  # the user presses Ctrl-C while the redone target runs
        os.kill(os.getpid(), signal.SIGINT)
        return redo(*args, **kwargs)

    monkeypatch.setattr(validate, "validate_target", ctrl_c_during)
    assert validate.main([*base, "--resume"]) == 130
    kept = json.loads(out.read_text())["targets"]
    assert [Path(e["target"]).name for e in kept] == ["0-ring.png", "1-square.png", "2-bar.png"]
    assert kept[1:] == first["targets"][1:]
    assert "interrupted after 1 of 3 targets" in capsys.readouterr().err


def test_validate_resume_keeps_finished_targets_and_refuses_other_settings(tiny_checkpoint, tmp_path, capsys):
    targets = [
        save_png(render({"geometry": g, "repetitions": 40}, 64, 36, quality="draft"), tmp_path / f"{g}.png")
        for g in ("ring", "square", "bar")
    ]
    out = tmp_path / "val.json"
    base = ["--model", str(tiny_checkpoint), "--json", str(out), "--bank", "none", "--workers", "1"]
    base += ["--refine", "--budget", "30"]
    assert validate.main([*base, "--targets", *map(str, targets[:2])]) == 0
    first = json.loads(out.read_text())
    assert first["settings"]["top_k"] == 3 and len(first["targets"]) == 2
    # as a run cut by Ctrl-C while refining its second target leaves the file
    first["targets"][1]["refined"]["stop_reason"] = "cancelled"
    out.write_text(json.dumps(first))
    capsys.readouterr()
    assert validate.main([*base, "--targets", *map(str, targets), "--resume"]) == 0
    resumed = json.loads(out.read_text())["targets"]
    assert [Path(e["target"]).name for e in resumed] == ["ring.png", "square.png", "bar.png"]
    assert resumed[0] == first["targets"][0]  # kept as it was, not recomputed
    assert [e["refined"]["stop_reason"] for e in resumed] == ["budget_evals"] * 3  # the cut one redone
    err = capsys.readouterr().err
    assert "1 of 3 targets already done" in err and "ring.png: CNN" not in err  # only the others ran
    with pytest.raises(SystemExit, match=r"other settings \(top_k 3 there, 2 here\)"):
        validate.main([*base, "--targets", *map(str, targets), "--resume", "--top-k", "2"])
    with pytest.raises(SystemExit, match="needs the --json"):
        validate.main(["--model", str(tiny_checkpoint), "--targets", str(targets[0]), "--resume"])
    out.write_text(json.dumps({"model": "x", "targets": []}))  # an older file, without its settings
    with pytest.raises(SystemExit, match="does not record its settings"):
        validate.main([*base, "--targets", str(targets[0]), "--resume"])


def test_validate_skips_an_unreadable_target_and_keeps_an_earlier_run(tiny_checkpoint, tmp_path, capsys):
    """One text file named .png used to end the batch in a traceback; a second run without --resume used to
    overwrite the first one's results."""
    folder = tmp_path / "targets"
    for name in ("a", "c"):
        save_png(render({"geometry": "ring"}, 48, 27, quality="draft"), folder / f"{name}.png")
    (folder / "b.png").write_text("not an image")
    out = tmp_path / "val.json"
    base = ["--model", str(tiny_checkpoint), "--json", str(out), "--bank", "none"]
    assert validate.main([*base, "--targets", str(folder)]) == 1  # a target was skipped
    entries = json.loads(out.read_text())["targets"]
    assert [Path(e["target"]).name for e in entries] == ["a.png", "b.png", "c.png"]
    assert "not an image Pillow can read" in entries[1]["error"] and "report" in entries[2]
    captured = capsys.readouterr()
    assert "b.png: skipped: " in captured.err and "1 of 3 targets could not be read" in captured.err
    assert "b.png" in captured.out and "Traceback" not in captured.err
    with pytest.raises(SystemExit, match=r"holds an earlier run's results \(3 targets\): --resume continues"):
        validate.main([*base, "--targets", str(folder)])
    assert len(json.loads(out.read_text())["targets"]) == 3  # untouched
    save_png(render({"geometry": "bar"}, 48, 27, quality="draft"), folder / "b.png")  # the file mended
    assert validate.main([*base, "--targets", str(folder), "--resume"]) == 0  # retries only the skipped one
    assert "report" in json.loads(out.read_text())["targets"][1]
    assert "1 of 3 targets could not be read" not in capsys.readouterr().err
    assert validate.main([*base, "--targets", str(folder / "a.png"), "--overwrite"]) == 0
    assert len(json.loads(out.read_text())["targets"]) == 1
    with pytest.raises(SystemExit, match=r"^error: target .*nowhere does not exist$"):
        validate.main([*base, "--targets", str(tmp_path / "nowhere"), "--overwrite"])
    with pytest.raises(SystemExit) as both:  # continue it and start afresh at once: refused at parse
        validate.main([*base, "--targets", str(folder), "--resume", "--overwrite"])
    assert both.value.code == 2 and "not allowed with argument --resume" in capsys.readouterr().err
    assert len(json.loads(out.read_text())["targets"]) == 1  # untouched


def test_device_scripts_parse_and_ask_for_out():
    """scripts/gpu_train.sh runs on a lent GPU only (smoke-tested on the CPU by hand: see its header); here
    its syntax and its first check, so an edit cannot break it unseen."""
    import subprocess
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    for script in ("gpu_train.sh", "gpu_wheels.sh"):
        assert subprocess.run(["bash", "-n", str(root / "scripts" / script)]).returncode == 0
    env = {k: v for k, v in os.environ.items() if k != "OUT"}
    result = subprocess.run(
        ["bash", str(root / "scripts" / "gpu_train.sh"), "1"], env=env, capture_output=True, text=True
    )
    assert result.returncode != 0 and "set OUT" in result.stderr
    env = {**env, "OUT": "/nonexistent/out", "WEIGHTS": "heavy"}
    result = subprocess.run(
        ["bash", str(root / "scripts" / "gpu_train.sh"), "1"], env=env, capture_output=True, text=True
    )
    assert result.returncode == 2 and "WEIGHTS must be uniform or basin" in result.stderr


def test_validate_takes_the_refine_commands_search_options():
    """One definition (core.refine.options): the same bounds and defaults in both commands, and turning the
    mirror completion off is a setting a resumed run must share; on, the settings read as earlier files'."""
    on = validate.parse_args(["--targets", "x.png", "--refine"])
    target = ["--targets", "x.png"]
    off = validate.parse_args([*target, "--refine", "--no-mirror-completion", "--supersample", "2"])
    assert on.mirror_completion is True and off.mirror_completion is False and off.supersample == 2
    assert "mirror_completion" not in validate.run_settings(on)["refine"]
    assert validate.run_settings(off)["refine"]["mirror_completion"] is False
    with pytest.raises(SystemExit):  # the refine command's bound: 1 to 4
        validate.parse_args(["--targets", "x.png", "--supersample", "5"])
    with pytest.raises(SystemExit):
        validate.parse_args(["--targets", "x.png", "--refine", "--budget", "0", "--seconds", "0"])
    validate.parse_args([*target, "--budget", "0", "--seconds", "0"])  # no refine: no limit needed


@pytest.mark.parametrize(
    ("flags", "words"),
    [
        (["--data", "{nowhere}"], "is not a folder of shards"),
        (["--data", "{empty}"], "no shard"),
        (["--out", "/proc/x"], "cannot make the folder /proc/x"),
        (["--export", "/proc/x/inv.pt"], "cannot make the folder /proc/x"),
        (["--backbone", "nope"], "'nope' is not a timm model"),
        (["--lr", "-1"], "must be more than 0"),
        (["--lr", "nan"], "finite"),
        (["--device", "banana"], "not a device name"),
        (["--n-layers", "5-2"], '"lo-hi" or "sampler"'),
        (["--head-channels", "0"], "at least 1"),
        (["--weight-decay", "-1"], "at least 0"),
        (["--trunk-stages", "-1"], "at least 0"),
        (["--tail-stages", "2"], "--tail-stages: needs --trunk-stages"),
        (["--trunk-stages", "2", "--cache-features", "/proc/x"], "cannot make the folder /proc/x"),
    ],
)
def test_bad_training_settings_are_one_line_before_any_work(tmp_path, capsys, flags, words):
    """Each was a traceback, --export's after the whole training."""
    (tmp_path / "empty").mkdir()
    flags = [f.format(nowhere=tmp_path / "nowhere", empty=tmp_path / "empty") for f in flags]
    data = [] if "--data" in flags else ["--data", str(tmp_path / "empty")]
    args = [*data, *TINY, "--out", str(tmp_path / "run"), "--epochs", "1", "--max-steps", "1", *flags]
    with pytest.raises(SystemExit) as refused:
        train_inverse.main(args)
    said = capsys.readouterr().err
    assert refused.value.code == 2 and words in said and "Traceback" not in said, said


def test_validate_and_evaluate_say_a_bad_model_or_device_in_one_line(tmp_path, capsys):
    target = tmp_path / "t.png"
    save_png(render({"geometry": "ring"}, 64, 36), target)
    for main, args in ((validate.main, ["--targets", str(target)]), (evaluate.main, ["--n", "2"])):
        with pytest.raises(SystemExit, match=r"error: no inverse-model checkpoint at .*absent\.pt") as stop:
            main([*args, "--model", str(tmp_path / "absent.pt")])
        assert stop.value.code == 2
        with pytest.raises(SystemExit) as refused:
            main([*args, "--device", "banana"])
        assert refused.value.code == 2
        assert "not a device name" in capsys.readouterr().err


def test_targets_sharing_a_file_name_get_their_own_out_dir_files():
    """a/t.png and b/t.png wrote one t-compare.png, the second over the first (an audit)."""
    paths = [Path("/d/a/t.png"), Path("/d/b/t.png"), Path("refs/x.png"), Path("/e/a/t.png")]
    stems = validate.file_stems(paths)
    assert stems[Path("refs/x.png")] == "x"  # a name of its own keeps its stem
    assert len(set(stems.values())) == 4 and "/" not in "".join(stems.values())
    assert stems[Path("/d/b/t.png")] == "b-t" and stems[Path("/d/a/t.png")] == "d-a-t"


def test_cached_trunk_features_are_refused_for_other_inputs(shards, tmp_path, capsys):
    """A --cache-features folder was matched by file names alone: a cache of other shards trained the head
    on their features against these targets, and one of another trunk ended in a RuntimeError (an audit)."""
    out, _ = shards
    cache = tmp_path / "cache"
    args = [
        "--data",
        str(out),
        *TINY,
        "--epochs",
        "1",
        "--max-steps",
        "1",
        "--batch-size",
        "2",
        "--n-val",
        "2",
    ]
    args += ["--workers", "0", "--cache-features", str(cache)]
    assert train_inverse.main([*args, "--trunk-stages", "2", "--out", str(tmp_path / "a")]) == 0
    assert json.loads((cache / "source.json").read_text())["n"] == 6
    for flags, words in (
        (["--limit", "4"], "n 6 there, 4 here"),
        (["--trunk-stages", "3"], "trunk_stages 2"),
    ):
        with pytest.raises(SystemExit, match="holds features of other inputs") as refused:
            train_inverse.main([*args, "--trunk-stages", "2", *flags, "--out", str(tmp_path / flags[0])])
        assert refused.value.code == 2 and words in str(refused.value)
    assert (
        train_inverse.main([*args, "--trunk-stages", "2", "--out", str(tmp_path / "b")]) == 0
    )  # the same: used


def test_a_damaged_shard_is_named_and_written_again(tmp_path, capsys):
    """A shard cut short was read silently (45 of 48 samples), a garbage one was a tarfile traceback, and a
    rerun of generate_data counted either as done (an audit)."""
    base = ["--out", str(tmp_path), "--n", "8", "--shard-size", "4", "--size", "16", "--quality", "draft"]
    assert generate_data.main(base) == 0
    whole = (tmp_path / "shard-00001.tar").read_bytes()
    (tmp_path / "shard-00001.tar").write_bytes(whole[:3000])  # cut short (of ≈ 8 KB of samples)
    with pytest.raises(ShardError, match=r"shard-00001.tar is damaged .*rerun train.generate_data"):
        ShardDataset([tmp_path], 16, None)
    (tmp_path / "shard-00000.tar").write_bytes(b"not a tar")
    with pytest.raises(ShardError, match=r"shard-00000.tar is damaged"):
        ShardDataset([tmp_path], 16, None)
    with pytest.raises(SystemExit, match=r"shard-00000\.tar is damaged") as refused:
        train_inverse.main(["--data", str(tmp_path), *TINY, "--epochs", "1", "--out", str(tmp_path / "run")])
    assert refused.value.code == 2
    capsys.readouterr()
    assert generate_data.main(base) == 0  # both written again
    assert "shard-00000.tar, shard-00001.tar not whole" in capsys.readouterr().err
    assert len(ShardDataset([tmp_path], 16, None)) == 8


def test_a_target_validated_alone_names_its_files_after_itself(tiny_checkpoint, tmp_path):
    """validate_target without a stem (benchmarks.inverse calls it so) names its files from the target's
    own: a slip made them `None-compare.png`."""
    from core.inverse import load_model
    from core.render import get_renderer

    target = save_png(render({"geometry": "ring"}, 64, 36, quality="draft"), tmp_path / "ring.png")
    out = tmp_path / "out"
    out.mkdir()
    validate.validate_target(load_model(tiny_checkpoint), target, get_renderer("local", quality="draft"), out)
    assert (out / "ring-compare.png").exists() and (out / "ring-gap.png").exists()
    assert not list(out.glob("None*"))
