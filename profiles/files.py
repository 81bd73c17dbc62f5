"""Files an operator writes or keeps: YAML read into a typed model with errors that name
the file and the key, and files only their owner may read."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


def first_error(exc: ValidationError) -> str:
    """ "key.path: what is wrong" of a validation's first error ("(top)" for the whole)."""
    first = exc.errors()[0]
    key = ".".join(str(p) for p in first["loc"]) or "(top)"
    return f"{key}: {first['msg']}"


def read_model(path: Path, model: type[M], error: type[ValueError]) -> M:
    """The YAML mapping in `path` as a `model`; `error` naming the file (and the key)
    when it cannot be read, is not a mapping or does not validate. An empty file is an
    empty mapping."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise error(f"{path}: cannot read: {exc}".splitlines()[0]) from exc
    if not isinstance(raw, dict):
        raise error(f"{path}: expected a mapping of keys to values")
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise error(f"{path}: {first_error(exc)}") from exc


def write_private(path: Path, text: str, *, exclusive: bool = False) -> Path:
    """Write `text` to `path` readable by its owner only (mode 0600: secrets, keys);
    `exclusive` fails if the file exists instead of replacing it."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_EXCL if exclusive else os.O_TRUNC)
    fd = os.open(path, flags, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    return path
