"""Idempotent writes of customer data by an administrator or an upstream system."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, field_validator
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from profiles.db import session_scope
from profiles.expressions import RuleFileError, check_condition
from profiles.fields import Plain, plain
from profiles.models import (
    PURPOSES,
    Consent,
    Customer,
    CustomerRecord,
    Event,
    ReferenceItem,
    utcnow,
)
from profiles.privacy import add_audit
from profiles.relevance import checked_id_pattern, id_shape


class UnknownCustomer(LookupError):
    """The customer a write refers to does not exist."""

    def __init__(self, customer_id: str) -> None:
        super().__init__(f"unknown customer {customer_id!r}")
        self.customer_id = customer_id


class InvalidRecord(ValueError):
    """A write the data cannot take; the message quotes none of the values sent."""


ATTRIBUTE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")
"""A customer attribute's name: a word segment rules can read (`attributes['tier']`)."""


def attribute_names(value: Any) -> Any:
    """Names segment rules can read; said without echoing the one sent."""
    if not isinstance(value, dict):
        return value  # not an object: said as such by the type itself
    if any(not ATTRIBUTE_NAME.fullmatch(str(k)) for k in value):
        raise ValueError("attribute names are a letter, then letters, digits or _ (64 at most)")
    return value


def attribute_values(value: dict[str, str]) -> dict[str, str]:
    """Short plain text, said without echoing the value or its name."""
    for v in value.values():
        if len(v) > 500:
            raise ValueError("an attribute's value is 500 characters at most")
        plain(v)
    return value


class CustomerIn(BaseModel):
    first_name: Plain = Field("", max_length=200)
    last_name: Plain = Field("", max_length=200)
    email: Plain | None = Field(None, max_length=320)
    phone: Plain | None = Field(None, max_length=64)
    locale: Plain = Field("en-US", max_length=35)
    timezone: Plain = Field("UTC", max_length=64)
    plan: Plain | None = Field(None, max_length=200)
    role: Plain | None = Field(None, max_length=200)
    industry: Plain | None = Field(None, max_length=200)
    region: Plain | None = Field(None, max_length=200)
    address1: Plain | None = Field(None, max_length=500)
    address2: Plain | None = Field(None, max_length=500)
    city: Plain | None = Field(None, max_length=200)
    state: Plain | None = Field(None, max_length=200)
    zip: Plain | None = Field(None, max_length=32)
    country: Plain | None = Field(None, max_length=200)
    attributes: Annotated[
        dict[str, str],
        BeforeValidator(attribute_names),
        AfterValidator(attribute_values),
    ] = Field(
        default_factory=dict,
        max_length=50,
        description="The business's own facts about the customer: name → value "
        '("tier": "gold"); shown to agents, in the prompt and to segment rules.',
    )
    consents: dict[str, bool] = Field(
        default_factory=dict, description=f"purpose → granted; purposes: {', '.join(PURPOSES)}"
    )


class Requirement(BaseModel):
    """What an action its status allows also needs of the record: a condition over its
    fields (numbers read from "$1,234.56" too), `amount` and `age_days`, and why not, said
    to the customer when it does not hold."""

    model_config = ConfigDict(extra="forbid")

    when: str = Field(description="A condition: 'amount == 0', 'age_days >= 60'.")
    why: str | dict[str, str] = Field(
        description="Why not, as a reply says it ('its balance must be $0.00 first'), or "
        "one per language."
    )

    @field_validator("when")
    @classmethod
    def _condition(cls, value: str) -> str:
        try:
            check_condition(value, "when")
        except RuleFileError as exc:
            raise ValueError(str(exc)) from None
        return value.strip()

    def reasons(self) -> dict[str, str]:
        """`why` by language (English when given as one text)."""
        return {"en": self.why} if isinstance(self.why, str) else dict(self.why)


def stored_requirements(requires: dict[str, list[Requirement]]) -> dict[str, list[dict[str, Any]]]:
    """Requirements as a record stores them: {action: [{"when": …, "why": {lang: …}}]}."""
    return {a: [{"when": r.when, "why": r.reasons()} for r in rs] for a, rs in requires.items()}


