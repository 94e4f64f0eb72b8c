"""`python -m core.explore`: explore around a seed with a judge, with a progress bar; resumable.

    python -m core.explore (--seed-image PNG | --seed-id N | --seed-params JSON) --judge SPEC --evals N
                           [--db PATH] [--threshold 9] [--population P] [--sigma S] [--novelty W]
                           [--method catcma|cma] [--rng-seed K] [--width PX --height PX] [--workers W]
                           [--checkpoint PT]
    python -m core.explore --resume RUN_ID [--db PATH] [--workers W] [--judge openai:NEW-URL]
                           (the run's own config and judge; --judge only moves its VLM to another address)
    python -m core.explore --list [--db PATH]   (the unfinished runs: stopped, failed, interrupted, running)

SPEC: proxy | transformers[:MODEL] | openai:URL[#model]. Every find (score ≥ threshold) lands in the
gallery; the inverse model's reading of its render becomes a seed (source "cnn") — or, with no
checkpoint yet, the find's own params (source "explore"), and the output says extraction was skipped.
Ctrl-C stops the run resumably (it still prints its summary; exit status 130; a second Ctrl-C aborts);
`--resume RUN_ID` continues it with its stored config and judge (a finished run is refused, as are the
new-run options). A judge that gives no usable score for several candidates in a row stops the run,
resumably. Prints one JSON summary line on stdout (run id, evaluations, best, finds, seeds added by this
invocation).
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from dataclasses import replace
from typing import Any

from tqdm import tqdm

from core.argtypes import positive_int, seed
from core.helptext import DefaultsHelpFormatter
from core.interrupt import cancel_on_interrupt
from core.judge import JudgeError, create_judge
from core.progress import progress_bar
from core.store import Store, StoreError
from core.store.errors import database_trouble
from core.store.location import resolve_location

from .config import DEFAULT_EVALS, ExploreConfig
from .events import ExploreEvent
from .explorer import ExploreError, Explorer, RunHeldError, next_rng_seed
from .extract import ExtractorChoice, default_extractor
from .listing import describe_run, resume_refusal, unfinished_runs
from .seeds import SeedError, seed_from_image, seed_from_params


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m core.explore",
        description=__doc__,
        formatter_class=DefaultsHelpFormatter,
    )
    start = parser.add_mutually_exclusive_group(required=True)
    start.add_argument("--seed-image", metavar="PNG", help="start from the inverse model's reading of it")
    start.add_argument("--seed-id", type=int, metavar="N", help="start from seed N of the pool")
    start.add_argument("--seed-params", metavar="JSON", help="start from params (JSON object or file)")
    start.add_argument("--resume", type=int, metavar="RUN_ID", help="continue an interrupted run")
    start.add_argument("--list", action="store_true", help="list the unfinished runs, then exit")
    parser.add_argument(
        "--judge", help="proxy | transformers[:MODEL] | openai:URL[#model] (needed for a new run)"
    )
    parser.add_argument("--evals", type=positive_int, default=DEFAULT_EVALS, help="evaluations in all")
    parser.add_argument("--db", help="data directory or database file (default $BB_DATA_DIR or ./data)")
    defaults = ExploreConfig()
    parser.add_argument("--threshold", type=float, default=defaults.threshold, help="a find scores ≥ this")
    parser.add_argument(
        "--population", type=positive_int, help="candidates per generation (default 4 + 3 ln n)"
    )
    parser.add_argument(
        "--sigma", type=float, default=defaults.sigma, help="initial step in (0, 1] units of each range"
    )
    parser.add_argument("--novelty", type=float, default=defaults.novelty, help="repulsion weight (0: off)")
    parser.add_argument("--method", choices=("catcma", "cma"), default=defaults.method)
    parser.add_argument(
        "--rng-seed",
        type=seed,
        help="the optimiser's seed (default: the count of earlier runs from the seed, so a rerun asks new "
        "candidates; give one to repeat a run)",
    )
    parser.add_argument("--width", type=positive_int, default=defaults.width, help="judged render width (px)")
    parser.add_argument(
        "--height", type=positive_int, default=defaults.height, help="judged render height (px)"
    )
    parser.add_argument("--workers", type=positive_int, help=f"render processes (default {defaults.workers})")
    parser.add_argument(
        "--checkpoint",
        help="inverse-model checkpoint that reads finds back into seeds (default models/inverse.pt; none: "
        "finds keep their own params)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.resume is None and not args.list and not args.judge:
        parser.error("--judge is required for a new run")
    if (args.list or args.resume is not None) and not (db := resolve_location(args.db).db_path).exists():
        print(f"error: no data at {db} (nothing was explored there): check --db", file=sys.stderr)
        return 2  # a mistyped --db used to make an empty store there and say "0 unfinished run(s)"
    try:
        store = Store(args.db)
    except StoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.list:
        with store:
            runs = unfinished_runs(store)
            for run in runs:
                print(describe_run(run))
        print(f"{len(runs)} unfinished run(s); --resume RUN_ID continues one", file=sys.stderr)
        return 0
    if args.checkpoint == "none":
        extraction = ExtractorChoice(None, "extraction skipped: --checkpoint none")
    else:
        extraction = default_extractor(args.checkpoint)
        if args.checkpoint and extraction.extract is None:  # named, so an error, not a note to run on without
            store.close()
            why = extraction.note.removeprefix("extraction skipped: ")
            print(f"error: --checkpoint {why}", file=sys.stderr)
            return 2
    explorer: Explorer | None = None
    try:
        if args.resume is not None:
            if given := new_run_options(parser, args):  # they were ignored without a word
                raise ExploreError(
                    f"--resume continues run {args.resume} with its own settings; {', '.join(given)} "
                    "apply to a new run only"
                )
            if refused := resume_refusal(store, args.resume):  # said before a VLM is asked to get ready
                raise ExploreError(refused)
            judge_spec = resume_judge(str(store.get_run(args.resume).config.get("judge") or "proxy"), args)
            explorer = Explorer(
                store, create_judge(judge_spec), args.resume, extractor=extraction, workers=args.workers
            )
        else:
            config = ExploreConfig(  # checked before a judge is readied and a seed and a run are saved
                evals=args.evals,
                population=args.population,
                sigma=args.sigma,
                method=args.method,
                rng_seed=args.rng_seed or 0,
                threshold=args.threshold,
                novelty=args.novelty,
                width=args.width,
                height=args.height,
                **({"workers": args.workers} if args.workers else {}),
            )
            judge = create_judge(args.judge)
            judge.prepare()  # a judge that cannot run fails here, before a seed and a run are saved
            seed_id = _seed(store, args, extraction.extract)
            if args.rng_seed is None:
                config = replace(config, rng_seed=next_rng_seed(store, seed_id))
            explorer = Explorer.start(
                store, judge, seed_id, config, judge_spec=args.judge, extractor=extraction
            )
        print(
            f"run {explorer.run_id} from seed {explorer.seed_id} (rng seed {explorer.config.rng_seed}); "
            f"{extraction.note}",
            file=sys.stderr,
        )
        with cancel_on_interrupt(explorer.cancel, "the exploration") as interrupted:
            final = _drive(explorer)
    except (ExploreError, SeedError, StoreError, JudgeError, ValueError) as exc:
        no_hint = explorer is None or isinstance(exc, RunHeldError)
        later = "" if no_hint else f" (the run is kept: --resume {explorer.run_id} continues it)"
        print(f"error: {exc}{later}", file=sys.stderr)
        return 2
    except sqlite3.Error as exc:  # the database in mid-use: locked past the wait, read-only, damaged
        later = "" if explorer is None else f" (--resume {explorer.run_id} continues the run, mended)"
        print(f"error: {database_trouble(exc, store.path)}{later}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        run = "" if explorer is None else f"; continue with --resume {explorer.run_id}"
        print(f"interrupted{run}", file=sys.stderr)
        return 130
    finally:
        store.close()
    print(json.dumps(_summary(final)))
    if interrupted():
        print(f"interrupted; continue with --resume {final.run_id}", file=sys.stderr)
        return 130
    if final.best_score is None and final.evaluations:  # a run of failed judgements is no success
        print(
            "warning: the judge gave no usable score for any candidate (their raw answers are stored)",
            file=sys.stderr,
        )
        return 1
    return 0


NEW_RUN_OPTIONS = (
    "evals",
    "threshold",
    "population",
    "sigma",
    "novelty",
    "method",
    "rng_seed",
    "width",
    "height",
)
"""What a new run is made with; a resumed run keeps its own."""


def new_run_options(parser: argparse.ArgumentParser, args: argparse.Namespace) -> list[str]:
    """The new-run options given on the command line (those that differ from their defaults), as words."""
    return [
        f"--{dest.replace('_', '-')} {getattr(args, dest)}"
        for dest in NEW_RUN_OPTIONS
        if getattr(args, dest) != parser.get_default(dest)
    ]


def resume_judge(stored: str, args: argparse.Namespace) -> str:
    """The judge a resumed run goes on with: its own, or the same VLM at another address (`--judge`), said
    on stderr. A VLM server that had moved left its runs unresumable; another judge is refused, since its
    scores would not compare with the run's own."""
    given = (args.judge or "").strip()
    if not given or given == stored:
        return stored
    if given.startswith("openai:") and stored.startswith("openai:") and _model(given) == _model(stored):
        print(f"note: run {args.resume} goes on with {given} (it was judged by {stored})", file=sys.stderr)
        return given
    raise ExploreError(
        f"run {args.resume} is judged by {stored}; another judge's scores would not compare with its own "
        f"(--judge with --resume may only give the same openai: model another address): start a new run to "
        f"use {given}"
    )


