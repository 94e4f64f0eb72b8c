"""Train the inverse model on shards or on fresh renders; validate every epoch on a held-out seed.

    python -m train.train_inverse --data data/n0-128 --backbone resnet18 --epochs 20 --out runs/r18
    python -m train.train_inverse --stream --steps-per-epoch 500 ...          # render on the fly
    torchrun --nproc_per_node 4 -m train.train_inverse --data ...             # DDP, one process per GPU

Writes <out>/last.pt (with optimiser state, for --resume) and <out>/best.pt (lowest validation
loss, fp16, no optimiser: what ships as models/inverse.pt), and <out>/history.jsonl.
Validation uses `sample_params(n_val, VAL_SEED, ...)` (train/seeds.py), never a training seed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import signal
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import DataLoader, DistributedSampler

from core.argtypes import count, duration, non_negative_float, positive_float, positive_int, refusal, seed
from core.device import device_argument
from core.helptext import DefaultsHelpFormatter
from core.interrupt import cancel_on_interrupt
from core.inverse.checkpoint import CheckpointError, read_checkpoint, save_checkpoint
from core.inverse.model import InverseModel, ModelConfig
from core.paths import writable_file, writable_folder
from core.progress import progress_bar
from train.augment import AugmentConfig
from train.data import RenderStream, ShardDataset, render_set
from train.feature_cache import FeatureDataset, StaleCacheError, cache_dataset, cache_source, trunk_features
from train.generate_data import layers_setting, parse_layers
from train.losses import Metrics, continuous_weights, head_losses
from train.seeds import VAL_SEED
from train.shards import ShardError


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = parser()
    args = ap.parse_args(argv)
    if args.batch_size < 2:  # batch norm's statistics need two samples: one is a ValueError at the first step
        ap.error("argument --batch-size: must be at least 2")
    for option in ("tail_stages", "train_trunk", "cache_features"):  # were taken, stored and meant nothing
        if getattr(args, option) and not args.trunk_stages and args.resume is None and args.init is None:
            ap.error(f"argument --{option.replace('_', '-')}: needs --trunk-stages")
    return args


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="python -m train.train_inverse",
        description=__doc__.splitlines()[0],
        formatter_class=DefaultsHelpFormatter,
    )
    ap.add_argument("--data", nargs="*", default=[], help="shard folders (generate_data --out)")
    ap.add_argument("--stream", action="store_true", help="render fresh samples in the DataLoader workers")
    ap.add_argument("--steps-per-epoch", type=positive_int, default=500, help="with --stream")
    ap.add_argument("--out", type=Path, default=Path("runs/inverse"))
    ap.add_argument("--backbone", default="resnet18")
    ap.add_argument("--no-pretrained", action="store_true")
    ap.add_argument("--frozen-stages", type=count, default=0, help="keep the stem + this many stages frozen")
    ap.add_argument(
        "--trunk-stages", type=count, default=0, help="frozen trunk of stem + N stages, conv head (0: none)"
    )
    ap.add_argument(
        "--tail-stages", type=count, default=0, help="with --trunk-stages: N more pretrained stages, trained"
    )
    ap.add_argument(
        "--head-channels", type=positive_int, default=256, help="width of the conv head on a trunk"
    )
    ap.add_argument("--train-trunk", action="store_true", help="with --trunk-stages: fine-tune the trunk")
    ap.add_argument("--init", type=Path, default=None, help="start from this checkpoint's weights and config")
    ap.add_argument(
        "--cache-features", type=Path, default=None, help="with --trunk-stages: cache trunk outputs here"
    )
    ap.add_argument("--input-size", type=positive_int, default=128)
    ap.add_argument(
        "--n-layers", type=layers_setting, default="0", help="layer setting of streamed and validation data"
    )
    ap.add_argument("--mode", default="weighted", choices=("weighted", "uniform", "stratified"))
    ap.add_argument(
        "--continuous-weights",
        choices=("uniform", "basin"),
        default="uniform",
        help="weigh the continuous outputs alike, or by how narrow refinement's basin is in each",
    )
    ap.add_argument("--epochs", type=positive_int, default=10)
    ap.add_argument("--batch-size", type=positive_int, default=64)
    ap.add_argument("--lr", type=positive_float, default=1e-3)
    ap.add_argument("--weight-decay", type=non_negative_float, default=1e-4, help="AdamW's (≥ 0)")
    ap.add_argument("--warmup-steps", type=count, default=200)
    ap.add_argument("--workers", type=count, default=1)
    ap.add_argument("--threads", type=count, default=0, help="torch CPU threads (0: torch's default)")
    ap.add_argument("--n-val", type=positive_int, default=1000)
    ap.add_argument("--limit", type=positive_int, default=None, help="use at most this many shard samples")
    ap.add_argument("--no-augment", action="store_true")
    ap.add_argument(
        "--max-steps", type=positive_int, default=None, help="stop after this many optimiser steps"
    )
    ap.add_argument(
        "--max-minutes", type=duration, default=None, help="stop (validate, save) after this long"
    )
    again = ap.add_mutually_exclusive_group()
    again.add_argument("--resume", type=Path, default=None, help="a last.pt to continue from")
    again.add_argument(
        "--overwrite",
        action="store_true",
        help="start afresh in an --out that holds an earlier run (its checkpoints and history are replaced; "
        "without it, that is refused)",
    )
    ap.add_argument(
        "--export", type=Path, default=None, help="also copy best.pt here (e.g. models/inverse.pt)"
    )
    ap.add_argument("--device", type=device_argument, default=None, help="cpu, cuda, mps or auto")
    ap.add_argument("--seed", type=seed, default=0)
    return ap


def setup_distributed(device_name: str | None) -> tuple[int, int, torch.device]:
    """(rank, world, device); initialises a process group only under torchrun (WORLD_SIZE set)."""
    from core.device import pick_device

    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    device = pick_device(device_name)
    if world > 1:
        import torch.distributed as dist

        if device.type == "cuda":
            device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
            torch.cuda.set_device(device)
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return rank, world, device


def lr_at(step: int, total: int, base: float, warmup: int) -> float:
    """Linear warmup, then cosine decay to 2 % of `base` at `total` steps."""
    if step < warmup:
        return base * (step + 1) / warmup
    t = min(1.0, (step - warmup) / max(1, total - warmup))
    return base * (0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * t)))


def to_device(batch: dict[str, torch.Tensor], device: torch.device) -> dict[str, torch.Tensor]:
    return {k: v.to(device, non_blocking=True) for k, v in batch.items()}


@torch.no_grad()
def validate(
    model: InverseModel, val: tuple, device: torch.device, batch_size: int, cached: bool = False
) -> dict[str, Any]:
    """Metrics on the fixed validation set (inputs are trunk features when `cached`)."""
    inputs, targets = val[0], val[1]
    forward = model.from_trunk if cached else model
    model.eval()
    metrics = Metrics()
    for start in range(0, len(inputs), batch_size):
        batch = torch.utils.data.default_collate(targets[start : start + batch_size])
        batch = to_device(batch, device)
        out = forward(inputs[start : start + batch_size].to(device))
        metrics.add(out, batch, head_losses(out, batch))
    model.train()
    return metrics.summary()


def build_loader(
    args: argparse.Namespace, rank: int, world: int, start_chunk: int, model: InverseModel
) -> tuple[Any, int]:
    """(loader, steps per epoch); shards use a DistributedSampler, streams rank-dealt chunks, and
    --cache-features a loader of cached trunk features."""
    aug = None if args.no_augment else AugmentConfig()
    kw: dict[str, Any] = {"batch_size": args.batch_size, "num_workers": args.workers, "drop_last": True}
    kw["worker_init_fn"] = ignore_ctrl_c
    if args.cache_features:
        dataset = ShardDataset(args.data, args.input_size, aug, limit=args.limit, seed=args.seed)
        source = cache_source(model, args.data, len(dataset), aug is not None, args.seed)
        try:
            features = cache_dataset(model, dataset, args.cache_features, source=source)
        except StaleCacheError as exc:
            raise refusal(f"error: {exc}") from None
        cached = FeatureDataset(features, dataset.targets)
        loader = DataLoader(cached, shuffle=True, batch_size=args.batch_size, drop_last=True)
        return loader, len(loader)
    if args.workers > 0:
        kw["persistent_workers"] = not args.stream
    if args.stream:
        ds = RenderStream(
            args.input_size,
            args.mode,
            parse_layers(args.n_layers),
            aug,
            start_chunk=start_chunk,
            rank=rank,
            world=world,
        )
        return DataLoader(ds, **kw), args.steps_per_epoch
    dataset = ShardDataset(args.data, args.input_size, aug, limit=args.limit, seed=args.seed)
    sampler = DistributedSampler(dataset, world, rank, shuffle=True, seed=args.seed) if world > 1 else None
    loader = DataLoader(dataset, sampler=sampler, shuffle=sampler is None, **kw)
    return loader, len(loader)


def ignore_ctrl_c(_worker_id: int) -> None:
    """DataLoader workers leave Ctrl-C to the main process, which ends the epoch and saves (`epoch_batches`);
    forked after its handler was set, they would each say so again, and the default handler kills them."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def epoch_batches(loader: Any, steps: int, interrupted: Callable[[], bool]) -> Iterator[Any]:
    """Up to `steps` batches of `loader`, ending early after a Ctrl-C. The DataLoader's workers get the
    terminal's SIGINT too; one that it reaches before `ignore_ctrl_c` runs exits, and the batch after that
    is an error, not a batch: then too the epoch ends."""
    batches = iter(loader)
    for _ in range(steps):
        if interrupted():
            return
        try:
            item = next(batches)
        except StopIteration:
            return
        except RuntimeError:  # "DataLoader worker … exited unexpectedly"
            if interrupted():
                return
            raise
        yield item