class RecordIn(BaseModel):
    """A customer record of any kind (account, card, booking …), as a mapping would import it."""

    customer_id: Plain = Field(min_length=1, max_length=128)
    status: Plain | None = Field(None, max_length=64)
    amount: float | None = None
    at: datetime | None = Field(None, description="Its main date (opened, booked …).")
    fields: dict[str, Any] = Field(default_factory=dict, description="Its own attributes.")
    links: dict[Plain, Plain] = Field(
        default_factory=dict, description="Kind or reference name: id of a linked item."
    )
    text: Plain | None = Field(
        None, max_length=2000, description="How it reads to the customer and agents."
    )
    words: list[Plain] = Field(default_factory=list, description="Words naming its kind.")
    texts: dict[Plain, Plain] = Field(
        default_factory=dict, description="`text` in other languages, by language code."
    )
    status_texts: dict[Plain, Plain] = Field(
        default_factory=dict,
        description="Its status as customers read it, by language code ({'es': 'entregado'}).",
    )
    allows: list[Plain] = Field(
        default_factory=list, description="What its status allows next: cancel, pause …"
    )
    open: bool | None = Field(
        None,
        description="Still under way (not yet delivered, under review): what 'where is it?' "
        "reads when it names nothing; false when done, unset when its kind has no such state.",
    )
    arrived: bool | None = Field(
        None,
        description="Has reached the customer (a delivered order or card): 'I never got it' "
        "then goes to a person; false when not, unset when its kind has no such state.",
    )
    actions: dict[Plain, dict[Plain, Plain | list[Plain]]] = Field(
        default_factory=dict,
        description="Every action its kind knows, its name by language ({'close': {'en': "
        "['close', 'cancel'], 'es': 'cerrar'}}, the first the one replies use); by default "
        "the ones it allows, in English.",
    )
    requires: dict[Plain, list[Requirement]] = Field(
        default_factory=dict,
        description="What an action it allows also needs of it: [{when: 'amount == 0', "
        "why: 'its balance must be $0.00 first'}].",
    )
    instead: dict[Plain, Plain] = Field(
        default_factory=dict,
        description="An action its status does not allow → the one that does the same for "
        "the customer then ({'return': 'cancel'}; 'order.cancel': its linked order's).",
    )
    statuses: dict[Plain, list[Plain]] = Field(
        default_factory=dict,
        description="Every status of its kind and the words customers say it by ({'ACTIVE': "
        "['active', 'activa'], 'PENDING': ['pending']}): 'is it active yet?' is answered.",
    )
    outcomes: dict[Plain, dict[Plain, Plain]] = Field(
        default_factory=dict,
        description="What an action does, told to the customer, by language ({'cancel': "
        "{'en': 'Once it is cancelled, the $63.50 you paid goes back to your Visa.'}}).",
    )
    amount_texts: dict[Plain, Plain] = Field(
        default_factory=dict,
        description="What its amount is, told to a customer who asks how much, by language "
        "({'en': 'You paid $63.50 for it.'}).",
    )
    id_pattern: Annotated[Plain, AfterValidator(checked_id_pattern)] | None = Field(
        None,
        max_length=200,
        description="How customers write its kind's ids, a regular expression ('#?W\\d{7}'): "
        "an id of that shape a message writes that is none of theirs is answered as not theirs.",
    )


class ReferenceIn(BaseModel):
    """An item of business data that is no customer's: a catalog entry, a plan, a flight."""

    fields: dict[str, Any] = Field(default_factory=dict)
    text: Plain = Field("", max_length=2000, description="How it reads.")
    part_of: Plain | None = Field(
        None,
        max_length=300,
        pattern=r"^[a-z][a-z0-9_]{0,63}:.+$",
        description="The item it is one of, as 'name:key' ('product:9523456873').",
    )
    offered: bool = Field(True, description="Whether it can be offered now (in stock …).")


KIND = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


def english_name(action: str) -> dict[str, str | list[str]]:
    """An action's English name when the business gives none: "change_seat" → "change seat"."""
    return {"en": action.replace("_", " ")}


"""A record kind or reference name: lower-case letters, digits and '_', a letter first."""


class EventIn(BaseModel):
    key: Plain | None = Field(None, max_length=128, description="Sender's id: a repeat is a no-op.")
    type: Plain = Field(min_length=1, max_length=64)
    payload: dict[str, Any] = Field(default_factory=dict)


