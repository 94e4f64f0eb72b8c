"""The seed ranges of synthetic data, kept disjoint so no evaluation ever sees a training scene.

Samples come from `core.params.sample_params(n, seed, ...)`; a (seed, index) pair names one scene.

| range                      | used by                                                     |
|----------------------------|-------------------------------------------------------------|
| 1_000_000 … 1_499_999      | generate_data shards (shard k uses seed TRAIN_SHARD_BASE + k) |
| 1_500_000 … 1_999_999      | retrieval bank (chunk k uses seed RETRIEVAL_BASE + k)         |
| 2_000_000 … 8_999_999      | on-the-fly training streams (chunk c uses TRAIN_STREAM_BASE + c) |
| 9_000_000 … 9_999_999      | validation during training (model selection; VAL_SEED)       |
| ≥ 10_000_000               | evaluate.py and benchmarks only (EVAL_SEED default)          |
"""

from __future__ import annotations

TRAIN_SHARD_BASE = 1_000_000
RETRIEVAL_BASE = 1_500_000
TRAIN_STREAM_BASE = 2_000_000
VAL_SEED = 9_000_000
EVAL_BASE = 10_000_000
EVAL_SEED = EVAL_BASE
BENCH_SEED = EVAL_BASE + 1


def check_eval_seed(seed: int) -> None:
    """Refuse evaluation seeds that training or model selection could have seen."""
    if seed < EVAL_BASE:
        raise ValueError(
            f"evaluation seed {seed} is inside the training/validation ranges (< {EVAL_BASE}); "
            f"use a seed ≥ {EVAL_BASE} (see train/seeds.py)"
        )


RANGES = {
    "generate_data shards": (TRAIN_SHARD_BASE, RETRIEVAL_BASE),
    "the retrieval bank": (RETRIEVAL_BASE, TRAIN_STREAM_BASE),
    "training streams": (TRAIN_STREAM_BASE, VAL_SEED),
    "validation during training": (VAL_SEED, EVAL_BASE),
    "evaluation": (EVAL_BASE, 2**32),
}
"""Each range by who owns it (the table above), [first, end)."""


def check_seed_range(first: int, count: int, owner: str) -> None:
    """Refuse seeds first … first + count − 1 when they reach into another tool's range: a bank or shards
    drawn from the evaluation seeds would hold the very scenes evaluate.py scores (a --seed 10000000 was
    accepted). Seeds below every range are free for experiments."""
    for name, (lo, hi) in RANGES.items():
        if name != owner and first < hi and first + count > lo:
            raise ValueError(
                f"seeds {first} … {first + count - 1} reach into the range of {name} ({lo} … {hi - 1}); "
                f"{owner} use {RANGES[owner][0]} … {RANGES[owner][1] - 1} (see train/seeds.py)"
            )
