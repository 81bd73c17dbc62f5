from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from profiles.admin import CustomerIn, RecordIn, upsert_customer, upsert_record
from profiles.context import CustomerCard, ProfileRepository
from profiles.db import create_schema, make_engine
from profiles.mapping import RETAIL_MAPPING, import_files, load_mapping, retail_files
from profiles.models import Consent
from profiles.relevance import intents, written_ids
from tests.conftest import RETAIL


def test_unknown_customer_gives_none(retail_engine):
    repo = ProfileRepository(retail_engine)
    assert repo.card("no_such_customer") is None
    assert repo.context("no_such_customer", "hello") is None


def test_explicit_order_ranks_first_among_orders(retail_engine):
    repo = ProfileRepository(retail_engine)
    ctx = repo.context("omar_lopez_3107", "I want to exchange the gaming mouse from #W7273336")
    assert ctx is not None
    orders = [f for f in ctx.facts if f.id.startswith("record:order:")]
    assert orders[0].id == "record:order:#W7273336"
    assert ctx.facts[0].kind == "profile" and "Omar" in ctx.facts[0].text
    # the mouse's line of that order is read with it, its item id on it
    line = next(f for f in ctx.facts if f.id.startswith("record:order_line:#W7273336/"))
    assert "Gaming Mouse" in line.text and "8214883393" in line.text


def test_requested_variant_options_rank_first(retail_engine):
    repo = ProfileRepository(retail_engine)
    ctx = repo.context(
        "omar_lopez_3107", "exchange my gaming mouse in #W7273336 for a white optical one"
    )
    assert ctx is not None
    mouse = next(f for f in ctx.facts if f.kind == "product" and "Gaming Mouse" in f.text)
    first_item = mouse.text.split(": ", 1)[1].split(";")[0]
    assert "white" in first_item and "optical" in first_item


def test_facts_never_include_other_customers_orders(retail_engine):
    repo = ProfileRepository(retail_engine)
    ctx = repo.context("omar_lopez_3107", "cancel order #W2611340")  # james_li_5688's order
    assert ctx is not None
    assert all("#W2611340" not in f.text for f in ctx.facts)


def test_consent_gates_facts_and_history(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'c.db'}")
    create_schema(engine)
    store = load_mapping(RETAIL_MAPPING)
    assert store.customers is not None
    withheld = store.customers.model_copy(update={"consent": "not_granted"})
    import_files(engine, store.model_copy(update={"customers": withheld}), retail_files(RETAIL))
    repo = ProfileRepository(engine)
    ctx = repo.context("noah_brown_6181", "where is my order?")
    assert ctx is not None and ctx.facts == [] and ctx.history_ids == []
    with Session(engine) as s:
        for c in s.exec(select(Consent).where(Consent.customer_id == "noah_brown_6181")):
            c.granted = c.purpose == "personalization"
            s.add(c)
        s.commit()
    ctx = repo.context("noah_brown_6181", "where is my order?")
    assert ctx is not None and any("#W7678072" in f.text for f in ctx.facts)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("order #w1234567 and W7654321", ["#w1234567", "W7654321"]),
        ("#W1234567 is W1234567", ["#W1234567"]),  # one id, however written
        # not part of a longer word or id
        ("xW1234567 W12345678 #W1234567a", []),
        ("dispute txn_2e4234aa8522, card cc_lj82d4f1a9_silver", ["txn_2e4234aa8522"]),
        ("no order", []),
    ],
)
def test_written_ids(text, expected):
    assert written_ids(text, [r"#?W\d{7}", r"txn_[0-9a-f]{12}"]) == expected


def test_intents():
    assert intents("I want to return it and get a refund") == {"return"}
    assert "cancel" in intents("please cancel my order")


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    """The SQL statements the engine sends while the block runs."""
    sent: list[str] = []

    def record(conn, cursor, statement, *rest) -> None:
        sent.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", record)


