"""Exploration with taste: an evolution strategy around a seed, judged 1–10, finds fed back as seeds.

>>> from core.explore import Explorer, ExploreConfig
>>> from core.judge import create_judge
>>> from core.store import Store
>>> store, judge = Store("data"), create_judge("proxy")
>>> explorer = Explorer.start(store, judge, seed_id=12, config=ExploreConfig(evals=300))
>>> for event in explorer.run():                  # explorer.cancel() from another thread stops it
...     print(event.evaluations, event.best_score, len(event.finds))
>>> Explorer(store, judge, event.run_id).run()    # resumes an interrupted run: no rating lost or redone

Modules, one concern each: `config` (what a run is), `seeds` (where it starts), `rendering` (renders in
worker processes), `novelty` (repulsion from earlier finds), `extract` (the closed loop: find → inverse
model → seed), `events` (progress as values), `explorer` (the loop, resume by replay), `cli`.
"""

from .config import DEFAULT_EVALS, ExploreConfig
from .events import Evaluated, ExploreEvent, Find
from .explorer import KIND, ExploreError, Explorer, RunHeldError, next_rng_seed, start_run
from .extract import Extractor, ExtractorChoice, cnn_extractor, default_extractor, promote_find
from .novelty import FindArchive, descriptor, distance, distinct, diversity
from .seeds import SeedError, read_params, seed_from_image, seed_from_params

__all__ = [
    "DEFAULT_EVALS",
    "KIND",
    "Evaluated",
    "ExploreConfig",
    "ExploreError",
    "ExploreEvent",
    "Explorer",
    "Extractor",
    "ExtractorChoice",
    "Find",
    "FindArchive",
    "RunHeldError",
    "SeedError",
    "cnn_extractor",
    "default_extractor",
    "descriptor",
    "distance",
    "distinct",
    "diversity",
    "next_rng_seed",
    "promote_find",
    "read_params",
    "seed_from_image",
    "seed_from_params",
    "start_run",
]
