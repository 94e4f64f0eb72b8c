"""How every benchmark hands over its figures: JSON on stdout, and the same text in a file when asked."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from core.atomic import write_text_atomic


def emit(result: dict[str, Any], json_path: str | Path | None = None) -> None:
    text = json.dumps(result, indent=2)
    print(text)
    if json_path:
        write_text_atomic(json_path, text + "\n")
