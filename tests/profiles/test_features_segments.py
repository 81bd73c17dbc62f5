"""Customer features from SQL (fresh after every write) and YAML segments over them."""

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select

from profiles.admin import CustomerIn, RecordIn, upsert_customer, upsert_record
from profiles.context import ProfileRepository
from profiles.conversations import ConversationStore, FeedbackStore
from profiles.expressions import RuleFileError, compile_expression
from profiles.features import FEATURE_NAMES, customer_features
from profiles.models import Customer, CustomerRecord, Turn
from profiles.reads import read_records
from profiles.segments import Segments
from tests.conftest import RETAIL

ANA = "ana_lima_1234"


def _order(engine, key: str, status: str, amount: float = 40.0) -> None:
    """An order of Ana's, as an upstream system upserts it: still under way while pending."""
    data = RecordIn(
        customer_id=ANA,
        status=status,
        amount=amount,
        at=datetime.now(UTC),
        open=status == "pending",
    )
    upsert_record(engine, "order", key, data)


def features(engine, now=None):
    with Session(engine) as s:
        return customer_features(s, ANA, now)


@pytest.fixture
def ana(engine):
    upsert_customer(engine, ANA, CustomerIn(first_name="Ana", consents={"personalization": True}))
    return engine


def test_features_follow_every_write(ana):
    f = features(ana)
    assert f.record_count == 0 and f.conversations == 0 and f.last_contact_days is None
    assert f.tenure_days < 1
    _order(ana, "#W1000001", "pending")
    _order(ana, "#W1000002", "cancelled")
    _order(ana, "#W1000003", "delivered", amount=60.0)
    f = features(ana)
    assert (f.records["order"], f.open_records, f.recent_records) == (3, 1, 3)
    assert f.record_value["order"] == 140.0
    _order(ana, "#W1000001", "delivered")  # the same order again: its new status counts
    assert (features(ana).records["order"], features(ana).open_records) == (3, 0)
    store = ConversationStore(ana)
    conv, message_id, _ = store.start_turn(ANA, None, "my lamp flickers", "widget")
    store.finish_turn(
        Turn(id="t1", conversation_id=conv, customer_id=ANA, message_id=message_id), "Sorry!"
    )
    f = features(ana)
    assert f.conversations == 1 and f.last_contact_days is not None and f.last_contact_days < 1
    FeedbackStore(ana).add("t1", rating=1, resolved=False, comment=None)
    assert features(ana).negative_feedback_recent == 1
    # A month later the feedback and the orders are no longer recent; tenure has grown.
    later = features(ana, now=datetime.now(UTC) + timedelta(days=45))
    assert later.negative_feedback_recent == 0 and later.recent_records == 0
    assert later.tenure_days == pytest.approx(45, abs=0.1)


def test_the_stores_features_on_real_data(retail_engine):
    """Olivia's five orders (four not yet delivered) as the store's mapping imports them:
    what she spent is her orders' lines summed; the store's segments make her a vip."""
    with Session(retail_engine) as s:
        f = customer_features(s, "olivia_ito_3591")
        assert customer_features(s, "nobody_here_0000") is None
    assert f is not None and f.records["order"] == 5 and f.open_records == 4
    assert 9000 < f.record_value["order_line"] < 10000
    from profiles.mapping import STORE_SEGMENTS

    assert Segments.load(STORE_SEGMENTS).of(f) == ["vip", "open_order"]


def test_features_from_a_contexts_rows_equal_sql_aggregates_for_every_customer(retail_engine):
    now = datetime.now(UTC)
    orders = json.loads((RETAIL / "orders.json").read_text())
    placed: dict[str, int] = {}
    for o in orders.values():
        placed[o["user_id"]] = placed.get(o["user_id"], 0) + 1
    with Session(retail_engine) as s:
        for cid in s.exec(select(Customer.id)).all():
            loaded = customer_features(s, cid, now, records=read_records(s, cid))
            assert loaded is not None and loaded == customer_features(s, cid, now), cid
            assert loaded.records.get("order", 0) == placed.get(cid, 0), cid


