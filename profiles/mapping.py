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

    records:                 # any number of kinds, each from its own file and path
      - kind: debit_card
        at: debit_cards.data
        id: card_id
        customer: user_id    # field path of the owning customer's id
        status: status
        date: issue_date
        sensitive: [cvv]     # dropped before anything is stored
        words: [debit card, card]
        show: "Debit card ending {last_4_digits}: {status}, expires {expiration_date}"

A record's fields are stored (less the sensitive ones), and `show` renders the line a
prompt and the sidebar read; nothing downstream parses that line."""

from __future__ import annotations

import csv
import json
import re
import string
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from profiles.admin import CustomerIn, upsert_customer
from profiles.db import session_scope
from profiles.files import first_error, read_model
from profiles.models import PURPOSES, Customer, CustomerRecord

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


KIND = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%d.%m.%Y", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S")


class RecordsMap(_Strict):
    kind: str = Field(description="What the records are: account, card, booking …")
    file: str | None = None
    at: str = ""
    id: str = Field(description="Field path of the record's id, or @key.")
    customer: str = Field(description="Field path of the owning customer's id.")
    status: str | None = None
    amount: str | None = None
    date: str | None = None
    date_formats: list[str] = Field(default_factory=lambda: list(DATE_FORMATS))
    sensitive: list[str] = Field(default_factory=list)
    words: list[str] = Field(default_factory=list, description="Words naming this kind.")
    show: str = Field("{kind} {key}: {status}", description="How a record reads.")

    @field_validator("kind")
    @classmethod
    def _kind(cls, value: str) -> str:
        if not KIND.match(value):
            raise ValueError("a kind is lower-case letters, digits and '_', a letter first")
        return value

    @field_validator("show")
    @classmethod
    def _template(cls, value: str) -> str:
        try:
            list(string.Formatter().parse(value))
        except ValueError as exc:
            raise ValueError(f"not a template: {exc}") from exc
        return value


class Mapping(_Strict):
    version: Literal[1] = 1
    customers: CustomersMap | None = None
    records: list[RecordsMap] = Field(default_factory=list)

    @model_validator(mode="after")
    def _something(self) -> Mapping:
        if self.customers is None and not self.records:
            raise ValueError("a mapping maps customers, records or both")
        return self


def load_mapping(path: Path) -> Mapping:
    """The mapping in `path`, validated; errors name the file and the key."""
    return read_model(path, Mapping, MappingError)


@dataclass(frozen=True)
class ImportReport:
    customers: int
    created: int
    records: int = 0


def import_files(
    engine: Engine,
    mapping: Mapping,
    paths: list[Path],
    on_progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Upsert the customers and records `mapping` finds in `paths`; re-running never
    duplicates. Every item is read and checked before the first is written: a file with a
    bad item changes nothing."""
    people = _customers(mapping.customers, paths) if mapping.customers else []
    records = [r for spec in mapping.records for r in _records(spec, paths)]
    created = 0
    for cid, data in people:
        created += upsert_customer(engine, cid, data, actor="import")
        if on_progress:
            on_progress(1)
    known = {cid for cid, _ in people}
    with session_scope(engine) as s:
        wanted = {r.customer_id for r in records} - known
        if wanted:
            found = set(s.exec(select(Customer.id).where(col(Customer.id).in_(wanted))).all())
            if missing := sorted(wanted - found):
                raise MappingError(f"records of unknown customer {missing[0]!r}: import them first")
        stored = {
            (row.kind, row.key): row
            for row in s.exec(
                select(CustomerRecord).where(
                    col(CustomerRecord.kind).in_({r.kind for r in records})
                )
            )
        }
        for r in records:
            row = stored.get((r.kind, r.key))
            if row is None:
                s.add(r)
            else:
                for name in ("customer_id", "status", "amount", "at", "fields", "text", "words"):
                    setattr(row, name, getattr(r, name))
            if on_progress:
                on_progress(1)
    return ImportReport(customers=len(people), created=created, records=len(records))


def _customers(spec: CustomersMap, paths: list[Path]) -> list[tuple[str, CustomerIn]]:
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
            raise MappingError(f"{where}: {first_error(exc)}") from exc
        rows.append((cid, data))
    return rows


def _records(spec: RecordsMap, paths: list[Path]) -> list[CustomerRecord]:
    source = _pick(paths, spec.file)
    out: list[CustomerRecord] = []
    for key, item in _items(source, spec.at):
        where = f"{source.name}: {spec.kind}[{key}]"
        rid = key if spec.id == KEY else _text(_get(item, spec.id, where))
        owner = _text(_get(item, spec.customer, where))
        if not rid or not owner:
            raise MappingError(f"{where}: no {'id' if not rid else 'customer'} at its path")
        fields = {k: v for k, v in item.items() if k not in spec.sensitive}
        status = _text(_get(item, spec.status, where)) if spec.status else None
        out.append(
            CustomerRecord(
                customer_id=owner,
                kind=spec.kind,
                key=rid,
                status=status,
                amount=_amount(_get(item, spec.amount, where), where) if spec.amount else None,
                at=_date(_get(item, spec.date, where), spec.date_formats, where)
                if spec.date
                else None,
                fields=fields,
                text=_tidy(
                    string.Formatter().vformat(
                        spec.show, (), _Blank(fields, kind=spec.kind, key=rid, status=status or "")
                    )
                ),
                words=spec.words or [spec.kind.replace("_", " ")],
            )
        )
    return out


class _Blank(dict[str, Any]):
    """Template values; a field a record lacks reads as empty, not as an error."""

    def __init__(self, fields: dict[str, Any], **extra: Any) -> None:
        super().__init__({**fields, **extra})

    def __missing__(self, key: str) -> str:
        return ""


_EMPTY_PARENS = re.compile(r"\(\s*\)")
_DANGLING = re.compile(r"\s*[:,]\s*(?=[,.;)]|$)")


def _tidy(text: str) -> str:
    """A rendered line without the separators of the values a record lacks
    ("Gold Card: , balance $4" → "Gold Card, balance $4")."""
    text = _EMPTY_PARENS.sub("", text)
    text = _DANGLING.sub("", text)
    return " ".join(text.split())


def _amount(value: Any, where: str) -> float | None:
    if value is None or value == "":
        return None
    try:
        return float(str(value).replace(",", "").lstrip("$€£"))
    except ValueError:
        raise MappingError(f"{where}: the amount is not a number") from None


def _date(value: Any, formats: list[str], where: str) -> datetime | None:
    if value is None or value == "":
        return None
    for fmt in formats:
        try:
            return datetime.strptime(str(value), fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    raise MappingError(f"{where}: the date matches none of the mapping's date_formats")


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
