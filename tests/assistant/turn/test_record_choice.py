"""Records of any kind in the answer plan: an action asked of one of several records that
allow it is a question back ("which one?"); a short follow-up carries the action on."""

from __future__ import annotations

from datetime import UTC, datetime

from assistant.turn.plan import asked_actions, plan_turn
from profiles.context import RecordAction, record_facts, unknown_asked
from profiles.models import CustomerRecord

CLOSE = {"close": {"en": ["close", "cancel"], "es": ["cancelar", "cerrar"]}}


def card(key: str, name: str, status: str | None = "ACTIVE", day: int = 1) -> CustomerRecord:
    return CustomerRecord(
        customer_id="c1",
        kind="card",
        key=key,
        status=status,
        at=datetime(2026, 1, day, tzinfo=UTC),
        fields={"card_type": name},
        text=f"{name} ({key}): {status}",
        words=["card", "credit card"],
        allows=["close"] if status == "ACTIVE" else [],
        actions=CLOSE,
    )


GOLD, SILVER = card("cc_gold", "Gold Card", day=2), card("cc_silver", "Silver Card")


def plan(message: str, rows: list[CustomerRecord], earlier: list[str] | None = None):  # type: ignore[no-untyped-def]
    before = earlier[-1] if earlier else None
    return plan_turn(message, earlier=earlier, records=record_facts(rows, message, before))


def test_an_action_two_named_records_allow_asks_which_one() -> None:
    p = plan("i want to cancel my card", [GOLD, SILVER])
    assert p.choose is not None and p.move == "clarify"
    assert p.choose.action == "close"
    assert sorted(p.choose.records) == ["record:card:cc_gold", "record:card:cc_silver"]
    assert set(p.record_ids()) >= set(p.choose.records)


def test_no_question_when_the_message_tells_which() -> None:
    assert plan("please cancel my card cc_gold", [GOLD, SILVER]).choose is None  # by id
    assert plan("cancel the silver card", [GOLD, SILVER]).choose is None  # by a value
    assert plan("i want to cancel my card", [GOLD]).choose is None  # the only one


def test_no_question_when_only_one_allows_it_or_none_is_asked() -> None:
    frozen = card("cc_silver", "Silver Card", status="CLOSED")
    assert plan("i want to cancel my card", [GOLD, frozen]).choose is None
    assert plan("what's the balance on my card?", [GOLD, SILVER]).choose is None
    # a reason or the way is asked, not the action: "cancelled" is not "cancel"
    assert plan("why was my card cancelled?", [GOLD, SILVER]).choose is None
    assert plan("how do i cancel my card?", [GOLD, SILVER]).choose is None


def test_a_short_follow_up_carries_the_action_asked_before() -> None:
    p = plan("the silver one", [GOLD, SILVER], earlier=["i want to cancel my card"])
    assert p.choose is None and p.action_text == "i want to cancel my card"
    alone = plan("the silver one", [GOLD, SILVER])
    assert alone.action_text == "the silver one"
    # a follow-up that asks its own action answers that one
    own = plan("and can i close it", [GOLD, SILVER], earlier=["what's my gold card balance"])
    assert own.action_text == "and can i close it"


def test_a_follow_up_with_a_question_of_its_own_carries_no_action() -> None:
    # "how did I pay for it?" after a cancel asks how it was paid, not to cancel it
    p = plan("how did i pay for it?", [GOLD, SILVER], earlier=["i want to cancel my gold card"])
    assert p.action_text == "how did i pay for it?"
    # a qualifier is no question of its own: "the most recent one" still asks the cancel
    p = plan("the most recent one", [GOLD, SILVER], earlier=["i want to cancel my card"])
    assert p.action_text == "i want to cancel my card"
    p = plan("what about the silver one?", [GOLD, SILVER], earlier=["i want to cancel my card"])
    assert p.action_text == "i want to cancel my card"


def test_an_action_of_a_part_is_asked_of_the_record_it_belongs_to() -> None:
    """ "cancel it" about an order's line (which cannot be cancelled) is its order, and a
    follow-up reads on through the messages before it: the line named two messages ago."""
    p4 = order("P4", "pending", 5)
    rows = [p4, P, A, line("P4/1", p4), line("P3/1", P)]
    said = ["is item P4/1 still pending?", "how much was it?"]
    facts = record_facts(rows, "ok cancel it then", said[-1], older=said[:-1])
    best = max(facts, key=lambda f: f.relevance)
    assert best.id == "record:order:P4"
    # without what came before the previous message, "cancel it" cannot tell which
    assert plan("ok cancel it then", rows, earlier=said[-1:]).choose is not None