@pytest.mark.parametrize(
    ("customer", "message"),
    [
        ("omar_lopez_3107", "exchange my gaming mouse in #W7273336 for a white optical one"),
        ("olivia_ito_3591", "Can I return the espresso machine from #W5866402?"),
    ],
)
def test_a_context_takes_the_same_few_statements_however_many_orders(
    retail_engine, customer, message
):
    repo = ProfileRepository(retail_engine)
    repo.context(customer, message)  # the business's kinds and catalog are read once
    with statements(retail_engine) as sent:
        card = repo.card(customer)
    assert len(sent) == 1, sent  # the customer with its consents
    with statements(retail_engine) as sent:
        ctx = repo.context(customer, message, card=card)
    assert ctx is not None and ctx.features is not None and ctx.features.records["order"] > 1
    assert any(f.kind == "product" for f in ctx.facts)
    # all of their records, of every kind, in one statement; the rest does not grow with them
    reads = [q for q in sent if "FROM customerrecord" in q and "customer_id =" in q]
    assert len(reads) == 1 and len(sent) <= 8, "\n".join(sent)
    taken = len(sent)
    with statements(retail_engine) as sent:
        repo.context(customer, message)  # without the card it reads the customer too
    assert len(sent) == taken + 1, "\n".join(sent)


ANA = "ana_lima_1234"


def _lamp_order(engine, key: str = "#W1000001", status: str = "pending") -> None:
    """An order of Ana's desk lamp, as an upstream system upserts it."""
    upsert_record(
        engine,
        "order",
        key,
        RecordIn(
            customer_id=ANA,
            status=status,
            text=f"Order {key} (Desk Lamp): {status}",
            words=["order"],
            open=status == "pending",
        ),
    )


def test_a_card_passed_back_gates_the_context_with_the_consents_read_with_it(engine):
    withheld = {"personalization": False, "history": False}
    upsert_customer(engine, ANA, CustomerIn(first_name="Ana", consents=withheld))
    _lamp_order(engine)
    repo = ProfileRepository(engine)
    card = repo.card(ANA)
    assert card is not None
    # Consents edited on the card after the read open nothing: the repository's read gates.
    edited = card.model_copy(update={"consents": {"personalization": True, "history": True}})
    ctx = repo.context(ANA, "where is my lamp?", card=edited)
    assert ctx is not None and ctx.card.consents == card.consents
    assert ctx.facts == [] and ctx.features is None and ctx.history_ids == []
    # A card the repository did not read is read again.
    by_hand = CustomerCard(
        id=ANA,
        name="Ana",
        email=None,
        locale="en",
        timezone="UTC",
        consents={"personalization": True},
    )
    ctx = repo.context(ANA, "where is my lamp?", card=by_hand)
    assert ctx is not None and ctx.facts == [] and ctx.card.consents == card.consents
    with pytest.raises(ValueError, match="ana_lima_1234"):
        repo.context("omar_lopez_3107", "where is my lamp?", card=card)

    upsert_customer(engine, ANA, CustomerIn(first_name="Ana", consents={"personalization": True}))
    card = repo.card(ANA)
    assert card is not None
    passed, read = repo.context(ANA, "lamp", card=card), repo.context(ANA, "lamp")
    assert passed is not None and read is not None
    assert passed.facts == read.facts and any("#W1000001" in f.text for f in passed.facts)
    assert passed.card == read.card and "new_customer" in passed.card.segments
    assert card.segments == []  # the caller's card is not changed


def test_an_action_is_said_in_any_form_with_a_typo_but_not_as_another_word():
    from profiles.context import RecordAction

    activate = RecordAction(name="activate", allowed=True, names={"fr": "activer"})
    for said in ("can i atcivate it now", "is it activated?", "je veux l'activer"):
        assert activate.said_in(said), said
    for other in ("what is active?", "can i deactivate it", "my card"):
        assert not activate.said_in(other), other
    replace = RecordAction(name="replace", allowed=True)
    for said in ("ok how about replacing the business one", "it was replaced", "replace it"):
        assert replace.said_in(said), said
    assert replace.asked_in("ok how about replacing the business one")
    assert not replace.asked_in("my card was replaced last week")
    # the thing done, asked about as under way, is not asked for again; asked for, it is
    assert not replace.asked_in("where is my replacement card?")
    assert not replace.asked_in("any update on the replacement?")
    assert replace.asked_in("i need a replacement card") and replace.asked_in("replacement pls")
    assert replace.asked_in("where is my card? i want to replace it")
    seat = RecordAction(name="change_seat", allowed=False)
    assert seat.said_in("can i change seat 12a") and not seat.said_in("can i change my name")
    # a question about when or how long asks for nothing: "refund" names the return, yet
    # "when will I get my refund?" asks when the money comes, not for a return
    back = RecordAction(name="return", allowed=True, names={"en": ["return", "refund"]})
    assert back.asked_in("i want a full refund for the backpack")
    for when in (
        "when will i get my refund after i cancel?",
        "how long does a refund take",
        "¿cuándo recibiré el reembolso?",
    ):
        assert not back.asked_in(when.lower()), when