RUN_FILES = ("last.pt", "best.pt", "history.jsonl")
"""What a run writes in --out: a new run there replaced an earlier one's checkpoints (best.pt too, a
better one by a worse) and mixed its epochs into the history."""


def earlier_run(out: Path) -> str:
    """The run files --out already holds, in words ("" when none)."""
    return ", ".join(name for name in RUN_FILES if (out / name).exists())


MODEL_OPTIONS = (
    "backbone",
    "input_size",
    "n_layers",
    "frozen_stages",
    "trunk_stages",
    "tail_stages",
    "head_channels",
)
"""The model options a checkpoint fixes: a resume trains its model, not the command line's."""


def resume_conflicts(args: argparse.Namespace, saved: dict[str, Any], defaults: dict[str, Any]) -> list[str]:
    """The model options given on the command line that differ from the resumed checkpoint's: a resume
    trains the checkpoint's model, and used to take --input-size for its data while keeping the saved one."""
    return [
        f"--{key.replace('_', '-')} {getattr(args, key)} (the checkpoint's: {saved[key]})"
        for key in MODEL_OPTIONS
        if key in saved and getattr(args, key) != defaults[key] and getattr(args, key) != saved[key]
    ]


def check_places(args: argparse.Namespace) -> None:
    """What the run reads and writes, and its backbone, checked before any work: a missing --data folder,
    an unwritable --out or --export and an unknown --backbone were tracebacks, --export's after training."""
    import timm

    try:
        writable_folder(args.out)
        if args.export:
            writable_file(args.export)
        if args.cache_features:  # an unwritable one failed after the model and the validation set were made
            writable_folder(args.cache_features)
    except ValueError as exc:
        raise refusal(f"error: {exc}") from None
    if args.resume is None and not args.overwrite and (held := earlier_run(args.out)):
        raise refusal(
            f"error: --out {args.out} holds an earlier run ({held}): `--resume {args.out / 'last.pt'}` "
            "continues it, --overwrite starts afresh, or give another --out"
        )
    for folder in args.data:
        if not Path(folder).is_dir():
            raise refusal(f"error: --data {folder} is not a folder of shards (train.generate_data --out)")
    if not timm.is_model(args.backbone):
        raise refusal(f"error: --backbone {args.backbone!r} is not a timm model (e.g. resnet18)")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not args.stream and not args.data:
        raise refusal("give --data SHARD_DIRS or --stream")
    check_places(args)
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rank, world, device = setup_distributed(args.device)
    main_process = rank == 0
    config = ModelConfig(
        backbone=args.backbone,
        input_size=args.input_size,
        n_layers=args.n_layers,
        frozen_stages=args.frozen_stages,
        trunk_stages=args.trunk_stages,
        tail_stages=args.tail_stages,
        train_trunk=args.train_trunk,
        head_channels=args.head_channels,
    )
    try:
        init = read_checkpoint(args.init) if args.init else None
        resume = read_checkpoint(args.resume) if args.resume else None
    except CheckpointError as exc:
        raise refusal(f"error: {exc}") from None
    if init:  # architecture from the checkpoint; what is trained from the arguments
        config = ModelConfig.from_dict({**init["config"], "train_trunk": args.train_trunk})
    state: dict[str, Any] = {"epoch": 0, "step": 0, "best": float("inf"), "elapsed": 0.0}
    if resume:
        if "optimiser" not in (resume.get("extra") or {}):
            raise refusal(
                f"error: {args.resume} has no optimiser state (a best.pt or an exported model): --resume "
                "takes a run's last.pt; --init starts a new run from these weights"
            )
        if resume["extra"]["state"]["epoch"] >= args.epochs:
            raise refusal(
                f"error: {args.resume} has done {resume['extra']['state']['epoch']} epochs of --epochs "
                f"{args.epochs}: give a larger --epochs to train on"
            )
        defaults = parser()
        given = resume_conflicts(args, resume["config"], {k: defaults.get_default(k) for k in MODEL_OPTIONS})
        if given:
            raise refusal(
                f"error: --resume trains {args.resume}'s own model; these differ from it: "
                f"{'; '.join(given)}. Leave them out, or start a new run (--init takes its weights)"
            )
        config = ModelConfig.from_dict(resume["config"])
        args.input_size, args.n_layers = config.input_size, config.n_layers  # the data the model was made for
    model = InverseModel(config, pretrained=not args.no_pretrained and resume is None and init is None)
    if resume or init:
        weights = (resume or init)["state_dict"]
        model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in weights.items()})
    model.to(device)
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimiser = torch.optim.AdamW(trainable, lr=args.lr, weight_decay=args.weight_decay)
    if resume:
        optimiser.load_state_dict(resume["extra"]["optimiser"])
        state.update(resume["extra"]["state"])
    net = model
    if world > 1:
        net = torch.nn.parallel.DistributedDataParallel(
            model, device_ids=[device] if device.type == "cuda" else None
        )

    cached = args.cache_features is not None
    # training only: validation keeps uniform weights, so runs with either setting compare
    output_weights = continuous_weights(args.continuous_weights)
    if cached and (not model.config.trunk_stages or args.stream or world > 1):
        raise refusal("--cache-features needs --trunk-stages > 0, shard --data and a single process")
    try:
        loader, steps_per_epoch = build_loader(args, rank, world, state["epoch"] * 100_000, model)
    except (FileNotFoundError, ShardError) as exc:  # a folder without shards, a damaged shard
        raise refusal(f"error: {exc}") from None
    if steps_per_epoch == 0:  # drop_last: a batch larger than the data makes no step, and best.pt untrained
        raise refusal(
            f"error: --batch-size {args.batch_size} is more than the {len(loader.dataset)} training samples "
            "(per process): lower --batch-size or give more --data"
        )
    total_steps = args.max_steps or steps_per_epoch * args.epochs
    t0 = time.time()
    val = None
    if main_process:
        val = render_set(args.n_val, VAL_SEED, args.input_size, args.mode, parse_layers(args.n_layers))
        if cached:
            val = (trunk_features(model, val[0]).float(), *val[1:])
    if main_process:
        args.out.mkdir(parents=True, exist_ok=True)
        if args.overwrite:  # the earlier run's files go now, so none of them is mixed with this run's
            for name in RUN_FILES:
                (args.out / name).unlink(missing_ok=True)
        print(f"validation set: {args.n_val} renders in {time.time() - t0:.1f}s", file=sys.stderr)
    start_time = time.time() - state["elapsed"]
    model.train()
    stop = cut = exported = False
    # Ctrl-C ends the epoch where it is, then validates and saves as --max-minutes does (one process only:
    # under DDP every rank would have to stop at the same step)
    interrupt = (
        cancel_on_interrupt(lambda: None, "the training at this step (it validates and saves last.pt first)")
        if world == 1
        else contextlib.nullcontext(lambda: False)
    )
    with interrupt as interrupted:
        while state["epoch"] < args.epochs and not stop:
            if isinstance(getattr(loader, "sampler", None), DistributedSampler):
                loader.sampler.set_epoch(state["epoch"])
            if hasattr(loader.dataset, "epoch"):
                loader.dataset.epoch = state["epoch"]
            bar = progress_bar(
                total=steps_per_epoch, desc=f"epoch {state['epoch']}", disable=not main_process
            )
            running: dict[str, float] = {}
            epoch_start = state["step"]
            for images, batch in epoch_batches(loader, steps_per_epoch, interrupted):
                lr = lr_at(state["step"], total_steps, args.lr, args.warmup_steps)
                for group in optimiser.param_groups:
                    group["lr"] = lr
                batch = to_device(batch, device)
                out = (model.from_trunk if cached else net)(images.to(device, non_blocking=True))
                losses = head_losses(out, batch, output_weights)
                loss = sum(losses.values())
                optimiser.zero_grad(set_to_none=True)
                loss.backward()
                optimiser.step()
                state["step"] += 1
                for k, v in losses.items():
                    value = float(v.detach())
                    running[k] = 0.98 * running.get(k, value) + 0.02 * value
                bar.set_postfix(loss=f"{float(loss.detach()):.3f}", lr=f"{lr:.2e}", refresh=False)
                bar.update(1)
                minutes = (time.time() - start_time) / 60
                if (args.max_steps and state["step"] >= args.max_steps) or (
                    args.max_minutes and minutes >= args.max_minutes
                ):
                    stop = True
                    break
            bar.close()
            stop = stop or interrupted()
            cut = interrupted() and state["step"] - epoch_start < steps_per_epoch
            reached = state["step"]
            if cut:  # the weights keep these steps; a resume redoes the epoch whole, on the schedule's time
                state["step"] = epoch_start
            else:
                state["epoch"] += 1
            state["elapsed"] = time.time() - start_time
            if main_process:
                report = validate(model, val, device, args.batch_size * 2, cached)
                record = {
                    "epoch": state["epoch"] + cut,  # the epoch validated, finished or cut short
                    **({"cut_short": True} if cut else {}),
                    "step": reached,
                    "minutes": round(state["elapsed"] / 60, 2),
                    "train_loss": running,
                    "val": report,
                }
                with (args.out / "history.jsonl").open("a") as fh:
                    fh.write(json.dumps(record) + "\n")
                acc = " ".join(f"{k}={v:.3f}" for k, v in report["accuracy"].items())
                print(
                    f"[epoch {record['epoch']}{' (cut short)' if cut else ''} step {reached} "
                    f"{record['minutes']} min] "
                    f"val loss {report['loss']['total']:.4f} | {acc}",
                    file=sys.stderr,
                    flush=True,
                )
                meta = {
                    "epoch": state["epoch"],
                    "step": reached,
                    "minutes": record["minutes"],
                    "val": report,
                    "data": args.data or "stream",
                    "mode": args.mode,
                    "n_layers": args.n_layers,
                    "continuous_weights": args.continuous_weights,
                    "val_seed": VAL_SEED,
                    "n_val": args.n_val,
                    "device": str(device),
                    "world": world,
                }
                improved = report["loss"]["total"] < state["best"]
                if improved:
                    state["best"] = report["loss"]["total"]
                    save_checkpoint(model, args.out / "best.pt", meta=meta)
                    if args.export:
                        save_checkpoint(model, args.export, meta=meta)
                        exported = True
                save_checkpoint(
                    model,
                    args.out / "last.pt",
                    half=False,
                    meta=meta,
                    extra={"optimiser": optimiser.state_dict(), "state": dict(state)},
                )
    if interrupted():
        # cut: state["epoch"] counts the epochs finished, so the one cut is the next; else the last one ended
        where = f"in epoch {state['epoch'] + 1}" if cut else f"after epoch {state['epoch']}"
        redo = f" (epoch {state['epoch'] + 1} is redone from its start)" if cut else ""
        print(
            f"interrupted {where}: {args.out / 'last.pt'} saved; "
            f"`--resume {args.out / 'last.pt'}` continues{redo}",
            file=sys.stderr,
        )
    if args.export and main_process and not exported:
        print(
            f"note: --export {args.export} not written: no epoch of this run validated below the best so far "
            f"({state['best']:.4f}, in {args.out / 'best.pt'})",
            file=sys.stderr,
        )
    if world > 1:
        import torch.distributed as dist

        dist.destroy_process_group()
    return 130 if interrupted() else 0


if __name__ == "__main__":
    try:
        raise SystemExit(main())
    except KeyboardInterrupt:  # before the first step (the validation set) or a second Ctrl-C
        raise SystemExit("interrupted before a checkpoint was written for this step") from None