def test_an_action_is_named_in_the_customers_word() -> None:
    close = RecordAction(name="close", allowed=True, names=CLOSE["close"])
    assert close.name_in("en", "i want to cancel my card") == "cancel"
    assert close.name_in("en", "please shut it") == "close"
    assert close.name_in("es", "quiero cerrar mi tarjeta") == "cerrar"
    assert close.name_in("fr") == "close"  # no French name: the English one
    # one name per language, as stored before synonyms, reads as a list of one
    assert RecordAction(name="activate", allowed=False, names={"es": "activar"}).names == {
        "es": ["activar"]
    }


def test_an_action_is_asked_only_when_not_said_as_done() -> None:
    dispute = RecordAction(name="dispute", allowed=True, names={"en": ["dispute", "contest"]})
    assert dispute.asked_in("i need to dispute a charge")
    assert dispute.asked_in("can i dsipute this charge")  # a typo in a long word
    assert not dispute.asked_in("what's happening with the charge i disputed")
    assert not dispute.asked_in("what's happening with the charge i dipsuted")
    close = RecordAction(name="close", allowed=True, names=CLOSE["close"])
    assert not close.asked_in("why was my card cancelled") and not close.asked_in("it closed")


def test_a_question_about_an_earlier_request_asks_nothing_back() -> None:
    assert plan("did you get my request to close my card?", [GOLD, SILVER]).choose is None
    assert plan("hi, any news on cancelling my card?", [GOLD, SILVER]).choose is None
    assert plan("please close my card", [GOLD, SILVER]).choose is not None


def test_a_greeting_that_names_a_record_is_about_the_record() -> None:
    p = plan("hello, close my card", [GOLD, SILVER])
    assert not p.social() and p.choose is not None
    assert plan("hola", [GOLD, SILVER]).social()
    assert plan("thanks, the gold one works now", [GOLD, SILVER]).social()
    # a greeting alone in a conversation about a card is still a greeting
    assert plan("hello", [GOLD, SILVER], earlier=["i want to cancel my card"]).social()


def test_a_message_that_lists_amounts_and_dates_says_which() -> None:
    listed = "please cancel my card, the one with $120.50 spent on 10/08/2025"
    assert plan(listed, [GOLD, SILVER]).choose is None


def test_what_is_asked_of_the_named_records_is_searched_in_the_businesss_words() -> None:
    """The help-article search gets the action in the business's English name and the kind
    by its name of several words ("close credit card"): the customer's "cancel" and
    "card" would find a virtual card's cancellation. A short follow-up searches for the
    action asked before; a question about no action adds nothing."""
    rows = [GOLD, SILVER]
    facts = record_facts(rows, "i want to cancel my card", None)
    assert asked_actions("i want to cancel my card", None, facts) == ["close credit card"]
    follow = record_facts(rows, "the silver one", "i want to cancel my card")
    assert asked_actions("the silver one", "i want to cancel my card", follow) == [
        "close credit card"
    ]
    assert asked_actions("the silver one", None, follow) == []
    balance = record_facts(rows, "what's the balance on my card?", None)
    assert asked_actions("what's the balance on my card?", None, balance) == []


def test_the_other_one_is_the_record_of_that_kind_not_named_before() -> None:
    """ "and the other one?" after a question about the gold card is the silver card, not
    the gold one again; without `other` the follow-up reads on from the gold card."""
    rows = [GOLD, SILVER]
    earlier = "what's the status of my gold card"

    def best(other: bool) -> str:
        facts = record_facts(rows, "and the other one?", earlier, other=other)
        return max(facts, key=lambda f: f.relevance).id

    assert best(True) == "record:card:cc_silver"
    assert best(False) == "record:card:cc_gold"


def txn(key: str, description: str, day: int) -> CustomerRecord:
    """A bank account's transaction, described as the bank describes it."""
    return CustomerRecord(
        customer_id="c1",
        kind="bank_transaction",
        key=key,
        status="posted",
        at=datetime(2026, 1, day, tzinfo=UTC),
        fields={"description": description},
        text=f"{key}: {description}",
        words=["transaction", "transfer", "deposit"],
    )


