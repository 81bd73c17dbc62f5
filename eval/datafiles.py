"""Reading the data sets' JSON files with errors that name the file and the problem."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def read_json_list(path: Path, what: str) -> list[Any]:
    """The JSON list in `path`; ValueError naming the file when it is missing, not JSON,
    or not a list (of `what`, e.g. "tasks")."""
    if not path.is_file():
        raise ValueError(f"no {what} file at {path}")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is not valid JSON: {exc.msg} at line {exc.lineno}") from exc
    if not isinstance(raw, list):
        raise ValueError(f"{path} should hold a JSON list of {what}")
    return raw
