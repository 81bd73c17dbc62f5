"""SQLModel tables: customers and everything Rapport knows about them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    """Timezone-aware now, the timestamp of every row Rapport writes."""
    return datetime.now(UTC)


PURPOSES = ("personalization", "history", "analytics")
"""Consent purposes: personalization (profile and orders in replies), history (past
conversations and tickets retrieved), analytics (feedback and outcomes used for evaluation)."""


class Customer(SQLModel, table=True):
    id: str = Field(primary_key=True, max_length=128)
    tenant_id: str = Field(default="default", index=True, max_length=64)
    first_name: str = ""
    last_name: str = ""
    email: str | None = Field(default=None, index=True)
    phone: str | None = None
    locale: str = "en-US"
    timezone: str = "UTC"
    plan: str | None = None
    role: str | None = None
    industry: str | None = None
    region: str | None = None
    address1: str | None = None
    address2: str | None = None
    city: str | None = None
    state: str | None = None
    zip: str | None = None
    country: str | None = None
    # the business's own facts about them ("tier": "gold"), as its mapping or API names them
    attributes: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON))
    created_at: datetime = Field(default_factory=utcnow)

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class Consent(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("customer_id", "purpose"),)
    id: int | None = Field(default=None, primary_key=True)
    customer_id: str = Field(foreign_key="customer.id", index=True)
    purpose: str
    granted: bool = True
    updated_at: datetime = Field(default_factory=utcnow)


class CustomerRecord(SQLModel, table=True):
    """A record of any kind a business keeps about a customer (account, card, booking,
    subscription …), as a mapping file imported it. `text` is how it reads in a prompt and
    the sidebar (the mapping's template; sensitive fields were dropped before anything was
    stored)."""

    __tablename__ = "customerrecord"
    __table_args__ = (UniqueConstraint("kind", "key"),)
    id: int | None = Field(default=None, primary_key=True)
    customer_id: str = Field(foreign_key="customer.id", index=True, max_length=128)
    kind: str = Field(max_length=64)
    key: str = Field(max_length=200)  # the record's own id in the business's data
    status: str | None = Field(default=None, max_length=64)
    amount: float | None = None
    at: datetime | None = None  # its main date (opened, booked, ordered …)
    # still under way (an order not yet delivered, a dispute under review): what "where is
    # it?" or "any news?" asks about when it names nothing; None when its kind has no such
    # statuses
    open: bool | None = None
    # it has reached the customer (a delivered order or card): "I never got it" then goes
    # to a person who can trace it; None when its kind has no such statuses
    arrived: bool | None = None
    fields: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    text: str = ""
    words: list[str] = Field(default_factory=list, sa_column=Column(JSON))  # what names its kind
    # other records and reference items it points at: {"account": "chk_1", "flight": "RA12"}
    links: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON))
    # what its status allows next ("cancel", "change_seat"), by its kind's rules
    allows: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    # every action its kind knows, with its name in each language the mapping gives
    # ({"cancel": {"en": "cancel", "es": "cancelar"}}): the words a message asks for it by
    # (several per language where customers say it several ways: ["close", "cancel"])
    actions: dict[str, dict[str, str | list[str]]] = Field(
        default_factory=dict, sa_column=Column(JSON)
    )
    # `text` in other languages, by language code, where the mapping gives a template
    texts: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON))
    # its status as customers read it, by language ("entregado"), from the mapping's labels
    status_texts: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON))
    # what an allowed action also needs of its fields, checked when read (an age changes):
    # {"close": [{"when": "amount == 0", "why": {"en": "its balance must be $0.00 first"}}]}
    requires: dict[str, list[dict[str, Any]]] = Field(default_factory=dict, sa_column=Column(JSON))
    # an action asked while its status does not allow it → the one that does the same for
    # the customer then ({"return": "cancel"}: a refund before delivery is a cancellation)
    instead: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON))
    # what an action does, as the customer is told it, by language ({"cancel": {"en": "Once
    # it is cancelled, the $63.50 you paid goes back to your Visa ending 9182."}})
    outcomes: dict[str, dict[str, str]] = Field(default_factory=dict, sa_column=Column(JSON))
    # every status of its kind and the words it is said by, in every language ({"ACTIVE":
    # ["active", "activa"], "PENDING": ["pending", "pendiente"]}): "is it active yet?"
    statuses: dict[str, list[str]] = Field(default_factory=dict, sa_column=Column(JSON))
    # what its amount is, as the customer is told it when they ask how much, by language
    # ({"en": "You paid $663.85 for it.", "es": "Pagaste $663.85 por él."})
    amount_texts: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON))
    # how customers write its kind's ids, a regular expression ("#?W\\d{7}"): an id of
    # that shape a message writes that is none of the customer's is not theirs to be told
    # about, and one a reply writes that its context does not hold is caught
    id_pattern: str | None = Field(default=None, max_length=200)


class ReferenceItem(SQLModel, table=True):
    """Business data that is no customer's (a catalog entry, a plan, a flight), as a
    mapping imported it; records link to it by `name` and `key`."""

    __tablename__ = "referenceitem"
    __table_args__ = (UniqueConstraint("name", "key"),)
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64)  # what it is: product, plan, flight …
    key: str = Field(max_length=200)
    fields: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    text: str = ""
    # the item it is one of ("product:9523456873" for one of a product's variants): what
    # a reply may offer for a record linking to that one
    part_of: str | None = Field(default=None, max_length=300, index=True)
    offered: bool = True  # whether it can be offered now (in stock, bookable …)


class Ticket(SQLModel, table=True):
    id: str = Field(primary_key=True)
    customer_id: str = Field(foreign_key="customer.id", index=True)
    subject: str
    body: str = ""
    status: str = "open"
    created_at: datetime = Field(default_factory=utcnow)


class Event(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    customer_id: str = Field(foreign_key="customer.id", index=True)
    key: str | None = Field(default=None, index=True)  # the sender's id, for idempotent adds
    type: str
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    created_at: datetime = Field(default_factory=utcnow)


class Conversation(SQLModel, table=True):
    id: str = Field(primary_key=True)
    customer_id: str = Field(foreign_key="customer.id", index=True)
    channel: str = "cli"
    created_at: datetime = Field(default_factory=utcnow)
    # Who answers: the bot, nobody yet (waiting for an agent), an agent, or no one
    # (resolved). assignee is the agent holding the conversation; state_at when the
    # state last changed (a waiting conversation's wait starts there).
    state: str = Field(default="bot", index=True)
    assignee: str | None = None
    state_at: datetime = Field(default_factory=utcnow)
    # a handoff the policy calls urgent (a lost card) until it is resolved: first in the queue
    urgent: bool = False


class ConversationEvent(SQLModel, table=True):
    """Everything that happened in a conversation, in order: messages (by id) and state
    changes (who, when, why). The live event stream replays from here, so a client that
    reconnects with Last-Event-ID misses nothing."""

    id: int | None = Field(default=None, primary_key=True)
    conversation_id: str = Field(foreign_key="conversation.id", index=True)
    customer_id: str = Field(foreign_key="customer.id", index=True)
    kind: str  # message | state
    actor: str  # customer | bot | agent:<name> | system
    message_id: int | None = Field(default=None, foreign_key="message.id")
    state: str | None = None
    reason: str | None = None  # internal: staff see it, the customer does not
    created_at: datetime = Field(default_factory=utcnow)


class AgentReply(SQLModel, table=True):
    """A message an agent sent, and how it relates to the drafts they were offered: the
    signal the draft variants are judged by."""

    message_id: int = Field(foreign_key="message.id", primary_key=True)
    conversation_id: str = Field(foreign_key="conversation.id", index=True)
    customer_id: str = Field(foreign_key="customer.id", index=True)
    agent: str
    draft_index: int | None = None  # which draft the reply started from (None: typed)
    variant: str | None = None  # the experiment assignment the draft was made under
    intent: str | None = None
    edit_distance: int | None = None  # characters changed from the draft
    similarity: float | None = None  # 1.0 = sent as drafted
    created_at: datetime = Field(default_factory=utcnow)


class Message(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    conversation_id: str = Field(foreign_key="conversation.id", index=True)
    customer_id: str = Field(foreign_key="customer.id", index=True)
    role: str  # customer | assistant | agent
    text: str
    created_at: datetime = Field(default_factory=utcnow)


class Turn(SQLModel, table=True):
    id: str = Field(primary_key=True)
    conversation_id: str = Field(foreign_key="conversation.id", index=True)
    customer_id: str = Field(foreign_key="customer.id", index=True)
    message_id: int = Field(foreign_key="message.id")
    reply_message_id: int | None = Field(default=None, foreign_key="message.id")
    generator: str = ""
    degraded: bool = False
    handoff: bool = False
    interrupted: bool = False  # the customer left before the reply was finished
    variant: str | None = None
    prompt_version: str = ""
    context_ids: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    timings_ms: dict[str, float] = Field(default_factory=dict, sa_column=Column(JSON))
    created_at: datetime = Field(default_factory=utcnow)


class Feedback(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    turn_id: str = Field(foreign_key="turn.id", index=True, unique=True)  # one per turn
    rating: int | None = None
    resolved: bool | None = None
    comment: str | None = None
    created_at: datetime = Field(default_factory=utcnow)


class HistoryItem(SQLModel, table=True):
    """The SQL side of the history index: which vector ids belong to which customer.

    History retrieval selects ids here by customer (an indexed WHERE) and scores only
    those vectors, so one customer's search can never see another's items."""

    id: str = Field(primary_key=True)
    customer_id: str = Field(foreign_key="customer.id", index=True)
    kind: str
    text: str
    created_at: datetime = Field(default_factory=utcnow)


class HistoryKey(SQLModel, table=True):
    """The key a customer's history items are sealed with in the vector store
    (retrieval.sealing); erasure deletes it, and what the store still holds is noise.

    Not a foreign key on purpose: the key outlives the customer's rows until the
    erasure's last sweep of the vector store, which finds their items by it."""

    customer_id: str = Field(primary_key=True, max_length=128)
    key: str = Field(max_length=64)  # 32 random bytes, hex
    created_at: datetime = Field(default_factory=utcnow)


