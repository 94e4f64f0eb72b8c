"""core.store: schema, CRUD, gallery threshold, lineage, resume queries, DataFrames, refs.jsonl round trip."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from core.params import to_prefixed
from core.store import (
    SCHEMA_VERSION,
    Store,
    StoreError,
    default_data_dir,
    params_key,
    resolve_location,
)

PARAMS = {"geometry": "ring", "repetitions": 40, "scaleFactor": 1.1}


@pytest.fixture
def store(tmp_path: Path) -> Store:
    with Store(tmp_path / "data") as opened:
        yield opened


def _pixels(value: int) -> np.ndarray:
    image = np.zeros((16, 24, 3), np.uint8)
    image[4:12, 6:18] = value
    return image


# -- schema and location -------------------------------------------------------------------------------------


def test_fresh_store_has_schema_version_wal_and_tables(store: Store) -> None:
    assert store.schema_version == SCHEMA_VERSION >= 1
    conn = sqlite3.connect(store.path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"seeds", "runs", "ratings"} <= tables
    conn.close()


def test_reopening_does_not_migrate_again(tmp_path: Path) -> None:
    with Store(tmp_path) as first:
        first.add_seed(PARAMS, source="manual")
    with Store(tmp_path) as second:
        assert len(second.seeds()) == 1


def test_newer_schema_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    Store(tmp_path).close()
    conn = sqlite3.connect(tmp_path / "bb.sqlite3")
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(StoreError, match="newer version"):
        Store(tmp_path)


def test_location_from_env_dir_and_db_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BB_DATA_DIR", str(tmp_path / "elsewhere"))
    assert default_data_dir() == tmp_path / "elsewhere"
    assert resolve_location().db_path == tmp_path / "elsewhere" / "bb.sqlite3"
    monkeypatch.delenv("BB_DATA_DIR")
    assert default_data_dir() == Path("data")
    explicit = resolve_location(tmp_path / "runs" / "x.db")
    assert explicit.db_path.name == "x.db" and explicit.images_dir == tmp_path / "runs" / "images"


# -- seeds ----------------------------------------------------------------------------------------------


def test_seed_crud_keeps_params_and_form(store: Store) -> None:
    wrapped = to_prefixed({**PARAMS, "layers": []}, wrapped=True)
    seed_id = store.add_seed(wrapped, source="manual", label="first")
    seed = store.get_seed(seed_id)
    assert seed.params == {**PARAMS, "layers": []}
    assert seed.form == "wrapped" and seed.source == "manual" and seed.label == "first"
    store.update_seed(seed_id, notes="nice arch")
    assert store.get_seed(seed_id).notes == "nice arch" and store.get_seed(seed_id).label == "first"
    assert [s.id for s in store.seeds(source="manual")] == [seed_id]
    assert store.seeds(source="cnn") == []
    store.delete_seed(seed_id)
    with pytest.raises(StoreError, match="no seed with id"):
        store.get_seed(seed_id)


def test_the_newest_seed_id_tells_when_the_pool_grew(store: Store) -> None:
    assert store.last_seed_id() is None
    first = store.add_seed({"geometry": "ring"}, source="manual")
    second = store.add_seed({"geometry": "square"}, source="manual")
    assert store.last_seed_id() == second > first
    store.delete_seed(second)
    assert store.last_seed_id() == first


def test_seed_source_and_links_are_checked(store: Store) -> None:
    with pytest.raises(StoreError, match="source must be one of"):
        store.add_seed(PARAMS, source="magic")
    with pytest.raises(StoreError, match="FOREIGN KEY"):
        store.add_seed(PARAMS, source="manual", parent_id=999)
    with pytest.raises(StoreError, match="FOREIGN KEY"):
        store.add_rating(PARAMS, 5.0, judge="proxy", run_id=999)


# -- runs and ratings --------------------------------------------------------------------------------------


def test_numpy_ids_and_values_work_as_python_ones(store: Store) -> None:
    """Ids read from a frame are numpy ints: get_seed(np.int64(1)) found no seed 1, a parent id failed its
    foreign key, and params holding numpy numbers were not storable."""
    first = store.add_seed(
        {"geometry": "ring", "repetitions": np.int64(40), "scale": np.float32(0.5)}, source="manual"
    )
    frame_id = store.seeds_frame().reset_index()["id"].iloc[0]
    assert isinstance(frame_id, np.integer) and store.get_seed(frame_id).params["repetitions"] == 40
    child = store.add_seed({"geometry": "bar"}, source="manual", parent_id=np.int64(first))
    assert store.get_seed(np.int32(child)).parent_id == first


def test_a_seed_must_be_a_scene(store: Store, tmp_path: Path) -> None:
    """{"foo": 1} used to be stored, and then broke the pool's export; a 'circle' broke its re-import."""
    for bad, words in (
        ({"foo": 1}, "foo: unknown key"),
        ({"geometry": "circle"}, 'unknown option: "circle"'),
    ):
        with pytest.raises(StoreError, match=f"not a scene's params: .*{words}"):
            store.add_seed(bad, source="manual")
    assert store.seeds() == []
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(StoreError, match="file is a file, not a data folder"):
        Store(tmp_path / "file")
    with pytest.raises(StoreError, match="a run's kind is a word"):
        store.start_run("")
    closed = Store(tmp_path / "closed")
    closed.close()
    with pytest.raises(StoreError, match="this Store was closed"):  # was sqlite3.ProgrammingError
        closed.seeds()
    with pytest.raises(StoreError, match="this Store was closed"):
        closed.add_seed({"geometry": "ring"}, source="manual")