DEBIT = CustomerRecord(
    customer_id="c1",
    kind="debit_card",
    key="dbc_1",
    status="ACTIVE",
    fields={"card_type": "debit"},
    text="Debit card dbc_1",
    words=["debit card", "card"],
)


def test_a_word_naming_its_own_kind_in_a_value_tells_which_of_that_kind() -> None:
    """ "my transfer" among transactions (a kind customers also call transfers) is the
    transactions described as transfers, not the latest ATM fees; "my debit card" is the
    card, not the charges described "DEBIT CARD PURCHASE"."""
    rows = [  # newest first, as they are read
        DEBIT,
        txn("t_pos", "DEBIT CARD PURCHASE - GROCER", 25),
        *(txn(f"t_atm{d}", "NON-RHO ATM FEE", d) for d in range(19, 9, -1)),
        txn("t_ach", "ACH TRANSFER IN - SCHWAB", 3),
        txn("t_wire", "WIRE TRANSFER OUT - INTL CONSULTING FEE", 2),
    ]
    ranked = sorted(
        record_facts(rows, "my transfer still hasnt gone through"), key=lambda f: -f.relevance
    )
    assert {f.id for f in ranked[:2]} == {
        "record:bank_transaction:t_wire",
        "record:bank_transaction:t_ach",
    }
    assert ranked[2].relevance < ranked[1].relevance
    card = max(record_facts(rows, "is my debit card active?"), key=lambda f: f.relevance)
    assert card.id == "record:debit_card:dbc_1"


def test_a_word_said_of_what_is_mine_is_what_is_done_not_a_value() -> None:
    """ "can u check my debit card status" asks about the card: "check" is what is done
    to it, not the deposit described "BIRTHDAY CHECK"; "my birthday check" is that one."""
    rows = [
        DEBIT,
        txn("t_gift", "MOBILE DEPOSIT - BIRTHDAY CHECK", 3),
        txn("t_pay", "PAYROLL - ACME", 2),
        txn("t_atm", "ATM WITHDRAWAL", 1),
    ]
    for message in ("can u check my debit card stauts pls", "pls check my debit card"):
        best = max(record_facts(rows, message), key=lambda f: f.relevance)
        assert best.id == "record:debit_card:dbc_1", message
    best = max(record_facts(rows, "did my birthday check go through?"), key=lambda f: f.relevance)
    assert best.id == "record:bank_transaction:t_gift"


def order(key: str, status: str, day: int) -> CustomerRecord:
    return CustomerRecord(
        customer_id="c1",
        kind="order",
        key=key,
        status=status,
        at=datetime(2026, 1, day, tzinfo=UTC),
        text=f"Order {key}: {status}",
        words=["order", "package", "pedido"],
        allows={"pending": ["cancel"], "delivered": ["return"]}.get(status, []),
        actions={"cancel": {"es": ["cancelar"]}, "return": {"es": ["devolver"]}},
    )


def line(key: str, of: CustomerRecord) -> CustomerRecord:
    """An order's line: it can be returned with its order."""
    return CustomerRecord(
        customer_id="c1",
        kind="order_line",
        key=key,
        status=of.status,
        at=of.at,
        text=f"Item {key} of order {of.key}",
        words=["item"],
        links={"order": of.key},
        allows=["return"] if of.status == "delivered" else [],
        actions={"return": {"es": ["devolver"]}},
    )


A, B, P = order("A1", "delivered", 3), order("B2", "delivered", 2), order("P3", "pending", 4)


def test_an_action_asked_of_no_record_reads_the_ones_it_applies_to() -> None:
    # "can I return it?" names no order: the ones their status lets be returned, not the
    # pending one, nor their lines (an order is returned as a whole or by its items)
    rows = [P, A, B, line("A1/1", A), line("B2/1", B)]
    p = plan("can i return it?", rows)
    assert p.choose is not None and p.choose.action == "return"
    assert sorted(p.choose.records) == ["record:order:A1", "record:order:B2"]
    # in Spanish, with the pronoun joined to the verb
    p = plan("¿puedo devolverlo?", rows)
    assert p.choose is not None and sorted(p.choose.records) == [
        "record:order:A1",
        "record:order:B2",
    ]
    # only one allows it: that one, read with what its status allows
    facts = record_facts(rows, "i want to cancel")
    top = max(facts, key=lambda f: f.relevance)
    assert top.id == "record:order:P3" and top.relevance >= 1.0
    assert plan("i want to cancel", rows).choose is None