def test_an_amount_rounded_to_whole_dollars_names_its_record() -> None:
    from profiles.context import record_facts
    from profiles.models import CustomerRecord

    def charge(key: str, amount: str) -> CustomerRecord:
        return CustomerRecord(
            customer_id="c",
            kind="charge",
            key=key,
            fields={"merchant": "Amazon", "amount": amount},
            text=f"Amazon {amount}",
            words=["charge"],
        )

    rows = [charge("t1", "$183.24"), charge("t2", "$56.78"), charge("t3", "$1,267.45")]
    rank = {f.id: f.relevance for f in record_facts(rows, "the amazon charge of 183")}
    assert rank["record:charge:t1"] > max(rank["record:charge:t2"], rank["record:charge:t3"])
    rank = {f.id: f.relevance for f in record_facts(rows, "the 1267 one")}
    assert rank["record:charge:t3"] > rank["record:charge:t1"]


def test_what_is_on_its_way_answers_where_it_is_not_that_they_hold_none() -> None:
    """ "Where's my new card?" from someone whose debit card is on its way: that card,
    not "I don't see a new card"; asked otherwise, they hold no card order."""
    from profiles.context import none_held
    from profiles.models import CustomerRecord

    pending = CustomerRecord(
        customer_id="c", kind="debit_card", key="d1", words=["debit card", "card"], open=True
    )
    kinds = {"card_order": ["new card", "card order", "card"], "debit_card": ["debit card"]}
    assert none_held([pending], kinds, "where's my new card??") == []
    assert none_held([pending], kinds, "any news on my new card") == []
    [fact] = none_held([pending], kinds, "do i have a new card?")
    assert fact.terms == ["new card"]
    done = pending.model_copy(update={"open": False})
    assert [f.terms for f in none_held([done], kinds, "where's my new card??")] == [["new card"]]


def test_an_action_is_named_in_the_replys_language_and_a_question_typed_without_accents():
    """The customer's own word for an action names it in a reply of their language only (a
    Spanish reply after "can I cancel it?" said "todavía puedes cancel"); "cuanto pagué"
    without its accent asks a question of its own, as "cuánto" does."""
    from profiles.context import Fact, RecordAction, asks_its_own

    close = RecordAction(
        name="close", allowed=True, names={"en": ["close", "cancel"], "es": ["cerrar", "cancelar"]}
    )
    assert close.name_in("en", "can i cancel it") == "cancel"  # their word for it
    assert close.name_in("es", "can i cancel it") == "cerrar"  # the business's, in Spanish
    assert close.name_in("es", "¿puedo cancelar la tarjeta?") == "cancelar"
    assert close.name_in("de", "can i cancel it") == "cancel"  # none in German: English
    card = Fact(id="record:card:c1", kind="record", text="Card c1: active", relevance=10)
    for own in ("¿cuánto pagué?", "cuanto pague", "¿y cuándo llega?"):
        assert asks_its_own(own, [card]), own
    # "que" or "ou" without an accent is no question word ("the one that ends in 4321")
    for back in ("y la otra?", "la que termina en 4321", "ou celle en or ?"):
        assert not asks_its_own(back, [card]), back


def test_a_record_the_message_names_is_not_outweighed_by_what_came_before(retail_engine):
    """ "actually yes cancel the watch order" after "can i cancel it" and "ok wait, don't
    cancel": the order with the wristwatch. Reading on from the messages before counted
    every pending order paid with the card the watch's order was paid with as named, so
    "yes go ahead" then confirmed cancelling all three of Olivia's pending orders (the
    agent's first draft offered to cancel the wrong one)."""
    from profiles.context import confirmed_actions, record_facts
    from profiles.reads import read_records

    with Session(retail_engine) as s:
        rows = read_records(s, "olivia_ito_3591")
    said = ["can i cancel it", "ok wait, don't cancel", "actually yes cancel the watch order"]
    facts = record_facts(rows, said[-1], said[-2], older=said[:-2])
    orders = sorted(
        (f for f in facts if f.id.startswith("record:order:")), key=lambda f: -f.relevance
    )
    assert orders[0].id == "record:order:#W7941031"
    assert orders[0].relevance > orders[1].relevance + 0.5, [(f.id, f.relevance) for f in orders]
    yes = record_facts(rows, "yes go ahead", said[-1], older=said[:-1])
    done = confirmed_actions(rows, yes, "yes go ahead", said[-1], said[:-1])
    assert [str(c) for c in done] == ["order:#W7941031 cancel"]
