"""The answer plan: the message's intents in any language, whether it is about the
customer's records or the business's policy, an id that is not theirs, the move. Which of
their records a message concerns is the records' ranking (tests/profiles/test_mapping.py,
test_record_choice.py)."""

from __future__ import annotations

from assistant.turn.plan import plan_turn
from profiles.context import Fact, RecordAction

STORE_IDS = r"#?W\d{7}"  # how the store writes its orders' ids


def only(plan_intents: list, name: str):  # type: ignore[no-untyped-def]
    return next(i for i in plan_intents if i.name == name)


def names(message: str, **kw) -> list[str]:  # type: ignore[no-untyped-def]
    return [i.name for i in plan_turn(message, **kw).intents]


def order(key: str, status: str, relevance: float = 0.5) -> Fact:
    """An order of the customer's as its mapping imports it, ranked for a message."""
    return Fact(
        id=f"record:order:{key}",
        kind="record",
        text=f"Order {key}: {status}",
        relevance=relevance,
        status=status,
        actions=[RecordAction(name="cancel", allowed=status == "pending")],
        terms=["order"],
    )


def test_a_policy_question_is_about_policy_not_their_records() -> None:
    plan = plan_turn("How long do refunds take in general?")
    assert not plan.about_records and plan.about_policy
    acting = plan_turn("I'd like to cancel an order")
    assert not acting.about_policy  # acting on one of theirs, not asking the rule


def test_several_intents_in_one_message() -> None:
    assert {"where_is_order", "exchange"} <= set(names("where is my jacket, and can I swap it?"))


def test_changing_a_size_or_colour_is_an_exchange_in_any_language() -> None:
    for message in (
        "can i still change the size?",
        "I need to change the color of my lamp",
        "puis-je changer la taille ?",
        "kann ich die Größe ändern?",
    ):
        assert "exchange" in names(message), message
    assert "exchange" not in names("change my address")


def test_other_languages_name_intents() -> None:
    assert "where_is_order" in names("¿Dónde está mi pedido?")
    assert "cancel" in names("Je voudrais annuler ma commande")
    assert "cancel" in names("Ich möchte meine Bestellung stornieren")


def test_an_order_id_that_is_none_of_theirs_is_missing_and_never_repeated() -> None:
    mine = [order("#W7584328", "pending", relevance=10.0)]
    shapes = [STORE_IDS]
    cancel = only(plan_turn("cancel #W9999999", records=mine, id_patterns=shapes).intents, "cancel")
    assert cancel.missing == ["#W9999999"]
    plan = plan_turn("cancel #W9999999", records=mine, id_patterns=shapes)
    assert plan.about_records and plan.grounded() and "#W9999999" not in plan.summary()
    # their own is answered by the records, not called missing, however written
    for message in ("cancel #W7584328", "cancel w7584328"):
        held = plan_turn(message, records=mine, id_patterns=shapes)
        assert not any(i.missing for i in held.intents) and not held.about_records
    # an id alone asks where it is
    assert names("#W9999999?", id_patterns=shapes) == ["where_is_order"]
    # a number in no shape the business gives its ids is no id of theirs
    assert not any(i.missing for i in plan_turn("cancel #W9999999", records=mine).intents)


def test_a_past_action_told_is_not_asked_again() -> None:
    told = names("i cancelled some stuff, where's my refund")
    assert "cancel" not in told and "refund_status" in told
    assert "return" not in names("I returned it last week, where is my refund?")
    for asked in ("cancel my order", "I want it cancelled", "please cacnel #W7584328"):
        assert "cancel" in names(asked), asked
    assert names("the jacket stopped working after a week") == ["wrong_item"]


def test_where_is_my_refund_asks_about_the_money() -> None:
    for message in ("where's my refund", "¿dónde está mi reembolso?"):
        assert names(message) == ["refund_status"]
    assert {"where_is_order", "refund_status"} <= set(
        names("has my refund shipped? where's the tracking")
    )


def test_social_words_alone_are_social_and_never_hide_a_question() -> None:
    for message, name in (
        ("thanks!", "thanks"),
        ("hello, I have a question", "greeting"),
        ("thank you so much for your help today", "thanks"),
        ("Hola", "greeting"),
        ("ok bye", "goodbye"),
    ):
        plan = plan_turn(message)
        assert plan.social() and [i.name for i in plan.intents] == [name], message
    for message in (
        "hi, where is my order?",
        "hi what's your phone number",
        "hola, ¿tienen tienda?",
    ):
        assert not plan_turn(message).social(), message
    # a greeting with one of their records named is about the record
    named = [order("#W7584328", "pending", relevance=3.0)]
    assert not plan_turn("hola, quiero cancelar mi pedido", records=named).social()


def test_a_person_asked_for_is_a_handoff_and_a_choice_a_question() -> None:
    assert plan_turn("can I talk to a human please").move == "handoff"
    two = [order("#W1", "pending", relevance=3.0), order("#W2", "pending", relevance=3.0)]
    plan = plan_turn("I want to cancel my order", records=two)
    assert plan.move == "clarify" and plan.choose is not None
    assert plan.record_ids() == ["record:order:#W1", "record:order:#W2"]
