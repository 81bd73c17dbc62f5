"""Request and response bodies of the HTTP API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field

from assistant.types import Citation, ContextInfo, RuleHit, TurnResult
from profiles.overview import MessageLine


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL (\\x00) characters")
    return value


Text = Annotated[str, AfterValidator(_no_nul)]
"""Text a customer or client sends: stored as is, so the same on SQLite and PostgreSQL
(which cannot store NUL characters)."""


class ClientContext(BaseModel):
    """What the widget knows about where the customer is."""

    device: Literal["desktop", "mobile", "tablet", "unknown"] = "unknown"
    locale: str | None = Field(None, max_length=35)
    timezone: str | None = Field(None, max_length=64)
    page_url: str | None = Field(None, max_length=2048)


class ChatRequest(BaseModel):
    customer_id: Text = Field(min_length=1, max_length=128)
    user_hash: str = Field(min_length=1, max_length=128)
    conversation_id: Text | None = Field(None, max_length=64)
    message: Text = Field(min_length=1, description="The customer's message.")
    channel: Literal["widget", "email", "agent", "api"] = "widget"
    context: ClientContext = Field(default_factory=ClientContext)


class TurnDetail(BaseModel):
    """How a turn was made: for staff (a request with an agent or admin key), never for
    the customer's widget. It holds the prompt's context, the customer's segments and
    the rules that fired, e.g. `handoff.vip_negative`."""

    context: ContextInfo
    handoff_reason: str | None = None
    decision_trace: list[RuleHit] = Field(default_factory=list)
    segments: list[str] = Field(default_factory=list)
    variant: str | None = None


class ChatResponse(BaseModel):
    """A turn as the chat widget receives it: the reply and what it cites, whether an
    agent takes over, and the ids to continue the conversation. `detail` is filled in
    only for a request made with an agent or admin key."""

    answer: str
    citations: list[Citation]
    handoff: bool
    generator: str
    degraded: bool
    timings_ms: dict[str, float]
    conversation_id: str | None = None
    turn_id: str | None = None
    detail: TurnDetail | None = None

    @classmethod
    def of(cls, result: TurnResult, staff: bool = False) -> ChatResponse:
        """The customer's view of `result`, with its detail for staff. Every field but
        `detail` is the turn's field of the same name (so is every field of the detail)."""
        detail = TurnDetail(**_fields(result, TurnDetail)) if staff else None
        return cls(**_fields(result, cls, skip="detail"), detail=detail)


def _fields(result: TurnResult, model: type[BaseModel], skip: str = "") -> dict[str, object]:
    return {name: getattr(result, name) for name in model.model_fields if name != skip}


class ConversationOut(BaseModel):
    conversation_id: str
    customer_id: str
    messages: list[MessageLine]


class AssistRequest(BaseModel):
    conversation_id: Text | None = Field(None, max_length=64)
    customer_id: Text | None = Field(None, max_length=128)
    message: Text | None = Field(None, description="Defaults to the last customer message.")


class FeedbackRequest(BaseModel):
    turn_id: str = Field(min_length=1, max_length=64)
    customer_id: str = Field(min_length=1, max_length=128)
    user_hash: str = Field(min_length=1, max_length=128)
    rating: int | None = Field(None, ge=1, le=5, description="1 (bad) to 5 (good).")
    resolved: bool | None = None
    comment: Text | None = Field(None, max_length=2000)


class FeedbackOut(BaseModel):
    id: int
    turn_id: str


class KbDocumentIn(BaseModel):
    id: str = Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9._()\-]+$")
    title: Text = Field(min_length=1, max_length=300)
    content: Text = Field(min_length=1)


class KbIngestRequest(BaseModel):
    documents: list[KbDocumentIn] = Field(min_length=1, max_length=500)


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
