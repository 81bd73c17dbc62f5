"""Privacy requests over real turns: real SQL, real Chroma (embedded, or a `chroma run`
server in the services pass), and a failing vector store that is really stopped."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select

from assistant.errors import NotFound, StoreUnavailable
from assistant.privacy import Privacy
from assistant.types import TurnRequest
from profiles import privacy as records
from profiles.conversations import ConversationStore, message_history_id
from profiles.db import session_scope
from profiles.models import AuditLog, Conversation, Customer, ErasureRequest, Message, utcnow
from retrieval.history import HistoryIndex
from retrieval.store import ChromaIndex
from retrieval.types import HistoryRecord
from tests.conftest import free_port, start_chroma
from tests.stores import stored_items, stored_texts, tag_of

OLIVIA, OMAR = "olivia_ito_3591", "omar_lopez_3107"
PARROT = "My parrot Captain Feathers chewed the charger cable of my order"


def ask(container, message, customer=OLIVIA, conversation=None):
    return container.assistant.turn(
        TurnRequest(customer_id=customer, message=message, conversation_id=conversation)
    )


def _vectors(container, customer_id: str) -> list[str]:
    """Texts the history collection holds for the customer, looked up in the real store."""
    return stored_texts(container, customer_id)


def test_export_holds_rows_and_vector_texts(make_container):
    c = make_container()
    first = ask(c, PARROT)
    ask(c, "Can I cancel #W5442520?", conversation=first.conversation_id)
    ask(c, "Where is my parcel?", customer=OMAR)
    doc = c.privacy.export(OLIVIA, "cli")  # drains the pending history write itself

    assert doc.format == "rapport.customer-export.v1" and doc.customer["id"] == OLIVIA
    assert {x["purpose"] for x in doc.consents} == {"personalization", "history", "analytics"}
    kinds = {r["kind"] for r in doc.records}
    assert any(r["key"] == "#W5442520" for r in doc.records) and "payment_method" in kinds
    (conv,) = doc.conversations
    texts = [m["text"] for m in conv.messages]
    assert texts[0] == PARROT and texts[2] == "Can I cancel #W5442520?" and len(texts) == 4
    assert len(conv.turns) == 2
    assert {v.text for v in doc.vector_store} == {PARROT, "Can I cancel #W5442520?"}
    assert {v.id for v in doc.vector_store} == {h["id"] for h in doc.history_items}
    assert "Where is my parcel" not in doc.model_dump_json()  # Omar's message is not hers
    (row,) = _audit(c, OLIVIA)
    assert (row.action, row.outcome, row.actor) == ("export", "exported", "cli")
    assert row.detail == {
        "conversations": 1,
        "messages": 4,
        "records": len(doc.records),
        "vectors": 2,
    }
    with pytest.raises(NotFound):
        c.privacy.export("nobody_0000", "cli")


def test_erase_removes_sql_rows_and_vectors_and_is_idempotent(make_container):
    c = make_container()
    a = ask(c, PARROT)
    ask(c, "Where is my parcel?", customer=OMAR)
    c.assistant.drain()
    assert _vectors(c, OLIVIA) == [PARROT]
    tag = tag_of(c, OLIVIA)

    report = c.privacy.erase(OLIVIA, "cli")
    assert report.status == "erased" and not report.resumed
    assert report.vectors_deleted == 1 and report.rows_deleted["messages"] == 2
    assert report.rows_deleted["records"] > 0
    assert records.customer_records(c.engine, OLIVIA) is None
    with Session(c.engine) as s:
        assert s.get(Conversation, a.conversation_id) is None
        assert s.exec(select(Message).where(Message.customer_id == OLIVIA)).all() == []
    assert stored_items(c, OLIVIA, tag) == [] and c.seals.for_reading(OLIVIA) is None
    assert _vectors(c, OMAR) == ["Where is my parcel?"]

    again = c.privacy.erase(OLIVIA, "cli")
    assert again.status == "already_erased" and again.erased_at == report.erased_at
    with pytest.raises(NotFound, match="unknown customer"):
        c.privacy.erase("nobody_0000", "cli")
    outcomes = [(r.action, r.outcome) for r in _audit(c, OLIVIA)]
    assert outcomes == [("erase", "already_erased"), ("erase", "erased")]
    erased = _audit(c, OLIVIA)[1]
    assert erased.detail["vectors"] == 1 and erased.detail["customer"] == 1
    # The audit row proves the erasure by a digest of the id: no id, name, email or text.
    dumped = str([r.model_dump() for r in _audit(c)])
    assert "Olivia" not in dumped and "Feathers" not in dumped and "@" not in dumped
    assert OLIVIA not in dumped and records.erased_ref(OLIVIA) in dumped

    later = ask(c, "Can I return my order?", customer=OMAR)
    assert later.answer and later.context.customer_id == OMAR
    with pytest.raises(NotFound):
        ask(c, "hello again")  # the erased customer is unknown now


def test_erase_waits_for_the_customers_pending_history_write(make_container):
    c = make_container()
    ask(c, PARROT)  # its history vector is written in the background
    c.privacy.erase(OLIVIA, "cli")  # no drain here: erase must wait for it
    c.assistant.drain()
    assert _vectors(c, OLIVIA) == []


def test_an_interrupted_erasure_is_finished_by_running_it_again(make_container):
    c = make_container()
    ask(c, PARROT)
    c.assistant.drain()
    # The erasure's first steps ran, then the process died before the SQL transaction.
    assert records.begin_erasure(c.engine, OLIVIA, "cli") == "started"
    assert c.history.erase(OLIVIA, records.history_ids(c.engine, OLIVIA)) == 1
    with Session(c.engine) as s:
        assert s.get(ErasureRequest, OLIVIA).status == "pending"
        assert s.get(Customer, OLIVIA) is not None  # nothing was deleted from SQL yet
    assert ask(c, "Where is my parcel?", customer=OMAR).answer  # others are served meanwhile

    report = c.privacy.erase(OLIVIA, "cli")
    assert (report.status, report.resumed, report.vectors_deleted) == ("erased", True, 0)
    assert report.rows_deleted["history_items"] == 1 and report.rows_deleted["customer"] == 1
    assert records.customer_records(c.engine, OLIVIA) is None and _vectors(c, OLIVIA) == []
    with Session(c.engine) as s:
        assert s.get(ErasureRequest, OLIVIA) is None  # now recorded under the id's digest
        assert s.get(ErasureRequest, records.erased_ref(OLIVIA)).status == "done"


def test_an_erasure_interrupted_after_the_sql_transaction_is_finished(make_container):
    c = make_container()
    ask(c, PARROT)
    c.assistant.drain()
    records.begin_erasure(c.engine, OLIVIA, "cli")
    records.erase_rows(c.engine, OLIVIA)  # died before the final vector sweep and "done"
    assert _vectors(c, OLIVIA) == [PARROT]  # a vector SQL no longer points to
    tag = tag_of(c, OLIVIA)  # its key outlives the rows until the last sweep
    report = c.privacy.erase(OLIVIA, "cli")
    assert (report.status, report.resumed, report.vectors_deleted) == ("erased", True, 1)
    assert stored_items(c, OLIVIA, tag) == [] and c.seals.for_reading(OLIVIA) is None


# -- a vector store that really fails --------------------------------------------------


class ChromaProcess:
    """A `chroma run` server on a fixed port and directory that a test can stop and restart."""

    def __init__(self, path: Path) -> None:
        self.path, self.port = path, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = start_chroma(self.path, self.port)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=15)
            self.proc = None


@pytest.fixture
def chroma_process(tmp_path: Path) -> Iterator[ChromaProcess]:
    server = ChromaProcess(tmp_path / "chroma-own")
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_erasure_with_the_vector_store_down_fails_cleanly_then_completes(
    make_container, chroma_process, embedder
):
    c = make_container()
    history = HistoryIndex(ChromaIndex.server(chroma_process.url), embedder)
    privacy = Privacy(c.engine, history, c.assistant.drain, retention_days=365)
    store = ConversationStore(c.engine)
    conv, msg, at = store.start_turn(OLIVIA, None, PARROT, "test")
    store.add_history_item(message_history_id(msg), OLIVIA, "message", PARROT, at)
    history.add(
        [HistoryRecord(id=message_history_id(msg), customer_id=OLIVIA, kind="message", text=PARROT)]
    )

    chroma_process.stop()
    with pytest.raises(StoreUnavailable, match="safe to run it again"):
        privacy.erase(OLIVIA, "admin:0123456789ab")
    assert records.customer_records(c.engine, OLIVIA) is not None  # SQL untouched
    (failed,) = _audit(c, OLIVIA)
    assert (failed.outcome, failed.detail["stage"]) == ("failed", "vectors")

    chroma_process.start()  # same directory: the vector is still there
    assert [r.text for r in history.records(OLIVIA, [message_history_id(msg)])] == [PARROT]
    report = privacy.erase(OLIVIA, "admin:0123456789ab")
    assert (report.status, report.resumed, report.vectors_deleted) == ("erased", True, 1)
    assert history.index.get("history", where={"customer_id": OLIVIA}) == []
    assert records.customer_records(c.engine, OLIVIA) is None
    outcomes = [r.outcome for r in _audit(c, OLIVIA)]
    assert outcomes == ["erased", "failed"]


# -- retention ---------------------------------------------------------------------------


def _age(engine, conversation_id: str, days: int) -> None:
    when = utcnow() - timedelta(days=days)
    with session_scope(engine) as s:
        conv = s.get(Conversation, conversation_id)
        conv.created_at = when
        s.add(conv)
        for m in s.exec(select(Message).where(Message.conversation_id == conversation_id)):
            m.created_at = when
            s.add(m)


def test_purge_deletes_idle_conversations_and_their_vectors(make_container):
    c = make_container(retention_days=30)
    old = ask(c, PARROT)
    recent = ask(c, "Can I cancel #W5442520?")
    c.assistant.drain()
    _age(c.engine, old.conversation_id, 45)

    dry = c.privacy.purge("cli", dry_run=True)
    assert (dry.older_than_days, dry.conversations, dry.messages, dry.history_items) == (
        30,
        1,
        2,
        1,
    )
    assert _vectors(c, OLIVIA) == sorted([PARROT, "Can I cancel #W5442520?"])  # nothing gone

    done = c.privacy.purge("cli")
    assert (done.conversations, done.messages, done.turns, done.history_items) == (1, 2, 1, 1)
    assert _vectors(c, OLIVIA) == ["Can I cancel #W5442520?"]
    with Session(c.engine) as s:
        assert s.get(Conversation, old.conversation_id) is None
        assert s.get(Conversation, recent.conversation_id) is not None
        assert s.get(Customer, OLIVIA) is not None
    assert c.privacy.purge("cli").conversations == 0  # nothing left to purge
    assert c.privacy.purge("cli", older_than_days=60).conversations == 0
    off = c.privacy.purge("cli", older_than_days=0)
    assert off.cutoff is None and off.conversations == 0
    rows = [(r.outcome, r.detail["conversations"]) for r in _audit(c)]
    assert rows[-2:] == [("purged", 1), ("dry_run", 1)]
    with Session(c.engine) as s:
        purges = s.exec(select(AuditLog).where(AuditLog.action == "purge")).all()
        assert purges and all(r.customer_id is None for r in purges)


def test_retention_off_by_setting_keeps_everything(make_container):
    c = make_container(retention_days=0)
    old = ask(c, PARROT)
    _age(c.engine, old.conversation_id, 5000)
    assert c.privacy.purge("cli").cutoff is None
    with Session(c.engine) as s:
        assert s.get(Conversation, old.conversation_id) is not None


def _audit(c, customer: str | None = None) -> list:
    """The audit rows newest first, without the consents the demo's import recorded."""
    rows = records.audit_entries(c.engine, customer, limit=10_000)
    return [r for r in rows if r.actor != "import"]