def test_an_action_word_does_not_name_records_when_the_way_is_asked_or_one_is_named() -> None:
    rows = [P, A, B]
    # the way, from the help articles
    assert all(f.relevance < 1.0 for f in record_facts(rows, "how do i return an item?"))
    # named by its id: that one alone
    facts = {f.id: f.relevance for f in record_facts(rows, "can i return B2?")}
    assert facts["record:order:B2"] >= 1.0
    assert facts["record:order:A1"] < 1.0
    # the action named as a thing, not asked: a question about the money, not an order
    assert all(
        f.relevance < 1.0
        for f in record_facts(rows, "when will I get my money back after a cancellation")
    )
    # no action asked: nothing named
    assert all(f.relevance < 1.0 for f in record_facts(rows, "what are your opening hours?"))


def test_a_word_naming_the_record_is_no_action_asked_of_what_it_links_to() -> None:
    """ "status of my dispute" names the dispute; "dispute" is also what a charge allows,
    but the charge the dispute is about does not take its place (nor with a typo)."""
    charge = CustomerRecord(
        customer_id="c1",
        kind="card_transaction",
        key="txn_1",
        status="COMPLETED",
        at=datetime(2026, 1, 2, tzinfo=UTC),
        text="Charge txn_1: Amazon $156.78",
        words=["charge", "transaction"],
        allows=["dispute"],
        actions={"dispute": {"en": ["dispute", "contest"]}},
    )
    dispute = CustomerRecord(
        customer_id="c1",
        kind="dispute",
        key="dsp_1",
        status="UNDER_REVIEW",
        at=datetime(2026, 1, 3, tzinfo=UTC),
        text="Dispute dsp_1 of txn_1: UNDER_REVIEW",
        words=["dispute", "disputed"],
        links={"card_transaction": "txn_1"},
    )
    for message in ("status of my dispute pls", "status of my dsipute pls"):
        facts = record_facts([dispute, charge], message)
        assert max(facts, key=lambda f: f.relevance).id == "record:dispute:dsp_1", message


def test_the_latest_of_the_records_named_alike_is_the_one_meant() -> None:
    p4 = order("P4", "pending", 5)
    rows = [p4, P, A, B]  # newest first, as they are read
    # "cancel my order" asks which; "the most recent one" is the newest that can be
    p = plan("the most recent one", rows, earlier=["cancel my order"])
    assert p.choose is None
    best = max(
        record_facts(rows, "the most recent one", "cancel my order"), key=lambda f: f.relevance
    )
    assert best.id == "record:order:P4"
    for message in ("what did i order last", "¿cuál fue mi último pedido?", "my latest order"):
        facts = sorted(record_facts(rows, message), key=lambda f: -f.relevance)
        assert facts[0].id == "record:order:P4", message
        assert facts[1].relevance <= facts[0].relevance - 0.5, message  # alone
    # no word of recency: all their orders, alike
    facts = sorted(record_facts(rows, "what's in my order"), key=lambda f: -f.relevance)
    assert facts[1].relevance > facts[0].relevance - 0.5


