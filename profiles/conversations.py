"""The write side of a support turn: conversations, messages, turns, history items."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from profiles.db import session_scope
from profiles.models import Conversation, Feedback, HistoryItem, Message, Turn, utcnow


def message_history_id(message_id: int) -> str:
    """The history item (and vector) id of a customer message: purges find it by message."""
    return f"msg:{message_id}"


class UnknownConversation(LookupError):
    """A conversation id the server never issued (or one since erased)."""

    def __init__(self, conversation_id: str) -> None:
        super().__init__("unknown conversation")
        self.conversation_id = conversation_id


class ConversationStore:
    """Stores what was said, in the order the turn needs it stored."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def conversation_owner(self, conversation_id: str) -> str | None:
        """The customer a conversation belongs to, or None when it does not exist."""
        with Session(self.engine) as s:
            conv = s.get(Conversation, conversation_id)
            return conv.customer_id if conv else None

    def start_turn(
        self, customer_id: str, conversation_id: str | None, text: str, channel: str
    ) -> tuple[str, int, datetime]:
        """Commit the customer's message (creating the conversation if needed) before any
        generation; returns (conversation id, message id, stored-at)."""
        with session_scope(self.engine) as s:
            if conversation_id is None:
                # Issued here, never by the client: 128 random bits.
                conversation_id = uuid.uuid4().hex
                s.add(Conversation(id=conversation_id, customer_id=customer_id, channel=channel))
                s.flush()
            elif s.get(Conversation, conversation_id) is None:
                raise UnknownConversation(conversation_id)
            msg = Message(
                conversation_id=conversation_id, customer_id=customer_id, role="customer", text=text
            )
            s.add(msg)
            s.flush()
            assert msg.id is not None
            return conversation_id, msg.id, msg.created_at

    def recent_messages(
        self, conversation_id: str, before_id: int | None = None, limit: int = 6
    ) -> list[Message]:
        """The last `limit` messages of a conversation before message `before_id` (else
        its last ones), oldest first."""
        query = select(Message).where(Message.conversation_id == conversation_id)
        if before_id is not None:
            query = query.where(col(Message.id) < before_id)
        with Session(self.engine) as s:
            rows = s.exec(query.order_by(col(Message.id).desc()).limit(limit))
            return list(reversed(list(rows)))

    def last_asked(self, conversation_id: str, limit: int = 6) -> tuple[str | None, list[Message]]:
        """A conversation's last customer message and the `limit` messages before it,
        oldest first: what an agent answers, and what it follows."""
        with Session(self.engine) as s:
            last = s.exec(
                select(Message)
                .where(Message.conversation_id == conversation_id, Message.role == "customer")
                .order_by(col(Message.id).desc())
                .limit(1)
            ).first()
        if last is None or last.id is None:
            return None, []
        return last.text, self.recent_messages(conversation_id, last.id, limit)

    def finish_turn(
        self, turn: Turn, reply_text: str, history_item: HistoryItem | None = None
    ) -> Turn:
        """Store the reply, the turn record and (when history is kept) the customer's
        message as a history item, in one transaction."""
        with session_scope(self.engine) as s:
            reply = Message(
                conversation_id=turn.conversation_id,
                customer_id=turn.customer_id,
                role="assistant",
                text=reply_text,
            )
            s.add(reply)
            s.flush()
            turn.reply_message_id = reply.id
            s.add(turn)
            if history_item is not None:
                s.add(history_item)  # a new message's item: an insert, not a merge
        return turn

    def record_interrupted(self, turn: Turn) -> None:
        """A turn whose reply was never finished: the message stays, no reply is stored."""
        with session_scope(self.engine) as s:
            s.add(turn)

    def history_page(
        self, after_id: str, limit: int, since: datetime | None = None
    ) -> list[HistoryItem]:
        """History items with ids after `after_id`, in id order (created at or after
        `since`, when given): pages for walking every item."""
        query = select(HistoryItem).where(col(HistoryItem.id) > after_id)
        if since is not None:
            query = query.where(col(HistoryItem.created_at) >= since)
        with Session(self.engine) as s:
            return list(s.exec(query.order_by(col(HistoryItem.id)).limit(limit)))

    def history_ids_present(self, ids: list[str]) -> set[str]:
        """Those of ids that are history items in SQL."""
        with Session(self.engine) as s:
            return set(s.exec(select(HistoryItem.id).where(col(HistoryItem.id).in_(ids))))

    def add_history_item(
        self, item_id: str, customer_id: str, kind: str, text: str, at: datetime | None = None
    ) -> None:
        """Record that a vector id belongs to this customer's history."""
        with session_scope(self.engine) as s:
            s.merge(
                HistoryItem(
                    id=item_id,
                    customer_id=customer_id,
                    kind=kind,
                    text=text,
                    created_at=at or utcnow(),
                )
            )


class FeedbackStore:
    """Feedback on turns, kept for evaluation and experiments."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def turn_owner(self, turn_id: str) -> str | None:
        """The customer a turn belongs to, or None when it does not exist."""
        with Session(self.engine) as s:
            turn = s.get(Turn, turn_id)
            return turn.customer_id if turn else None

    def add(
        self, turn_id: str, rating: int | None, resolved: bool | None, comment: str | None
    ) -> bool:
        """Store the turn's feedback: one per turn, a later one replaces it (a unique index
        keeps it so under concurrent requests). Returns whether it replaced one."""
        for _attempt in range(2):
            try:
                with session_scope(self.engine) as s:
                    fb = s.exec(select(Feedback).where(Feedback.turn_id == turn_id)).first()
                    replaced = fb is not None
                    if fb is None:
                        fb = Feedback(turn_id=turn_id)
                    fb.rating, fb.resolved, fb.comment = rating, resolved, comment
                    fb.created_at = utcnow()
                    s.add(fb)
                return replaced
            except IntegrityError:
                continue  # another request stored the first one meanwhile: replace it
        raise RuntimeError("feedback could not be stored")
