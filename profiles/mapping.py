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
prompt and the sidebar read; nothing downstream parses that line.

Shapes beyond one flat list per kind:

- **Nested lists.** A `*` in `at` means "each item here": `at: bookings.*.segments` reads
  the segments inside every booking. A field path starting `@parent.` reads the enclosing
  item (`customer: "@parent.passenger_id"`; `@parent.@key` is its key).
- **Links.** `links: {account: account_id}` records that the field `account_id` holds the
  id of an `account` record (or of a `reference` item named `account`); `show` reads the
  linked item's fields (`"{account.level} account"`), and a message naming the account
  ranks its records too. `customer_via: account` takes the owner from the linked record,
  for sources that never name the customer (a bank account's transactions); the linked
  kind comes earlier in the mapping or was imported before. A source that names the
  linked record by one of its values rather than its id links by that value:
  `links: {credit_card: {field: card_type, matching: card_type}}` is the customer's card
  whose `card_type` the charge's `card_type` holds (no link when none or several match).
- **Reference data.** `reference:` lists items that are no customer's (a catalog, plans,
  flights), each `{name, file, at, id, show}`; records link to them by name.
- **Status rules.** `allows: {confirmed: [cancel, change_seat], cancelled: []}` says what
  each status allows next (statuses matched whatever their case; `"*"` for any status not
  listed), and `action_names: {change_seat: {es: cambiar el asiento}, close: {en: [close,
  cancel]}}` how customers name an action in each language, one name or several (the first
  is the reply's; English defaults to the action's own name). A reply to "can I cancel
  BK1?" then says whether its status allows it, and "I want to cancel my booking" from a
  customer with two that allow it asks which one. `instead: {return: cancel}` names what
  does the same for the customer when an action's status does not allow it: a refund
  asked of an order not yet delivered is its cancellation, the action an agent is offered.
  `outcome: {cancel: "Once it is cancelled, the {amount:$,.2f} you paid goes back to your
  {payment_method.brand}."}` tells what an action does, filled from the record like `show`
  (one template, or one per language), said after a reply offers it. A question naming a
  status of the kind ("is it active yet?") is answered yes, no or not yet;
  `status_words: {processed: [shipped, on its way], delivered: [shipped, arrived]}` adds
  the words customers say a status by ("has it shipped yet?"; a word may name several),
  which a model's claims about the record are checked against too.
  `amount_said: "You paid {amount:$,.2f} for it."` tells a customer who asks how much
  what the record's `amount` is (the same amount is a payment, a balance or a fee by kind).
- **Under way.** `open: [confirmed, checked_in]` names the statuses in which a record is
  still under way (an order not yet delivered, a dispute under review; any case): "where is
  it?" or "any news?" that names nothing reads these, else the latest of the kind, and a
  question naming the kind ("where's my booking?") reads the ones under way first.
  `arrived: [delivered]` names the statuses in which it has reached the customer: "it says
  delivered but I never got it" about such a record goes to a person who can trace it.
- **Languages.** `show: {en: "Booking {key}: {status}", es: "Reserva {key}: {status}"}`
  reads each record in the customer's language where a template is given; a status's
  label (`labels: {CNF: {es: confirmada}}`) is kept with the record (`status_texts`), so a
  reply in Spanish says "Su estado es confirmada", not the code.
