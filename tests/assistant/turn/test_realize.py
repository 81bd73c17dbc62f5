"""The offline composer realizes the answer plan: the customer's own records, in their
language, never staff sentences, policy sentences only for policy questions."""

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
from tests.assistant.turn.test_plan import BACKPACK, JACKET, LAMP, ORDERS, order

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


def facts_of(*orders: object) -> list[Fact]:
    return [PROFILE] + [
        Fact(id=o.fact_id, kind="order", text=f"Order {o.id}.", relevance=1.0, status=o.status)  # type: ignore[attr-defined]
        for o in orders
    ]


def composed(
    message: str,
    orders: list = ORDERS,  # type: ignore[type-arg]
    passages: list[Passage] | None = None,
    language: str = "en",
    handoff: bool = False,
    mentions: list[str] | None = None,
) -> Composed:
    plan = plan_turn(message, orders, mentions=mentions, language=language, handoff=handoff)
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
        facts_of(*orders),
        [CANCEL, STAFF] if passages is None else passages,
        [],
        [],
    )


def test_a_cancellable_order_is_said_so_in_the_customer_voice_citing_the_order() -> None:
    c = composed("Can I cancel my order #W7584328?")
    g = OfflineComposer().generate(c)
    assert g.text.startswith("Hi Ana,")
    assert (
        "Your order #W7584328 (Backpack) hasn't shipped yet (it is pending), "
        "so it can still be cancelled" in g.text
    )
    n = next(s.n for s in c.sources if s.id == "order:#W7584328")
    assert f"[{n}]" in g.text and g.cited == [n]
    # A question about the customer's order quotes no KB sentence as if it were about it.
    assert not any(s.kind == "kb" and s.n in g.cited for s in c.sources)
    assert "The order is cancelled" not in g.text


def test_the_only_order_is_named_with_its_status() -> None:
    g = OfflineComposer().generate(composed("Hi, where is my order? Has it shipped yet?", [LAMP]))
    assert "#W2222222" in g.text and "hasn't shipped yet" in g.text


def test_a_delivered_order_cannot_be_cancelled_but_can_be_returned() -> None:
    g = OfflineComposer().generate(composed("cancel #W1111111 please", [JACKET, BACKPACK]))
    assert "can no longer be cancelled" in g.text and "returned or exchanged" in g.text
    assert "Tracking" not in g.text or "123456" in g.text


def test_several_candidates_get_a_question() -> None:
    g = OfflineComposer().generate(composed("I want to cancel my order"))
    assert "#W7584328" in g.text and "#W2222222" in g.text and "Which one" in g.text


def test_an_item_never_bought() -> None:
    g = OfflineComposer().generate(
        composed("I want to return the shoes", mentions=["Running Shoes"])
    )
    assert "I don't see any shoes in your orders" in g.text


def test_the_reply_follows_the_language() -> None:
    g = OfflineComposer().generate(composed("¿Dónde está mi pedido?", [LAMP], language="es"))
    assert g.text.startswith("Hola Ana:") and "todavía no se ha enviado" in g.text
    g = OfflineComposer().generate(
        composed("Je voudrais retourner ma veste", [JACKET], language="fr")
    )
    assert g.text.startswith("Bonjour Ana,") and "retourner" in g.text


def test_policy_questions_quote_no_staff_sentence() -> None:
    c = composed("How long do refunds take for cancelled orders in general?", passages=[STAFF])
    g = OfflineComposer().generate(c)
    assert "5 to 7 business days" in g.text
    assert "The user" not in g.text and "tools" not in g.text


def test_a_handoff_in_the_customer_language() -> None:
    g = OfflineComposer().generate(
        composed("Ich möchte mit einem Menschen sprechen", [LAMP], language="de", handoff=True)
    )
    assert g.text.startswith("Hallo Ana,") and "unserem Team" in g.text


def test_handoff_reasons_are_customer_worded_and_opening_times_translated() -> None:
    c = composed("Ich möchte mit einem Menschen sprechen", [LAMP], language="de", handoff=True)
    c.decision.handoff_reason = "a VIP customer is unhappy"
    c.decision.style.business_hours = False
    c.decision.style.next_opening = "tomorrow 09:00"
    c.decision.style.next_opening_day, c.decision.style.next_opening_time = "tomorrow", "09:00"
    g = OfflineComposer().generate(c)
    assert "VIP" not in g.text and "unhappy" not in g.text
    assert "morgen um 09:00" in g.text and "tomorrow" not in g.text


