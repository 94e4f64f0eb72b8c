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
