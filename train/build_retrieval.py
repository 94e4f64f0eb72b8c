"""Build the retrieval bank (core.inverse.retrieval): render scenes, keep their luminance thumbnails, PCA.

    python -m train.build_retrieval [--n 100000] [--seed 1500000] [--mode weighted] [--n-layers 0]
                                    [--components 64] [--workers 2] [--out models/retrieval.npz]
                                    [--work-dir data/retrieval-work]

Chunk k holds `sample_params(chunk, seed + k, mode, n_layers)` rendered at 64² (quality "fast") and reduced
to both views; chunks are written atomically to --work-dir, so a rerun continues where it stopped (the
same options give the same bank). Scenes whose thumbnail is flat in either view (all black, or flooded)
are left out. Then a PCA per view and int8 codes go to --out.

--n may change between runs in one --work-dir: scene i of a chunk is the same whatever the chunk's size
(`sample_one`), so a smaller --n keeps a prefix of each chunk and a larger one renders only what is new
(the chunk an earlier --n left short is rendered again whole).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from core.argtypes import positive_int, refusal, seed
from core.atomic import atomic_file, write_text_atomic
from core.helptext import DefaultsHelpFormatter
from core.inverse.retrieval import BANK_VERSION, RENDER_SIDE, VIEWS, RetrievalBank, fit_view, scene_features
from core.paths import writable_file, writable_folder
from core.progress import progress_bar
from train.generate_data import layers_setting, parse_layers
from train.parts import run_parts
from train.seeds import RETRIEVAL_BASE, check_seed_range
from train.settings import differences


def chunk_path(work: Path, k: int) -> Path:
    return work / f"chunk-{k:05d}.npz"


def build_chunk(config: dict[str, Any], k: int) -> int:
    """Render chunk k and write its features; returns how many scenes it kept."""
    from core.params import sample_params
    from core.render import render

    seed = config["seed"] + k
    count = chunk_size(config["n"], config["chunk"], k)
    kept: dict[str, list[np.ndarray]] = {name: [] for name in VIEWS}
    keys = []
    for i, params in enumerate(sample_params(count, seed, mode=config["mode"], n_layers=config["n_layers"])):
        feats = scene_features(render(params, RENDER_SIDE, RENDER_SIDE, quality="fast"))
        if any(f is None for f in feats.values()):
            continue
        for name, f in feats.items():
            kept[name].append(f.astype(np.float16))
        keys.append((seed, i))
    arrays = {name: np.array(v, dtype=np.float16).reshape(len(keys), -1) for name, v in kept.items()}
    with atomic_file(chunk_path(Path(config["work"]), k)) as handle:
        np.savez(handle, keys=np.array(keys, dtype=np.int64).reshape(-1, 2), count=count, **arrays)
    return len(keys)


def chunk_size(n: int, chunk: int, k: int) -> int:
    """Scenes chunk k draws for a bank of n."""
    return min(chunk, n - k * chunk)


def drawn_in(path: Path, legacy_count: int) -> int:
    """Scenes the chunk at `path` drew (0 when absent). Chunks from before --n could change hold no count:
    they were drawn for the n of their record (`legacy_count`)."""
    if not path.exists():
        return 0
    with np.load(path) as part:
        return int(part["count"]) if "count" in part.files else legacy_count


def assemble(config: dict[str, Any], n_chunks: int, components: int) -> RetrievalBank:
    parts = []
    for k in range(n_chunks):
        with np.load(chunk_path(Path(config["work"]), k)) as part:
            keep = part["keys"][:, 1] < chunk_size(config["n"], config["chunk"], k)  # a larger --n's chunk
            parts.append({name: part[name][keep] for name in ("keys", *VIEWS)})
    keys = np.concatenate([p["keys"] for p in parts])
    views = {}
    for name in VIEWS:
        features = np.concatenate([p[name] for p in parts]).astype(np.float32)
        views[name] = fit_view(features, components)
    meta = {k: config[k] for k in ("n", "seed", "mode", "n_layers", "chunk")}
    meta |= {"version": BANK_VERSION, "render_side": RENDER_SIDE, "quality": "fast", "scenes": len(keys)}
    return RetrievalBank(views, keys, meta)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m train.build_retrieval",
        description=__doc__,
        formatter_class=DefaultsHelpFormatter,
    )
    ap.add_argument(
        "--n", type=positive_int, default=100_000, help="scenes to render (flat ones are dropped)"
    )
    ap.add_argument("--seed", type=seed, default=RETRIEVAL_BASE, help="chunk k uses seed + k")
    ap.add_argument("--mode", default="weighted", choices=("weighted", "uniform"))
    ap.add_argument(
        "--n-layers",
        type=layers_setting,
        default="0",
        help="0, k, lo-hi or sampler (the sampler's own; also: any)",
    )
    ap.add_argument("--chunk", type=positive_int, default=1000)
    ap.add_argument("--components", type=positive_int, default=64, help="PCA dimensions kept per view")
    ap.add_argument("--workers", type=positive_int, default=2)
    ap.add_argument(
        "--out", type=Path, default=Path("models/retrieval.npz"), help="the bank (the shipped one)"
    )
    ap.add_argument(
        "--overwrite", action="store_true", help="replace an existing --out (without it, that is refused)"
    )
    ap.add_argument("--work-dir", type=Path, default=Path("data/retrieval-work"))
    args = ap.parse_args(argv)
    for option, check, path in (
        ("--work-dir", writable_folder, args.work_dir),
        ("--out", writable_file, args.out),
    ):
        try:  # where it writes, checked before the renders and the PCA, not after them
            check(path)
        except ValueError as exc:
            ap.error(f"{option}: {exc}")
    if args.out.exists() and not args.overwrite:  # a trial run replaced the shipped bank the app reads
        ap.error(f"--out {args.out} exists: --overwrite replaces it, or give another --out")
    try:  # a bank drawn from the evaluation seeds would retrieve the very scenes evaluate.py scores
        check_seed_range(args.seed, -(-args.n // args.chunk), "the retrieval bank")
    except ValueError as exc:
        ap.error(f"--seed: {exc}")
    config = {
        "n": args.n,
        "seed": args.seed,
        "mode": args.mode,
        "n_layers": parse_layers(args.n_layers),
        "chunk": args.chunk,
        "work": str(args.work_dir),
    }
    stamp = args.work_dir / "config.json"
    saved = {k: v for k, v in config.items() if k != "work"}
    recorded_n = args.n
    if stamp.exists():
        try:
            earlier = json.loads(stamp.read_text())
        except ValueError:
            raise refusal(
                f"error: {stamp} is not a chunk record (broken JSON); use another --work-dir"
            ) from None
        now = json.loads(json.dumps(saved))
        if said := differences({**earlier, "n": args.n}, now):  # n may change (the module docstring)
            raise refusal(
                f"error: {args.work_dir} holds chunks of other options ({said}); use another --work-dir"
            )
        recorded_n = int(earlier.get("n", args.n))
    else:
        write_text_atomic(stamp, json.dumps(saved))
    n_chunks = -(-args.n // args.chunk)
    todo = [
        k
        for k in range(n_chunks)
        if drawn_in(chunk_path(args.work_dir, k), chunk_size(recorded_n, args.chunk, k))
        < chunk_size(args.n, args.chunk, k)
    ]
    done = sum(chunk_size(args.n, args.chunk, k) for k in range(n_chunks) if k not in todo)

    def chunk_done(k: int, kept: int) -> None:
        bar.update(chunk_size(args.n, args.chunk, k))

    with progress_bar(total=args.n, initial=min(done, args.n), unit="scene", desc="render") as bar:
        finished = run_parts(build_chunk, config, todo, args.workers, chunk_done, "the rendering")
    if not finished:
        left = sum(not chunk_path(args.work_dir, k).exists() for k in range(n_chunks))
        print(
            f"interrupted: {left} of {n_chunks} chunks left in {args.work_dir}; the same command finishes "
            "them and writes the bank",
            file=sys.stderr,
        )
        return 130
    if recorded_n != args.n:  # only now: a legacy chunk's count is read from the record until it is redone
        write_text_atomic(stamp, json.dumps(saved))
    bank = assemble(config, n_chunks, args.components)
    bank.save(args.out)
    print(json.dumps({"out": str(args.out), "scenes": len(bank), "bytes": args.out.stat().st_size}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
