"""Held-out synthetic evaluation: per-head accuracy, continuous errors, and how the prediction renders.

    python -m train.evaluate --model models/inverse.pt --n 200 --seed 10000000 --json runs/eval.json

Scenes come from `sample_params(n, seed, mode, n_layers)` with a seed ≥ 10_000_000, a range no
training or validation run uses (train/seeds.py). Each target is rendered at --size², fed to the
model through the same preprocessing as any real image, and the predicted parameters are rendered
at the same size and compared with the match report (DESIGN.md).

With a retrieval bank (the shipped models/retrieval.npz by default; --bank none to skip) the same figures
are reported a second time for the full first guess (core.inverse.guess: the CNN, its runner-up
categoricals and the bank's nearest scenes, ranked by rendering): "accuracy_with_bank", "match_with_bank".
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from core.argtypes import count, positive_int, refusal, whole_in
from core.atomic import write_text_atomic
from core.device import device_argument
from core.helptext import DefaultsHelpFormatter
from core.inverse import CATEGORICALS, CheckpointError, encode, load_model, predict_batch, to_input
from core.inverse.encoding import BOOLEANS, natural_errors
from core.inverse.guess import guess
from core.inverse.model import InverseModel
from core.inverse.retrieval import bank_for_cli
from core.metrics import match_report
from core.paths import writable_file
from core.progress import progress_bar
from core.render.twin import MAX_SIDE
from train.generate_data import layers_setting, parse_layers
from train.seeds import EVAL_SEED, check_eval_seed

REPORT_KEYS = ("ssim", "ssim_skill", "lum_corr")
GUESS_TOP_K = 3
"""Runner-up categoricals per head the first guess tries (core.inverse.guess's default)."""
LIT_LEVEL = 12
LIT_RANGE = (0.01, 0.95)
"""A target is "lit" when 1–95 % of its pixels exceed LIT_LEVEL (as in benchmarks/refine.py)."""


def evaluate(
    model: InverseModel,
    n: int,
    seed: int,
    *,
    mode: str = "weighted",
    n_layers: str | None = None,
    size: int = 512,
    renderer: Any = None,
    batch_size: int = 32,
    progress: bool = True,
    bank: Any = None,
) -> dict[str, Any]:
    """The evaluation figures as a JSON-ready dict (see module docstring)."""
    from core.params import sample_params
    from core.render import get_renderer

    check_eval_seed(seed)
    layers = n_layers if n_layers is not None else model.config.n_layers
    renderer = renderer or get_renderer("local", quality="fast")
    params = sample_params(n, seed, mode=mode, n_layers=parse_layers(layers))
    correct: dict[str, list[bool]] = {k: [] for k in (*CATEGORICALS, *BOOLEANS)}
    truths: dict[str, list[float]] = {k: [] for k in correct}
    pred_vec, true_vec, masks, reports = [], [], [], []
    correct_bank: dict[str, list[bool]] = {k: [] for k in correct}
    reports_bank, sources, lit = [], [], []
    infer_s = 0.0
    for start in progress_bar(range(0, n, batch_size), desc="evaluate", disable=not progress):
        chunk = params[start : start + batch_size]
        targets = [renderer.render(p, size, size) for p in chunk]
        t0 = time.perf_counter()
        batch = torch.stack([to_input(im, model.config.input_size) for im in targets])
        preds = predict_batch(model, batch, top_k=GUESS_TOP_K)  # the alternatives serve the first guess
        infer_s += time.perf_counter() - t0
        for p, target, pred in zip(chunk, targets, preds, strict=True):
            truth, predicted = encode(p), encode(pred.params)
            _tally(correct, truth, predicted)
            for k in CATEGORICALS:
                truths[k].append(truth.classes[k])
            for k in BOOLEANS:
                truths[k].append(truth.flags[k])
            pred_vec.append(predicted.continuous)
            true_vec.append(truth.continuous)
            masks.append(truth.mask)
            reports.append(match_report(target, renderer.render(pred.params, size, size), lpips=False))
            lit.append(float((target.max(axis=2) > LIT_LEVEL).mean()))
            if bank is not None:
                first = guess(model, target, bank, top_k=GUESS_TOP_K, prediction=pred)
                _tally(correct_bank, truth, encode(first.params))
                sources.append(first.sources[0].split(" ")[0])
                rendered = renderer.render(first.params, size, size)
                reports_bank.append(match_report(target, rendered, lpips=False))
    errors = natural_errors(np.stack(pred_vec), np.stack(true_vec), np.stack(masks))
    match = _match_summary(reports)
    lit_idx = [i for i, f in enumerate(lit) if LIT_RANGE[0] <= f <= LIT_RANGE[1]]
    with_bank = {}
    if bank is not None:
        with_bank = {
            "accuracy_with_bank": {k: float(np.mean(v)) for k, v in correct_bank.items()},
            "match_with_bank": _match_summary(reports_bank),
            "match_with_bank_lit": _match_summary([reports_bank[i] for i in lit_idx]),
            "first_guess_sources": {s: sources.count(s) for s in sorted(set(sources))},
            "bank": {"scenes": len(bank), **bank.config},
        }
    return {
        "n": n,
        "seed": seed,
        "mode": mode,
        "n_layers": layers,
        "render_size": size,
        "accuracy": {k: float(np.mean(v)) for k, v in correct.items()},
        # what always answering the most frequent true class of this set would score
        "majority_baseline": {
            k: float(np.unique(v, return_counts=True)[1].max() / len(v)) for k, v in truths.items()
        },
        "continuous_median_abs_error": {
            k: float(np.nanmedian(v)) for k, v in errors.items() if np.isfinite(v).any()
        },
        "continuous_mean_abs_error": {
            k: float(np.nanmean(v)) for k, v in errors.items() if np.isfinite(v).any()
        },
        "error_units": "angles in rad (wrapped), colour in 0-255, others in the parameter's own units",
        "match": match,
        # black (or flooded) targets have no light to place: lum_corr is 0 for any prediction there
        "lit_targets": len(lit_idx),
        "match_lit": _match_summary([reports[i] for i in lit_idx]),
        "batched_inference_ms_per_image": 1000 * infer_s / max(n, 1),
        "model": {**model.config.to_dict(), "meta_epoch": getattr(model, "meta", {}).get("epoch")},
        **with_bank,
    }


def _tally(correct: dict[str, list[bool]], truth: Any, chosen: Any) -> None:
    """Append, per categorical and boolean head, whether `chosen` (encoded params) matches `truth`."""
    for k in CATEGORICALS:
        correct[k].append(truth.classes[k] == chosen.classes[k])
    for k in BOOLEANS:
        correct[k].append(truth.flags[k] == chosen.flags[k])


def _match_summary(reports: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    if not reports:
        return {}
    return {
        k: {
            "median": float(np.median([r[k] for r in reports])),
            "p10": float(np.percentile([r[k] for r in reports], 10)),
            "mean": float(np.mean([r[k] for r in reports])),
        }
        for k in REPORT_KEYS
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        prog="python -m train.evaluate",
        description=__doc__.splitlines()[0],
        formatter_class=DefaultsHelpFormatter,
    )
    ap.add_argument("--model", type=Path, default=None, help="checkpoint (default models/inverse.pt)")
    ap.add_argument("--n", type=positive_int, default=200)
    ap.add_argument("--seed", type=int, default=EVAL_SEED)
    ap.add_argument("--mode", default="weighted", choices=("weighted", "uniform", "stratified"))
    ap.add_argument(
        "--n-layers", type=layers_setting, default=None, help="default: the setting the model was trained for"
    )
    ap.add_argument(
        "--size",
        type=whole_in(1, MAX_SIDE, " px"),
        default=512,
        help="render side in px (match report at 512 wide)",
    )
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--bank", default=None, help="retrieval bank (default models/retrieval.npz; none: skip)")
    ap.add_argument("--device", type=device_argument, default=None, help="cpu, cuda, mps or auto")
    ap.add_argument("--threads", type=count, default=0)
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        check_eval_seed(args.seed)
        if args.json:
            writable_file(args.json)  # before the run, not after it
    except ValueError as exc:
        raise refusal(f"error: {exc}") from None
    try:
        model = load_model(args.model, device=args.device)
    except CheckpointError as exc:
        raise refusal(f"error: {exc}") from None
    bank = bank_for_cli(args.bank, "evaluating the CNN alone")
    result = evaluate(
        model, args.n, args.seed, mode=args.mode, n_layers=args.n_layers, size=args.size, bank=bank
    )
    result["checkpoint"] = str(args.model or "models/inverse.pt")
    text = json.dumps(result, indent=1)
    if args.json:
        write_text_atomic(args.json, text)
    acc = "  ".join(f"{k} {v:.3f}" for k, v in result["accuracy"].items())
    match = "  ".join(f"{k} median {v['median']:.3f} p10 {v['p10']:.3f}" for k, v in result["match"].items())
    print(f"accuracy: {acc}\nmatch: {match}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
