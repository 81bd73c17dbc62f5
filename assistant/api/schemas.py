"""Request and response bodies of the HTTP API."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime
from typing import Annotated, Literal

from fastapi import Path
from pydantic import AfterValidator, BaseModel, Field, model_validator

from assistant.turn.types import AnswerPlan
from assistant.types import Citation, ContextInfo, RuleHit, TurnResult
from profiles.fields import Plain, Text, plain
from profiles.overview import MessageLine

Id = Annotated[Plain, Field(min_length=1, max_length=128)]
"""A customer, conversation or turn id: 1 to 128 characters, no control characters."""

PathId = Annotated[str, Path(min_length=1, max_length=200), AfterValidator(plain)]
"""An id in a URL path, checked like an id in a body."""


class ClientContext(BaseModel):
    """What the widget knows about where the customer is."""

    device: Literal["desktop", "mobile", "tablet", "unknown"] = "unknown"
    locale: Plain | None = Field(None, max_length=35)
    timezone: Plain | None = Field(None, max_length=64)
    page_url: Plain | None = Field(None, max_length=2048)


UserHash = Annotated[
    Plain | None,
    Field(
        max_length=128,
        description="HMAC-SHA256(widget secret, customer_id); missing or wrong is 401.",
    ),
]


class ChatRequest(BaseModel):
    customer_id: Id
    user_hash: UserHash = None
    conversation_id: Plain | None = Field(None, min_length=1, max_length=64)
    message: Text = Field(min_length=1, description="The customer's message.")
    channel: Literal["widget", "email", "agent", "api"] = Field(
        "widget", description="`agent` only with an agent or admin key (else 403)."
    )
    context: ClientContext = Field(default_factory=ClientContext)


class TurnDetail(BaseModel):
    """How a turn was made: for staff (a request with an agent or admin key), never for
    the customer's widget. It holds the prompt's context, the customer's segments and
    the rules that fired, e.g. `handoff.vip_negative`."""

    context: ContextInfo
    handoff_reason: str | None = None
    handoff_urgent: bool = False  # the agents' queue shows it first
    decision_trace: list[RuleHit] = Field(default_factory=list)
    segments: list[str] = Field(default_factory=list)
    variant: str | None = None
    plan: AnswerPlan | None = None  # intents, records, what their status allows, the move


class ChatResponse(BaseModel):
    """A turn as the chat widget receives it: the reply and what it cites, whether an
    agent takes over, and the ids to continue the conversation. `detail` is filled in
    only for a request made with an agent or admin key."""

    answer: str
    secrets_removed: list[str] = Field(
        default_factory=list,
        description="Secrets taken out of the message before it was kept (card, cvv, "
        "password, pin); the answer ends by telling the customer.",
    )
    message_kept: str | None = Field(
        None, description="The message as it was stored, when secrets were taken out of it."
    )
    citations: list[Citation]
    handoff: bool
    language: str = Field(
        "en",
        description="The reply's language (en, es, fr, de): the widget words its own "
        "buttons and notices in it.",
    )
    generator: str
    degraded: bool
    timings_ms: dict[str, float]
    conversation_id: str | None = None
    turn_id: str | None = None
    state: Literal["bot", "waiting", "agent", "resolved"] = Field(
        "bot",
        description="Who answers now: the bot, the bot until a person takes over (waiting), "
        "an agent, or no one (resolved). With an agent, `answer` is empty: the agent replies "
        "through the conversation's events.",
    )
    agent: str | None = Field(None, description="The agent holding the conversation.")
    detail: TurnDetail | None = None

    @classmethod
    def of(cls, result: TurnResult, staff: bool = False) -> ChatResponse:
        """The customer's view of `result`, with its detail for staff. Every field but
        `detail` is the turn's field of the same name (so is every field of the detail)."""
        detail = TurnDetail(**_fields(result, TurnDetail)) if staff else None
        fields = _fields(result, cls, skip=("detail", "state", "agent"))
        if not staff:  # a message's row id would tell how many messages Rapport holds
            fields["citations"] = [_opaque(c) for c in result.citations]
        return cls(**fields, detail=detail)


# History citations reach customers under an id that says nothing about the row behind it
# (msg:123 is the 123rd message of every customer together); staff see the row's id.
_CITATION_KEY = secrets.token_bytes(32)


def _opaque(citation: Citation) -> Citation:
    """The citation as a customer sees it: their order without internal ids, a history
    item under an id that counts nothing."""
    update: dict[str, object] = {"customer_text": None}
    if citation.customer_text:
        update["text"] = citation.customer_text
    if citation.kind == "history":
        digest = hmac.new(_CITATION_KEY, citation.id.encode(), hashlib.sha256).hexdigest()
        update["id"] = f"history:{digest[:16]}"
    return citation.model_copy(update=update)


def _fields(
    result: TurnResult, model: type[BaseModel], skip: tuple[str, ...] = ()
) -> dict[str, object]:
    return {name: getattr(result, name) for name in model.model_fields if name not in skip}


class ConversationOut(BaseModel):
    conversation_id: str
    customer_id: str
    messages: list[MessageLine]
    state: Literal["bot", "waiting", "agent", "resolved"] = "bot"
    assignee: str | None = None  # the agent holding it
    last_event_id: int = 0  # subscribe to the events after it (Last-Event-ID)


class AssistRequest(BaseModel):
    conversation_id: Plain | None = Field(None, min_length=1, max_length=64)
    customer_id: Id | None = None
    message: Text | None = Field(None, description="Defaults to the last customer message.")


class FeedbackRequest(BaseModel):
    turn_id: Plain = Field(min_length=1, max_length=64)
    customer_id: Id
    user_hash: UserHash = None
    rating: int | None = Field(None, ge=1, le=5, description="1 (bad) to 5 (good).")
    resolved: bool | None = None
    comment: Text | None = Field(None, max_length=2000)


class FeedbackOut(BaseModel):
    """The turn's feedback as stored: one per turn, the latest replaces the earlier."""

    turn_id: str
    replaced: bool = Field(description="Whether it replaced earlier feedback on the turn.")


class KbDocumentIn(BaseModel):
    id: str = Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9._()\-]+$")
    title: Plain = Field(min_length=1, max_length=300)
    content: Text = Field(min_length=1)
    audience: Literal["customer", "internal"] | None = Field(
        None,
        description="Who the document is written for; `internal` never reaches a customer's "
        "reply or citations. Default: what the document says (a title starting 'Internal:' "
        "or holding '(Internal)', front matter `audience: internal`), else customer.",
    )


class KbIngestRequest(BaseModel):
    documents: list[KbDocumentIn] = Field(min_length=1, max_length=500)

    @model_validator(mode="after")
    def _distinct_ids(self) -> KbIngestRequest:
        ids = [d.id for d in self.documents]
        if len(set(ids)) != len(ids):
            raise ValueError("two documents have the same id")
        return self


class KbIngestOut(BaseModel):
    added: int
    updated: int
    unchanged: int
    chunks_written: int
    chunks_deleted: int


class Upserted(BaseModel):
    id: str
    created: bool


class ErrorOut(BaseModel):
    error: str
    fields: list[dict[str, str]] | None = None


class HealthOut(BaseModel):
    status: str
    checks: dict[str, str] = Field(default_factory=dict)
    time: datetime | None = None