- **Templates** read nested objects (`{address.city}`), lists (`{items.name}` joins each
  item's name) and leave out a bracketed part whose values are empty (`{status}[, tracking
  {tracking_id}]`). Field paths index lists (`payments.0.method`), and an id may be made of
  several (`id: "{@parent.@key}/{@key}"`: a line of an order by its position). Two items
  of one kind with the same id are refused, with how to fix it.
- **Amounts** read as money with a number's format and a currency sign before it:
  `{current_holdings:$,.2f}` writes "2850.00" (or 2850, or "$2,850") as "$2,850.00";
  `{price:€,.2f}` with a euro sign. A value that is no number is written as it is.

`profiles/mappings/tau_retail.yaml` maps τ-bench's whole store this way."""

from __future__ import annotations

import csv
import json
import re
import string
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import load_only
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from profiles.admin import (
    KIND,
    CustomerIn,
    Requirement,
    attribute_names,
    english_name,
    stored_requirements,
    upsert_customer,
)
from profiles.db import session_scope
from profiles.files import first_error, read_model
from profiles.models import PURPOSES, Customer, CustomerRecord, ReferenceItem
from profiles.relevance import IdPattern, id_shape

KEY = "@key"
PARENT = "@parent."
PACKAGED_MAPPINGS = Path(__file__).resolve().parent / "mappings"
"""Mappings kept with Rapport: the demo's store and bank, and their segments."""
RETAIL_MAPPING = PACKAGED_MAPPINGS / "tau_retail.yaml"
STORE_SEGMENTS = PACKAGED_MAPPINGS / "tau_retail.segments.yaml"
BANK_MAPPING = PACKAGED_MAPPINGS / "tau_banking.yaml"
BANK_SEGMENTS = PACKAGED_MAPPINGS / "tau_banking.segments.yaml"


def retail_files(directory: Path) -> list[Path]:
    """The τ-retail data set's files `RETAIL_MAPPING` reads, in `directory`."""
    return [directory / f"{name}.json" for name in ("users", "orders", "products")]


def import_retail(engine: Engine, directory: Path) -> ImportReport:
    """The τ-retail data set in `directory`, imported by its packaged mapping."""
    return import_files(engine, load_mapping(RETAIL_MAPPING), retail_files(directory))


CUSTOMER_FIELDS = frozenset(CustomerIn.model_fields) - {"consents", "attributes"}


class MappingError(ValueError):
    """A mapping file, or a source it reads, that cannot be used; names the file and key."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ConsentBy(_Strict):
    """Consent read from each customer's own data, a yes or no ("yes", "true", 1,
    "granted", "opted in" …; anything else, or nothing, is no): `field` for every purpose,
    or a field path per purpose (a purpose not given is not granted)."""

    field: str | None = None
    personalization: str | None = None
    history: str | None = None
    analytics: str | None = None

    @model_validator(mode="after")
    def _one_way(self) -> ConsentBy:
        per_purpose = [p for p in PURPOSES if getattr(self, p)]
        if self.field and per_purpose:
            raise ValueError("give `field` for every purpose, or a field per purpose, not both")
        if not self.field and not per_purpose:
            raise ValueError(f"give `field`, or a field for any of {', '.join(PURPOSES)}")
        return self

    def paths(self) -> dict[str, str | None]:
        """Each purpose's field path (None: not granted)."""
        return {p: self.field or getattr(self, p) for p in PURPOSES}


class CustomersMap(_Strict):
    file: str | None = Field(None, description="Source file name; the first given if unset.")
    at: str = Field("", description="Dotted path to the customers inside a JSON file.")
    id: str = Field(description="Field path of the customer id, or @key.")
    name: str | None = Field(None, description="Field path of a full name (split in two).")
    fields: dict[str, str] = Field(default_factory=dict)
    attributes: Annotated[dict[str, str], BeforeValidator(attribute_names)] = Field(
        default_factory=dict,
        description="The business's own facts about each customer: name → field path "
        "({tier: loyalty.tier}); shown to agents, in the prompt and to segment rules.",
    )
    consent: Literal["granted", "not_granted"] | ConsentBy = Field(
        "granted",
        description="granted or not_granted for every customer, or read from each one's "
        "data: {field: marketing_ok}, or {personalization: a, history: b}.",
    )

    @field_validator("consent", mode="before")
    @classmethod
    def _consent(cls, value: Any) -> Any:
        """One error for what was meant: the words, or the fields to read."""
        if isinstance(value, dict):
            try:
                return ConsentBy.model_validate(value)
            except ValidationError as exc:
                raise ValueError(first_error(exc)) from None
        if value not in ("granted", "not_granted"):
            raise ValueError("granted, not_granted, or {field: …} to read each customer's")
        return value

    @field_validator("fields")
    @classmethod
    def _known(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - CUSTOMER_FIELDS)
        if unknown:
            raise ValueError(
                f"unknown profile field {unknown[0]!r}; known: {', '.join(sorted(CUSTOMER_FIELDS))}"
            )
        return value


class LinkBy(_Strict):
    """A link by value: `field` holds the linked record's `matching` field, not its id."""

    field: str = Field(description="Field path of the value.")
    matching: str = Field(description="The linked kind's field that holds the same value.")


DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%d.%m.%Y", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S")


def _nesting(at: str, paths: list[str], label: str) -> None:
    """A field path may climb (`@parent.`) only as many levels as `at` has `*`s."""
    depth = at.split(".").count("*")
    for path in [p for given in paths for p in (_SLOT.findall(given) or [given])]:
        climbs = 0
        while path.startswith(PARENT * (climbs + 1)):
            climbs += 1
        if climbs > depth:
            raise ValueError(f"{label} {path!r} climbs {climbs} levels; 'at' nests {depth}")


class ReferenceMap(_Strict):
    name: str = Field(description="What the items are: product, plan, flight …")
    file: str | None = None
    at: str = ""
    id: str = Field(description="Field path of the item's id, or @key.")
    show: str = Field(
        "{name} {key}",
        description="How an item reads; {name} is its own 'name' field, else the reference's.",
    )
    part_of: dict[str, str] = Field(
        default_factory=dict,
        description="The reference item it is one of (a product's variant): {name: field "
        "path of its id}, e.g. {product: '@parent.@key'}.",
    )
    available: str | None = Field(
        None, description="Field path of a yes/no: whether it can be offered now."
    )

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return _kind_name(value)

    @field_validator("part_of")
    @classmethod
    def _one_whole(cls, value: dict[str, str]) -> dict[str, str]:
        if len(value) > 1:
            raise ValueError("an item is part of one other item: give one name")
        for name in value:
            _kind_name(name)
        return value

    @model_validator(mode="after")
    def _paths(self) -> ReferenceMap:
        paths = [self.id, *self.part_of.values(), *([self.available] if self.available else [])]
        _nesting(self.at, paths, "field path")
        return self

    @field_validator("show")
    @classmethod
    def _template(cls, value: str) -> str:
        return _check_template(value)


class RecordsMap(_Strict):
    kind: str = Field(description="What the records are: account, card, booking …")
    file: str | None = None
    at: str = ""
    id: str = Field(
        description="Field path of the record's id, @key, or several: '{@parent.@key}/{line}'."
    )
    customer: str | None = Field(None, description="Field path of the owning customer's id.")
    customer_via: str | None = Field(None, description="A link whose record names the owner.")
    links: dict[str, str | LinkBy] = Field(
        default_factory=dict,
        description="Linked kind or reference name: field path of its id, or a LinkBy.",
    )
    allows: dict[str, list[str]] = Field(
        default_factory=dict, description="Status: the actions it allows next."
    )
    action_names: dict[str, dict[str, str | list[str]]] = Field(
        default_factory=dict,
        description="Action: its name by language as customers say it, or several names "
        "(the first is the one replies use).",
    )
    status: str | None = None
    open: list[str] = Field(
        default_factory=list,
        description="Statuses still under way (an order not yet delivered, a dispute under "
        "review): 'where is it?' naming nothing reads these.",
    )
    arrived: list[str] = Field(
        default_factory=list,
        description="Statuses in which it has reached the customer (a delivered order or "
        "card): 'I never got it' then goes to a person who can trace it.",
    )
    status_words: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Status: more words customers say it by, in any language, besides its "
        "code and labels ({processed: [shipped, on its way, enviado]}): 'has it shipped "
        "yet?' of a pending order is 'Not yet: it is pending.', and a model's reply saying "
        "a record 'has shipped' is checked against its status.",
    )
    amount: str | None = None
    date: str | None = None
    date_formats: list[str] = Field(default_factory=lambda: list(DATE_FORMATS))
    requires: dict[str, list[Requirement]] = Field(
        default_factory=dict,
        description="Action: what it also needs of the record, with why not.",
    )
    instead: dict[str, str] = Field(
        default_factory=dict,
        description="Action: the action that does the same for the customer when its "
        "status does not allow it ({return: cancel}: a refund before delivery).",
    )
    outcome: dict[str, str | dict[str, str]] = Field(
        default_factory=dict,
        description="Action: what the customer is told it does, a template filled from the "
        "record like `show`, or one per language ('en' first): {cancel: 'Once it is "
        "cancelled, the {amount:$,.2f} you paid goes back to your {payment_method.brand}.'}",
    )
    amount_said: str | dict[str, str] | None = Field(
        None,
        description="What a customer who asks how much is told of the record's `amount`, a "
        "template filled like `show`, or one per language ('en' first): 'You paid "
        "{amount:$,.2f} for it.' (an account: 'It holds {amount:$,.2f}.')",
    )
    sensitive: list[str] = Field(default_factory=list)
    words: list[str] = Field(default_factory=list, description="Words naming this kind.")
    id_pattern: IdPattern | None = Field(
        None,
        description="How customers write this kind's ids, a regular expression matched "
        "whatever the case ('#?W\\d{7}', 'txn_[0-9a-f]{12}'): an id of that shape a message "
        "writes that is none of the customer's is answered as not theirs, and one a reply "
        "writes that its context does not hold is caught. Every id imported must have it.",
    )
    show: str | dict[str, str] = Field(
        "{kind} {key}: {status}",
        description="How a record reads: a template, or one per language ('en' first).",
    )

    @field_validator("kind")
    @classmethod
    def _kind(cls, value: str) -> str:
        return _kind_name(value)

    @field_validator("show", "amount_said")
    @classmethod
    def _templates(cls, value: str | dict[str, str] | None) -> str | dict[str, str] | None:
        if value is None:
            return None
        if isinstance(value, dict):
            if not value:
                raise ValueError("give at least one template")
            for lang in value:
                if not re.fullmatch(r"[a-z]{2}", lang):
                    raise ValueError(f"{lang!r} is not a two-letter language code")
            return {lang: _check_template(t) for lang, t in value.items()}
        return _check_template(value)

    def templates(self) -> tuple[str, str, dict[str, str]]:
        """The language of `text` (English, else the first given), its template, and the
        other templates by language."""
        if isinstance(self.show, str):
            return "en", self.show, {}
        main = "en" if "en" in self.show else next(iter(self.show))
        return main, self.show[main], {k: v for k, v in self.show.items() if k != main}

    @field_validator("links")
    @classmethod
    def _link_names(cls, value: dict[str, str | LinkBy]) -> dict[str, str | LinkBy]:
        for name in value:
            _kind_name(name)
        return value

    def link_paths(self) -> dict[str, str]:
        """Each link's field path, whether it holds an id or a value."""
        return {n: v.field if isinstance(v, LinkBy) else v for n, v in self.links.items()}

    @field_validator("allows")
    @classmethod
    def _actions(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for actions in value.values():
            for action in actions:
                _kind_name(action)
        # "*": whatever its status (a kind whose actions do not depend on one)
        return {status.lower(): actions for status, actions in value.items()}

    def is_open(self, status: str | None) -> bool | None:
        """Whether a record in `status` is still under way; None when the kind says not
        which statuses are."""
        return _among(status, self.open)

    def has_arrived(self, status: str | None) -> bool | None:
        """Whether a record in `status` has reached the customer; None when the kind says
        not which statuses those are."""
        return _among(status, self.arrived)

    @field_validator("status_words")
    @classmethod
    def _status_words(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for status, said in value.items():
            if not said or not all(w.strip() for w in said):
                raise ValueError(f"{status}: give the words it is said by, none empty")
        return value

    @model_validator(mode="after")
    def _open_needs_status(self) -> RecordsMap:
        for key in ("open", "arrived", "status_words"):
            if getattr(self, key) and not self.status:
                raise ValueError(f"{key}: names statuses; give `status` too")
        if self.amount_said is not None and not self.amount:
            raise ValueError("amount_said: tells the amount; give `amount` too")
        return self

    def actions(self) -> dict[str, dict[str, str | list[str]]]:
        """Every action a status allows, with its names; English defaults to the action's
        own ("change_seat" → "change seat")."""
        names = [a for actions in self.allows.values() for a in actions]
        names += list(self.action_names)
        return {a: english_name(a) | self.action_names.get(a, {}) for a in dict.fromkeys(names)}

    @model_validator(mode="after")
    def _required_actions(self) -> RecordsMap:
        known = set(self.actions())
        named = [("requires", a) for a in self.requires]
        named += [("instead", a) for a in self.instead]
        named += [("outcome", a) for a in self.outcome]
        # "order.cancel": an action of the record it links to (checked with the mapping)
        named += [("instead", a) for a in self.instead.values() if "." not in a]
        for action in self.instead.values():
            link = action.rpartition(".")[0]
            if link and link not in self.links:
                raise ValueError(
                    f"instead {action!r}: {link!r} is none of its links "
                    f"({', '.join(sorted(self.links)) or 'it has none'})"
                )
        for key, action in named:
            if action not in known:
                raise ValueError(
                    f"{key} {action!r}: not one of its actions ({', '.join(sorted(known))})"
                )
        for action, other in self.instead.items():
            if action == other:
                raise ValueError(f"instead {action!r}: name another action to do instead")
        return self

    @model_validator(mode="after")
    def _owner(self) -> RecordsMap:
        if (self.customer is None) == (self.customer_via is None):
            raise ValueError("give either 'customer' (a field path) or 'customer_via' (a link)")
        if self.customer_via is not None and self.customer_via not in self.links:
            raise ValueError(f"customer_via {self.customer_via!r} is not one of its links")
        if isinstance(self.links.get(self.customer_via or ""), LinkBy):
            raise ValueError(f"customer_via {self.customer_via!r} must be a link by id")
        paths = [self.id, *self.link_paths().values()]
        paths += [p for p in (self.customer, self.status, self.amount, self.date) if p]
        _nesting(self.at, paths, "field path")
        return self


def _among(status: str | None, statuses: list[str]) -> bool | None:
    """Whether `status` is one of `statuses`, whatever the case; None when none are given."""
    if not statuses:
        return None
    return (status or "").lower() in {s.lower() for s in statuses}


def _kind_name(value: str) -> str:
    if not KIND.match(value):
        raise ValueError("a kind is lower-case letters, digits and '_', a letter first")
    return value


def _check_template(value: str) -> str:
    try:
        list(string.Formatter().parse(value))
    except ValueError as exc:
        raise ValueError(f"not a template: {exc}") from exc
    return value


class Mapping(_Strict):
    version: Literal[1] = 1
    customers: CustomersMap | None = None
    reference: list[ReferenceMap] = Field(default_factory=list)
    records: list[RecordsMap] = Field(default_factory=list)
    labels: dict[str, str | dict[str, str]] = Field(
        default_factory=dict,
        description="Coded values as customers read them, in any template: {gift_card: gift "
        "card} or by language {gift_card: {en: gift card, es: tarjeta regalo}}.",
    )

    def labels_in(self, language: str) -> dict[str, str]:
        """Each code's label in `language` (else English, else the code itself)."""
        out = {}
        for code, label in self.labels.items():
            if isinstance(label, str):
                out[code] = label
            else:
                out[code] = label.get(language) or label.get("en") or spoken(code)
        return out

    @model_validator(mode="after")
    def _something(self) -> Mapping:
        if self.customers is None and not self.records and not self.reference:
            raise ValueError("a mapping maps customers, records, reference data or some of them")
        kinds = {r.kind for r in self.records}
        if both := sorted(kinds & {r.name for r in self.reference}):
            raise ValueError(f"{both[0]!r} is both a record kind and a reference name")
        actions = {r.kind: set(r.actions()) for r in self.records}
        for r in self.records:
            for action in r.instead.values():
                link, _, name = action.rpartition(".")
                if link and name not in actions.get(link, set()):
                    raise ValueError(
                        f"records {r.kind}: instead {action!r}: {link!r} records have no "
                        f"action {name!r}"
                    )
        return self


def load_mapping(path: Path) -> Mapping:
    """The mapping in `path`, validated; errors name the file and the key."""
    return read_model(path, Mapping, MappingError)


@dataclass(frozen=True)
class ImportReport:
    customers: int
    created: int
    records: int = 0
    reference: int = 0
    # what may be a mistake and may not: a status the rules name that no record is in yet
    warnings: tuple[str, ...] = ()


def import_files(
    engine: Engine,
    mapping: Mapping,
    paths: list[Path],
    on_progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Upsert the customers, reference data and records `mapping` finds in `paths`;
    re-running never duplicates. Every item is read, linked and checked before the first
    is written: a file with a bad item changes nothing."""
    people = _customers(mapping.customers, paths) if mapping.customers else []
    with session_scope(engine) as s:
        refs, records = mapped(s, mapping, paths, {cid for cid, _ in people})
        ids = [cid for cid, _ in people]
        known = {
            found
            for at in range(0, len(ids), 1000)  # a statement's bound values are limited
            for found in s.exec(
                select(Customer.id).where(col(Customer.id).in_(ids[at : at + 1000]))
            )
        }
    created = 0
    per_customer = mapping.customers is not None and isinstance(
        mapping.customers.consent, ConsentBy
    )
    for cid, data in people:
        if cid in known:
            # a consent is the customer's to give or withdraw: an import sets it for
            # someone new, never again for someone it finds (re-running would grant
            # what they withdrew), except a withdrawal their own data now says
            kept = {p: False for p, ok in data.consents.items() if per_customer and not ok}
            data = data.model_copy(update={"consents": kept})
        created += upsert_customer(engine, cid, data, actor="import")
        if on_progress:
            on_progress(1)
    with session_scope(engine) as s:
        for model, name, rows in (
            (ReferenceItem, "name", refs),
            (CustomerRecord, "kind", records),
        ):
            _upsert(s, model, name, rows, on_progress)
    return ImportReport(
        customers=len(people),
        created=created,
        records=len(records),
        reference=len(refs),
        warnings=tuple(_statuses_unheld(mapping, records, paths)),
    )


def mapped(
    s: Session, mapping: Mapping, paths: list[Path], people: Collection[str] = ()
) -> tuple[list[ReferenceItem], list[CustomerRecord]]:
    """The reference items and records `mapping` makes of `paths`, read, linked and
    checked, not written: links are followed to stored rows through `s`; a record's owner
    must be among `people` (this import's customers) or stored."""
    english = mapping.labels_in("en")  # reference items read in English
    refs = [r for spec in mapping.reference for r in _reference(spec, paths, english)]
    raws = [r for spec in mapping.records for r in _reads_something(spec, paths)]
    _unique([(r.record.kind, r.record.key, r.where) for r in raws])
    _unique([(r.name, r.key, r.name) for r in refs])
    return refs, _link(s, raws, refs, set(people), mapping)


def _reads_something(spec: RecordsMap, paths: list[Path]) -> list[_Raw]:
    """The records of `spec`, each path it names read in at least one of them: a path no
    item holds (`date: due_date` of items whose date is `due`) is a mistake in the
    mapping, said with the fields the items do hold."""
    raws = _records(spec, paths)
    if not raws:
        return raws
    records = [r.record for r in raws]
    read: dict[str, tuple[str | None, bool]] = {
        "status": (spec.status, any(r.status for r in records)),
        "amount": (spec.amount, any(r.amount is not None for r in records)),
        "date": (spec.date, any(r.at is not None for r in records)),
    }
    for name, link_path in spec.link_paths().items():
        read[f"links.{name}"] = (link_path, any(r.links.get(name) for r in records))
    for key, (fpath, found) in read.items():
        if fpath and not found:
            raise MappingError(
                f"{_source(spec, paths)}: {spec.kind}: {key}: {fpath!r} reads nothing in any "
                f"of its {len(raws)} items; they hold: {_held(r.fields for r in records)}"
            )
    return raws


def _source(spec: RecordsMap, paths: list[Path]) -> str:
    return _pick(paths, spec.file).name


def _held(objects: Iterable[dict[str, Any]], most: int = 20) -> str:
    """The field names the objects hold, in the order they first appear."""
    names = list(dict.fromkeys(k for o in objects for k in o))
    return ", ".join(names[:most]) + (", …" if len(names) > most else "")


def _slots(spec: RecordsMap) -> list[tuple[str, str]]:
    """The (key, placeholder) of every template of a kind, less those in brackets, which
    may read nothing: `show`, `outcome`, `amount_said`."""
    templates = [("show", t) for t in _by_language(spec.show or "").values()]
    templates += [
        (f"outcome.{a}", t) for a, o in spec.outcome.items() for t in _by_language(o).values()
    ]
    if spec.amount_said is not None:
        templates += [("amount_said", t) for t in _by_language(spec.amount_said).values()]
    fmt = string.Formatter()
    return list(
        dict.fromkeys(
            (key, name)
            for key, t in templates
            for _, name, _, _ in fmt.parse(_OPTIONAL.sub("", t))
            if name
        )
    )


def _placeholders_read(
    spec: RecordsMap, raws: list[_Raw], linked: dict[str, list[dict[str, Any]]]
) -> None:
    """Each placeholder of a kind's templates read in at least one of its records (or of
    the items they link to): `{plan.nme}` is a mistake, not a blank."""
    if not raws:
        return
    fields = [r.record.fields for r in raws]
    own = {"kind", "key", "status", *(("amount",) if spec.amount else ())}
    for key, name in _slots(spec):
        parts = name.split(".")
        root = parts[0]
        if root in own and len(parts) == 1:
            continue
        if root in spec.links:
            values: list[Any] = [{**f, "key": ""} for f in linked.get(root, [])]
            rest, held = parts[1:], _held(linked.get(root, []))
            where = f"the {root} items hold: {held}" if held else f"no {root} item was found"
        else:
            values, rest, where = list(fields), parts, f"they hold: {_held(fields)}"
        for part in rest:
            values = [x for v in values for x in _step(v, part)]
        if not values:
            raise MappingError(
                f"{raws[0].where.split(': ')[0]}: {spec.kind}: {key}: {{{name}}} reads nothing in "
                f"any of its {len(raws)} items; {where}"
            )


def _step(value: Any, part: str) -> list[Any]:
    """What a placeholder's next part reads in a value: an object's field, a list's item
    by position, or each item's field."""
    if isinstance(value, dict):
        return [value[part]] if part in value else []
    if isinstance(value, list):
        if part.isdigit():
            return [value[int(part)]] if int(part) < len(value) else []
        return [x[part] for x in value if isinstance(x, dict) and part in x]
    return []


def _statuses_unheld(
    mapping: Mapping, records: list[CustomerRecord], paths: list[Path]
) -> Iterator[str]:
    """The statuses a kind's rules name (`open`, `arrived`, `allows`, `status_words`) that
    none of its records is in, one line a kind: a misspelling, or none in them yet."""
    for spec in mapping.records:
        held = list(dict.fromkeys(r.status for r in records if r.kind == spec.kind and r.status))
        if not spec.status or not held:
            continue
        upper = {h.upper() for h in held}
        named = {
            "open": spec.open,
            "arrived": spec.arrived,
            "allows": [k for k in spec.allows if k != "*"],
            "status_words": list(spec.status_words),
        }
        unheld: dict[str, list[str]] = {}  # status: the keys naming it
        for key, statuses in named.items():
            for status in statuses:
                if status.upper() not in upper:
                    unheld.setdefault(status, []).append(key)
        if unheld:
            said = ", ".join(f"{status!r} ({', '.join(keys)})" for status, keys in unheld.items())
            yield (
                f"{_source(spec, paths)}: {spec.kind}: no item is in {said}; check the "
                f"spelling if some should be (they are in: {', '.join(held)})"
            )


def _unique(items: list[tuple[str, str, str]]) -> None:
    """No two items of one kind share an id: an order that lists the same item twice needs
    the line's position in the id of its lines (`"{@parent.@key}/{@key}"`)."""
    seen: dict[tuple[str, str], str] = {}
    for kind, key, where in items:
        if (kind, key) in seen:
            raise MappingError(
                f"{where}: the id {key!r} is also {seen[(kind, key)]}'s: give each "
                "item its own id (a nested list's position is '@key')"
            )
        seen[(kind, key)] = where


_COPIED = (
    *("customer_id", "status", "amount", "at", "fields", "text", "words", "links"),
    *("allows", "open", "arrived", "actions", "texts", "status_texts", "requires"),
    *("instead", "outcomes", "statuses", "part_of", "offered", "amount_texts"),
)


def _upsert(
    s: Session,
    model: type[CustomerRecord] | type[ReferenceItem],
    name: str,
    rows: list[Any],
    on_progress: Callable[[int], None] | None,
) -> None:
    """Add `rows` of `model`, or update the stored row with the same (name, key)."""
    if not rows:
        return
    group = getattr(model, name)
    found: Any = s.exec(select(model).where(col(group).in_({getattr(r, name) for r in rows})))
    stored = {(getattr(row, name), row.key): row for row in found}
    for r in rows:
        row = stored.get((getattr(r, name), r.key))
        if row is None:
            s.add(r)
        else:
            for attr in _COPIED:
                if hasattr(r, attr):
                    setattr(row, attr, getattr(r, attr))
        if on_progress:
            on_progress(1)


@dataclass
class _Raw:
    """A record as read, before its links are followed: its owner may come through one,
    and its line reads the linked items' fields."""

    spec: RecordsMap
    record: CustomerRecord
    where: str


def _link(
    s: Session, raws: list[_Raw], refs: list[ReferenceItem], people: set[str], mapping: Mapping
) -> list[CustomerRecord]:
    """The records with their owners and lines: links are followed to this import's
    records and reference items first, then to stored ones; an owner must exist."""
    labels = cache(mapping.labels_in)  # once per language, not per record
    _by_value(s, raws, refs)
    mine: dict[tuple[str, str], CustomerRecord | ReferenceItem] = {(r.name, r.key): r for r in refs}
    mine.update({(r.record.kind, r.record.key): r.record for r in raws})
    wanted = {(n, k) for r in raws for n, k in r.record.links.items()} - mine.keys()
    stored = _stored(s, wanted)
    said_as = _statuses(raws, mapping)
    # what the items each kind links to hold, by link: its placeholders are read there
    reached: dict[int, dict[str, list[dict[str, Any]]]] = {}
    for raw in raws:
        rec, spec = raw.record, raw.spec
        rec.statuses = said_as.get(spec.kind, {})
        linked = {n: mine.get((n, k)) or stored.get((n, k)) for n, k in rec.links.items()}
        into = reached.setdefault(id(spec), {})
        for n, t in linked.items():
            if t is not None:
                into.setdefault(n, []).append(t.fields)
        if spec.customer_via is not None:
            target = linked[spec.customer_via]
            owner = getattr(target, "customer_id", "")
            if not owner:
                raise MappingError(
                    f"{raw.where}: its {spec.customer_via} {rec.links[spec.customer_via]!r} is "
                    f"not among the {spec.customer_via} records imported before it"
                )
            rec.customer_id = owner
        # a link that found nothing reads as empty (its id alone, if it has one)
        values = {
            n: _Fields(t.fields, key=t.key) if t else _Fields({}, key=rec.links.get(n, ""))
            for n, t in ({n: None for n in spec.links} | linked).items()
        }
        lang, main, others = spec.templates()
        slots: dict[str, Any] = dict(kind=rec.kind, key=rec.key, **values)
        if rec.amount is not None and "amount" not in rec.fields:
            slots["amount"] = rec.amount  # where the mapping's `amount` path found it
        dates = spec.date_formats
        # in each language, its status as customers read it there
        texts = _told({lang: main, **others}, raw.where, rec, labels, slots, dates)
        rec.text, rec.texts = texts.pop(lang), texts
        # what each action does, and what its amount is to a customer who asks how much
        rec.outcomes = {
            action: _told(template, f"{raw.where}: outcome {action}", rec, labels, slots, dates)
            for action, template in spec.outcome.items()
        }
        if spec.amount_said is not None and rec.amount is not None:
            where = f"{raw.where}: amount_said"
            rec.amount_texts = _told(spec.amount_said, where, rec, labels, slots, dates)
        # its status as customers read it, by language, where the labels give it
        label = mapping.labels.get(rec.status or "")
        rec.status_texts = {"*": label} if isinstance(label, str) else dict(label or {})
    for spec in mapping.records:
        mine_of = [r for r in raws if r.spec is spec]
        _placeholders_read(spec, mine_of, reached.get(id(spec), {}))
    owners = {r.record.customer_id for r in raws} - people
    if owners:
        found = set(s.exec(select(Customer.id).where(col(Customer.id).in_(owners))).all())
        if missing := sorted(owners - found):
            raise MappingError(f"records of unknown customer {missing[0]!r}: import them first")
    return [r.record for r in raws]


def _told(
    template: str | dict[str, str],
    where: str,
    rec: CustomerRecord,
    labels: Callable[[str], dict[str, str]],
    slots: dict[str, Any],
    dates: Sequence[str],
) -> dict[str, str]:
    """What a template (one, or one per language) says of the record, in each language it
    is written in, its status as that language's label gives it (else the code in plain
    words); `dates`, the formats its dates written as text are read by."""
    code = rec.status or ""
    return {
        ln: _render(
            t,
            rec.fields,
            where,
            labels(ln),
            language=ln,
            dates=dates,
            **slots,
            status=labels(ln).get(code) or spoken(code),
        )
        for ln, t in _by_language(template).items()
    }


def _statuses(raws: list[_Raw], mapping: Mapping) -> dict[str, dict[str, list[str]]]:
    """Each kind's statuses (those its rules name, its `status_words` name and its records
    are in), each with the words it is said by: the code in plain words, its label in
    every language and the kind's `status_words` for it."""
    codes: dict[str, dict[str, None]] = {}
    more: dict[str, dict[str, list[str]]] = {}  # kind: status (upper case): its added words
    for raw in raws:
        spec = raw.spec
        if spec.kind not in codes:
            more[spec.kind] = {c.upper(): w for c, w in spec.status_words.items()}
            named = [*spec.allows, *spec.open, *spec.arrived, *spec.status_words]
            codes[spec.kind] = dict.fromkeys(c for c in named if c != "*")
        if raw.record.status:
            codes[spec.kind][raw.record.status] = None
    out: dict[str, dict[str, list[str]]] = {}
    for kind, found in codes.items():
        out[kind] = {}
        for code in found:
            label = mapping.labels.get(code) or mapping.labels.get(code.upper()) or {}
            labels = [label] if isinstance(label, str) else list(label.values())
            # and the words the kind's mapping adds ("shipped" for processed)
            added = more[kind].get(code.upper(), [])
            out[kind][code.upper()] = list(
                dict.fromkeys(w.lower() for w in [spoken(code), *labels, *added])
            )
    return out


def _by_value(s: Session, raws: list[_Raw], refs: list[ReferenceItem]) -> None:
    """Links by value made links by id: each becomes the key of the one record of the
    linked kind, the customer's own (or the one reference item), whose `matching` field
    holds the value; a link that matches none or several is left out."""
    asks = [
        (raw, name, link)
        for raw in raws
        for name, link in raw.spec.links.items()
        if isinstance(link, LinkBy) and name in raw.record.links
    ]
    if not asks:
        return
    matching: dict[str, set[str]] = {}  # kind: the fields its links match on
    for _, name, link in asks:
        matching.setdefault(name, set()).add(link.matching)
    kinds = set(matching)
    owners = {raw.record.customer_id for raw, _, _ in asks}
    found: dict[tuple[str, str, str], set[str]] = {}  # (kind, owner, field=value): keys

    def index(kind: str, owner: str, key: str, fields: dict[str, Any]) -> None:
        for field in matching[kind]:
            value = fields.get(field)
            if isinstance(value, str | int | float):
                found.setdefault((kind, owner, f"{field}={value}"), set()).add(key)

    stored = _linkable(CustomerRecord).where(
        col(CustomerRecord.kind).in_(kinds), col(CustomerRecord.customer_id).in_(owners)
    )
    for r in s.exec(stored):
        index(r.kind, r.customer_id, r.key, r.fields)
    for ref in s.exec(_linkable(ReferenceItem).where(col(ReferenceItem.name).in_(kinds))):
        index(ref.name, "", ref.key, ref.fields)
    for raw in raws:
        if raw.record.kind in kinds:
            index(raw.record.kind, raw.record.customer_id, raw.record.key, raw.record.fields)
    for ref in refs:
        if ref.name in kinds:
            index(ref.name, "", ref.key, ref.fields)
    for raw, name, link in asks:
        value = f"{link.matching}={raw.record.links.pop(name)}"
        keys = found.get((name, raw.record.customer_id, value)) or found.get((name, "", value))
        if keys and len(keys) == 1:
            raw.record.links[name] = next(iter(keys))


Stored = TypeVar("Stored", CustomerRecord, ReferenceItem)


def _linkable(model: type[Stored]) -> SelectOfScalar[Stored]:
    """Stored records or reference items with only what a link reads of them (owner, key,
    fields): migration 0022 imports by this module into the columns of its own revision,
    which a later column must not break."""
    names: tuple[str, ...] = ("kind", "customer_id") if model is CustomerRecord else ("name",)
    return select(model).options(load_only(*(getattr(model, n) for n in (*names, "key", "fields"))))


def _stored(
    s: Session, wanted: set[tuple[str, str]]
) -> dict[tuple[str, str], CustomerRecord | ReferenceItem]:
    """Stored records and reference items among `wanted` (name or kind, key) pairs."""
    out: dict[tuple[str, str], CustomerRecord | ReferenceItem] = {}
    if not wanted:
        return out
    keys = {k for _, k in wanted}
    for r in s.exec(_linkable(CustomerRecord).where(col(CustomerRecord.key).in_(keys))):
        if (r.kind, r.key) in wanted:
            out[(r.kind, r.key)] = r
    for i in s.exec(_linkable(ReferenceItem).where(col(ReferenceItem.key).in_(keys))):
        if (i.name, i.key) in wanted:
            out[(i.name, i.key)] = i
    return out


def _customers(spec: CustomersMap, paths: list[Path]) -> list[tuple[str, CustomerIn]]:
    source = _pick(paths, spec.file)
    rows: list[tuple[str, CustomerIn]] = []
    said: dict[str, str | None] = {}
    if isinstance(spec.consent, ConsentBy):
        said = spec.consent.paths()
    else:
        consents = {p: spec.consent == "granted" for p in PURPOSES}
    read: set[str] = set()  # the consent paths some customer holds a value at
    attributes_read: set[str] = set()  # the attributes some customer holds a value of
    everyone: list[dict[str, Any]] = []
    for item in _items(source, spec.at):
        where = f"{source.name}: customers[{item.key}]"
        cid = _key(item, spec.id, where)
        if not cid:
            raise MappingError(f"{where}: no id at {spec.id!r}")
        values: dict[str, Any] = {
            attr: _text(_get(item, fpath, where)) for attr, fpath in spec.fields.items()
        }
        found = {a: _text(_get(item, fpath, where)) for a, fpath in spec.attributes.items()}
        values["attributes"] = {a: v for a, v in found.items() if v is not None}
        attributes_read |= set(values["attributes"])
        everyone.append(item.obj)
        if said:
            found = {p: _get(item, fpath, where) for p, fpath in said.items() if fpath}
            read |= {str(said[p]) for p, v in found.items() if _text(v) is not None}
            consents = {p: _consented(found.get(p)) for p in said}
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
    for fpath in dict.fromkeys(f for f in said.values() if f):
        if everyone and fpath not in read:
            raise _reads_nothing(f"{source.name}: customers: consent", fpath, everyone)
    for name, fpath in spec.attributes.items():
        if everyone and name not in attributes_read:
            raise _reads_nothing(f"{source.name}: customers: attributes: {name}", fpath, everyone)
    return rows


def _reads_nothing(where: str, fpath: str, customers: list[dict[str, Any]]) -> MappingError:
    """A customer path of the mapping that no customer holds a value at, said with the
    fields they do hold."""
    return MappingError(
        f"{where}: {fpath!r} reads nothing in any of its {len(customers)} customers; "
        f"they hold: {_held(customers)}"
    )


def _reference(
    spec: ReferenceMap, paths: list[Path], labels: dict[str, str]
) -> list[ReferenceItem]:
    source = _pick(paths, spec.file)
    out = []
    for item in _items(source, spec.at):
        where = f"{source.name}: {spec.name}[{item.key}]"
        key = _key(item, spec.id, where)
        if not key:
            raise MappingError(f"{where}: no id at {spec.id!r}")
        fields = dict(item.obj)
        # {name} is the item's own name where it has one ("T-Shirt"), else the reference's
        named = {} if "name" in fields else {"name": spec.name}
        text = _render(spec.show, fields, where, labels, key=key, **named)
        whole = None
        for name, fpath in spec.part_of.items():
            of = _text(_get(item, fpath, where))
            if of is None:
                raise MappingError(f"{where}: no {name} id at {fpath!r}")
            whole = f"{name}:{of}"
        offered = _yes(_get(item, spec.available, where)) if spec.available else True
        out.append(
            ReferenceItem(
                name=spec.name, key=key, fields=fields, text=text, part_of=whole, offered=offered
            )
        )
    return out


def _yes(value: Any) -> bool:
    """A yes/no as data sets write it: true, "yes", "Y", 1, "available" …; anything else
    (false, "no", 0, "", none) is no."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    return str(value or "").strip().lower() in {"true", "yes", "y", "1", "available", "in stock"}


def _consented(value: Any) -> bool:
    """A consent as customer systems write it: a yes (`_yes`), "granted", "opted in" …"""
    said = str(value or "").strip().lower().replace("-", " ").replace("_", " ")
    return _yes(value) or said in {"granted", "opted in", "opt in", "accepted", "agreed"}


def _records(spec: RecordsMap, paths: list[Path]) -> list[_Raw]:
    source = _pick(paths, spec.file)
    out: list[_Raw] = []
    for item in _items(source, spec.at):
        where = f"{source.name}: {spec.kind}[{item.key}]"
        rid = _key(item, spec.id, where)
        owner = _text(_get(item, spec.customer, where)) if spec.customer else ""
        if not rid or owner is None:
            raise MappingError(f"{where}: no {'id' if not rid else 'customer'} at its path")
        links = {n: _text(_get(item, fpath, where)) for n, fpath in spec.link_paths().items()}
        if spec.customer_via and not links[spec.customer_via]:
            raise MappingError(f"{where}: no {spec.customer_via} id at its link's path")
        fields = {k: v for k, v in item.obj.items() if k not in spec.sensitive}
        status = _text(_get(item, spec.status, where)) if spec.status else None
        record = CustomerRecord(
            customer_id=owner,
            kind=spec.kind,
            key=rid,
            status=status,
            amount=_amount(_get(item, spec.amount, where), f"{where}: amount {spec.amount!r}")
            if spec.amount
            else None,
            at=_date(
                _get(item, spec.date, where), spec.date_formats, f"{where}: date {spec.date!r}"
            )
            if spec.date
            else None,
            fields=fields,
            words=spec.words or [spec.kind.replace("_", " ")],
            links={n: k for n, k in links.items() if k},
            allows=spec.allows.get((status or "").lower(), spec.allows.get("*", [])),
            open=spec.is_open(status),
            arrived=spec.has_arrived(status),
            actions=spec.actions(),
            requires=stored_requirements(spec.requires),
            instead=dict(spec.instead),
            id_pattern=spec.id_pattern,
        )
        if spec.id_pattern and not id_shape(spec.id_pattern).fullmatch(rid):
            raise MappingError(
                f"{where}: its id {rid!r} is not of the shape id_pattern gives "
                f"({spec.id_pattern!r}): widen the pattern or leave it out"
            )
        out.append(_Raw(spec, record, where))
    return out


def _by_language(template: str | dict[str, str]) -> dict[str, str]:
    """A template, or one per language, by language ("en" for one alone)."""
    return {"en": template} if isinstance(template, str) else dict(template)


def spoken(code: str) -> str:
    """A coded value as a sentence says it: "UNDER_REVIEW" → "under review"."""
    return code.replace("_", " ").strip().lower()


def _render(
    template: str,
    fields: dict[str, Any],
    where: str = "",
    labels: dict[str, str] | None = None,
    *,
    language: str = "en",
    dates: Sequence[str] = DATE_FORMATS,
    **extra: Any,
) -> str:
    """The line `template` makes of a record's fields, written in `language` (its dates);
    `dates`, the formats a date written as text is read by. MappingError naming `where`
    when a placeholder cannot be read (an index into a field that is no list …)."""
    values = _Blank(fields, **extra)
    fmt = _Formatter(labels or {}, language, dates)

    def optional(m: re.Match[str]) -> str:  # "[, tracking {id}]": only when there is an id
        part = m.group(1)
        slots = [f"{{{name}}}" for _, name, _, _ in fmt.parse(part) if name is not None]
        filled = [fmt.vformat(slot, (), values) for slot in slots]
        return part if any(f.strip() for f in filled) else ""

    try:
        return _tidy(fmt.vformat(_OPTIONAL.sub(optional, template), (), values))
    except (AttributeError, IndexError, KeyError, TypeError, ValueError) as exc:
        raise MappingError(f"{where}: its template cannot be filled: {exc}") from None


class _Formatter(string.Formatter):
    """str.format, and a number's format on a value written as text ("2850.00", "$1,134.26"),
    with a currency sign before it: `{amount:$,.2f}` → "$2,850.00"; a date written as text
    as the template's language writes it (`{opened:date}`: "Dec 3, 2026", "3 dic 2026";
    `date short|long`) or by a strftime pattern (`{opened:%d %b}`); a coded value the
    mapping labels reads as its label ("gift_card" → "gift card")."""

    def __init__(
        self, labels: dict[str, str], language: str = "en", dates: Sequence[str] = DATE_FORMATS
    ) -> None:
        self.labels = labels
        self.language = language
        self.dates = dates

    def format_field(self, value: Any, format_spec: str) -> Any:
        if format_spec.startswith("date") or "%" in format_spec:
            return self._format_date(value, format_spec)
        money = _MONEY.fullmatch(format_spec)
        if money is None:
            if isinstance(value, str) and value in self.labels:
                value = self.labels[value]
            return super().format_field(value, format_spec)
        sign, spec = money.groups()
        text = str(value).strip()
        try:
            number = float(text.replace(",", "").lstrip("$€£¥ "))
        except ValueError:
            return text  # no number: as it is ("", "n/a")
        return f"{'-' if number < 0 else ''}{sign}{format(abs(number), spec)}"

    def _format_date(self, value: Any, spec: str) -> str:
        """A date as `spec` asks; as written when it reads as none (blank, "n/a")."""
        when = _as_date(value, self.dates)
        if when is None:
            return "" if value is None else str(value)
        if "%" in spec:
            return when.strftime(spec)
        length = spec.removeprefix("date").strip() or "medium"
        if length not in DATE_LENGTHS:
            raise ValueError(f"{{…:{spec}}}: a date is 'date', 'date short|medium|long|full'")
        try:
            return format_date(when, length, locale=Locale.parse(self.language, sep="-"))
        except (UnknownLocaleError, ValueError):
            return format_date(when, length, locale="en")


DATE_LENGTHS = ("short", "medium", "long", "full")


def _as_date(value: Any, formats: Sequence[str]) -> date | None:
    """A value as a date: a date, or text in one of `formats` (then the packaged ones, as
    an import reads a record's date) or ISO 8601; else None."""
    if isinstance(value, date):
        return value
    text = str(value or "").strip()
    try:
        when = _date(text, [*formats, *DATE_FORMATS], "")
        return when.replace(tzinfo=None) if when else None  # as written: no zone
    except MappingError:
        pass
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


_MONEY = re.compile(r"([^\w\s,.]?)(,?\.\d+f)")
"""A number's format with decimals, a currency sign before it: "$,.2f", ",.2f", "€,.0f"."""


_OPTIONAL = re.compile(r"\[([^\[\]]*\{[^{}]+\}[^\[\]]*)\]")
"""A bracketed part of a template with a placeholder: left out when its values are empty."""


def _wrap(value: Any) -> Any:
    """A value as a template reads it: an object's fields by name (`{address.city}`), a
    list's as a list (`{items.name}` → "Lamp, Kettle")."""
    if isinstance(value, dict) and not isinstance(value, _Object):
        return _Object(value)
    if isinstance(value, list):
        return _Items(value)
    return value


class _Object(dict[str, Any]):
    """A nested object of a record: its fields by name; alone, its values in a row."""

    def __getattr__(self, name: str) -> Any:
        return _wrap(self.get(name, ""))

    def __format__(self, spec: str) -> str:
        scalars = [str(v) for v in self.values() if not isinstance(v, dict | list) and v != ""]
        return format(", ".join(scalars), spec)


class _Fields(_Object):
    """A linked item's fields for a template: `{account.level}`; alone, its id."""

    def __init__(self, fields: dict[str, Any], **extra: Any) -> None:
        super().__init__({**fields, **extra})

    def __format__(self, spec: str) -> str:
        return format(str(self.get("key", "")), spec)


class _Items(list[Any]):
    """A list field: `{items.name}` is each item's name, joined; `{tags}` the values."""

    def __getattr__(self, name: str) -> _Items:
        return _Items(_wrap(x).__getattr__(name) for x in self if isinstance(x, dict))

    def __format__(self, spec: str) -> str:
        return format(", ".join(s for s in (format(_wrap(x)) for x in self) if s), spec)


class _Blank(dict[str, Any]):
    """Template values; a field a record lacks reads as empty, not as an error."""

    def __init__(self, fields: dict[str, Any], **extra: Any) -> None:
        super().__init__({k: _wrap(v) for k, v in {**fields, **extra}.items()})

    def __missing__(self, key: str) -> str:
        return ""


_EMPTY_PARENS = re.compile(r"\(\s*\)")
_DANGLING = re.compile(r"\s*[:,]\s*(?=[,.;)]|$)")
_SPACE_BEFORE = re.compile(r"\s+([,.;)])")  # not ":", spaced in French


def _tidy(text: str) -> str:
    """A rendered line without the separators of the values a record lacks
    ("Gold Card: , balance $4" → "Gold Card, balance $4")."""
    text = _EMPTY_PARENS.sub("", text)
    text = _DANGLING.sub("", text)
    return _SPACE_BEFORE.sub(r"\1", " ".join(text.split()))


def _amount(value: Any, where: str) -> float | None:
    if value is None or value == "":
        return None
    try:
        return float(str(value).replace(",", "").lstrip("$€£"))
    except ValueError:
        raise MappingError(f"{where}: not a number") from None


def _date(value: Any, formats: list[str], where: str) -> datetime | None:
    if value is None or value == "":
        return None
    for fmt in formats:
        try:
            return datetime.strptime(str(value), fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    raise MappingError(
        f"{where}: matches none of the date_formats ({', '.join(formats)}); add its format"
    )


def _pick(paths: list[Path], name: str | None) -> Path:
    if not paths:
        raise MappingError("no source files given")
    if name is None:
        return paths[0]
    for p in paths:
        if p.name == name:
            return p
    raise MappingError(f"the mapping reads {name!r}, which is not among the files given")


@dataclass(frozen=True)
class _Item:
    """An object a source holds, its key (list position or object key) and the item it is
    nested in, if `at` went through a `*`."""

    key: str
    obj: dict[str, Any]
    parent: _Item | None = None


def _items(path: Path, at: str) -> Iterator[_Item]:
    """The objects of a source at `at`: a dotted path where `*` means each item."""
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
    yield from _walk(rows, [p for p in at.split(".") if p], None, path.name, at)


def _walk(
    value: Any, parts: list[str], parent: _Item | None, name: str, at: str
) -> Iterator[_Item]:
    if parts and parts[0] != "*":
        if isinstance(value, dict) and value.get(parts[0]) is not None:
            yield from _walk(value[parts[0]], parts[1:], parent, name, at)
        elif parent is None:  # a nested item without the list simply has none
            raise MappingError(f"{name}: nothing at {at!r} (no {parts[0]!r})")
        return
    if isinstance(value, dict):
        pairs: Any = value.items()
    elif isinstance(value, list):
        pairs = enumerate(value)
    else:
        raise MappingError(f"{name}: {at or '(top)'} is neither a list nor an object")
    for key, obj in pairs:
        if not isinstance(obj, dict):
            raise MappingError(f"{name}: {at or '(top)'}[{key}] is not an object")
        item = _Item(str(key), obj, parent)
        if rest := parts[1:]:  # after a "*": go on inside each item
            yield from _walk(obj, rest, item, name, at)
        else:
            yield item


def _get(item: _Item, path: str, where: str) -> Any:
    """The value at a field path: `a.b` inside the object (`a.0.b`: the first of a list),
    `@key` its key, `@parent.…` in the item it is nested in; None where a part is missing."""
    node: _Item | None = item
    while path.startswith(PARENT):
        node, path = node.parent if node else None, path[len(PARENT) :]
    if node is None:
        raise MappingError(f"{where}: the field path climbs above the top of 'at'")
    if path == KEY:
        return node.key
    value: Any = node.obj
    for part in path.split("."):
        if isinstance(value, list) and part.isdigit():  # "payments.0.method": a list's nth
            value = value[int(part)] if int(part) < len(value) else None
        elif isinstance(value, dict):
            value = value.get(part)
        elif value is None:
            return None
        else:
            raise MappingError(f"{where}: {path!r} goes through a value that is not an object")
    return value


_SLOT = re.compile(r"\{([^{}]+)\}")


def _key(item: _Item, path: str, where: str) -> str | None:
    """An id at a field path, or made of several (`"{@parent.@key}/{item_id}"`: an order
    line's item id is unique only within its order); None when a part is missing."""
    if "{" not in path:
        return _text(_get(item, path, where))
    parts = {p: _text(_get(item, p, where)) for p in _SLOT.findall(path)}
    if not all(parts.values()):
        return None
    return _SLOT.sub(lambda m: parts[m.group(1)] or "", path)


def _text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return str(value)
