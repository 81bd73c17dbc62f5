"""Typed data of the turn's stages: the answer plan `decide` produces."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

IntentName = Literal[
    "where_is_order",
    "cancel",
    "return",
    "exchange",
    "change_address",
    "refund_status",
    "payment",
    "wrong_item",
    "human",
    "recall",  # what the customer told us before ("what did I say about …?")
    "greeting",  # social words alone: answered in kind, never a reason to hand off
    "thanks",
    "goodbye",
    "other",
]
Move = Literal["answer", "clarify", "handoff"]
SOCIAL_INTENTS = frozenset({"greeting", "thanks", "goodbye"})
# How the records of an intent were found.
Resolution = Literal[
    "id", "product", "only", "recent", "open", "conversation", "status", "none", "unknown_id"
]


class PlannedMethod(BaseModel):
    """A payment method as a reply names it: its label, and a card's brand and last four
    digits so the reply can say them in its own language."""

    method: str  # "PayPal", "Visa ending 1234", "gift card"
    brand: str = ""
    last_four: str = ""


class PlannedRefund(PlannedMethod):
    amount: float


class PlannedRecord(BaseModel):
    """One record an intent concerns, with the facts a reply may state about it."""

    id: str  # "#W1234567"
    source_id: str  # the fact id to cite: "order:#W1234567"
    status: str
    items: list[str] = Field(default_factory=list)
    created_at: datetime | None = None
    tracking: list[str] = Field(default_factory=list)
    paid: float = 0.0
    paid_with: list[str] = Field(default_factory=list)
    paid_methods: list[PlannedMethod] = Field(default_factory=list)  # paid_with, structured
    refunds: list[PlannedRefund] = Field(default_factory=list)
    allows: list[str] = Field(default_factory=list)  # what the status allows next
    note: str | None = None  # e.g. refund_timing for a cancelled order


class PlannedIntent(BaseModel):
    """One intent of the message, the records it concerns and what to do about it."""

    name: IntentName
    records: list[PlannedRecord] = Field(default_factory=list)
    resolved_by: Resolution = "none"
    action: str | None = None  # the action asked for (cancel, return, ...), if any
    allowed: bool | None = None  # whether every record's status allows `action`
    move: Move = "answer"
    candidates: list[PlannedRecord] = Field(default_factory=list)  # to clarify between
    missing: list[str] = Field(default_factory=list)  # ids or items not in their orders


class RecordChoice(BaseModel):
    """An action the message asks of one of the customer's records ("cancel my card")
    that several of the records it names allow: the reply asks which one."""

    action: str  # the action's own name ("close"), as the records' kind knows it
    records: list[str]  # the fact ids of the records that allow it, best first
    more: bool = False  # more records allow it than are listed


class AnswerPlan(BaseModel):
    """What the reply should say: `decide`'s output, used by both generators."""

    language: str = "en"  # the reply's language
    language_source: Literal["message", "locale"] = "locale"
    intents: list[PlannedIntent] = Field(default_factory=list)
    move: Move = "answer"
    about_records: bool = False  # the message is about the customer's own records
    about_policy: bool = False  # the message asks about policy (KB sentences may answer)
    not_bought: list[str] = Field(default_factory=list)  # items the customer never bought
    # "why was it cancelled?": the records say what, not why; the reply says so
    asks_why: bool = False
    # several of the customer's records could be the one an action is asked of
    choose: RecordChoice | None = None
    # the (lower-cased) text whose record actions the reply answers: the message, or for
    # a short follow-up naming none the message before ("the business one" after "I want
    # to cancel my card": whether the business card can be cancelled)
    action_text: str = ""
    # "i never got my parcel" of records still on their way (their kind's `open`
    # statuses): the reply says so; one that has arrived goes to a person instead
    under_way: list[str] = Field(default_factory=list)

    def grounded(self) -> bool:
        """Whether the customer's records answer: a record, a choice between records, or
        an item or id that is not theirs."""
        return self.choose is not None or (
            self.about_records
            and (
                bool(self.not_bought)
                or any(i.records or i.candidates or i.missing for i in self.intents)
            )
        )

    def has(self, intent: IntentName) -> bool:
        return any(i.name == intent for i in self.intents)

    def social(self) -> bool:
        """Whether the message is only a greeting, thanks or goodbye."""
        return bool(self.intents) and all(i.name in SOCIAL_INTENTS for i in self.intents)

    def found_ids(self) -> list[str]:
        """The fact ids of the records the plan found for its intents (not the candidates
        it would ask the customer to choose from), in order, once."""
        return list(dict.fromkeys(r.source_id for i in self.intents for r in i.records))

    def record_ids(self) -> list[str]:
        """The fact ids of every record the plan concerns, in order, once."""
        ids = [r.source_id for i in self.intents for r in [*i.records, *i.candidates]]
        ids += self.choose.records if self.choose is not None else []
        return list(dict.fromkeys(ids))

    def summary(self) -> str:
        """One line for the LLM prompt and the trace."""
        # Kept short: it shares the prompt's token budget with the facts, which carry the
        # records' statuses.
        parts = []
        for i in self.intents[:3]:
            # Ids the customer wrote are in the message already; the plan names the ones
            # it found another way ("the other one", a product word, the only order).
            ids = [] if i.resolved_by == "id" else [r.id for r in i.records or i.candidates]
            bit = " ".join([i.name, *ids[:2], *(["…"] if len(ids) > 2 else [])])
            if i.allowed is not None:
                bit += " (allowed)" if i.allowed else " (not allowed)"
            parts.append(bit)
        if self.not_bought:
            parts.append("never bought " + ", ".join(self.not_bought))
        if self.choose is not None:
            parts.append(f"ask which record to {self.choose.action}")
        return f"{self.move}: " + ("; ".join(parts) or "no record intent")
