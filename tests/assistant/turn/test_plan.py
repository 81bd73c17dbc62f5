"""The answer plan: intents, the records each concerns, what their status allows, the move."""

from __future__ import annotations

from datetime import UTC, datetime

from assistant.turn.plan import plan_turn
from profiles.context import OrderRecord, RecordItem, RecordPayment


def order(
    oid: str,
    status: str,
    *names: str,
    day: int = 1,
    tracking: list[str] | None = None,
    refund: float | None = None,
) -> OrderRecord:
    payments = [RecordPayment(kind="payment", amount=50.0, method_id="paypal_1", method="PayPal")]
    if refund is not None:
        payments.append(
            RecordPayment(kind="refund", amount=refund, method_id="paypal_1", method="PayPal")
        )
    return OrderRecord(
        id=oid,
        status=status,
        created_at=datetime(2026, 5, day, tzinfo=UTC),
        items=[
            RecordItem(name=n, item_id=f"{i}{oid[-4:]}", product_id=str(i), price=25.0)
            for i, n in enumerate(names)
        ],
        tracking=tracking or [],
        payments=payments,
    )


BACKPACK = order("#W7584328", "pending", "Backpack", day=9)
JACKET = order("#W1111111", "delivered", "Jacket", "T-Shirt", day=5, tracking=["123456"])
LAMP = order("#W2222222", "pending", "Desk Lamp", day=3)
OLD = order("#W3333333", "cancelled", "Water Bottle", day=1, refund=50.0)
ORDERS = [BACKPACK, JACKET, LAMP, OLD]  # newest first


def only(plan_intents: list, name: str):  # type: ignore[no-untyped-def]
    return next(i for i in plan_intents if i.name == name)


def test_an_order_id_resolves_its_record_and_what_its_status_allows() -> None:
    plan = plan_turn("Can I cancel my order #W7584328?", ORDERS)
    cancel = only(plan.intents, "cancel")
    assert [r.id for r in cancel.records] == ["#W7584328"]
    assert cancel.resolved_by == "id"
    assert cancel.allowed is True and plan.move == "answer"
    assert "cancel" in cancel.records[0].allows
    assert cancel.records[0].items == ["Backpack"] and cancel.records[0].paid_with == ["PayPal"]


def test_cancelling_a_delivered_order_is_not_allowed() -> None:
    cancel = only(plan_turn("please cancel #W1111111", ORDERS).intents, "cancel")
    assert cancel.allowed is False
    assert cancel.records[0].allows == ["return", "exchange"]


def test_product_words_resolve_the_order_that_holds_them() -> None:
    plan = plan_turn("I want to return my jacket", ORDERS)
    ret = only(plan.intents, "return")
    assert [r.id for r in ret.records] == ["#W1111111"]
    assert ret.resolved_by == "product" and ret.allowed is True


def test_the_only_order_is_the_one_meant() -> None:
    plan = plan_turn("Hi, where is my order? Has it shipped yet?", [LAMP])
    where = only(plan.intents, "where_is_order")
    assert [r.id for r in where.records] == ["#W2222222"]
    assert where.resolved_by == "only"
    assert where.records[0].status == "pending"


def test_a_tracking_number_is_always_one_of_theirs() -> None:
    # no "my": a tracking number is still about their order, in any language
    for message in ("whats the tracking number", "tracking number pls", "número de seguimiento?"):
        plan = plan_turn(message, [JACKET])
        assert plan.about_records, message
        assert [r.id for r in only(plan.intents, "where_is_order").records] == ["#W1111111"]


def test_the_open_ones_are_the_pending_and_processed_orders() -> None:
    plan = plan_turn("what's the status of my open orders?", ORDERS)
    where = only(plan.intents, "where_is_order")
    assert {r.id for r in where.records} == {"#W7584328", "#W2222222"}
    assert where.resolved_by == "open"


def test_most_recent_order() -> None:
    where = only(plan_turn("where is my most recent order", ORDERS).intents, "where_is_order")
    assert [r.id for r in where.records] == ["#W7584328"]


def test_several_cancellable_orders_ask_which_one() -> None:
    plan = plan_turn("cancel my order", ORDERS)
    cancel = only(plan.intents, "cancel")
    assert plan.move == "clarify" and cancel.move == "clarify"
    assert {r.id for r in cancel.candidates} == {"#W7584328", "#W2222222"}
    assert cancel.records == []


def test_it_asks_its_own_question_of_the_order_spoken_of_through_the_conversation() -> None:
    said = ["where is my desk lamp?"]
    cancel = only(plan_turn("can i cancel it?", ORDERS, earlier=said).intents, "cancel")
    assert [r.id for r in cancel.records] == ["#W2222222"] and cancel.allowed
    # two messages on, "it" is still the lamp's order (each earlier message is read with
    # the ones before it)
    said.append("can i cancel it?")
    ret = only(plan_turn("and can i return it?", ORDERS, earlier=said).intents, "return")
    assert [r.id for r in ret.records] == ["#W2222222"] and ret.allowed is False
    # no pronoun, no earlier order: the question is asked of every order it could be
    assert plan_turn("cancel my order", ORDERS, earlier=said[:1]).move == "clarify"


