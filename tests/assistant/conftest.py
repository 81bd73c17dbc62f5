from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from assistant.compose import compose
from assistant.policy import Policy
from assistant.tokens import TokenCounter
from assistant.types import Composed, Decision, Retrieved, TurnRequest
from profiles.context import CustomerCard, CustomerContext, Fact, RecordAction
from prompts.loader import load_prompt
from retrieval.types import HistoryHit, Passage

CARD = CustomerCard(
    id="ana_lima_1234",
    name="Ana Lima",
    email="ana@example.com",
    locale="en-US",
    timezone="UTC",
    consents={"personalization": True, "history": True, "analytics": True},
)
# an order as the store's mapping imports it, named by its id
ORDER = Fact(
    id="record:order:#W1111111",
    kind="record",
    text="Order #W1111111 (Desk Lamp): pending, paid with PayPal",
    relevance=12.0,
    status="pending",
    open=True,
    actions=[
        RecordAction(name="cancel", allowed=True, names={"en": ["cancel"]}),
        RecordAction(name="return", allowed=False, names={"en": ["return", "refund"]}),
    ],
    terms=["order", "package"],
)
PROFILE = Fact(
    id="profile:ana_lima_1234",
    kind="profile",
    text="Customer ana_lima_1234: Ana Lima. Email ana@example.com.",
    relevance=100.0,
)
CANCEL = Passage(
    id="policy#3",
    doc_id="policy",
    title="Retail policy > Cancel pending order",
    text="An order can only be cancelled if its status is 'pending'. After user confirmation, "
    "the order status will be changed to 'cancelled', and the total will be refunded via the "
    "original payment method.",
    score=0.9,
    similarity=0.62,
)
RETURN = Passage(
    id="policy#5",
    doc_id="policy",
    title="Retail policy > Return delivered order",
    text="An order can only be returned if its status is 'delivered'. The refund must go to the "
    "original payment method or an existing gift card.",
    score=0.5,
    similarity=0.41,
)
POLICY = Policy.load()
A_TUESDAY_MORNING = datetime(2026, 11, 24, 10, 30, tzinfo=UTC)


def decide(
    card: CustomerCard,
    message: str,
    facts: list[Fact] | None = None,
    passages: list[Passage] | None = None,
    segments: list[str] | None = None,
    now: datetime = A_TUESDAY_MORNING,
    policy: Policy = POLICY,
    **request: Any,
) -> Decision:
    """The packaged policy's decision on a message, with the test's signals."""
    facts = [PROFILE, ORDER] if facts is None else facts
    ctx = CustomerContext(card=card, facts=facts, history_ids=[], segments=segments or [])
    retrieved = Retrieved(
        passages=[CANCEL, RETURN] if passages is None else passages, history=[], facts=facts
    )
    req = TurnRequest(customer_id=card.id, message=message, **request)
    return policy.decide(card, policy.signals(req, card, ctx, retrieved, now=now))


@pytest.fixture(scope="session")
def counter() -> TokenCounter:
    return TokenCounter()


@pytest.fixture
def make_composed(counter):
    def build(
        message: str = "Please cancel my order #W1111111",
        facts: list[Fact] | None = None,
        passages: list[Passage] | None = None,
        history: list[HistoryHit] | None = None,
        budget: int = 2000,
        card: CustomerCard = CARD,
        tokens: TokenCounter | None = None,
    ) -> Composed:
        return compose(
            load_prompt("chat_reply.v2"),
            tokens or counter,
            budget,
            card,
            decide(card, message),
            message,
            [PROFILE, ORDER] if facts is None else facts,
            [CANCEL, RETURN] if passages is None else passages,
            history or [],
            [],
        )

    return build
