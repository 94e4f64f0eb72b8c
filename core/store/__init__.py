"""The store: the seed pool, runs, judged ratings and the gallery, in one SQLite file per data directory.

>>> from core.store import Store
>>> with Store("data") as store:                        # or $BB_DATA_DIR, default ./data
...     report = store.import_refs("../shared/refs/refs.jsonl")
...     run = store.start_run("explore", {"judge": "proxy"}, seed_id=report.seed_ids[0])
...     rid = store.add_rating(params, 9.2, judge="proxy:…", image=pixels, run_id=run, step=0)
...     best = store.gallery(min_score=9.0)

Safe for two writing processes at once (WAL, busy timeout, short write transactions); images are
content-addressed PNGs written atomically before the row that names them.
"""

from .errors import RunBusyError, StoreError
from .images import prune_orphans, put_image
from .location import DB_NAME, ENV_VAR, StoreLocation, default_data_dir, resolve_location
from .records import Rating, Run, Seed, params_key
from .refs import RefLine, read_refs, ref_line
from .schema import RUN_STATUSES, SCHEMA_VERSION, SOURCES
from .store import GALLERY_MIN_SCORE, ImportReport, Store

__all__ = [
    "DB_NAME",
    "ENV_VAR",
    "GALLERY_MIN_SCORE",
    "RUN_STATUSES",
    "SCHEMA_VERSION",
    "SOURCES",
    "ImportReport",
    "Rating",
    "RefLine",
    "Run",
    "RunBusyError",
    "Seed",
    "Store",
    "StoreError",
    "StoreLocation",
    "default_data_dir",
    "params_key",
    "prune_orphans",
    "put_image",
    "read_refs",
    "ref_line",
    "resolve_location",
]
