"""The SQL side of privacy requests: a customer's records, erasure, retention, the audit log.

The vector side (history texts) is retrieval's; assistant.privacy runs the two in the
order that makes every request safe to run again after a crash."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import delete, func, or_, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, col, select

from profiles.conversations import message_history_id
from profiles.db import session_scope
from profiles.models import (
    AgentReply,
    AuditLog,
    Consent,
    Conversation,
    ConversationEvent,
    Customer,
    CustomerRecord,
    ErasureRequest,
    Event,
    Feedback,
    HistoryItem,
    HistoryKey,
    IdempotencyKey,
    Message,
    Ticket,
    Turn,
    utcnow,
)

Row = dict[str, Any]
"""One table row as JSON-ready column → value."""

AuditAction = Literal["export", "erase", "purge", "consent"]


def _row(model: SQLModel) -> Row:
    return model.model_dump(mode="json")


class ConversationRecords(BaseModel):
    conversation: Row
    messages: list[Row]
    turns: list[Row]
    feedback: list[Row]
    events: list[Row] = []  # state changes and message events (who, when, why)
    agent_replies: list[Row] = []  # how agents' messages relate to the drafts offered


class CustomerRecords(BaseModel):
    """Every SQL row held about one customer, each with all its columns."""

    customer: Row
    consents: list[Row]
    tickets: list[Row]
    events: list[Row]
    conversations: list[ConversationRecords]
    history_items: list[Row]
    # retried chat requests' keys with the stored reply each replays (address, message text)
    idempotency_keys: list[Row] = []
    # orders, accounts, cards, bookings … as the business's mapping imported them
    records: list[Row] = []


def customer_records(engine: Engine, customer_id: str) -> CustomerRecords | None:
    """Everything SQL holds about the customer, or None for an unknown id."""
    with Session(engine) as s:
        customer = s.get(Customer, customer_id)
        if customer is None:
            return None
        conversations = list(
            s.exec(
                select(Conversation)
                .where(Conversation.customer_id == customer_id)
                .order_by(col(Conversation.created_at))
            )
        )
        return CustomerRecords(
            customer=_row(customer),
            consents=_rows(s, Consent, Consent.customer_id == customer_id, Consent.purpose),
            tickets=_rows(s, Ticket, Ticket.customer_id == customer_id, Ticket.created_at),
            events=_rows(s, Event, Event.customer_id == customer_id, Event.id),
            conversations=[_conversation(s, c) for c in conversations],
            history_items=_rows(
                s, HistoryItem, HistoryItem.customer_id == customer_id, HistoryItem.created_at
            ),
            idempotency_keys=_rows(
                s, IdempotencyKey, IdempotencyKey.customer_id == customer_id, IdempotencyKey.key
            ),
            records=_rows(
                s, CustomerRecord, CustomerRecord.customer_id == customer_id, CustomerRecord.id
            ),
        )


def _rows(s: Session, model: type[SQLModel], where: Any, order: Any) -> list[Row]:
    return [_row(r) for r in s.exec(select(model).where(where).order_by(col(order)))]


def _conversation(s: Session, conv: Conversation) -> ConversationRecords:
    turns = list(
        s.exec(
            select(Turn)
            .where(Turn.conversation_id == conv.id)
            .order_by(col(Turn.created_at), col(Turn.id))
        )
    )
    feedback = (
        _rows(s, Feedback, col(Feedback.turn_id).in_([t.id for t in turns]), Feedback.id)
        if turns
        else []
    )
    return ConversationRecords(
        conversation=_row(conv),
        messages=_rows(s, Message, Message.conversation_id == conv.id, Message.id),
        turns=[_row(t) for t in turns],
        feedback=feedback,
        events=_rows(
            s, ConversationEvent, ConversationEvent.conversation_id == conv.id, ConversationEvent.id
        ),
        agent_replies=_rows(
            s, AgentReply, AgentReply.conversation_id == conv.id, AgentReply.message_id
        ),
    )


def history_ids(engine: Engine, customer_id: str) -> list[str]:
    """Ids of every history item of the customer (their vectors have the same ids)."""
    with Session(engine) as s:
        return _history_ids(s, customer_id)


def _history_ids(s: Session, customer_id: str) -> list[str]:
    return list(
        s.exec(
            select(HistoryItem.id)
            .where(HistoryItem.customer_id == customer_id)
            .order_by(col(HistoryItem.id))
        )
    )


# -- audit log ---------------------------------------------------------------------------


def add_audit(
    s: Session,
    actor: str,
    action: AuditAction,
    customer_id: str | None,
    outcome: str,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append an audit row in the caller's transaction. `detail` holds counts and flags,
    never personal data. An erased customer is named by their `erased_ref`."""
    if customer_id is not None and s.get(Customer, customer_id) is None:
        ref = erased_ref(customer_id)
        if s.get(ErasureRequest, ref) is not None:
            customer_id = ref
    s.add(
        AuditLog(
            actor=actor,
            action=action,
            customer_id=customer_id,
            outcome=outcome,
            detail=detail or {},
        )
    )


