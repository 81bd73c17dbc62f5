"""Mapping files: how a business's own data files become Rapport's customers.

A mapping is YAML, validated on load; an error names the file and the key. Sources are
JSON (an object or list, reached by a dotted path `at`), JSONL (one object per line) or
CSV (a header row). Example (τ-knowledge's bank, `profiles/mappings/tau_banking.yaml`):

    version: 1
    customers:
      file: db.json          # which of the files given to the import (default: the first)
      at: users.data         # a list of objects, or an object keyed by id
      id: user_id            # a field path; `@key` is the key of an object keyed by id
      name: name             # a full name, split into first and last
      fields:                # profile attribute: field path in the source
        email: email
        phone: phone_number
        address1: address

This first version maps customers; records of any kind come next (issue 14)."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy.engine import Engine

from profiles.admin import CustomerIn, upsert_customer
from profiles.models import PURPOSES

KEY = "@key"
PACKAGED_MAPPINGS = Path(__file__).resolve().parent / "mappings"
"""Mappings kept with Rapport: the demo's bank (`tau_banking.yaml`)."""
CUSTOMER_FIELDS = frozenset(CustomerIn.model_fields) - {"consents"}


class MappingError(ValueError):
    """A mapping file, or a source it reads, that cannot be used; names the file and key."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CustomersMap(_Strict):
    file: str | None = Field(None, description="Source file name; the first given if unset.")
    at: str = Field("", description="Dotted path to the customers inside a JSON file.")
    id: str = Field(description="Field path of the customer id, or @key.")
    name: str | None = Field(None, description="Field path of a full name (split in two).")
    fields: dict[str, str] = Field(default_factory=dict)
    consent: Literal["granted", "not_granted"] = "granted"

    @field_validator("fields")
    @classmethod
    def _known(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - CUSTOMER_FIELDS)
        if unknown:
            raise ValueError(
                f"unknown profile field {unknown[0]!r}; known: {', '.join(sorted(CUSTOMER_FIELDS))}"
            )
        return value


class Mapping(_Strict):
    version: Literal[1] = 1
    customers: CustomersMap


def load_mapping(path: Path) -> Mapping:
    """The mapping in `path`, validated."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise MappingError(f"{path}: cannot read: {exc}".splitlines()[0]) from exc
    if not isinstance(raw, dict):
        raise MappingError(f"{path}: expected a mapping of keys to values")
    try:
        return Mapping.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in first["loc"]) or "(top)"
        raise MappingError(f"{path}: {key}: {first['msg']}") from exc


@dataclass(frozen=True)
class ImportReport:
    customers: int
    created: int


def import_files(
    engine: Engine,
    mapping: Mapping,
    paths: list[Path],
    on_progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Upsert the customers `mapping` finds in `paths`; re-running never duplicates.
    Every item is read and checked before the first is written: a file with a bad item
    changes nothing."""
    spec = mapping.customers
    source = _pick(paths, spec.file)
    rows: list[tuple[str, CustomerIn]] = []
    consents = {p: spec.consent == "granted" for p in PURPOSES}
    for key, item in _items(source, spec.at):
        where = f"{source.name}: customers[{key}]"
        cid = key if spec.id == KEY else _text(_get(item, spec.id, where))
        if not cid:
            raise MappingError(f"{where}: no id at {spec.id!r}")
        values: dict[str, Any] = {
            attr: _text(_get(item, fpath, where)) for attr, fpath in spec.fields.items()
        }
        if spec.name:
            first, _, last = (_text(_get(item, spec.name, where)) or "").partition(" ")
            values.setdefault("first_name", first)
            values.setdefault("last_name", last)
        try:
            data = CustomerIn.model_validate(
                {k: v for k, v in values.items() if v is not None} | {"consents": consents}
            )
        except ValidationError as exc:
            field = ".".join(str(p) for p in exc.errors()[0]["loc"])
            raise MappingError(f"{where}: {field}: {exc.errors()[0]['msg']}") from exc
        rows.append((cid, data))
    created = 0
    for cid, data in rows:
        created += upsert_customer(engine, cid, data, actor="import")
        if on_progress:
            on_progress(1)
    return ImportReport(customers=len(rows), created=created)


def _pick(paths: list[Path], name: str | None) -> Path:
    if not paths:
        raise MappingError("no source files given")
    if name is None:
        return paths[0]
    for p in paths:
        if p.name == name:
            return p
    raise MappingError(f"the mapping reads {name!r}, which is not among the files given")


def _items(path: Path, at: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """(key, object) pairs of a source: list positions or object keys as keys."""
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            with path.open(newline="", encoding="utf-8") as fh:
                rows: Any = list(csv.DictReader(fh))
        elif suffix == ".jsonl":
            with path.open(encoding="utf-8") as fh:
                rows = [json.loads(line) for line in fh if line.strip()]
        else:
            rows = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, csv.Error) as exc:
        raise MappingError(f"{path}: cannot read: {exc}".splitlines()[0]) from exc
    for part in [p for p in at.split(".") if p]:
        if not isinstance(rows, dict) or part not in rows:
            raise MappingError(f"{path.name}: nothing at {at!r} (no {part!r})")
        rows = rows[part]
    pairs = rows.items() if isinstance(rows, dict) else enumerate(rows)
    for key, item in pairs:
        if not isinstance(item, dict):
            raise MappingError(f"{path.name}: {at or '(top)'}[{key}] is not an object")
        yield str(key), item


def _get(item: dict[str, Any], path: str, where: str) -> Any:
    value: Any = item
    for part in path.split("."):
        if not isinstance(value, dict):
            raise MappingError(f"{where}: {path!r} goes through a value that is not an object")
        value = value.get(part)
    return value


def _text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return str(value)