def test_a_value_of_what_a_listed_record_belongs_to_picks_that_record() -> None:
    """ "which one would you like to freeze?" listed two debit cards; "the bluest one" is
    the card on the Bluest account, not the account (which the message names by value)."""

    def account(key: str, name: str) -> CustomerRecord:
        return CustomerRecord(
            customer_id="c1",
            kind="account",
            key=key,
            status="OPEN",
            at=datetime(2024, 1, 1, tzinfo=UTC),
            fields={"account_name": name},
            text=f"{name} ({key}): OPEN",
            words=["account", "bank account"],
        )

    def debit(key: str, on: CustomerRecord, day: int) -> CustomerRecord:
        return CustomerRecord(
            customer_id="c1",
            kind="debit_card",
            key=key,
            status="ACTIVE",
            at=datetime(2025, 1, day, tzinfo=UTC),
            fields={"account_id": on.key},
            text=f"Debit card {key} ({on.fields['account_name']} {on.key}): ACTIVE",
            words=["debit card", "card"],
            links={"account": on.key},
            allows=["freeze"],
            actions={"freeze": {"en": ["freeze"]}},
        )

    bluest, green = account("chk_1", "Bluest Account"), account("chk_2", "Light Green Account")
    rows = [debit("dbc_1", bluest, 2), debit("dbc_2", green, 1), bluest, green]
    asked = "i want to freeze my debit card"
    assert plan(asked, rows).choose is not None  # which one
    best = max(record_facts(rows, "the bluest one", asked), key=lambda f: f.relevance)
    assert best.id == "record:debit_card:dbc_1"
    # asked afresh, the account itself
    alone = max(
        record_facts(rows, "whats the balance on my bluest account"), key=lambda f: f.relevance
    )
    assert alone.id == "record:account:chk_1"
    # after the card, a message naming the account's kind is about the account, and a
    # short question of its own carries no action asked before ("whats", typed so)
    for follow_up in ("whats my bluest account balance", "and my bluest account?"):
        best = max(record_facts(rows, follow_up, asked), key=lambda f: f.relevance)
        assert best.id == "record:account:chk_1", follow_up
    assert plan("whats my bluest account balance", rows, [asked]).action_text.startswith("whats")


# the business freezes debit cards; its credit cards (`card` above) only close
KIND_ACTIONS = {
    "card": CLOSE,
    "debit_card": {"freeze": {"en": ["freeze", "lock"], "es": ["congelar", "bloquear"]}},
    "order": {"cancel": {"es": ["cancelar"]}, "return": {"es": ["devolver"]}},
}


def test_an_action_the_named_records_kind_cannot_have_goes_with_them_as_unknown() -> None:
    """ "I want to freeze my card" from someone whose cards cannot be frozen (only the
    business's debit cards can): the cards carry "freeze" as not known to their kind, so a
    reply says it cannot be done rather than list them as if that answered."""
    for message in ("i want to freeze my card", "quiero bloquear mi tarjeta"):
        rows = [GOLD, SILVER]
        facts = record_facts(rows, message.replace("tarjeta", "card"))
        unknown_asked(rows, facts, KIND_ACTIONS, message.replace("tarjeta", "card"))
        for f in facts:
            never = [a for a in f.actions if not a.known]
            assert [a.name for a in never] == ["freeze"], message
            assert not never[0].allowed
    # what their kind knows is no unknown; nor a question about the way or how long
    for message in (
        "i want to cancel my card",
        "how do i freeze my card?",
        "how long does a freeze take on my card",
    ):
        facts = record_facts([GOLD, SILVER], message)
        unknown_asked([GOLD, SILVER], facts, KIND_ACTIONS, message)
        assert all(a.known for f in facts for a in f.actions), message
    # what they belong to can: "cancel it" of an order's line is its order's
    rows = [P, line("P3/1", P)]
    message = "cancel the item"
    facts = record_facts(rows, message)
    unknown_asked(rows, facts, KIND_ACTIONS, message)
    assert all(a.known for f in facts for a in f.actions)


def test_how_long_something_takes_asks_no_action_of_the_records() -> None:
    """ "how long does a return take?" asks the help articles how long, not which order to
    return; "how long will it take to close my card?" is not asked back which card."""
    rows = [P, A, B]
    assert all(f.relevance < 1.0 for f in record_facts(rows, "how long does a return take?"))
    assert all(f.relevance < 1.0 for f in record_facts(rows, "cuánto tarda una devolución?"))
    assert plan("how long does it take to close my card?", [GOLD, SILVER]).choose is None
    assert plan("i want to close my card", [GOLD, SILVER]).choose is not None  # as before


def _line(key: str, order: str, product: str) -> CustomerRecord:
    return CustomerRecord(
        customer_id="c1",
        kind="order_line",
        key=key,
        status="delivered",
        text=f"{product} in order {order}: delivered",
        fields={"name": product},
        words=["item"],
        links={"order": order, "product": product.lower().replace(" ", "_")},
        allows=["return"],
        actions={"return": {"es": ["devolver"]}},
    )


