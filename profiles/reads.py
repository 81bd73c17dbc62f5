"""The rows a support turn reads about one customer, and the statements that select them.

The rows are only read, so they come back as named tuples rather than ORM objects, and
the statements are built once, with the customer id bound per call: building statements
and ORM objects took more of a turn's CPU than running its queries. Every statement is
selected by customer id at the query."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlmodel import Session, SQLModel, col, select

from profiles.models import (
    Consent,
    Customer,
    CustomerRecord,
    Event,
    HistoryItem,
    ReferenceItem,
)


class CustomerRow(NamedTuple):
    id: str
    first_name: str
    last_name: str
    email: str | None
    phone: str | None
    locale: str
    timezone: str
    plan: str | None
    region: str | None
    address1: str | None
    address2: str | None
    city: str | None
    state: str | None
    zip: str | None
    country: str | None
    attributes: dict[str, str] | None  # None in a row from before they existed

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


def _select(model: type[SQLModel], fields: tuple[str, ...]) -> sa.Select[Any]:
    """A select of the model's columns named by a row type's fields, in their order."""
    return sa.select(*(col(getattr(model, name)) for name in fields))


_CUSTOMER: sa.BindParameter[str] = sa.bindparam("customer_id")
_CUSTOMER_AND_CONSENTS = (
    _select(Customer, CustomerRow._fields)
    .add_columns(col(Consent.purpose), col(Consent.granted))
    .outerjoin(Consent, col(Consent.customer_id) == col(Customer.id))
    .where(col(Customer.id) == _CUSTOMER)
)
_RECENT_EVENTS = (
    sa.select(col(Event.type))
    .where(col(Event.customer_id) == _CUSTOMER, col(Event.created_at) >= sa.bindparam("since"))
    .order_by(col(Event.created_at).desc())
    .limit(sa.bindparam("most"))
)
_HISTORY_IDS = (
    sa.select(col(HistoryItem.id))
    .where(col(HistoryItem.customer_id) == _CUSTOMER)
    .order_by(col(HistoryItem.created_at).desc())
    .limit(sa.bindparam("most"))
)


@dataclass(frozen=True)
class CustomerRead:
    """The customer row and its consents, as one read found them."""

    customer: CustomerRow
    consents: Mapping[str, bool]


def read_customer(s: Session, customer_id: str) -> CustomerRead | None:
    """The customer and its consents in one query; None when the id is unknown."""
    rows = s.connection().execute(_CUSTOMER_AND_CONSENTS, {"customer_id": customer_id}).all()
    if not rows:
        return None
    consents = {r.purpose: r.granted for r in rows if r.purpose is not None}
    return CustomerRead(CustomerRow._make(rows[0][: len(CustomerRow._fields)]), consents)


def read_recent_events(s: Session, customer_id: str, since: datetime, most: int) -> list[str]:
    """The types of the customer's events since `since`, newest first, at most `most`."""
    params = {"customer_id": customer_id, "since": since, "most": most}
    return list(s.connection().execute(_RECENT_EVENTS, params).scalars())


_RECORDS = (
    select(CustomerRecord)
    .where(col(CustomerRecord.customer_id) == _CUSTOMER)
    .order_by(col(CustomerRecord.at).desc().nulls_last(), col(CustomerRecord.id).desc())
)


def read_records(s: Session, customer_id: str) -> list[CustomerRecord]:
    """The customer's records of every kind, newest first (undated ones last)."""
    return list(s.exec(_RECORDS, params={"customer_id": customer_id}))


def read_history_ids(s: Session, customer_id: str, most: int) -> list[str]:
    """The ids of the customer's newest history items, at most `most`."""
    params = {"customer_id": customer_id, "most": most}
    return list(s.connection().execute(_HISTORY_IDS, params).scalars())


def read_reference_parts(
    s: Session, wholes: list[tuple[str, str]]
) -> tuple[dict[tuple[str, str], ReferenceItem], dict[str, list[ReferenceItem]]]:
    """The reference items `wholes` names by (name, key), and the offered items that are
    part of each ("product:9523456873" → its variants in stock), by key order."""
    if not wholes:
        return {}, {}
    keys = {k for _, k in wholes}
    found = s.exec(select(ReferenceItem).where(col(ReferenceItem.key).in_(keys)))
    items = {(i.name, i.key): i for i in found if (i.name, i.key) in set(wholes)}
    names = [f"{n}:{k}" for n, k in items]
    parts: dict[str, list[ReferenceItem]] = {}
    query = (
        select(ReferenceItem)
        .where(col(ReferenceItem.part_of).in_(names), col(ReferenceItem.offered))
        .order_by(col(ReferenceItem.key))
    )
    for p in s.exec(query):
        parts.setdefault(p.part_of or "", []).append(p)
    return items, parts
