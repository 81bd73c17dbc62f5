"""The SQL side of privacy requests on a real database (SQLite, or PostgreSQL in the
services pass): records, erasure in every table, retention by real timestamps, audit rows."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, SQLModel, select

from profiles.admin import (
    CustomerIn,
    EventIn,
    RecordIn,
    add_event,
    upsert_customer,
    upsert_record,
)
from profiles.conversations import ConversationStore, FeedbackStore, message_history_id
from profiles.db import session_scope
from profiles.inbox import InboxStore
from profiles.models import (
    AgentReply,
    AuditLog,
    Conversation,
    CustomerRecord,
    ErasureRequest,
    HistoryItem,
    HistoryKey,
    IdempotencyKey,
    Message,
    Ticket,
    Turn,
    utcnow,
)
from profiles.privacy import (
    begin_erasure,
    customer_records,
    erase_rows,
    erased_ref,
    erasure_completed_at,
    finish_erasure,
    purge_plan,
    purge_rows,
)

ANA, BEN = "ana_lima_0001", "ben_okafor_0002"
ALL = {"personalization": True, "history": True, "analytics": True}


def _customer(engine, cid: str, first: str) -> None:
    upsert_customer(
        engine, cid, CustomerIn(first_name=first, email=f"{first}@example.com", consents=ALL)
    )
    order = f"#W-{cid}"
    fields = {"items": [{"name": "Desk Lamp", "price": 40}], "tracking": ["TRK1"]}
    upsert_record(
        engine,
        "order",
        order,
        RecordIn(customer_id=cid, status="delivered", amount=40, fields=fields),
    )
    upsert_record(engine, "payment_method", f"paypal_{cid}", RecordIn(customer_id=cid))
    add_event(engine, cid, EventIn(key="e1", type="page_view", payload={"page": "/lamps"}))
    with session_scope(engine) as s:
        s.add(Ticket(id=f"t-{cid}", customer_id=cid, subject="Lamp flickers", body="It flickers"))
        s.add(CustomerRecord(customer_id=cid, kind="loyalty", key=f"card-{cid}", text="Gold"))


def _turn(engine, cid: str, text: str, conversation: str | None = None) -> tuple[str, int]:
    """A stored turn (message, reply, turn record, feedback, history item); returns
    (conversation id, message id)."""
    store = ConversationStore(engine)
    conv, msg, at = store.start_turn(cid, conversation, text, "test")
    turn_id = f"turn-{msg}"
    store.finish_turn(
        Turn(id=turn_id, conversation_id=conv, customer_id=cid, message_id=msg), "a reply"
    )
    store.add_history_item(message_history_id(msg), cid, "message", text, at)
    FeedbackStore(engine).add(turn_id, 5, True, "thanks")
    return conv, msg


def _tables_with_customer_column() -> list:
    kept = {"auditlog", "erasurerequest"}  # the records of the erasure itself
    return [
        t
        for t in SQLModel.metadata.sorted_tables
        if t.name not in kept and ("customer_id" in t.c or t.name == "customer")
    ]


def _rows_of(engine, customer_id: str) -> dict[str, int]:
    with Session(engine) as s:
        out = {}
        for table in _tables_with_customer_column():
            column = table.c.id if table.name == "customer" else table.c.customer_id
            out[table.name] = s.exec(
                select(func.count()).select_from(table).where(column == customer_id)
            ).one()
        return out


def test_records_hold_every_table_of_one_customer_only(engine):
    _customer(engine, ANA, "Ana")
    _customer(engine, BEN, "Ben")
    _turn(engine, ANA, "My lamp from last week flickers")
    _turn(engine, BEN, "Where is my parcel?")
    rec = customer_records(engine, ANA)
    assert rec is not None
    assert rec.customer["email"] == "Ana@example.com"
    assert {c["purpose"] for c in rec.consents} == set(ALL)
    held = {(r["kind"], r["key"]): r for r in rec.records}
    assert set(held) == {
        ("order", f"#W-{ANA}"),
        ("payment_method", f"paypal_{ANA}"),
        ("loyalty", f"card-{ANA}"),
    }
    order = held[("order", f"#W-{ANA}")]
    assert order["fields"]["items"][0]["name"] == "Desk Lamp"
    assert order["fields"]["tracking"] == ["TRK1"] and order["amount"] == 40
    assert rec.tickets[0]["subject"] == "Lamp flickers"
    assert rec.events[0]["payload"] == {"page": "/lamps"}
    (conv,) = rec.conversations
    assert [m["text"] for m in conv.messages] == ["My lamp from last week flickers", "a reply"]
    assert len(conv.turns) == 1 and conv.feedback[0]["comment"] == "thanks"
    assert [h["text"] for h in rec.history_items] == ["My lamp from last week flickers"]
    assert "parcel" not in rec.model_dump_json() and "Ben" not in rec.model_dump_json()
    assert customer_records(engine, "nobody_0000") is None


def test_erase_rows_empties_every_table_that_names_the_customer(engine):
    _customer(engine, ANA, "Ana")
    _customer(engine, BEN, "Ben")
    conv, _ = _turn(engine, ANA, "My lamp flickers")
    _turn(engine, ANA, "Still flickering", conv)
    _turn(engine, BEN, "Where is my parcel?")
    inbox = InboxStore(engine)  # a handoff: state events, an agent's reply from a draft
    inbox.move(conv, "waiting", "bot", "customer asked for a human")
    reply = AgentReply(message_id=0, conversation_id="", customer_id="", agent="zoe")
    inbox.add_agent_message(conv, "zoe", "Hi Ana, Zoe here.", reply)
    with Session(engine) as s:  # replayable chat results and history keys of both
        for cid in (ANA, BEN):
            s.add(HistoryKey(customer_id=cid, key="00" * 32))
            s.add(
                IdempotencyKey(
                    customer_id=cid,
                    key="k1",
                    request_hash="0" * 64,
                    response="{}",
                    expires_at=datetime.now(UTC) + timedelta(days=1),
                )
            )
        s.commit()
    before = _rows_of(engine, ANA)
    assert all(n > 0 for n in before.values()), before  # the fixture fills every table
    ben_before = _rows_of(engine, BEN)

    erased = erase_rows(engine, ANA)
    assert {t for t, n in _rows_of(engine, ANA).items() if n} == {"historykey"}
    finish_erasure(engine, ANA, "cli", {})  # the key goes after the last vector sweep
    assert set(_rows_of(engine, ANA).values()) == {0}
    assert _rows_of(engine, BEN) == ben_before
    assert erased.counts["messages"] == 5 and erased.counts["feedback"] == 2
    assert erased.counts["conversation_events"] == 2 and erased.counts["agent_replies"] == 1
    assert erased.counts["records"] == 3 and erased.counts["customer"] == 1
    assert len(erased.history_ids) == 2
    assert set(erase_rows(engine, ANA).counts.values()) == {0}  # again: nothing, no error


def test_erasure_request_states(engine):
    _customer(engine, ANA, "Ana")
    assert begin_erasure(engine, "nobody_0000", "cli") == "not_found"
    assert begin_erasure(engine, ANA, "cli") == "started"
    assert begin_erasure(engine, ANA, "cli") == "resumed"  # interrupted before any delete
    erase_rows(engine, ANA)
    assert begin_erasure(engine, ANA, "cli") == "resumed"  # interrupted after the rows went
    finish_erasure(engine, ANA, "cli", {"vectors": 0})
    assert begin_erasure(engine, ANA, "cli") == "already_erased"
    _customer(engine, ANA, "Ana")  # the same id created again is a new erasure
    assert begin_erasure(engine, ANA, "cli") == "started"
    with Session(engine) as s:
        (row,) = s.exec(select(AuditLog).where(AuditLog.action == "erase")).all()
        assert s.get(ErasureRequest, ANA).status == "pending"  # the new one, by id
    # The finished erasure is recorded under a digest of the id, not the id.
    assert (row.customer_id, row.actor, row.outcome) == (erased_ref(ANA), "cli", "erased")
    assert erasure_completed_at(engine, ANA) is not None


def _age(engine, conversation_id: str, days: int) -> None:
    """Move a conversation and its messages `days` into the past."""
    when = utcnow() - timedelta(days=days)
    with session_scope(engine) as s:
        conv = s.get(Conversation, conversation_id)
        assert conv is not None
        conv.created_at = when
        s.add(conv)
        for m in s.exec(select(Message).where(Message.conversation_id == conversation_id)):
            m.created_at = when
            s.add(m)


def test_purge_deletes_conversations_idle_past_the_cutoff(engine):
    _customer(engine, ANA, "Ana")
    _customer(engine, BEN, "Ben")
    old, old_msg = _turn(engine, ANA, "An old question about lamps")
    revived, _ = _turn(engine, BEN, "An old question, answered again today")
    fresh, _ = _turn(engine, BEN, "A question from today")
    _age(engine, old, 400)
    _age(engine, revived, 400)
    _turn(engine, BEN, "Coming back to it today", revived)  # last activity: now
    with session_scope(engine) as s:
        s.add(Conversation(id="empty-old", customer_id=ANA, created_at=utcnow() - timedelta(400)))

    plan = purge_plan(engine, utcnow() - timedelta(days=365))
    assert set(plan.conversation_ids) == {old, "empty-old"}
    assert plan.history_ids == [message_history_id(old_msg)]
    assert plan.counts == {
        "conversations": 2,
        "messages": 2,
        "turns": 1,
        "feedback": 1,
        "history_items": 1,
    }
    done = purge_rows(engine, plan, "cli", {"older_than_days": 365})
    assert done.counts == plan.counts
    with Session(engine) as s:
        left = set(s.exec(select(Conversation.id)).all())
        assert left == {revived, fresh}
        assert s.get(HistoryItem, message_history_id(old_msg)) is None
        assert s.exec(select(func.count()).select_from(Turn)).one() == 3
        (row,) = s.exec(select(AuditLog).where(AuditLog.action == "purge")).all()
    assert row.customer_id is None and row.detail["conversations"] == 2
    assert purge_plan(engine, utcnow() - timedelta(days=365)).conversation_ids == []
    assert customer_records(engine, ANA) is not None  # purge keeps the customer


def test_purge_keeps_a_conversation_that_came_back_to_life_after_the_plan(engine):
    _customer(engine, ANA, "Ana")
    conv, _ = _turn(engine, ANA, "An old question")
    _age(engine, conv, 400)
    plan = purge_plan(engine, utcnow() - timedelta(days=365))
    assert plan.conversation_ids == [conv]
    _turn(engine, ANA, "I am back", conv)
    assert purge_rows(engine, plan, "cli").conversation_ids == []
    with Session(engine) as s:
        assert s.get(Conversation, conv) is not None


def test_consent_changes_are_audited_without_personal_data(engine):
    upsert_customer(engine, ANA, CustomerIn(first_name="Ana", email="ana@example.com"))
    with Session(engine) as s:
        assert s.exec(select(AuditLog)).all() == []  # no consent given, none recorded
    upsert_customer(
        engine, ANA, CustomerIn(first_name="Ana", consents={"history": True}), actor="admin:ab"
    )
    upsert_customer(
        engine, ANA, CustomerIn(first_name="Ana", consents={"history": True}), actor="admin:ab"
    )  # unchanged: not a change
    upsert_customer(
        engine, ANA, CustomerIn(first_name="Ana", consents={"history": False}), actor="admin:ab"
    )
    with Session(engine) as s:
        rows = s.exec(select(AuditLog).order_by(AuditLog.id)).all()
    assert [(r.action, r.outcome, r.detail, r.actor) for r in rows] == [
        ("consent", "granted", {"purpose": "history"}, "admin:ab"),
        ("consent", "revoked", {"purpose": "history"}, "admin:ab"),
    ]
    assert all(r.customer_id == ANA for r in rows)
    assert "Ana" not in str([r.model_dump() for r in rows]).replace(ANA, "")