def test_what_customers_call_a_product_names_their_record_of_it() -> None:
    """ "¿puedo devolver la cámara?": the Digital Camera on their order (the catalog's
    words for it in Spanish), not a question back about which order; "la cafetera" is
    their Espresso Machine, and not "I don't see a coffee maker" though a cafetera is also
    what Spanish speakers call one; "mi mochila", which they never bought, is said in
    their word."""
    from profiles.context import none_linked

    rows = [
        _line("W1/0", "#W1", "Digital Camera"),
        _line("W1/1", "#W1", "Tea Kettle"),
        _line("W2/0", "#W2", "Espresso Machine"),
        _line("W2/1", "#W2", "Bookshelf"),
    ]
    best = max(record_facts(rows, "¿puedo devolver la cámara?"), key=lambda f: f.relevance)
    assert best.id == "record:order_line:W1/0"
    best = max(record_facts(rows, "¿puedo devolver la cafetera?"), key=lambda f: f.relevance)
    assert best.id == "record:order_line:W2/0"
    names = {
        ("product", "coffee_maker"): "Coffee Maker",
        ("product", "espresso_machine"): "Espresso Machine",
        ("product", "backpack"): "Backpack",
    }
    assert none_linked(rows, names, "¿dónde está mi cafetera?") == []
    (absent,) = none_linked(rows, names, "¿dónde está mi mochila?")
    assert absent.terms == ["mochila"]
    (absent,) = none_linked(rows, names, "where is my backpack?")
    assert absent.terms == ["Backpack"]


def test_a_longer_follow_up_that_points_back_reads_on() -> None:
    """ "can i exchange it for a different color please?" (eight words and more) after a
    question about one order is about that order, not a question back about which of
    the two delivered ones; without a word pointing back it asks anew."""
    rows = [P, A, B]
    earlier = ["what did i pay with on order A1?"]
    p = plan("can i return it and get the money back on my card please?", rows, earlier)
    assert p.choose is None
    best = max(
        record_facts(rows, "can i return it and get the money back on my card please?", earlier[0]),
        key=lambda f: f.relevance,
    )
    assert best.id == "record:order:A1"
    p = plan("can i return an order and get the money back on my card please?", rows, earlier)
    assert p.choose is not None and len(p.choose.records) == 2


def test_a_question_about_what_the_business_offers_is_not_about_what_they_hold() -> None:
    """ "do you sell bikes?" is no "I don't see a bike on your account", and "do you offer
    credit cards?" does not read out their cards; "where is my bike?" still says it."""
    from profiles.context import none_held, none_linked

    rows = [_line("W1/0", "#W1", "Tea Kettle")]
    names = {("product", "bicycle"): "Bicycle"}
    assert none_linked(rows, names, "do you sell bikes?") == []
    assert none_linked(rows, names, "¿venden bicicletas?") == []
    (absent,) = none_linked(rows, names, "where is my bike?")
    assert absent.terms == ["bike"]
    assert all(
        f.relevance < 1.0 for f in record_facts([GOLD, SILVER], "do you offer credit cards?")
    )
    kinds = {"card": ["card", "credit card"], "debit_card": ["debit card", "card"]}
    assert none_held([GOLD, SILVER], kinds, "do you offer debit cards?") == []
    assert none_held([GOLD, SILVER], kinds, "is my debit card active?") != []
    assert record_facts([GOLD, SILVER], "do you have any news on my card?")[0].relevance >= 1.0


def test_a_question_about_what_the_business_offers_names_no_record_by_a_value() -> None:
    """ "do you have a travel card?" asks what the bank offers: charges the bank filed
    as travel are not what it asks about (they were read to the customer)."""
    rows = [txn("t1", "SKYWAYS TRAVEL", 3), txn("t2", "GROCERY STORE", 2), DEBIT]
    offered = {f.id: f.relevance for f in record_facts(rows, "do you have a travel card?")}
    assert offered["record:bank_transaction:t1"] < 1.0
    # about what they hold, the same value names it
    mine = {f.id: f.relevance for f in record_facts(rows, "what was my travel charge?")}
    assert mine["record:bank_transaction:t1"] >= 1.0


def test_a_follow_up_reads_on_past_a_message_that_named_nothing() -> None:
    """ "and can I return it instead?" after "where is P3?", "ok cancel it then" and
    "thanks!" is still about P3 (a thanks in between names no record), not the delivered
    order a return would fit; with nothing named before it, "it" points at nothing."""
    rows = [P, A]
    said = ["where is my order P3?", "ok cancel it then", "thanks!"]
    message = "and can I return it instead?"
    facts = record_facts(rows, message, said[-1], older=said[:-1])
    assert max(facts, key=lambda f: f.relevance).id == "record:order:P3"
    alone = record_facts(rows, message, "thanks!", older=["hello"])
    assert max(alone, key=lambda f: f.relevance).id != "record:order:P3"


