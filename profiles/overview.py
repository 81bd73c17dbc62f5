"""Read models for the agent sidebar: a customer's overview and the conversation queue."""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from profiles.models import (
    Conversation,
    Customer,
    CustomerRecord,
    Message,
    Ticket,
    Turn,
)
from profiles.reads import read_records


class RecordLine(BaseModel):
    """A record of another kind (account, card, booking …) as its mapping shows it."""

    kind: str
    id: str
    status: str | None
    text: str
    open: bool | None = None  # still under way (its kind's mapping says which statuses are)


class TicketLine(BaseModel):
    id: str
    subject: str
    status: str
    created_at: datetime


class MessageLine(BaseModel):
    role: str
    text: str
    created_at: datetime
    sources: list[str] = []  # staff only: what a bot reply cites


class CustomerOverview(BaseModel):
    """What the agent sees about a customer besides the card."""

    records: list[RecordLine] = []  # newest first, a few of each kind
    record_counts: dict[str, int] = {}  # kind → how many
    tickets: list[TicketLine]
    conversations: int
    recent_messages: list[MessageLine]


class QueueItem(BaseModel):
    """One conversation in the agent's list."""

    conversation_id: str
    customer_id: str
    customer_name: str
    channel: str
    last_message: str
    last_at: datetime
    handoff: bool


RECORDS_PER_KIND = 3  # the sidebar's card: of each kind, the ones under way, then the newest


def customer_overview(engine: Engine, customer_id: str, recent: int = 6) -> CustomerOverview:
    """Records, recent tickets and messages of one customer, selected by customer id."""
    with Session(engine) as s:
        tickets = s.exec(
            select(Ticket)
            .where(Ticket.customer_id == customer_id)
            .order_by(col(Ticket.created_at).desc())
            .limit(recent)
        )
        n_conv = s.exec(
            select(func.count())
            .select_from(Conversation)
            .where(Conversation.customer_id == customer_id)
        ).one()
        msgs = list(
            s.exec(
                select(Message)
                .where(Message.customer_id == customer_id)
                .order_by(col(Message.id).desc())
                .limit(recent)
            )
        )
        records = read_records(s, customer_id)
    shown: list[RecordLine] = []
    per_kind: Counter[str] = Counter()
    # what is still under way (the order not yet delivered, the dispute under review)
    # before the newest done ones: what the customer most likely writes about
    for r in sorted(records, key=lambda r: not r.open):
        per_kind[r.kind] += 1
        if per_kind[r.kind] <= RECORDS_PER_KIND:
            line = RecordLine(kind=r.kind, id=r.key, status=r.status, text=r.text, open=r.open)
            shown.append(line)
    return CustomerOverview(
        records=shown,
        record_counts=dict(per_kind),
        tickets=[
            TicketLine(id=t.id, subject=t.subject, status=t.status, created_at=t.created_at)
            for t in tickets
        ],
        conversations=int(n_conv),
        recent_messages=[
            MessageLine(role=m.role, text=m.text, created_at=m.created_at) for m in reversed(msgs)
        ],
    )


def conversation_queue(engine: Engine, limit: int = 50) -> list[QueueItem]:
    """The most recently active conversations, newest first, with their last message."""
    with Session(engine) as s:
        last_ids = (
            select(Message.conversation_id, func.max(Message.id).label("last_id"))
            .group_by(col(Message.conversation_id))
            .subquery()
        )
        rows = s.exec(
            select(Message, Conversation, Customer)
            .join(last_ids, col(Message.id) == last_ids.c.last_id)
            .join(Conversation, col(Conversation.id) == col(Message.conversation_id))
            .join(Customer, col(Customer.id) == col(Conversation.customer_id))
            .order_by(col(Message.id).desc())
            .limit(limit)
        ).all()
        conv_ids = [conv.id for _m, conv, _c in rows]
        handoffs = set()
        if conv_ids:
            handoffs = set(
                s.exec(
                    select(Turn.conversation_id).where(
                        col(Turn.conversation_id).in_(conv_ids), col(Turn.handoff).is_(True)
                    )
                )
            )
    return [
        QueueItem(
            conversation_id=conv.id,
            customer_id=cust.id,
            customer_name=cust.name,
            channel=conv.channel,
            last_message=msg.text[:200],
            last_at=msg.created_at,
            handoff=conv.id in handoffs,
        )
        for msg, conv, cust in rows
    ]


def conversation_messages(
    engine: Engine, conversation_id: str, with_sources: bool = False
) -> list[MessageLine]:
    """Every message of a conversation, oldest first. With `with_sources` (staff), a bot
    reply carries the ids of the sources its [n] markers cite."""
    with Session(engine) as s:
        rows = list(
            s.exec(
                select(Message)
                .where(Message.conversation_id == conversation_id)
                .order_by(col(Message.id))
            )
        )
        sources: dict[int, list[str]] = {}
        if with_sources:
            turns = s.exec(select(Turn).where(Turn.conversation_id == conversation_id))
            sources = {t.reply_message_id: t.context_ids for t in turns if t.reply_message_id}
    return [
        MessageLine(
            role=m.role,
            text=m.text,
            created_at=m.created_at,
            sources=_cited(m.text, sources.get(m.id or 0, [])),
        )
        for m in rows
    ]


CITATION_MARK = re.compile(r"\[(\d+)\]")


def _cited(text: str, context_ids: list[str]) -> list[str]:
    """The context ids a reply's [n] markers name, in order of first use."""
    if not context_ids:
        return []
    numbers = dict.fromkeys(int(n) for n in CITATION_MARK.findall(text))
    return [context_ids[n - 1] for n in numbers if 0 < n <= len(context_ids)]


def customers_for_picker(
    engine: Engine, preferred: list[str], limit: int = 12
) -> list[tuple[str, str]]:
    """(id, name) of the preferred customers that exist, in that order, then others with
    records, then any others, up to `limit`: the demo page's picker."""
    with Session(engine) as s:
        chosen = list(s.exec(select(Customer).where(col(Customer.id).in_(preferred))))
        chosen.sort(key=lambda c: preferred.index(c.id))
        picked = [*chosen]
        taken = [c.id for c in picked]
        owners = select(col(CustomerRecord.customer_id))
        picked += s.exec(
            select(Customer)
            .where(col(Customer.id).in_(owners), col(Customer.id).not_in(taken))
            .order_by(col(Customer.id))
            .limit(max(limit - len(picked), 0))
        ).all()
        taken = [c.id for c in picked]
        picked += s.exec(
            select(Customer)
            .where(col(Customer.id).not_in(taken))
            .order_by(col(Customer.id))
            .limit(max(limit - len(picked), 0))
        ).all()
    return [(c.id, c.name) for c in picked]