def test_run_life_cycle(store: Store) -> None:
    run_id = store.start_run("explore", {"judge": "proxy", "evals": 100})
    assert store.get_run(run_id).status == "running"
    store.update_progress(run_id, {"evals": 10, "best": 7.5})
    assert store.get_run(run_id).progress == {"evals": 10, "best": 7.5}
    store.finish_run(run_id, "failed", error="judge server down")
    run = store.get_run(run_id)
    assert run.status == "failed" and run.error == "judge server down" and run.finished is not None
    assert store.resume_run(run_id).status == "running"
    with pytest.raises(StoreError, match="status must be one of"):
        store.finish_run(run_id, "running")
    assert [r.id for r in store.runs(status="running")] == [run_id]


def test_rating_scores_are_range_checked_and_failures_are_none(store: Store) -> None:
    for bad in (0.5, 10.5, float("nan")):
        with pytest.raises(StoreError, match=r"score must be in \[1, 10\]"):
            store.add_rating(PARAMS, bad, judge="proxy")
    failed = store.add_rating(PARAMS, None, judge="openai:x", rationale="unparseable: 'great!'")
    assert store.get_rating(failed).score is None
    assert store.gallery(min_score=1.0) == []


def test_gallery_threshold_and_order(store: Store) -> None:
    scores = [3.0, 9.0, 9.5, 8.99, 10.0]
    ids = [store.add_rating({**PARAMS, "repetitions": i + 1}, s, judge="proxy") for i, s in enumerate(scores)]
    assert [r.score for r in store.gallery()] == [10.0, 9.5, 9.0]
    assert [r.id for r in store.gallery(min_score=8.5)] == [ids[4], ids[2], ids[1], ids[3]]
    frame = store.gallery_frame(min_score=9.5)
    assert list(frame["score"]) == [10.0, 9.5]
    assert list(frame["repetitions"]) == [5, 3]


def test_rating_image_is_stored_content_addressed(store: Store) -> None:
    first = store.add_rating(PARAMS, 6, judge="proxy", image=_pixels(200))
    again = store.add_rating(PARAMS, 7, judge="proxy", image=_pixels(200))
    other = store.add_rating(PARAMS, 7, judge="proxy", image=_pixels(100))
    paths = [store.image_path(store.get_rating(i)) for i in (first, again, other)]
    assert paths[0] == paths[1] != paths[2]
    from core.imageio import load_image

    assert np.array_equal(np.rint(load_image(paths[2]) * 255).astype(np.uint8), _pixels(100))
    assert store.ratings_frame()["image"].iloc[0] == str(paths[0])


def test_resume_query_and_idempotent_steps(store: Store) -> None:
    run_id = store.start_run("explore")
    other = store.start_run("explore")
    for step in range(5):
        store.add_rating({**PARAMS, "repetitions": 10 + step}, 5.0, judge="proxy", run_id=run_id, step=step)
    store.add_rating(PARAMS, 4.0, judge="proxy", run_id=other, step=0)
    assert store.rated_steps(run_id) == {0, 1, 2, 3, 4}
    assert params_key({**PARAMS, "repetitions": 12}) in store.rated_keys(run_id)
    assert params_key(PARAMS) not in store.rated_keys(run_id)
    # A resumed run re-adding step 3 gets the existing rating, not a duplicate.
    existing = store.ratings(run_id=run_id)[3].id
    assert store.add_rating(PARAMS, 9.0, judge="proxy", run_id=run_id, step=3) == existing
    assert len(store.ratings(run_id=run_id)) == 5
    assert store.get_rating(existing).score == 5.0


def test_params_key_ignores_key_order() -> None:
    assert params_key({"a": 1, "b": [1, 2]}) == params_key({"b": [1, 2], "a": 1})
    assert params_key({"a": 1}) != params_key({"a": 2})