def upsert_customer(
    engine: Engine, customer_id: str, data: CustomerIn, actor: str = "system"
) -> bool:
    """Create or replace a customer's profile and consents; True when it was created.
    Each consent given that differs from the stored one is audited as `actor`'s change."""
    unknown = set(data.consents) - set(PURPOSES)
    if unknown:
        raise InvalidRecord(f"unknown consent purpose; the purposes are {', '.join(PURPOSES)}")
    with session_scope(engine) as s:
        existing = s.get(Customer, customer_id)
        fields = data.model_dump(exclude={"consents"})
        if existing is None:
            s.add(Customer(id=customer_id, **fields))
        else:
            for k, v in fields.items():
                setattr(existing, k, v)
            s.add(existing)
        s.flush()
        rows = {
            c.purpose: c for c in s.exec(select(Consent).where(Consent.customer_id == customer_id))
        }
        for purpose in PURPOSES:
            granted = data.consents.get(purpose)
            if purpose in rows:
                if granted is not None:
                    if granted != rows[purpose].granted:
                        _audit_consent(s, actor, customer_id, purpose, granted)
                    rows[purpose].granted = granted
                    rows[purpose].updated_at = utcnow()
                    s.add(rows[purpose])
            else:
                if granted is not None:
                    _audit_consent(s, actor, customer_id, purpose, granted)
                s.add(Consent(customer_id=customer_id, purpose=purpose, granted=bool(granted)))
        return existing is None


def _audit_consent(s: Session, actor: str, customer_id: str, purpose: str, granted: bool) -> None:
    add_audit(
        s, actor, "consent", customer_id, "granted" if granted else "revoked", {"purpose": purpose}
    )


def upsert_record(engine: Engine, kind: str, key: str, data: RecordIn) -> bool:
    """Create or replace a customer's record of `kind`; True when it was created. Without
    a `text`, it reads "Kind key: status"."""
    if not KIND.match(kind):
        raise InvalidRecord("a kind is lower-case letters, digits and '_', a letter first")
    with session_scope(engine) as s:
        if s.get(Customer, data.customer_id) is None:
            raise UnknownCustomer(data.customer_id)
        existing = s.exec(
            select(CustomerRecord).where(CustomerRecord.kind == kind, CustomerRecord.key == key)
        ).first()
        if existing is not None and existing.customer_id != data.customer_id:
            raise InvalidRecord("the record belongs to another customer")
        if data.id_pattern and not id_shape(data.id_pattern).fullmatch(key):
            raise InvalidRecord("the record's id is not of the shape its id_pattern gives")
        label = kind.replace("_", " ").capitalize()
        known = [*data.allows, *data.actions]
        values = data.model_dump(exclude={"text", "words", "actions", "requires"}) | {
            "requires": stored_requirements(data.requires),
            "text": data.text or f"{label} {key}: {data.status or 'no status'}",
            "words": data.words or [kind.replace("_", " ")],
            "actions": {a: english_name(a) | data.actions.get(a, {}) for a in dict.fromkeys(known)},
        }
        row = existing or CustomerRecord(kind=kind, key=key, customer_id=data.customer_id)
        for name, value in values.items():
            setattr(row, name, value)
        s.add(row)
        return existing is None


def upsert_reference(engine: Engine, name: str, key: str, data: ReferenceIn) -> bool:
    """Create or replace a reference item (catalog entry, plan …); True when created."""
    if not KIND.match(name):
        raise InvalidRecord("a reference name is lower-case letters, digits and '_'")
    with session_scope(engine) as s:
        existing = s.exec(
            select(ReferenceItem).where(ReferenceItem.name == name, ReferenceItem.key == key)
        ).first()
        row = existing or ReferenceItem(name=name, key=key)
        row.fields, row.text = data.fields, data.text or f"{name} {key}"
        row.part_of, row.offered = data.part_of, data.offered
        s.add(row)
        return existing is None


def add_event(engine: Engine, customer_id: str, data: EventIn) -> int:
    """Append an event to a customer's timeline; returns its id. An event whose key was
    already recorded for this customer is not added twice."""
    with session_scope(engine) as s:
        if s.get(Customer, customer_id) is None:
            raise UnknownCustomer(customer_id)
        if data.key is not None:
            seen = s.exec(
                select(Event).where(Event.customer_id == customer_id, Event.key == data.key)
            ).first()
            if seen is not None and seen.id is not None:
                return seen.id
        ev = Event(customer_id=customer_id, key=data.key, type=data.type, payload=data.payload)
        s.add(ev)
        s.flush()
        assert ev.id is not None
        return ev.id