def test_packaged_segments_on_features(ana):
    segments = Segments.load()
    assert segments.names == ["new_customer", "at_risk", "under_way", "returning_contact"]
    f = features(ana)
    assert segments.of(f) == ["new_customer"]
    settled = f.model_copy(update={"record_count": 4, "tenure_days": 400.0})
    assert segments.of(settled) == []
    unhappy = f.model_copy(update={"negative_feedback_recent": 2})
    assert "at_risk" in segments.of(unhappy)


def test_the_card_lists_segments_only_with_personalization_consent(ana):
    repo = ProfileRepository(ana)
    assert "new_customer" in repo.context(ANA, "hello").card.segments
    upsert_customer(ana, ANA, CustomerIn(first_name="Ana", consents={"personalization": False}))
    ctx = repo.context(ANA, "hello")
    assert ctx.card.segments == [] and ctx.features is None


@pytest.mark.parametrize(
    ("source", "complaint"),
    [
        ("__import__('os')", "unknown name '__import__'"),
        ("().__class__.__bases__", "attribute access"),
        ("record_count.__class__", "attribute access"),
        ("record_count >", "cannot parse"),
        ("recrd_count > 1", "unknown name 'recrd_count'"),
    ],
)
def test_expressions_are_checked_and_never_executed(source, complaint):
    with pytest.raises(RuleFileError, match=complaint):
        compile_expression(source, FEATURE_NAMES, "test")


def test_expressions_evaluate_with_the_names_they_read():
    expr = compile_expression(
        "lifetime_value >= 100 and len(segs) > 1", ["lifetime_value", "segs"], "t"
    )
    assert expr.names == ("lifetime_value", "segs")
    assert expr({"lifetime_value": 150, "segs": ["a", "b"]})
    assert not expr({"lifetime_value": 50, "segs": ["a", "b"]})


def test_a_bad_segments_file_names_the_entry(tmp_path: Path):
    path = tmp_path / "segments.yaml"
    path.write_text(
        "segments:\n  - {name: big, when: record_count > 3}\n  - {name: big, when: 'True'}\n"
    )
    with pytest.raises(RuleFileError, match="declared twice"):
        Segments.load(path)
    path.write_text("segments:\n  - {name: big, when: spend > 3}\n")
    with pytest.raises(RuleFileError, match=r"segment 1 \(big\): unknown name 'spend'"):
        Segments.load(path)
    path.write_text("segments: {}\n")
    with pytest.raises(RuleFileError, match="expected a 'segments' list"):
        Segments.load(path)


def test_records_of_any_kind_are_features_segments_can_read(ana, tmp_path):
    from profiles.admin import RecordIn, upsert_record

    assert (features(ana).record_count, features(ana).record_kinds) == (0, 0)
    now = datetime.now(UTC)
    assert features(ana).tenure_days < 1  # she joined today, as far as we know
    rows = [("account", "a1", 400, 12500.0), ("card", "c1", 3, 420.5), ("card", "c2", 10, None)]
    for kind, key, days, amount in rows:
        upsert_record(
            ana,
            kind,
            key,
            RecordIn(customer_id=ANA, status="ACTIVE", at=now - timedelta(days), amount=amount),
        )
    f = features(ana)
    assert (f.record_count, f.record_kinds, f.recent_records) == (3, 2, 2)
    assert f.records == {"account": 1, "card": 2}
    assert f.record_value == {"account": 12500.0, "card": 420.5}
    # an account opened 400 days ago: a customer since then, not a new one
    assert f.tenure_days == pytest.approx(400, abs=1)
    with Session(ana) as s:  # the same from the records a turn has read already
        mine = list(s.exec(select(CustomerRecord).where(CustomerRecord.customer_id == ANA)))
        assert customer_features(s, ANA, records=mine) == f
    rules = tmp_path / "segments.yaml"
    rules.write_text(
        "version: 1\nsegments:\n"
        "  - {name: multi_product, when: 'record_kinds >= 2'}\n"
        "  - {name: active, when: 'recent_records >= 1'}\n"
        "  - {name: new_customer, when: 'tenure_days <= 30'}\n"
        "  - {name: premium, when: \"record_value['account'] >= 10000\"}\n"
        "  - {name: card_holder, when: \"records['card'] >= 2\"}\n"
        "  - {name: borrower, when: \"records['loan'] >= 1\"}\n"  # a kind she has none of
    )
    assert Segments.load(rules).of(f) == ["multi_product", "active", "premium", "card_holder"]