def test_a_draft_has_no_handoff_sentence_and_no_citation_numbers() -> None:
    c = composed("I want a human to cancel my order #W7584328", handoff=True)
    draft = OfflineComposer().draft(c).text
    assert "can still be cancelled" in draft
    assert "human agent" not in draft and "[" not in draft


def test_the_llm_prompt_names_the_reply_language_and_summarizes_the_plan() -> None:
    c = composed("¿Dónde está mi pedido?", [LAMP], language="es")
    system = c.messages[0][1]
    assert 'Greet the customer with "Hola" and reply in Spanish.' in system
    assert "- Plan: answer: where_is_order #W2222222." in system


def test_an_exchange_before_shipping_is_offered_as_a_change_of_option() -> None:
    g = OfflineComposer().generate(
        composed("can I swap the backpack in #W7584328 for another colour?")
    )
    assert "#W7584328" in g.text and "hasn't shipped yet" in g.text
    assert "can still be changed to another size, colour or version" in g.text
    assert "only delivered orders" not in g.text
    delivered = OfflineComposer().generate(composed("I want to exchange the jacket from #W1111111"))
    assert "can be exchanged" in delivered.text


def test_a_new_address_in_the_message_is_said_back_for_confirmation() -> None:
    g = OfflineComposer().generate(
        composed("can u change the address on #W7584328 to 55 Oak St, Austin TX 78701")
    )
    assert "can still be changed" in g.text
    assert "Shall it go to 55 Oak St, Austin TX 78701 instead?" in g.text
    asked = OfflineComposer().generate(composed("I need to change the address on #W7584328"))
    assert "Which address should it go to?" in asked.text


def test_a_refund_asked_for_is_answered_by_the_return_alone() -> None:
    g = OfflineComposer().generate(composed("can i get a refund for the jacket from #W1111111?"))
    assert "can be returned" in g.text and "I don't see a refund" not in g.text


def test_a_greeting_or_thanks_is_answered_in_kind() -> None:
    hello = OfflineComposer().generate(composed("hello"))
    assert "How can I help you today?" in hello.text and not hello.cannot_answer
    thanks = OfflineComposer().generate(composed("merci beaucoup", language="fr"))
    assert "Avec plaisir" in thanks.text


def plan_order_paid_by_card():  # type: ignore[no-untyped-def]
    from profiles.context import RecordPayment

    visa = RecordPayment(
        kind="payment",
        amount=50.0,
        method_id="credit_card_1",
        method="Visa ending 9182",
        brand="Visa",
        last_four="9182",
    )
    return BACKPACK.model_copy(update={"payments": [visa]})


def test_a_card_is_named_in_the_replys_language() -> None:
    card = plan_order_paid_by_card()
    g = OfflineComposer().generate(composed("¿Puedo cancelar #W7584328?", [card], language="es"))
    assert "Visa terminada en 9182" in g.text and "ending" not in g.text


def test_a_cancel_already_says_where_the_money_goes() -> None:
    g = OfflineComposer().generate(composed("cancel #W7584328, I paid with my card"))
    assert "can still be cancelled" in g.text and g.text.count("$50.00") == 1


def test_a_why_the_records_cannot_answer_is_said_so() -> None:
    g = OfflineComposer().generate(composed("why was my water bottle order cancelled??"))
    assert "#W3333333" in g.text and "was cancelled" in g.text
    assert "I can't see why from here" in g.text
    plain = OfflineComposer().generate(composed("was my water bottle order cancelled?"))
    assert "can't see why" not in plain.text


def test_two_actions_among_the_same_orders_are_one_question_in_the_customer_language() -> None:
    delivered = [JACKET, order("#W4444444", "delivered", "Boots", day=4)]
    g = OfflineComposer().generate(composed("i got the wrong size, can i swap it?", delivered))
    assert g.text.count("Which one") == 1
    assert "could be exchanged or returned" in g.text or "returned or exchanged" in g.text
    g = OfflineComposer().generate(composed("¿puedo devolver mi pedido?", delivered, language="es"))
    assert "(Jacket, T-Shirt, entregado)" in g.text and "delivered" not in g.text


def test_a_wrong_item_answer_offers_the_return_and_the_exchange_once() -> None:
    g = OfflineComposer().generate(composed("i got the wrong size in #W1111111, can i swap it?"))
    assert g.text.count("#W1111111") == 1, g.text
    assert "return it for a refund" in g.text and "exchange the item" in g.text