def test_promote_records_lineage(store: Store) -> None:
    root = store.add_seed(PARAMS, source="import")
    run_id = store.start_run("explore", seed_id=root)
    find = store.add_rating(
        {**PARAMS, "repetitions": 77}, 9.4, judge="proxy", rationale="glows", run_id=run_id
    )
    child = store.promote(find)
    extracted = store.promote(find, params={**PARAMS, "repetitions": 76}, source="cnn")
    seed = store.get_seed(child)
    assert seed.params["repetitions"] == 77 and seed.rating_id == find and seed.parent_id == root
    assert "9.4" in (seed.notes or "")
    assert seed.label == f"find #{find} of run {run_id}"  # the pool's table showed finds' seeds unlabelled
    assert store.get_seed(store.promote(find, label="mine")).label == "mine"
    assert [s.id for s in store.lineage(extracted)] == [extracted, root]
    assert store.get_seed(extracted).source == "cnn"
    failed = store.add_rating(PARAMS, None, judge="proxy", run_id=run_id)
    with pytest.raises(StoreError, match="failed judgement"):
        store.promote(failed)


def test_frames_decode_json(store: Store) -> None:
    store.add_seed(PARAMS, source="manual")
    run_id = store.start_run("explore", {"evals": 3})
    store.add_rating(PARAMS, 8.0, judge="proxy", run_id=run_id, step=0)
    seeds = store.seeds_frame()
    assert list(seeds["geometry"]) == ["ring"] and seeds["params"].iloc[0] == PARAMS
    assert store.runs_frame()["config"].iloc[0] == {"evals": 3}
    ratings = store.ratings_frame(run_id=run_id)
    assert list(ratings["score"]) == [8.0] and ratings["image"].iloc[0] is None


def test_gallery_frame_mixes_ratings_with_and_without_images(store: Store) -> None:
    """pandas 3 reads a missing image as NaN beside a present one: the gallery crashed below 9."""
    kept = store.add_rating(PARAMS, 9.0, judge="proxy", image=_pixels(200))
    bare = store.add_rating({**PARAMS, "repetitions": 7}, 6.0, judge="proxy")
    frame = store.gallery_frame(min_score=1.0)
    assert frame.loc[kept, "image"] == str(store.image_path(store.get_rating(kept)))
    assert frame.loc[bare, "image"] is None


# -- refs.jsonl ---------------------------------------------------------------------------------------------


@pytest.mark.shared
def test_refs_round_trip_every_line_of_every_file(shared: Path, tmp_path: Path) -> None:
    files = sorted((shared / "refs").glob("*.jsonl"))
    assert files, "no refs*.jsonl in ../shared/refs"
    with Store(tmp_path / "data") as store:
        reports = {f: store.import_refs(f) for f in files}
        total = sum(r.added for r in reports.values())
        assert total == len(store.seeds(source="import"))
        assert sum(r.reused for r in reports.values()) > 0  # the versions overlap
        for f, report in reports.items():
            lines = [json.loads(t) for t in f.read_text().splitlines() if t.strip()]
            assert len(report.seed_ids) == len(lines)
            for verbatim in (True, False):
                out = tmp_path / f"{f.stem}.{verbatim}.jsonl"
                assert store.export_refs(out, report.seed_ids, verbatim=verbatim) == len(lines)
                back = [json.loads(t) for t in out.read_text().splitlines()]
                assert back == lines, f"{f.name} (verbatim={verbatim}) did not round-trip"
        first = reports[files[0]].seed_ids[0]
        assert store.get_seed(first).origin == f"{files[0].name}:1"


def test_refs_import_is_all_or_nothing(store: Store, tmp_path: Path) -> None:
    good = json.dumps(to_prefixed({**PARAMS, "layers": []}, wrapped=True))
    path = tmp_path / "refs.jsonl"
    path.write_text(good + "\n\n" + '{"Element.geometry": {"value": "ring"}, "Nope.key": 1}\n')
    with pytest.raises(StoreError, match=r"refs.jsonl:3"):
        store.import_refs(path)
    assert store.seeds() == []
    path.write_text(good + "\n" + good + "\n")
    report = store.import_refs(path)
    assert report.added == 1 and report.reused == 1 and report.seed_ids[0] == report.seed_ids[1]
    assert len(store.import_refs(path, dedupe=False).seed_ids) == 2 and len(store.seeds()) == 3


def test_export_of_a_manual_seed_is_a_wrapped_refs_line(store: Store, tmp_path: Path) -> None:
    seed_id = store.add_seed({**PARAMS, "layers": []}, source="manual")
    out = tmp_path / "out.jsonl"
    store.export_refs(out, [seed_id])
    line = json.loads(out.read_text())
    assert line["Element.geometry"] == {"value": "ring", "disabled": False}
    assert store.import_refs(out).added == 1
    assert store.seeds()[-1].params == {**PARAMS, "layers": []}