def _model(spec: str) -> str:
    """The model named in an openai: judge spec ("" for the server's default)."""
    return spec.partition("#")[2].strip()


def _seed(store: Store, args: argparse.Namespace, extract: Any) -> int:
    if args.seed_id is not None:
        store.get_seed(args.seed_id)
        return int(args.seed_id)
    if args.seed_image is not None:
        return seed_from_image(store, args.seed_image, extract)
    return seed_from_params(store, args.seed_params)


def _drive(explorer: Explorer) -> ExploreEvent:
    final: ExploreEvent | None = None
    with progress_bar(total=explorer.config.evals, unit="eval") as bar:
        for event in explorer.run():
            bar.update(event.evaluations - bar.n)
            best = "–" if event.best_score is None else f"{event.best_score:.2f}"
            bar.set_postfix(best=best, finds=len(event.finds), refresh=False)
            for find in event.new_finds:
                if find.step < event.replayed:  # a resumed run's earlier find, replayed: said when found
                    continue
                seed = (
                    "near-duplicate or already in the pool, no new seed"
                    if find.seed_id is None
                    else f"seed {find.seed_id} ({find.source})"
                )
                tqdm.write(
                    f"find: step {find.step} scored {find.score:g} → rating {find.rating_id}, {seed}",
                    file=sys.stderr,
                )
            final = event
    assert final is not None and final.done
    return final


def _summary(event: ExploreEvent) -> dict[str, Any]:
    return {
        "run_id": event.run_id,
        "evaluations": event.evaluations,
        "replayed": event.replayed,
        "stop_reason": event.stop_reason,
        "elapsed_s": round(event.elapsed, 2),
        "best_score": event.best_score,
        "best_rating_id": event.best_rating_id,
        "finds": [{"rating_id": f.rating_id, "score": f.score, "seed_id": f.seed_id} for f in event.finds],
        "seeds_added": sum(f.seed_id is not None and f.step >= event.replayed for f in event.finds),
        "extraction": event.extraction,
    }
