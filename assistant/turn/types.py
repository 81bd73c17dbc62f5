"""Typed data of the turn's stages: the answer plan `decide` produces."""

from __future__ import annotations

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


class PlannedIntent(BaseModel):
    """One intent of the message; which of the customer's records it concerns is the
    records' ranking (`CustomerContext.facts`), what they allow their own actions."""

    name: IntentName
    move: Move = "answer"
    missing: list[str] = Field(default_factory=list)  # ids written that are not theirs


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
    # several of the customer's records could be the one an action is asked of
    choose: RecordChoice | None = None
    # the (lower-cased) text whose record actions the reply answers: the message, or for
    # a short follow-up naming none the message before ("the business one" after "I want
    # to cancel my card": whether the business card can be cancelled)
    action_text: str = ""
    # "i never got my parcel" of records still on their way (their kind's `open`
    # statuses): the reply says so; one that has arrived goes to a person instead
    under_way: list[str] = Field(default_factory=list)
    # "no, leave it" after asking an action of a record: the fact ids of the records it is
    # taken back for (`CustomerContext.declined`); the reply acknowledges it, offers nothing
    declined: list[str] = Field(default_factory=list)

    def grounded(self) -> bool:
        """Whether the plan itself answers from the customer's records: a choice between
        them, an action on one taken back, or an id that is not theirs."""
        return (
            self.choose is not None
            or bool(self.declined)
            or (self.about_records and any(i.missing for i in self.intents))
        )

    def has(self, intent: IntentName) -> bool:
        return any(i.name == intent for i in self.intents)

    def social(self) -> bool:
        """Whether the message is only a greeting, thanks or goodbye."""
        return bool(self.intents) and all(i.name in SOCIAL_INTENTS for i in self.intents)

    def record_ids(self) -> list[str]:
        """The fact ids of the records the plan asks the customer to choose between."""
        return list(self.choose.records) if self.choose is not None else []

    def summary(self) -> str:
        """One line for the LLM prompt and the trace."""
        # Kept short: it shares the prompt's token budget with the facts, which carry the
        # records' statuses.
        parts: list[str] = [i.name for i in self.intents[:3]]
        if self.choose is not None:
            parts.append(f"ask which record to {self.choose.action}")
        return f"{self.move}: " + ("; ".join(parts) or "no record intent")
