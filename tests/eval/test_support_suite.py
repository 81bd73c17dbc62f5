"""The support suite's reading of replies: what counts as stating a fact, a false
statement, staff voice, an internal label and another business's text; and its cases."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from eval import support_suite as ss

RETAIL = Path(__file__).parents[2] / ".." / "shared" / "datasets" / "tau-retail"

CUSTOMER = ss.Customer(
    id="c1",
    orders=[
        ss.Order(id="#W1000001", status="pending", products=["Backpack"], tracking=[], payments=[]),
        ss.Order(
            id="#W1000002",
            status="delivered",
            products=["Desk Lamp"],
            tracking=["123456789012"],
            payments=[("payment", 10.0, "paypal_1")],
        ),
    ],
    methods={"paypal_1": {"source": "paypal", "id": "paypal_1"}},
)


def case(*facts: ss.Fact, language: str = "en", handoff: bool | None = False) -> ss.SupportCase:
    return ss.SupportCase(
        id="x",
        category="where_is_order",
        customer_id="c1",
        language=language,
        turns=["where is my order"],
        expect=list(facts),
        expect_handoff=handoff,
    )


PENDING = (
    ss.Fact(kind="id", value="#W1000001"),
    ss.Fact(kind="status", value="pending", order="#W1000001"),
)


def read(answer: str, c: ss.SupportCase | None = None, cites: tuple[str, ...] = ()) -> ss.Reading:
    return ss.read_reply(
        c or case(*PENDING), CUSTOMER, answer, cites, ("doc_bank",), ("a VIP customer is unhappy",)
    )


@pytest.mark.parametrize(
    "answer",
    [
        "Your order #W1000001 (Backpack) hasn't shipped yet, so it can still be cancelled.",
        "Your order #W1000001 is pending.",
        "Order #W1000001: it has not been shipped yet.",
    ],
)
def test_a_true_status_is_stated(answer: str) -> None:
    r = read(answer)
    assert r.missing == [] and r.false_statements == []


@pytest.mark.parametrize(
    "answer",
    [
        "Your order #W1000001 is pending.\n- The order is cancelled. [7]",
        "Your order #W1000001 has been delivered.",
        "Good news: #W1000001 has shipped!",
        "Your order #W1000001 can't be cancelled any more.",
    ],
)
def test_a_wrong_status_is_a_false_statement(answer: str) -> None:
    assert read(answer).false_statements


def test_conditional_and_policy_sentences_are_not_claims() -> None:
    r = read(
        "Your order #W1000001 is pending. Once it has shipped you will get a tracking number; "
        "pending orders can be cancelled."
    )
    assert r.false_statements == []


def test_other_ids_and_numbers_the_customer_does_not_have_are_false() -> None:
    r = read("Your order #W1000001 is pending. Your order #W9999999 shipped with 999999999999.")
    assert len(r.false_statements) >= 2


def test_missing_facts_are_listed() -> None:
    r = read("Here is what our help articles say: returns take 5 days.")
    assert r.missing == ["#W1000001", "#W1000001: pending"]


def test_a_vague_negation_does_not_state_the_status() -> None:
    # "not delivered" is true of a pending order but says too little to count as stating it
    assert read("Your order #W1000001 has not been delivered.").missing == ["#W1000001: pending"]


def test_staff_voice_labels_and_other_business_are_counted() -> None:
    r = read(
        "Your order #W1000001 is pending. The user needs to confirm the order id. "
        "I'm passing you on (a VIP customer is unhappy). Your debit card is on its way.",
        cites=("doc_bank_accounts_001#2", "policy#1"),
    )
    assert len(r.staff_voice) == 1
    assert len(r.internal_labels) == 1
    assert r.other_business == ["Your debit card is on its way.", "doc_bank_accounts_001#2"]


def test_other_languages_are_read_in_their_own_words() -> None:
    es = case(*PENDING, language="es")
    assert read("Tu pedido #W1000001 está pendiente.", es).missing == []
    assert read("Tu pedido #W1000001 ya fue entregado.", es).false_statements
    fr = case(*PENDING, language="fr")
    assert read("Votre commande #W1000001 n'a pas encore été expédiée.", fr).missing == []
    de = case(*PENDING, language="de")
    assert read("Ihre Bestellung #W1000001 ist noch nicht versandt.", de).missing == []
    assert read("Ihre Bestellung #W1000001 ist noch nicht versandt.", de).language == "de"


def test_not_found_and_text_facts() -> None:
    c = case(ss.Fact(kind="not_found", value="Shoes"))
    assert read("I don't see shoes in your orders.", c).missing == []
    assert read("Returns are accepted within 30 days.", c).missing == ["not found: Shoes"]
    t = case(ss.Fact(kind="text", value=r"\b5\s*(to|-|–)\s*7\b"))
    assert read("Refunds take 5–7 business days.", t).missing == []


def test_score_passes_only_a_clean_reply_with_the_right_handoff() -> None:
    c = case(*PENDING)
    good = ss.score(
        c, {"answer": "x", "handoff": False}, read("Your order #W1000001 is pending."), 1.0
    )
    assert good.metrics["pass"] == 1.0
    handed = ss.score(
        c, {"answer": "x", "handoff": True}, read("Your order #W1000001 is pending."), 1.0
    )
    assert handed.metrics["pass"] == 0.0
    totals = ss.totals([good, handed])
    assert totals["handoff_precision"] == 0.0 and totals["min_intent_pass"] == 0.5


def test_cases_cover_every_intent_with_varied_phrasings() -> None:
    data = ss.read_retail(RETAIL)
    cases = ss.build_cases(data, per_intent=4, seed=3)
    by_intent = Counter(c.category for c in cases)
    assert set(by_intent) >= {
        "where_is_order",
        "cancel_allowed",
        "cancel_not_allowed",
        "cancel_which",
        "return",
        "exchange",
        "change_address",
        "refund_timing",
        "refund_status",
        "payment",
        "wrong_or_damaged",
        "never_bought",
        "human",
        "out_of_scope",
        "follow_up",
        "non_english",
    }
    assert len({c.turns[-1] for c in cases}) > len(cases) * 0.7
    for c in cases:
        customer = data.customers[c.customer_id]
        owned = {o.id: o.status for o in customer.orders}
        for fact in c.expect:
            if fact.kind == "status":
                assert owned[fact.order or ""] == fact.value
    assert ss.build_cases(data, per_intent=4, seed=3) == cases
    assert ss.build_cases(data, per_intent=4, seed=4) != cases


def test_a_general_rule_after_a_record_sentence_is_about_no_record() -> None:
    delivered = ss.Fact(kind="status", value="delivered", order="#W1000002")
    c = case(ss.Fact(kind="id", value="#W1000002"), delivered)
    r = read(
        "Your order #W1000002 has been delivered, so it can no longer be cancelled. [3] "
        "An order can be cancelled while it is still pending, before it ships.",
        c,
    )
    assert r.false_statements == [] and r.missing == []