def test_a_product_answering_which_one_carries_the_question_asked() -> None:
    # "which one would you like to return?" → "the jacket": the jacket's order, returned
    plan = plan_turn("the jacket", ORDERS, earlier=["can i return my order?"])
    ret = only(plan.intents, "return")
    assert [r.id for r in ret.records] == ["#W1111111"] and ret.allowed


def test_that_order_follows_the_conversation() -> None:
    plan = plan_turn("can I cancel that order?", ORDERS, earlier=["where is my desk lamp?"])
    cancel = only(plan.intents, "cancel")
    assert [r.id for r in cancel.records] == ["#W2222222"]
    assert cancel.resolved_by == "conversation"


def test_the_other_one_is_the_other_candidate_of_the_earlier_question() -> None:
    plan = plan_turn("and the other one?", ORDERS, earlier=["can I cancel my backpack order?"])
    cancel = only(plan.intents, "cancel")
    assert [r.id for r in cancel.records] == ["#W2222222"]


def test_an_item_never_bought_is_named() -> None:
    plan = plan_turn("I want to return the shoes", ORDERS, mentions=["Running Shoes"])
    assert plan.not_bought == ["shoes"]
    assert plan.about_records
    assert only(plan.intents, "return").records == []


def test_a_refund_reports_the_method_it_went_to() -> None:
    plan = plan_turn("did my refund go through?", ORDERS)
    refund = only(plan.intents, "refund_status")
    assert [r.id for r in refund.records] == ["#W3333333"]
    assert refund.records[0].refunds[0].method == "PayPal"
    assert refund.records[0].note == "refund_timing"


def test_a_policy_question_has_no_records() -> None:
    plan = plan_turn("How long do refunds take in general?", ORDERS)
    assert not plan.about_records and plan.about_policy
    assert all(not i.records for i in plan.intents)


def test_several_intents_in_one_message() -> None:
    plan = plan_turn("where is my jacket, and can I exchange it?", ORDERS)
    assert {"where_is_order", "exchange"} <= {i.name for i in plan.intents}


def test_changing_a_size_or_colour_is_an_exchange_in_any_language() -> None:
    for message in (
        "can i still change the size?",
        "I need to change the color of my lamp",
        "puis-je changer la taille ?",
        "kann ich die Größe ändern?",
    ):
        assert "exchange" in {i.name for i in plan_turn(message, [LAMP]).intents}, message
    assert "exchange" not in {i.name for i in plan_turn("change my address", [LAMP]).intents}


def test_other_languages_name_intents() -> None:
    assert only(plan_turn("¿Dónde está mi pedido?", [LAMP]).intents, "where_is_order").records
    assert only(plan_turn("Je voudrais annuler ma commande", [LAMP]).intents, "cancel").allowed
    assert only(plan_turn("Ich möchte meine Bestellung stornieren", [LAMP]).intents, "cancel")


def test_an_id_not_among_the_orders_is_missing() -> None:
    cancel = only(plan_turn("cancel #W9999999", ORDERS).intents, "cancel")
    assert cancel.records == [] and cancel.missing == ["#W9999999"]
    assert cancel.resolved_by == "unknown_id"


def test_a_kind_of_product_is_theirs_unless_the_whole_other_name_is_said() -> None:
    kettle = order("#W4316152", "delivered", "Tea Kettle", day=2)
    mentions = ["Electric Kettle", "Tea Kettle"]  # "kettle" names both catalog products
    plan = plan_turn("got the wrong kettle, i ordered the black one", [kettle], mentions=mentions)
    assert plan.not_bought == []
    assert [r.id for r in only(plan.intents, "wrong_item").records] == ["#W4316152"]
    said = plan_turn("I want to return the electric kettle", [kettle], mentions=mentions)
    assert said.not_bought == ["electric kettle"]


def test_a_listed_order_shows_the_items_the_message_names_first() -> None:
    a = order(
        "#W9311069", "delivered", "Bookshelf", "Espresso Machine", "Garden Hose", "Tea Kettle"
    )
    b = order("#W4316152", "delivered", "Tea Kettle", day=2)
    plan = plan_turn("got the wrong kettle", [a, b], mentions=["Tea Kettle"])
    (intent,) = plan.intents
    listed = intent.candidates or intent.records
    assert {r.id for r in listed} == {"#W9311069", "#W4316152"}
    assert all(r.items[0] == "Tea Kettle" for r in listed)
    assert plan_turn("where r my orders", [a, b]).intents[0].name == "where_is_order"


