"""The designer's `refs.jsonl` (one Leva-prefixed, optionally `{value, disabled}`-wrapped map per line).

Import keeps every line losslessly twice over: as flat params plus its form (which `core.params` converts
back exactly) and as the original text, so export can give back the very bytes that came in, or a
regenerated line that is equal as a JSON object when the seed was not imported.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.params import ParamsError, detect_form, to_prefixed, to_scene_params, validate

from .errors import StoreError
from .records import Seed


@dataclass(frozen=True)
class RefLine:
    """One parsed line: where it came from, its text, the parsed object and its flat params."""

    origin: str
    text: str
    obj: dict[str, Any]
    params: dict[str, Any]
    form: str


def read_refs(path: str | os.PathLike[str]) -> Iterator[RefLine]:
    """Parse a refs.jsonl file; blank lines are skipped, a bad line raises StoreError naming file:line."""
    path = Path(path)
    with path.open(encoding="utf-8") as handle:
        try:
            lines = list(handle)
        except UnicodeDecodeError as exc:
            raise StoreError(
                f"{path.name}: not UTF-8 text ({exc.reason} at byte {exc.start}); a refs.jsonl "
                "holds one JSON object per line"
            ) from None
        for number, line in enumerate(lines, start=1):
            text = line.rstrip("\r\n")
            if not text.strip():
                continue
            origin = f"{path.name}:{number}"
            try:
                obj = json.loads(text)
            except json.JSONDecodeError as exc:
                raise StoreError(f"{origin}: not JSON ({exc})") from exc
            if not isinstance(obj, dict):
                raise StoreError(f"{origin}: expected a JSON object, got {type(obj).__name__}")
            form = detect_form(obj)
            if form == "flat":
                raise StoreError(
                    f"{origin}: not a Leva-prefixed map (no Element.geometry/Scalars.repetitions)"
                )
            try:
                params = to_scene_params(obj)
                # values too: a "hexagon" used to be stored, and fail at its first render; bools as the
                # original's checkbox reads them (a CMA-ES line of the designer's has positionCoupled 1.18)
                validate(params, js_bools=True)
            except ParamsError as exc:
                raise StoreError(f"{origin}: {exc}") from exc
            yield RefLine(origin=origin, text=text, obj=obj, params=params, form=form)


def ref_line(seed: Seed, verbatim: bool = True) -> str:
    """A seed as one refs.jsonl line: the imported text when `verbatim` and present, else regenerated
    from the flat params in the seed's form (wrapped for seeds that did not come from a refs file)."""
    if verbatim and seed.original is not None:
        return seed.original
    wrapped = seed.form != "prefixed"
    try:
        return json.dumps(to_prefixed(seed.params, wrapped=wrapped), separators=(", ", ": "))
    except ParamsError as exc:
        raise StoreError(f"seed {seed.id}: cannot be written as a refs line: {exc}") from exc