def test_records_under_way_are_open_ones_for_the_packaged_segments(ana):
    """A business whose orders (or disputes, bookings …) came by a mapping: a customer
    with one still under way is `under_way` by the packaged segments, and one with several
    records is not a `new_customer` for having been imported today."""
    from profiles.admin import RecordIn, upsert_record

    segments = Segments.load()
    assert "new_customer" in segments.of(features(ana))
    for key, status, under_way in [("b1", "CONFIRMED", True), ("b0", "FLOWN", False)]:
        data = RecordIn(customer_id=ANA, status=status, open=under_way)
        upsert_record(ana, "booking", key, data)
    f = features(ana)
    assert f.open_records == 1
    assert "under_way" in segments.of(f) and "new_customer" not in segments.of(f)
    upsert_record(ana, "booking", "b1", RecordIn(customer_id=ANA, status="FLOWN", open=False))
    assert features(ana).open_records == 0 and "under_way" not in segments.of(features(ana))
    with Session(ana) as s:  # the same from the records a turn has read already
        mine = list(s.exec(select(CustomerRecord).where(CustomerRecord.customer_id == ANA)))
        assert customer_features(s, ANA, records=mine) == features(ana)


def test_the_demo_banks_segments_read_what_its_customers_hold(engine):
    """The bank's customers imported by its mapping hold accounts and cards, no orders:
    its segments file reads their records by kind, and a customer with accounts opened
    years ago is not a new customer though the import ran today."""
    from profiles.mapping import BANK_MAPPING, BANK_SEGMENTS, import_files, load_mapping
    from tests.conftest import DATASETS

    db = DATASETS / "tau-banking-knowledge" / "db.json"
    import_files(engine, load_mapping(BANK_MAPPING), [db])
    bank = Segments.load(BANK_SEGMENTS)
    with Session(engine) as s:
        liang, kwame = (customer_features(s, c) for c in ("lj82d4f1a9", "01f21c9970"))
    assert liang is not None and kwame is not None
    assert liang.record_value["account"] >= 10000 > kwame.values()["record_value"]["account"]
    assert bank.of(liang) == ["vip", "credit_cardholder"]
    assert bank.of(kwame) == ["credit_cardholder"]  # two cards since 2024: not new
    assert min(liang.tenure_days, kwame.tenure_days) > 365


def test_the_sidebar_shows_what_is_under_way_before_the_newest_done(ana):
    """Of a kind, the agent's card lists the records still under way first (the one the
    customer most likely writes about), then the newest; the counts are all of them."""
    from profiles.admin import RecordIn, upsert_record
    from profiles.overview import RECORDS_PER_KIND, customer_overview

    now = datetime.now(UTC)
    upsert_record(ana, "booking", "old", RecordIn(customer_id=ANA, status="CONFIRMED", open=True))
    for day in range(RECORDS_PER_KIND + 1):
        data = RecordIn(customer_id=ANA, status="FLOWN", open=False, at=now - timedelta(day))
        upsert_record(ana, "booking", f"b{day}", data)
    shown = customer_overview(ana, ANA)
    assert shown.record_counts == {"booking": RECORDS_PER_KIND + 2}
    assert [(r.id, r.open) for r in shown.records] == [
        ("old", True),
        *((f"b{day}", False) for day in range(RECORDS_PER_KIND - 1)),
    ]