def test_a_past_action_told_is_not_asked_again() -> None:
    told = plan_turn("i cancelled some stuff, where's my refund", ORDERS)
    assert "cancel" not in [i.name for i in told.intents]
    assert "refund_status" in [i.name for i in told.intents]
    back = plan_turn("I returned it last week, where is my refund?", ORDERS)
    assert "return" not in [i.name for i in back.intents]
    for asked in ("cancel my order", "I want it cancelled", "please cacnel #W7584328"):
        assert "cancel" in [i.name for i in plan_turn(asked, ORDERS).intents], asked
    broken = plan_turn("the jacket stopped working after a week", ORDERS)
    assert [i.name for i in broken.intents] == ["wrong_item"]


def test_where_is_my_refund_asks_about_the_money() -> None:
    for message in ("where's my refund", "¿dónde está mi reembolso?"):
        assert [i.name for i in plan_turn(message, ORDERS).intents] == ["refund_status"]
    both = plan_turn("has my refund shipped? where's the tracking", ORDERS)
    assert {"where_is_order", "refund_status"} <= {i.name for i in both.intents}


def test_social_words_alone_are_social_and_never_hide_a_question() -> None:
    for message, name in (
        ("thanks!", "thanks"),
        ("hello, I have a question", "greeting"),
        ("thank you so much for your help today", "thanks"),
        ("Hola", "greeting"),
        ("ok bye", "goodbye"),
    ):
        plan = plan_turn(message, ORDERS)
        assert plan.social() and [i.name for i in plan.intents] == [name], message
    for message in (
        "hi, where is my order?",
        "hi what's your phone number",
        "hola, ¿tienen tienda?",
    ):
        assert not plan_turn(message, ORDERS).social(), message


def test_products_named_in_other_words_and_languages() -> None:
    watch = order("#W8661412", "pending", "Wristwatch", "Water Bottle", "Office Chair", day=4)
    helmet = order("#W9284598", "pending", "Cycling Helmet", "Digital Camera", day=3)
    kettle = order("#W5199551", "pending", "Hiking Boots", "Electric Kettle", day=2)
    orders = [watch, helmet, kettle]
    for message, expected in (
        ("Mi pedido del reloj, ¿cuándo llega?", "#W8661412"),
        ("ich möchte die Wasserkocher-Bestellung stornieren", "#W5199551"),
        ("où en est mon casque ?", "#W9284598"),
        ("my bottle, has it shipped", "#W8661412"),
    ):
        plan = plan_turn(message, orders)
        (intent,) = plan.intents
        assert [r.id for r in intent.records] == [expected], message


def test_a_product_wanted_is_not_one_claimed_as_bought() -> None:
    plan = plan_turn("can I add a mouse to my backpack order", ORDERS, mentions=["Gaming Mouse"])
    assert plan.not_bought == []
    claimed = plan_turn("I want to return the mouse", ORDERS, mentions=["Gaming Mouse"])
    assert claimed.not_bought == ["mouse"]


def test_a_product_named_in_a_follow_up_wins_over_the_conversation() -> None:
    earlier = ["where is my desk lamp order"]  # about #W2222222 (pending)
    plan = plan_turn("can I return the jacket instead?", ORDERS, earlier=earlier)
    (intent,) = plan.intents
    assert intent.name == "return" and [r.id for r in intent.records] == ["#W1111111"]
    follow = plan_turn("can I cancel it instead?", ORDERS, earlier=earlier)
    assert [r.id for r in follow.intents[0].records] == ["#W2222222"]


def test_a_refund_for_my_pending_order_is_about_the_pending_orders():
    """ "i want a refund for my pending order": the orders that are pending, which cannot
    be returned yet, not the delivered one a return could be made of."""
    for message in ("i want a refund for my pending order", "quiero devolver mi pedido pendiente"):
        intent = only(plan_turn(message, ORDERS).intents, "return")
        assert [r.id for r in intent.records] == [BACKPACK.id, LAMP.id], message
        assert intent.allowed is False and intent.resolved_by == "open"


def test_a_spanish_pronoun_before_the_verb_points_at_the_order_spoken_of():
    """ "y si lo quiero cancelar?" after a question about one order is about that order
    ("lo" before the verb, as "cancelarlo" after it), not every order a cancel concerns."""
    earlier = ["¿dónde está mi pedido #W1111111?"]
    for message in ("y si lo quiero cancelar?", "¿y la puedo cancelar?", "quiero cancelarlo"):
        intent = only(plan_turn(message, ORDERS, earlier=earlier).intents, "cancel")
        assert [r.id for r in intent.records] == [JACKET.id], message
        assert intent.resolved_by == "conversation" and intent.allowed is False