class AuditLog(SQLModel, table=True):
    """Who did what to whose data, and how it ended: the record a privacy request happened.

    Holds identifiers and counts only, never names, emails, message texts or exported
    content. customer_id is not a foreign key on purpose: the row must outlive the
    customer it records the erasure of."""

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    actor: str = Field(max_length=64)  # "cli", or "admin:<key fingerprint>"
    action: str = Field(max_length=32)  # export | erase | purge | consent
    customer_id: str | None = Field(default=None, index=True, max_length=128)
    outcome: str = Field(max_length=32)  # ok | erased | already_erased | not_found | failed ...
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))


class ErasureRequest(SQLModel, table=True):
    """An erasure in progress or done: written before anything is deleted, marked done in
    the transaction that deletes the customer's rows, so an interrupted erasure is visible
    and a second run finishes it. Like the audit log it keeps the customer id only."""

    customer_id: str = Field(primary_key=True, max_length=128)
    actor: str = Field(max_length=64)
    status: str = Field(default="pending", max_length=16)  # pending | done
    requested_at: datetime = Field(default_factory=utcnow)
    completed_at: datetime | None = None


class IdempotencyKey(SQLModel, table=True):
    """A client's Idempotency-Key on a chat turn: who sent it, a digest of what they sent,
    and once the turn is done its result, replayed to retries until `expires_at`."""

    customer_id: str = Field(primary_key=True, max_length=128)
    key: str = Field(primary_key=True, max_length=128)
    request_hash: str = Field(max_length=64)
    turn_id: str | None = None
    response: str | None = None  # the turn's JSON, once done
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime = Field(index=True)
