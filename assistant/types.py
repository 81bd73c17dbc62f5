"""Typed data passed between the stages of a support turn."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from assistant.turn.types import AnswerPlan
from profiles.context import CustomerCard, Fact, RecordAction
from profiles.mapping import spoken
from retrieval.types import HistoryHit, Passage

CitationKind = Literal["kb", "order", "product", "profile", "history", "record"]


Device = Literal["desktop", "mobile", "tablet", "unknown"]


class TurnRequest(BaseModel):
    """One customer message, from any caller, with where it was written."""

    customer_id: str
    message: str
    conversation_id: str | None = None
    channel: str = "cli"
    device: Device = "unknown"
    locale: str | None = None  # the client's locale; the customer's own otherwise
    timezone: str | None = None  # the client's IANA time zone; the customer's own otherwise


class RuleHit(BaseModel):
    """One rule that fired, and the inputs it read (no personal data: ids, counts, labels)."""

    rule: str
    inputs: dict[str, Any] = Field(default_factory=dict)


class ReplyStyle(BaseModel):
    """How the reply should read for this person at this moment (context signals)."""

    length: Literal["short", "normal", "full"] = "normal"
    language: str = "en"
    greeting: str = "Hi"
    local_time: str | None = None  # "HH:MM" in the customer's time zone
    business_hours: bool = True
    next_opening: str | None = None  # "Monday 09:00" when outside business hours
    next_opening_day: str | None = None  # "today", "tomorrow", "Monday" (words per language)
    next_opening_time: str | None = None  # "09:00"
    # what the customer can do at once while a handoff waits ("call … 24/7"), the business's
    urgent: str | None = None


class Decision(BaseModel):
    """What the policy decided for this turn, with the rules that fired."""

    handoff: bool = False
    handoff_reason: str | None = None
    handoff_urgent: bool = False  # the rule says a person should see it first (a lost card)
    tone: str = "friendly and concise"
    use_profile: bool = True
    use_history: bool = True
    deny_facts: list[str] = Field(default_factory=list)  # fact groups left out of context
    never_mention: list[str] = Field(default_factory=list)  # attributes never stated
    max_personal_facts: int = 3  # personal facts a reply may state
    segments: list[str] = Field(default_factory=list)
    variant: str | None = None  # experiment assignments, "experiment=variant;…"
    style: ReplyStyle = Field(default_factory=ReplyStyle)
    trace: list[RuleHit] = Field(default_factory=list)
    plan: AnswerPlan | None = None  # what the reply should say (the plan stage)

    def fired(self, rule: str) -> bool:
        return any(h.rule == rule for h in self.trace)

    @property
    def handoff_rule(self) -> str:
        """The first handoff rule that fired ("handoff.security"), "" if none did."""
        return next((h.rule for h in self.trace if h.rule.startswith("handoff.")), "")


class Source(BaseModel):
    """One numbered block of the prompt: a fact, passage or history item."""

    n: int
    id: str
    kind: CitationKind
    text: str
    title: str = ""  # heading path of a KB passage, shown before its text in the prompt
    priority: float = 0.0  # how strongly the turn wanted this source (compose stage)
    # how much the message points at a fact: an id written (10), a product named (3 each)
    relevance: float = 0.0
    status: str | None = None  # a fact's record's status
    actions: list[RecordAction] = Field(default_factory=list)  # a mapped record's
    texts: dict[str, str] = Field(default_factory=dict)  # `text` in other languages
    status_texts: dict[str, str] = Field(default_factory=dict)  # its status by language
    statuses: dict[str, list[str]] = Field(default_factory=dict)  # its kind's, and their words
    open: bool | None = None  # a record still under way (its kind's `open` statuses)
    terms: list[str] = Field(default_factory=list)  # a record's kind words and field names
    links: dict[str, str] = Field(default_factory=dict)  # a record's: linked kind → its key
    held: bool = False  # a passage about something the customer holds ("Green Account")
    amount_texts: dict[str, str] = Field(default_factory=dict)  # a record's amount, told

    def text_in(self, language: str) -> str:
        """The text in `language` where the business gave one, else as it is."""
        return self.texts.get(language, self.text)

    def amount_in(self, language: str) -> str:
        """What a record's amount is, told in `language` where the business wrote it so,
        else in English; "" when its business tells none ("You paid $663.85 for it.")."""
        t = self.amount_texts
        return t.get(language) or t.get("en") or ""

    def status_in(self, language: str) -> str:
        """Its status as customers read it in `language` (the business's label, "*" for
        every language, else English), else its code in plain words ("UNDER_REVIEW" as
        "under review")."""
        t = self.status_texts
        return t.get(language) or t.get("*") or t.get("en") or spoken(self.status or "")


class Composed(BaseModel):
    """The assembled context: the exact prompt text and the sources in it."""

    customer_id: str
    text: str
    tokens: int  # the whole prompt's
    sources: list[Source]
    messages: list[tuple[str, str]]  # (role, content) as sent to a chat model
    message: str
    card: CustomerCard
    decision: Decision
    # the conversation already has a reply (the bot's or an agent's): no second "Hi Ana,"
    replied_before: bool = False
    message_tokens: int = 0  # the customer's message's share of `tokens`

    @property
    def context_tokens(self) -> int:
        """What Rapport put around the message: what the token budget bounds."""
        return self.tokens - self.message_tokens

    def ids(self, kind: CitationKind | tuple[CitationKind, ...]) -> list[str]:
        kinds = (kind,) if isinstance(kind, str) else kind
        return [s.id for s in self.sources if s.kind in kinds]


class Citation(BaseModel):
    n: int  # the [n] marker in the answer
    id: str
    kind: CitationKind
    text: str
    title: str = ""  # what a person calls the source: a KB passage's heading path
    # the source as its customer reads it (an order without internal ids, a record in
    # their language), when it differs from `text`, the form the model and staff read
    customer_text: str | None = None
    label: str = ""  # what the customer calls it, in the reply's language: "Pedido #W…"


class Generation(BaseModel):
    """What a generator produced: the answer and which numbered sources it cites."""

    text: str
    generator: str
    cited: list[int] = Field(default_factory=list)
    cannot_answer: bool = False


class ContextInfo(BaseModel):
    text: str
    tokens: int
    customer_id: str
    passage_ids: list[str]
    history_ids: list[str]
    fact_ids: list[str]


class TurnResult(BaseModel):
    """The outcome of one support turn, as every caller receives it."""

    answer: str
    # what was taken out of the customer's message before it was kept (card, cvv,
    # password, pin); the answer ends by saying so
    secrets_removed: list[str] = Field(default_factory=list)
    message_kept: str | None = None  # the message as stored, when secrets were taken out
    citations: list[Citation]
    context: ContextInfo
    handoff: bool
    handoff_reason: str | None = None
    handoff_urgent: bool = False  # staff only: the agents' queue shows it first
    language: str = "en"  # the reply's ("es"): what the widget words its own text in
    generator: str
    degraded: bool
    timings_ms: dict[str, float]
    conversation_id: str | None = None
    turn_id: str | None = None
    decision_trace: list[RuleHit] = Field(default_factory=list)
    segments: list[str] = Field(default_factory=list)
    variant: str | None = None
    plan: AnswerPlan | None = None


class Retrieved(BaseModel):
    passages: list[Passage]
    history: list[HistoryHit]
    facts: list[Fact]
    unavailable: list[str] = Field(
        default_factory=list, description="Sources that failed, so the turn went without them."
    )


class StreamEvent(BaseModel):
    """One event of a streamed turn: a piece of text, a reset, or the final result."""

    type: Literal["token", "reset", "done"]
    text: str = ""
    result: TurnResult | None = None