def audit(
    engine: Engine,
    actor: str,
    action: AuditAction,
    customer_id: str | None,
    outcome: str,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append an audit row in its own transaction."""
    with session_scope(engine) as s:
        add_audit(s, actor, action, customer_id, outcome, detail)


def audit_entries(
    engine: Engine, customer_id: str | None = None, limit: int = 100
) -> list[AuditLog]:
    """The newest audit rows first, of one customer or of all."""
    query = select(AuditLog).order_by(col(AuditLog.at).desc(), col(AuditLog.id).desc())
    if customer_id is not None:
        ids = [customer_id, erased_ref(customer_id)]
        query = query.where(col(AuditLog.customer_id).in_(ids))
    with Session(engine) as s:
        return list(s.exec(query.limit(limit)))


# -- erasure -----------------------------------------------------------------------------

ErasureStart = Literal["started", "resumed", "already_erased", "not_found"]


def erased_ref(customer_id: str) -> str:
    """What the audit log and the erasure record call a customer once they are erased: a
    digest of their id. It answers "was this id erased, when, by whom?" for whoever
    knows the id, and names nobody to whoever reads the tables."""
    digest = hashlib.sha256(b"rapport erased customer\0" + customer_id.encode()).hexdigest()
    return "erased:" + digest[:40]


def begin_erasure(engine: Engine, customer_id: str, actor: str) -> ErasureStart:
    """Record that the customer is being erased, before anything is deleted.

    "started" when there is something to erase, "resumed" when an earlier erasure was
    interrupted, "already_erased" when one finished (and the customer was not created
    again since), "not_found" when the id is unknown."""
    with session_scope(engine) as s:
        request = s.get(ErasureRequest, customer_id)  # pending: under the id itself
        pending = request is not None and request.status == "pending"
        if s.get(Customer, customer_id) is None:
            if pending:
                return "resumed"
            return (
                "already_erased" if s.get(ErasureRequest, erased_ref(customer_id)) else "not_found"
            )
        if request is None:  # new, or erased before and created again: a new erasure
            request = ErasureRequest(customer_id=customer_id, actor=actor)
        request.actor, request.status = actor, "pending"
        s.add(request)
        return "resumed" if pending else "started"


def erasure_completed_at(engine: Engine, customer_id: str) -> datetime | None:
    """When the customer's erasure finished, or None if it did not."""
    with Session(engine) as s:
        request = s.get(ErasureRequest, erased_ref(customer_id))
        return request.completed_at if request and request.status == "done" else None


class ErasedRows(BaseModel):
    """How many rows of each kind an erasure deleted, and which history ids went with them."""

    counts: dict[str, int]
    history_ids: list[str] = Field(default_factory=list)


def erase_rows(engine: Engine, customer_id: str) -> ErasedRows:
    """Delete every row about the customer in one transaction: all of them or none.
    Running it for a customer already deleted deletes nothing."""
    with session_scope(engine) as s:
        hids = _history_ids(s, customer_id)
        conv_ids = select(Conversation.id).where(Conversation.customer_id == customer_id)
        in_convs = or_(
            col(Turn.customer_id) == customer_id, col(Turn.conversation_id).in_(conv_ids)
        )
        turn_ids = select(Turn.id).where(in_convs)
        steps: list[tuple[str, Any]] = [
            (
                "conversation_events",
                delete(ConversationEvent).where(
                    or_(
                        col(ConversationEvent.customer_id) == customer_id,
                        col(ConversationEvent.conversation_id).in_(conv_ids),
                    )
                ),
            ),
            (
                "agent_replies",
                delete(AgentReply).where(
                    or_(
                        col(AgentReply.customer_id) == customer_id,
                        col(AgentReply.conversation_id).in_(conv_ids),
                    )
                ),
            ),
            ("feedback", delete(Feedback).where(col(Feedback.turn_id).in_(turn_ids))),
            ("turns", delete(Turn).where(in_convs)),
            (
                "messages",
                delete(Message).where(
                    or_(
                        col(Message.customer_id) == customer_id,
                        col(Message.conversation_id).in_(conv_ids),
                    )
                ),
            ),
            ("conversations", delete(Conversation).where(col(Conversation.id).in_(conv_ids))),
            (
                "history_items",
                delete(HistoryItem).where(col(HistoryItem.customer_id) == customer_id),
            ),
            ("events", delete(Event).where(col(Event.customer_id) == customer_id)),
            ("tickets", delete(Ticket).where(col(Ticket.customer_id) == customer_id)),
            (
                "records",
                delete(CustomerRecord).where(col(CustomerRecord.customer_id) == customer_id),
            ),
            ("consents", delete(Consent).where(col(Consent.customer_id) == customer_id)),
            # Cached chat results replayed to retries hold the turn's text.
            (
                "idempotency_keys",
                delete(IdempotencyKey).where(col(IdempotencyKey.customer_id) == customer_id),
            ),
            ("customer", delete(Customer).where(col(Customer.id) == customer_id)),
        ]
        counts = {name: _deleted(s, stmt) for name, stmt in steps}
        return ErasedRows(counts=counts, history_ids=hids)


def finish_erasure(
    engine: Engine, customer_id: str, actor: str, detail: dict[str, Any]
) -> datetime:
    """Mark the erasure done and write its audit row, together; returns when it finished.

    The customer's history key goes now, after the last sweep of the vector store: what
    it may still hold of them is noise from here on. The erasure record and the
    customer's audit rows name them by `erased_ref`, not by their id."""
    ref = erased_ref(customer_id)
    with session_scope(engine) as s:
        keys = _deleted(s, delete(HistoryKey).where(col(HistoryKey.customer_id) == customer_id))
        detail = {**detail, "history_keys": keys}
        pending = s.get(ErasureRequest, customer_id)
        done = s.get(ErasureRequest, ref) or ErasureRequest(customer_id=ref, actor=actor)
        if pending is not None:
            done.requested_at = pending.requested_at
            s.delete(pending)
        done.actor, done.status, done.completed_at = actor, "done", utcnow()
        s.add(done)
        s.exec(
            update(AuditLog).where(col(AuditLog.customer_id) == customer_id).values(customer_id=ref)  # type: ignore[call-overload]
        )
        add_audit(s, actor, "erase", ref, "erased", detail)
        return done.completed_at


def _deleted(s: Session, statement: Any) -> int:
    result = s.exec(statement)
    return int(result.rowcount or 0)


# -- retention ---------------------------------------------------------------------------


class PurgePlan(BaseModel):
    """What a retention purge deletes: conversations idle since before `cutoff`."""

    cutoff: datetime
    conversation_ids: list[str]
    history_ids: list[str]
    counts: dict[str, int]


def _last_activity() -> Any:
    return func.coalesce(func.max(Message.created_at), Conversation.created_at)


def _stale(s: Session, cutoff: datetime, among: Sequence[str] | None = None) -> list[str]:
    query = (
        select(Conversation.id)
        .outerjoin(Message, col(Message.conversation_id) == Conversation.id)
        .group_by(col(Conversation.id), col(Conversation.created_at))
        .having(_last_activity() < cutoff)
        .order_by(col(Conversation.id))
    )
    if among is not None:
        query = query.where(col(Conversation.id).in_(list(among)))
    return list(s.exec(query))


def _plan(s: Session, cutoff: datetime, among: Sequence[str] | None = None) -> PurgePlan:
    conv_ids = _stale(s, cutoff, among)
    if not conv_ids:
        return PurgePlan(cutoff=cutoff, conversation_ids=[], history_ids=[], counts=_zero())
    message_ids = list(s.exec(select(Message.id).where(col(Message.conversation_id).in_(conv_ids))))
    candidates = [message_history_id(m) for m in message_ids if m is not None]
    hids = (
        list(s.exec(select(HistoryItem.id).where(col(HistoryItem.id).in_(candidates))))
        if candidates
        else []
    )
    turn_ids = list(s.exec(select(Turn.id).where(col(Turn.conversation_id).in_(conv_ids))))
    feedback = (
        s.exec(
            select(func.count()).select_from(Feedback).where(col(Feedback.turn_id).in_(turn_ids))
        ).one()
        if turn_ids
        else 0
    )
    counts = {
        "conversations": len(conv_ids),
        "messages": len(message_ids),
        "turns": len(turn_ids),
        "feedback": int(feedback),
        "history_items": len(hids),
    }
    return PurgePlan(
        cutoff=cutoff, conversation_ids=conv_ids, history_ids=sorted(hids), counts=counts
    )


def _zero() -> dict[str, int]:
    return dict.fromkeys(("conversations", "messages", "turns", "feedback", "history_items"), 0)


def purge_plan(engine: Engine, cutoff: datetime) -> PurgePlan:
    """The conversations whose last message (or start, if none) is older than `cutoff`,
    with what deleting them would delete."""
    with Session(engine) as s:
        return _plan(s, cutoff)


def purge_rows(
    engine: Engine, plan: PurgePlan, actor: str, detail: dict[str, Any] | None = None
) -> PurgePlan:
    """Delete the planned conversations that are still idle (a conversation that came back
    to life since the plan is kept), with their messages, turns, feedback and history
    items, and write the audit row, in one transaction; returns what was deleted."""
    with session_scope(engine) as s:
        done = _plan(s, plan.cutoff, among=plan.conversation_ids) if plan.conversation_ids else plan
        if done.conversation_ids:
            convs = done.conversation_ids
            turn_ids = select(Turn.id).where(col(Turn.conversation_id).in_(convs))
            if done.history_ids:
                s.exec(delete(HistoryItem).where(col(HistoryItem.id).in_(done.history_ids)))  # type: ignore[call-overload]
            s.exec(
                delete(ConversationEvent).where(col(ConversationEvent.conversation_id).in_(convs))
            )  # type: ignore[call-overload]
            s.exec(delete(AgentReply).where(col(AgentReply.conversation_id).in_(convs)))  # type: ignore[call-overload]
            s.exec(delete(Feedback).where(col(Feedback.turn_id).in_(turn_ids)))  # type: ignore[call-overload]
            s.exec(delete(IdempotencyKey).where(col(IdempotencyKey.turn_id).in_(turn_ids)))  # type: ignore[call-overload]
            s.exec(delete(Turn).where(col(Turn.conversation_id).in_(convs)))  # type: ignore[call-overload]
            s.exec(delete(Message).where(col(Message.conversation_id).in_(convs)))  # type: ignore[call-overload]
            s.exec(delete(Conversation).where(col(Conversation.id).in_(convs)))  # type: ignore[call-overload]
        add_audit(s, actor, "purge", None, "purged", {**(detail or {}), **done.counts})
        return done
