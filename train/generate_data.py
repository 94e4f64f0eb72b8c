"""Synthetic (image, params) pairs for the inverse model, written as resumable tar shards.

    python -m train.generate_data --out data/n0 --n 64000 --n-layers 0 --size 128 --workers 2

Shard k holds `sample_params(shard_size, seed + k, mode, n_layers)` rendered at size×size (a scene is
named by (shard seed, index), see train/seeds.py). Completed shards are skipped on a rerun, so an
interrupted run continues where it stopped; `--shard i/n` makes this machine produce only shards
k ≡ i (mod n), so several machines can each write a slice into the same folder layout.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
import time
from pathlib import Path
from typing import Any

from core.argtypes import positive_int, refusal, seed, whole_in
from core.atomic import write_text_atomic
from core.helptext import DefaultsHelpFormatter
from core.paths import writable_folder
from core.progress import progress_bar
from core.render.twin import MAX_SIDE
from train.parts import run_parts
from train.seeds import TRAIN_SHARD_BASE, check_seed_range
from train.settings import differences
from train.shards import count_samples, encode_png, shard_name, write_shard


def parse_layers(text: str) -> int | tuple[int, int] | None:
    """ "0" → 0, "0-1" → (0, 1), "sampler" → None (the sampler's own distribution)."""
    if text in ("sampler", "any", "none", "all"):
        return None
    if "-" in text:
        lo, hi = (int(part) for part in text.split("-", 1))
        if not 0 <= lo <= hi:  # "5-2" was read, and failed in the first shard, after the manifest
            raise ValueError(f"a layer range is lo-hi with 0 ≤ lo ≤ hi, not {text!r}")
        return lo, hi
    if int(text) < 0:
        raise ValueError(f"a layer count is ≥ 0, not {text!r}")
    return int(text)


@functools.lru_cache(maxsize=2)
def _renderer(spec: str, quality: str) -> Any:
    """One renderer per process (a worker renders many shards), per setting."""
    from core.render import get_renderer

    return get_renderer(spec, quality=quality) if spec == "local" else get_renderer(spec)


def render_shard(config: dict[str, Any], index: int) -> int:
    """Render and write shard `index` (plus the plan layout when asked); returns its sample count."""
    from core.params import sample_params

    out = Path(config["out"])
    seed = config["seed"] + index
    count = min(config["shard_size"], config["n"] - index * config["shard_size"])
    params = sample_params(count, seed, mode=config["mode"], n_layers=parse_layers(config["n_layers"]))
    renderer = _renderer(config["renderer"], config["quality"])
    samples = []
    for i, p in enumerate(params):
        image = renderer.render(p, config["size"], config["size"])
        key = f"{index:05d}-{i:05d}"
        png = encode_png(image)
        samples.append((key, png, {"seed": seed, "index": i, "params": p}))
        if config["plan_layout"]:
            global_i = index * config["shard_size"] + i
            (out / "images").mkdir(exist_ok=True)
            (out / "params").mkdir(exist_ok=True)
            (out / "images" / f"{global_i:06d}.png").write_bytes(png)
            (out / "params" / f"{global_i:06d}.json").write_text(json.dumps(p))
    write_shard(out / shard_name(index), samples)
    return count


def _manifest(args: argparse.Namespace) -> dict[str, Any]:
    keys = ("n", "seed", "mode", "n_layers", "size", "shard_size", "quality", "renderer")
    return {k: getattr(args, k) for k in keys}


def _check_manifest(out: Path, manifest: dict[str, Any]) -> int:
    """A folder holds one dataset: refuse to resume into it with different settings (n may grow). Returns
    the n it was generated with before (0 for a new folder)."""
    try:
        writable_folder(out)
    except ValueError as exc:
        raise refusal(f"error: --out {exc}") from None
    path = out / "manifest.json"
    earlier = 0
    if path.exists():
        try:
            old = json.loads(path.read_text())
        except ValueError as exc:
            raise refusal(f"error: {path} is not a manifest ({exc}); use another --out") from None
        if said := differences(old, {k: v for k, v in manifest.items() if k != "n"}, say=str):  # n may grow
            raise refusal(f"error: {out} was generated with other settings ({said}): use another --out")
        earlier = int(old.get("n", 0))
        manifest = {**manifest, "n": max(manifest["n"], earlier)}
    write_text_atomic(path, json.dumps(manifest, indent=1))
    for stale in out.glob(".shard-*.tmp"):  # left by a killed run; its shard is redone
        stale.unlink()
    return earlier


def grown_shard(earlier_n: int, n: int, shard_size: int) -> int | None:
    """The shard an earlier, smaller --n left short that this --n fills further (it is redone), if any:
    raising --n from 3 to 8 with shards of 5 used to keep shard 0 at 3 samples under a manifest of 8."""
    if earlier_n % shard_size and n > earlier_n:
        return earlier_n // shard_size
    return None


def shard_slice(text: str) -> tuple[int, int]:
    """ "i/n" → (i, n) with 0 ≤ i < n."""
    try:
        part, parts = (int(v) for v in text.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected i/n, as 0/4, got {text!r}") from None
    if not 0 <= part < parts:
        raise argparse.ArgumentTypeError(f"{text}: need 0 ≤ i < n")
    return part, parts


def layers_setting(text: str) -> str:
    """`text` when parse_layers reads it (kept as text: it goes into the manifest as given)."""
    try:
        parse_layers(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f'expected "0", "k", "lo-hi" or "sampler", got {text!r}') from None
    return text


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        prog="python -m train.generate_data",
        description=__doc__.splitlines()[0],
        formatter_class=DefaultsHelpFormatter,
    )
    ap.add_argument("--out", type=Path, default=Path("data/synthetic"))
    ap.add_argument("--n", type=positive_int, default=2000, help="total samples over all shards")
    ap.add_argument("--seed", type=seed, default=TRAIN_SHARD_BASE, help="shard k uses seed + k")
    ap.add_argument("--mode", default="weighted", choices=("weighted", "uniform", "stratified"))
    ap.add_argument(
        "--n-layers",
        type=layers_setting,
        default="0",
        help='"0" (implicit mirror), "k", "lo-hi" or "sampler"',
    )
    ap.add_argument("--size", type=whole_in(1, MAX_SIDE, " px"), default=128, help="square render side in px")
    ap.add_argument("--shard-size", type=positive_int, default=1000)
    ap.add_argument(
        "--shard",
        type=shard_slice,
        default=(0, 1),
        help="i/n: write only shards k with k %% n == i (default: all)",
    )
    ap.add_argument("--workers", type=positive_int, default=1)
    ap.add_argument("--renderer", default="local", help='"local" or the URL of an /api/raster')
    ap.add_argument("--quality", default="fast", choices=("exact", "fast", "draft"))
    ap.add_argument("--plan-layout", action="store_true", help="also write images/NNNNNN.png + params/")
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    part, parts = args.shard
    try:  # before the manifest is written: a bad address used to fail after it, blocking the folder
        _renderer(args.renderer, args.quality)
    except ValueError as exc:
        raise refusal(f"error: --renderer: {exc}") from None
    try:  # shards drawn from another tool's seeds would train on the scenes evaluate.py scores
        check_seed_range(args.seed, -(-args.n // args.shard_size), "generate_data shards")
    except ValueError as exc:
        raise refusal(f"error: --seed: {exc}") from None
    earlier_n = _check_manifest(args.out, _manifest(args))
    n_shards = -(-args.n // args.shard_size)
    mine = [k for k in range(n_shards) if k % parts == part]
    grown = grown_shard(earlier_n, args.n, args.shard_size)
    sizes = {k: min(args.shard_size, args.n - k * args.shard_size) for k in mine}
    todo = [k for k in mine if k == grown or not (args.out / shard_name(k)).exists()]
    if damaged := [k for k in mine if k not in todo and count_samples(args.out / shard_name(k)) != sizes[k]]:
        names = ", ".join(shard_name(k) for k in damaged)
        print(f"note: {names} not whole (damaged since written): written again", file=sys.stderr)
        todo = sorted([*todo, *damaged])
    config = {**_manifest(args), "out": str(args.out), "plan_layout": args.plan_layout}
    done = sum(sizes[k] for k in mine if k not in todo)
    start = time.perf_counter()
    written: list[int] = []

    def shard_done(k: int, count: int) -> None:
        written.append(k)
        bar.update(count)

    with progress_bar(total=sum(sizes.values()), initial=done, unit="img", desc="render") as bar:
        finished = run_parts(render_shard, config, todo, args.workers, shard_done, "the rendering")
    rendered = sum(sizes[k] for k in written)
    elapsed = time.perf_counter() - start
    summary = {
        "out": str(args.out),
        "shards_written": len(written),
        "shards_skipped": len(mine) - len(todo),
        "images_rendered": rendered,
        "seconds": round(elapsed, 2),
        "images_per_s": round(rendered / elapsed, 1) if rendered and elapsed > 0 else None,
    }
    if not finished:
        summary["shards_left"] = len(todo) - len(written)
    print(json.dumps(summary))
    if not finished:
        print(
            f"interrupted: {summary['shards_left']} shards left; the same command finishes them",
            file=sys.stderr,
        )
        return 130
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
