import pytest
from sqlmodel import Session, select

from profiles.context import ProfileRepository
from profiles.db import create_schema, make_engine
from profiles.importers import import_tau_retail
from profiles.models import Consent
from profiles.relevance import explicit_order_ids, intents, score_variant
from tests.conftest import RETAIL


def test_unknown_customer_gives_none(retail_engine):
    repo = ProfileRepository(retail_engine)
    assert repo.card("no_such_customer") is None
    assert repo.context("no_such_customer", "hello") is None


def test_explicit_order_ranks_first_among_orders(retail_engine):
    repo = ProfileRepository(retail_engine)
    ctx = repo.context("omar_lopez_3107", "I want to exchange the gaming mouse from #W7273336")
    assert ctx is not None
    order_facts = [f for f in ctx.facts if f.id.startswith("order:")]
    assert order_facts[0].id == "order:#W7273336"
    assert "8214883393" in order_facts[0].text  # the mouse's item id
    assert ctx.facts[0].kind == "profile" and "paypal_1530316" in ctx.facts[0].text


def test_requested_variant_options_rank_first(retail_engine):
    repo = ProfileRepository(retail_engine)
    ctx = repo.context(
        "omar_lopez_3107", "exchange my gaming mouse in #W7273336 for a white optical one"
    )
    assert ctx is not None
    mouse = next(f for f in ctx.facts if f.id == "product:5713490933")
    first_item = mouse.text.split("available items: ")[1].split(";")[0]
    assert "white" in first_item and "optical" in first_item


def test_facts_never_include_other_customers_orders(retail_engine):
    repo = ProfileRepository(retail_engine)
    ctx = repo.context("omar_lopez_3107", "cancel order #W2611340")  # james_li_5688's order
    assert ctx is not None
    assert all("#W2611340" not in f.text for f in ctx.facts)


def test_consent_gates_facts_and_history(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'c.db'}")
    create_schema(engine)
    import_tau_retail(engine, RETAIL, grant_consent=False)
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
    [("order #w1234567 and W7654321", {"#W1234567", "#W7654321"}), ("no order", set())],
)
def test_explicit_order_ids(text, expected):
    assert explicit_order_ids(text) == expected


def test_intents_and_variant_scoring():
    assert intents("I want to return it and get a refund") == {"return"}
    assert "cancel" in intents("please cancel my order")
    opts = {"size": "7 ft", "color": "red", "material": "polyester"}
    assert score_variant(opts, "change it to the 7 ft red one") == 2.0
    assert score_variant(opts, "17 ft tall") == 0.0  # a number inside another is not a match