def test_a_go_ahead_confirms_what_the_previous_message_asked_of_a_record() -> None:
    """ "yes, go ahead" after "can I cancel P3?" confirms cancelling P3 (its status allows
    it); not after a thanks, not a bare "ok", not an action the status does not allow."""
    from profiles.context import confirmed_actions
    from profiles.relevance import AFFIRMS

    for agrees in ("yes go ahead", "ok do it", "yes please", "sí, adelante", "oui, allez-y"):
        assert AFFIRMS.match(agrees), agrees
    for not_only in ("ok", "ok thanks", "thanks!", "is it pending?", "yes but which one is it?"):
        assert not AFFIRMS.match(not_only), not_only
    rows = [P, A, order("Q5", "pending", 1)]  # two pending orders

    def confirmed(message: str, earlier: str) -> list[str]:
        facts = record_facts(rows, message, earlier)
        return [str(c) for c in confirmed_actions(rows, facts, message, earlier)]

    assert confirmed("yes go ahead", "can I cancel my order P3?") == ["order:P3 cancel"]
    assert confirmed("sí, adelante", "¿puedo cancelar el pedido P3?") == ["order:P3 cancel"]
    assert confirmed("yes go ahead", "thanks!") == []
    assert confirmed("ok", "can I cancel my order P3?") == []
    assert confirmed("yes go ahead", "can I cancel my order A1?") == []  # delivered
    # agreeing and asking it again is the same go-ahead (it was answered as a new request,
    # with the offer again); a question, a "but", another action or record is not
    for again in ("yes cancel it", "ok please cancel it", "Yes, cancel the order.", "sí, cancelar"):
        assert confirmed(again, "can I cancel my order P3?") == ["order:P3 cancel"], again
    for more in (
        "yes, can i cancel it?",
        "yes but cancel it tomorrow",
        "ok cancel it and change the address",
        "ok cancel the other one instead",
        "cancel it",
        # not to, or not yet: a "don't" is no go-ahead, whatever it opens with
        "yes don't cancel it",
        "ok never mind, don't cancel",
        "ok wait, don't cancel",
        "sí, no lo canceles",
        "si lo cancelo pierdo el descuento",  # "if I cancel it", not "yes"
        # of the other pending order, which the previous message did not ask about
        "please cancel Q5",
    ):
        assert confirmed(more, "can I cancel my order P3?") == [], more
    # "the order" of two pending ones is the one asked about, not both
    assert confirmed("yes, cancel the order.", "can I cancel my order P3?") == ["order:P3 cancel"]
    assert confirmed("ok cancel it", "where is my order P3?") == []  # it asked nothing


def test_a_no_takes_back_what_the_previous_message_asked_of_a_record() -> None:
    """ "ok wait, don't cancel" after "can I cancel my order P3?" takes the cancellation
    back (it was answered with the offer again); a no that asks something of its own,
    another action or the other record does not."""
    from profiles.context import declined_actions

    rows = [P, A, order("Q5", "pending", 1)]

    def declined(message: str, earlier: str) -> list[str]:
        return [str(c) for c in declined_actions(rows, message, earlier)]

    asked = "can I cancel my order P3?"
    for no in (
        "ok wait, don't cancel",
        "no, leave it",
        "never mind",
        "nope",
        "no, don't cancel it please",
        "déjalo",
        "no, no lo canceles",
        "non merci",
        "nein, lass es",
        "actually nvm keep it",  # as typed
        "nah leave it",
    ):
        assert declined(no, asked) == ["order:P3 cancel"], no
    for more in (
        "no, can I return it instead?",  # a question of its own
        "no, change the address instead",  # another action
        "no, the other one",  # which record, not whether
        "no, I meant the order I placed last week for my mother",  # too long: its own
        "ok cancel it",  # a go-ahead
        "yes go ahead",
        # a no that says something of its own
        "no it hasn't arrived",
        "no i didn't get my package",
        "no, i want a refund",
        "nope, wrong address",
    ):
        assert declined(more, asked) == [], more
    assert declined("never mind", "where is my order P3?") == []  # nothing was asked
    assert declined("never mind", "can I cancel my order A1?") == []  # delivered: not offered
