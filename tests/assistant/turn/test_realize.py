"""The offline composer realizes the answer plan's own sentences (a greeting, a thanks, an
id that is not theirs, a handoff) in the customer's language, never staff sentences, and
policy sentences for policy questions. What it says of the customer's records is tested
with the records (tests/assistant/turn/test_record_choice.py, the support suites)."""

from __future__ import annotations

from assistant.compose import compose
from assistant.generators.offline import OfflineComposer
from assistant.policy import Policy
from assistant.tokens import TokenCounter
from assistant.turn.plan import plan_turn
from assistant.types import Composed, Decision, ReplyStyle
from profiles.context import Fact
from prompts.loader import load_prompt
from retrieval.types import Passage
from tests.assistant.conftest import CANCEL, CARD, PROFILE

STAFF = Passage(
    id="policy#9",
    doc_id="policy",
    title="Retail policy > Cancel",
    text="The user needs to confirm the order id and the reason before you cancel an order. "
    "Exchange or modify order tools can only be called once. "
    "Cancelled orders are refunded to the original payment method within 5 to 7 business days.",
    score=0.8,
    similarity=0.5,
)
GREETINGS = Policy.load().greetings
ORDER_IDS = r"#?W\d{7}"  # how the store writes its orders' ids


def composed(
    message: str,
    facts: list[Fact] | None = None,
    passages: list[Passage] | None = None,
    language: str = "en",
    handoff: bool = False,
) -> Composed:
    facts = [PROFILE] if facts is None else facts
    plan = plan_turn(
        message, language=language, handoff=handoff, records=facts, id_patterns=[ORDER_IDS]
    )
    decision = Decision(
        plan=plan,
        handoff=handoff,
        handoff_reason="customer asked for a human" if handoff else None,
        style=ReplyStyle(language=language, greeting=GREETINGS[language]),
    )
    return compose(
        load_prompt("chat_reply.v2"),
        TokenCounter(),
        2000,
        CARD,
        decision,
        message,
        facts,
        [CANCEL, STAFF] if passages is None else passages,
        [],
        [],
    )


def test_an_id_that_is_none_of_theirs_is_not_repeated() -> None:
    g = OfflineComposer().generate(composed("where is #W9999999?"))
    assert "I don't see that number on your account" in g.text and "W9999999" not in g.text
    es = OfflineComposer().generate(composed("¿dónde está #W9999999?", language="es"))
    assert es.text.startswith("Hola Ana:") and "W9999999" not in es.text


def test_policy_questions_quote_no_staff_sentence() -> None:
    c = composed("How long do refunds take for cancelled orders in general?", passages=[STAFF])
    g = OfflineComposer().generate(c)
    assert "5 to 7 business days" in g.text
    assert "The user" not in g.text and "tools" not in g.text


def test_a_handoff_in_the_customer_language() -> None:
    g = OfflineComposer().generate(
        composed("Ich möchte mit einem Menschen sprechen", language="de", handoff=True)
    )
    assert g.text.startswith("Hallo Ana,") and "unserem Team" in g.text


def test_handoff_reasons_are_customer_worded_and_opening_times_translated() -> None:
    c = composed("Ich möchte mit einem Menschen sprechen", language="de", handoff=True)
    c.decision.handoff_reason = "a VIP customer is unhappy"
    c.decision.style.business_hours = False
    c.decision.style.next_opening = "tomorrow 09:00"
    c.decision.style.next_opening_day, c.decision.style.next_opening_time = "tomorrow", "09:00"
    g = OfflineComposer().generate(c)
    assert "VIP" not in g.text and "unhappy" not in g.text
    assert "morgen um 09:00" in g.text and "tomorrow" not in g.text


def test_a_draft_has_no_handoff_sentence_and_no_citation_numbers() -> None:
    c = composed("I want a human, how long do refunds take?", passages=[STAFF], handoff=True)
    draft = OfflineComposer().draft(c).text
    assert "5 to 7 business days" in draft
    assert "human agent" not in draft and "[" not in draft


def test_the_llm_prompt_names_the_reply_language_and_summarizes_the_plan() -> None:
    c = composed("¿Dónde está mi pedido #W9999999?", language="es")
    system = c.messages[0][1]
    assert 'Greet the customer with "Hola" and reply in Spanish.' in system
    assert "- Plan: answer: where_is_order." in system  # the id not theirs: never repeated
    assert "W9999999" not in system.split("- Plan:")[1].split("\n")[0]


def test_a_greeting_or_thanks_is_answered_in_kind() -> None:
    hello = OfflineComposer().generate(composed("hello"))
    assert "How can I help you today?" in hello.text and not hello.cannot_answer
    thanks = OfflineComposer().generate(composed("merci beaucoup", language="fr"))
    assert "Avec plaisir" in thanks.text
