"""The inbox's SQL side: conversation states, their events, agent messages, the queue.

A conversation is with the bot, waiting for an agent, with an agent (held by one), or
resolved. Every change and every message is an event row, in order: the record of who did
what and why, and the log the live stream replays from."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import CompoundSelect, Insert, case, func, insert, literal, update
from sqlalchemy import select as sa_select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from profiles.db import session_scope
from profiles.models import (
    AgentReply,
    Conversation,
    ConversationEvent,
    Customer,
    Message,
    Turn,
    utcnow,
)

State = Literal["bot", "waiting", "agent", "resolved"]
STATES: tuple[State, ...] = ("bot", "waiting", "agent", "resolved")


class EventRow(BaseModel):
    """One event with its message, as the stream sends it."""

    id: int
    kind: str
    actor: str
    state: str | None = None
    reason: str | None = None
    role: str | None = None
    text: str | None = None
    at: datetime


class ConversationStatus(BaseModel):
    conversation_id: str
    customer_id: str
    state: State
    assignee: str | None = None
    state_at: datetime


class InboxItem(BaseModel):
    """A conversation in the agent's queue."""

    conversation_id: str
    customer_id: str
    customer_name: str
    channel: str
    state: State
    assignee: str | None = None
    waiting_since: datetime | None = None
    last_customer_message: str | None = None
    last_at: datetime
    handoff: bool = False
    urgent: bool = False  # an urgent handoff (a lost card): first in the queue until resolved
    flags: list[str] = Field(default_factory=list)  # the customer's segments worth a glance


class InboxStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def status(self, conversation_id: str) -> ConversationStatus | None:
        with Session(self.engine) as s:
            conv = s.get(Conversation, conversation_id)
            return None if conv is None else _status(conv)

    def move(
        self,
        conversation_id: str,
        to: State,
        actor: str,
        reason: str | None = None,
        *,
        allowed_from: tuple[State, ...] = STATES,
        assignee: str | None = None,
        holder: str | None = None,
    ) -> tuple[ConversationStatus, int | None]:
        """Change the state if it is one of `allowed_from` (and, with `holder`, only if that
        agent holds it or nobody does), in one conditional UPDATE, so two agents taking
        the same conversation at once cannot both win. Returns the status after, and the
        event id (None when nothing changed)."""
        with session_scope(self.engine) as s:
            cond = [
                col(Conversation.id) == conversation_id,
                col(Conversation.state).in_(allowed_from),
            ]
            if holder is not None:
                cond.append(
                    (col(Conversation.assignee).is_(None)) | (col(Conversation.assignee) == holder)
                )
            now = utcnow()
            # resolved, or back with the bot: no longer urgent for anyone
            done = {"urgent": False} if to in ("resolved", "bot") else {}
            changed = s.execute(
                update(Conversation)
                .where(*cond)
                .values(state=to, assignee=assignee, state_at=now, **done)
                .execution_options(synchronize_session=False)
            )
            conv = s.get(Conversation, conversation_id)
            if conv is None:
                raise LookupError(conversation_id)
            s.refresh(conv)
            if not getattr(changed, "rowcount", 0):
                return _status(conv), None
            event = ConversationEvent(
                conversation_id=conversation_id,
                customer_id=conv.customer_id,
                kind="state",
                actor=actor,
                state=to,
                reason=reason,
                created_at=now,
            )
            s.add(event)
            s.flush()
            return _status(conv), event.id

    def mark_urgent(self, conversation_id: str) -> None:
        """The conversation's handoff is urgent: it goes first in the queue until resolved."""
        with session_scope(self.engine) as s:
            s.execute(
                update(Conversation)
                .where(col(Conversation.id) == conversation_id)
                .values(urgent=True)
                .execution_options(synchronize_session=False)
            )

    def record_messages(self, conversation_id: str, message_ids: list[int], actor: str) -> None:
        """Message events for stored messages (a customer's message to the agent who has
        the conversation)."""
        with session_scope(self.engine) as s:
            s.execute(_message_events(conversation_id, message_ids, actor))

    def record_turn(self, conversation_id: str, turn_id: str) -> ConversationStatus | None:
        """Message events for a bot turn's message and reply, and the conversation's
        status after them (one transaction: this runs after every turn)."""
        of_turn = (
            select(col(Turn.message_id))
            .where(col(Turn.id) == turn_id)
            .union_all(select(col(Turn.reply_message_id)).where(col(Turn.id) == turn_id))
        )
        with session_scope(self.engine) as s:
            s.execute(_message_events(conversation_id, of_turn, "customer"))
            conv = s.get(Conversation, conversation_id)
            return None if conv is None else _status(conv)

    def add_agent_message(
        self, conversation_id: str, agent: str, text: str, reply: AgentReply | None
    ) -> int:
        """Store an agent's message, its event and what it made of the drafts; the event id."""
        with session_scope(self.engine) as s:
            conv = s.get(Conversation, conversation_id)
            if conv is None:
                raise LookupError(conversation_id)
            msg = Message(
                conversation_id=conversation_id,
                customer_id=conv.customer_id,
                role="agent",
                text=text,
            )
            s.add(msg)
            s.flush()
            assert msg.id is not None
            if reply is not None:
                reply.message_id = msg.id
                reply.conversation_id = conversation_id
                reply.customer_id = conv.customer_id
                s.add(reply)
            event = ConversationEvent(
                conversation_id=conversation_id,
                customer_id=conv.customer_id,
                kind="message",
                actor=f"agent:{agent}",
                message_id=msg.id,
                created_at=msg.created_at,
            )
            s.add(event)
            s.flush()
            assert event.id is not None
            return event.id

    def last_event_id(self, conversation_id: str) -> int:
        """The id of the conversation's latest event (0 when none): where a client that
        has just read the transcript starts its live stream."""
        with Session(self.engine) as s:
            last = s.exec(
                select(func.max(ConversationEvent.id)).where(
                    col(ConversationEvent.conversation_id) == conversation_id
                )
            ).one()
        return int(last or 0)

    def events_after(self, conversation_id: str, after: int, limit: int = 200) -> list[EventRow]:
        """The conversation's events after event id `after`, oldest first."""
        with Session(self.engine) as s:
            rows = s.exec(
                select(ConversationEvent, Message)
                .join(Message, col(Message.id) == col(ConversationEvent.message_id), isouter=True)
                .where(
                    col(ConversationEvent.conversation_id) == conversation_id,
                    col(ConversationEvent.id) > after,
                )
                .order_by(col(ConversationEvent.id))
                .limit(limit)
            ).all()
        return [
            EventRow(
                id=e.id or 0,
                kind=e.kind,
                actor=e.actor,
                state=e.state,
                reason=e.reason,
                role=m.role if m else None,
                text=m.text if m else None,
                at=e.created_at,
            )
            for e, m in rows
        ]

    def queue(
        self, view: Literal["waiting", "mine", "all"], agent: str, limit: int = 50
    ) -> list[InboxItem]:
        """Waiting conversations first, the urgent ones (a lost card) before the others and
        the longest wait first; then the others by their last activity, newest first.
        `mine`: those the agent holds; `waiting`: only those waiting for an agent."""
        with Session(self.engine) as s:
            last_customer = (
                select(Message.conversation_id, func.max(Message.id).label("last_id"))
                .where(col(Message.role) == "customer")
                .group_by(col(Message.conversation_id))
                .subquery()
            )
            last_any = (
                select(
                    Message.conversation_id.label("cid"),  # type: ignore[attr-defined]
                    func.max(Message.created_at).label("last_at"),
                )
                .group_by(col(Message.conversation_id))
                .subquery()
            )
            query = (
                select(Conversation, Customer, Message, last_any.c.last_at)
                .join(Customer, col(Customer.id) == col(Conversation.customer_id))
                .join(last_any, last_any.c.cid == col(Conversation.id))
                .join(
                    last_customer,
                    last_customer.c.conversation_id == col(Conversation.id),
                    isouter=True,
                )
                .join(Message, col(Message.id) == last_customer.c.last_id, isouter=True)
            )
            if view == "waiting":
                query = query.where(col(Conversation.state) == "waiting")
            elif view == "mine":
                query = query.where(
                    col(Conversation.state) == "agent", col(Conversation.assignee) == agent
                )
            is_waiting = col(Conversation.state) == "waiting"
            query = query.order_by(
                case((is_waiting, 0), else_=1),
                case((col(Conversation.urgent), 0), else_=1),
                case((is_waiting, col(Conversation.state_at)), else_=None),
                last_any.c.last_at.desc(),
            )
            rows = s.exec(query.limit(limit)).all()
            ids = [conv.id for conv, *_ in rows]
            handoffs = (
                set(
                    s.exec(
                        select(Turn.conversation_id).where(
                            col(Turn.conversation_id).in_(ids), col(Turn.handoff).is_(True)
                        )
                    )
                )
                if ids
                else set()
            )
        items = [
            InboxItem(
                conversation_id=conv.id,
                customer_id=cust.id,
                customer_name=cust.name,
                channel=conv.channel,
                state=conv.state,  # type: ignore[arg-type]
                assignee=conv.assignee,
                waiting_since=conv.state_at if conv.state == "waiting" else None,
                last_customer_message=msg.text[:200] if msg else None,
                last_at=last_at,
                handoff=conv.id in handoffs or conv.state in ("waiting", "agent"),
                urgent=conv.urgent,
            )
            for conv, cust, msg, last_at in rows
        ]
        # waiting first (urgent first, then the longest wait), then the rest by last activity
        waiting = sorted(
            (i for i in items if i.state == "waiting"),
            key=lambda i: (not i.urgent, i.waiting_since or i.last_at),
        )
        rest = sorted(
            (i for i in items if i.state != "waiting"), key=lambda i: i.last_at, reverse=True
        )
        return waiting + rest

    def replies(self) -> list[AgentReply]:
        """Every agent reply with its draft relation (for the draft report)."""
        with Session(self.engine) as s:
            return list(s.exec(select(AgentReply).order_by(col(AgentReply.created_at))))


def _status(conv: Conversation) -> ConversationStatus:
    return ConversationStatus(
        conversation_id=conv.id,
        customer_id=conv.customer_id,
        state=conv.state,  # type: ignore[arg-type]
        assignee=conv.assignee,
        state_at=conv.state_at,
    )


def _message_events(
    conversation_id: str, message_ids: list[int] | CompoundSelect[Any], actor: str
) -> Insert:
    """One statement adding the message events of these stored messages, in the order they
    were written: by `actor`, the bot's replies by the bot."""
    return insert(ConversationEvent).from_select(
        ["conversation_id", "customer_id", "kind", "actor", "message_id", "created_at"],
        sa_select(
            literal(conversation_id),
            col(Message.customer_id),
            literal("message"),
            case((col(Message.role) == "assistant", "bot"), else_=actor),
            col(Message.id),
            col(Message.created_at),
        )
        .where(col(Message.id).in_(message_ids))
        .order_by(col(Message.id)),
    )
