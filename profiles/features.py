"""What the numbers say about a customer: tenure, contact, feedback, and the records of any
kind they hold (how many, of which kinds, how recent, still under way, their amounts).

Computed from the rows themselves on every read, so they are fresh after any write (a
record upsert, a new message, a rating) without a cache to invalidate: the record
features from the customer's records (rows the context of a turn has loaded already, else
one grouped query), the rest with one query of indexed scalar subqueries. Segments and
policy rules are written over these names."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, Field
from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from profiles.models import (
    Customer,
    CustomerRecord,
    Feedback,
    Message,
    Ticket,
    Turn,
)

RECENT_DAYS = 30  # what "recent" means for records and feedback


class CustomerFeatures(BaseModel):
    """One customer's features; the field names are the variables of segment expressions."""

    tenure_days: float  # since they joined, or since their first dated record if earlier
    open_tickets: int
    conversations: int
    last_contact_days: float | None  # days since the customer last wrote; None if never
    negative_feedback_recent: int  # ratings of 1–2 or "not resolved" in RECENT_DAYS days
    # records of any kind a mapping imported (accounts, cards, bookings …)
    record_count: int = 0
    record_kinds: int = 0  # how many kinds: "holds an account, a card and a loan" is 3
    recent_records: int = 0  # dated in the last RECENT_DAYS days
    open_records: int = 0  # still under way: an order not delivered, a dispute under review
    # by kind, for a business's own segments: records['credit_card'] >= 2,
    # record_value['checking_account'] >= 10000 (a kind they hold none of reads 0)
    records: dict[str, int] = Field(default_factory=dict)
    record_value: dict[str, float] = Field(default_factory=dict)  # their amounts summed
    # the business's own facts about them: attributes['tier'] == 'gold'
    attributes: dict[str, str] = Field(default_factory=dict)

    def values(self) -> dict[str, Any]:
        """The features by name, as segment and rule expressions read them."""
        out = self.model_dump()
        out["records"], out["record_value"] = ByKind(self.records), ByKind(self.record_value)
        out["attributes"] = Attributes(self.attributes)
        return out


class ByKind(dict[str, Any]):
    """Figures by record kind; a kind with none is 0, not an error."""

    def __missing__(self, kind: str) -> int:
        return 0


class Attributes(dict[str, str]):
    """A customer's attributes; one they do not have is "", not an error."""

    def __missing__(self, name: str) -> str:
        return ""


FEATURE_NAMES: tuple[str, ...] = tuple(CustomerFeatures.model_fields)


def _aware(t: datetime) -> datetime:
    return t if t.tzinfo else t.replace(tzinfo=UTC)  # SQLite hands back naive UTC


def _days(now: datetime, then: datetime) -> float:
    return round((now - _aware(then)).total_seconds() / 86400, 2)


# One row: the customer's creation time (NULL for an unknown id) and the features that are
# not about orders, each an indexed scalar subquery, so one round trip on any dialect. Built
# once, with the customer id and the cut-off of "recent" bound per call: building it cost
# more CPU than running it.
_CUSTOMER: sa.BindParameter[str] = sa.bindparam("customer_id")
_CONTACT = sa.select(
    select(Customer.created_at)
    .where(Customer.id == _CUSTOMER)
    .scalar_subquery()
    .label("created_at"),
    select(col(Customer.attributes))
    .where(Customer.id == _CUSTOMER)
    .scalar_subquery()
    .label("attributes"),
    select(func.count())
    .select_from(Ticket)
    .where(Ticket.customer_id == _CUSTOMER, Ticket.status == "open")
    .scalar_subquery()
    .label("open_tickets"),
    select(func.count(func.distinct(Message.conversation_id)))
    .where(Message.customer_id == _CUSTOMER)
    .scalar_subquery()
    .label("conversations"),
    select(func.max(Message.created_at))
    .where(Message.customer_id == _CUSTOMER, Message.role == "customer")
    .scalar_subquery()
    .label("last_contact"),
    select(func.count())
    .select_from(Feedback)
    .join(Turn, col(Turn.id) == col(Feedback.turn_id))
    .where(
        Turn.customer_id == _CUSTOMER,
        Feedback.created_at >= sa.bindparam("recent"),
        or_(col(Feedback.rating) <= 2, col(Feedback.resolved).is_(False)),
    )
    .scalar_subquery()
    .label("negative_feedback"),
)


def customer_features(
    s: Session,
    customer_id: str,
    now: datetime | None = None,
    *,
    records: Sequence[CustomerRecord] | None = None,
) -> CustomerFeatures | None:
    """The features of one customer, selected by customer id; None if the id is unknown.

    A caller that has read all of the customer's records already passes them as
    `records`, and they are not read again."""
    now = now or datetime.now(UTC)
    recent = now - timedelta(days=RECENT_DAYS)
    contact = s.connection().execute(_CONTACT, {"customer_id": customer_id, "recent": recent}).one()
    if contact.created_at is None:
        return None
    kinds, first_record = _record_features(s, customer_id, recent, records)
    # a customer since before this system knew them: their first dated record says so
    first = min([_aware(contact.created_at), *first_record])
    return CustomerFeatures(
        tenure_days=_days(now, first),
        open_tickets=int(contact.open_tickets),
        conversations=int(contact.conversations),
        last_contact_days=_days(now, contact.last_contact) if contact.last_contact else None,
        negative_feedback_recent=int(contact.negative_feedback),
        attributes=contact.attributes or {},
        **kinds,
    )


def _record_features(
    s: Session, customer_id: str, recent: datetime, records: Sequence[CustomerRecord] | None
) -> tuple[dict[str, Any], list[datetime]]:
    """Counts and sums over the customer's records of any kind, and the earliest of their
    dates (none or one): from `records` when the caller read them already, else in one
    grouped query."""
    if records is not None:
        by_kind: dict[str, list[CustomerRecord]] = {}
        for r in records:
            by_kind.setdefault(r.kind, []).append(r)
        rows = [
            (
                kind,
                len(mine),
                sum(1 for r in mine if r.at and _aware(r.at) >= recent),
                math.fsum(r.amount for r in mine if r.amount is not None),
                min((r.at for r in mine if r.at), default=None),
                sum(1 for r in mine if r.open),
            )
            for kind, mine in sorted(by_kind.items())
        ]
    else:
        fresh = func.sum(sa.case((col(CustomerRecord.at) >= recent, 1), else_=0))
        under_way = func.sum(sa.case((col(CustomerRecord.open).is_(True), 1), else_=0))
        rows = [
            tuple(row)
            for row in s.connection().execute(
                sa.select(
                    col(CustomerRecord.kind),
                    func.count(),
                    fresh,
                    func.sum(CustomerRecord.amount),
                    func.min(CustomerRecord.at),
                    under_way,
                )
                .where(col(CustomerRecord.customer_id) == customer_id)
                .group_by(col(CustomerRecord.kind))
            )
        ]
    dated = [_aware(at) for *_, at, _ in rows if at is not None]
    counts = {
        "record_count": sum(int(n) for _, n, *_ in rows),
        "record_kinds": len(rows),
        "recent_records": sum(int(r or 0) for _, _, r, *_ in rows),
        "open_records": sum(int(o or 0) for *_, o in rows),
        "records": {kind: int(n) for kind, n, *_ in rows},
        "record_value": {kind: round(float(v or 0), 2) for kind, _, _, v, *_ in rows},
    }
    return counts, [min(dated)] if dated else []
