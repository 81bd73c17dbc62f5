"""Repairing history vectors a crash lost: real turns, real SQL, real Chroma."""

from __future__ import annotations

import json
import subprocess
from datetime import timedelta

from assistant.maintenance import reindex_history
from assistant.types import TurnRequest
from profiles.models import utcnow
from retrieval.history import HistoryIndex
from tests.conftest import rapport_cli

OLIVIA, OMAR = "olivia_ito_3591", "omar_lopez_3107"
PARROT = "My parrot Captain Feathers chewed the charger cable of my order"


def ask(container, message, customer=OLIVIA):
    return container.assistant.turn(TurnRequest(customer_id=customer, message=message))


def _history_ids(container) -> list[str]:
    rows = container.assistant.conversations.history_page("", 100)
    return [r.id for r in rows]


def test_a_lost_history_vector_is_written_again_and_found_by_later_turns(make_container):
    c = make_container()
    ask(c, PARROT)
    ask(c, "Where is my parcel?", customer=OMAR)
    c.assistant.drain()
    rows = c.assistant.conversations.history_page("", 100)
    (parrot_id,) = [r.id for r in rows if r.text == PARROT]
    c.history.delete([parrot_id])  # what a crash before the batched write leaves behind
    assert c.history.missing(_history_ids(c)) == [parrot_id]

    report = reindex_history(c.assistant.conversations, c.history)

    assert (report.checked, report.written) == (2, 1)
    assert c.history.missing(_history_ids(c)) == []
    (item,) = c.history.records(OLIVIA, [parrot_id])  # written again, sealed as theirs
    assert item.text == PARROT and c.history.records(OMAR, [parrot_id]) == []
    later = ask(c, "What did I say my parrot chewed?")
    assert parrot_id in later.context.history_ids

    c.assistant.drain()
    again = reindex_history(c.assistant.conversations, c.history)
    assert (again.checked, again.written) == (3, 0)


def test_since_limits_the_repair_to_recent_items(make_container):
    c = make_container()
    ask(c, PARROT)
    c.assistant.drain()
    c.history.delete(_history_ids(c))

    future = reindex_history(c.assistant.conversations, c.history, since=utcnow() + timedelta(1))
    recent = reindex_history(
        c.assistant.conversations, c.history, since=utcnow() - timedelta(hours=1)
    )

    assert (future.checked, future.written) == (0, 0)
    assert (recent.checked, recent.written) == (1, 1)


def test_an_item_erased_during_the_repair_gets_no_vector_back(make_container):
    """An erasure that runs while a page is re-embedded wins: the vector just written for
    a customer whose rows it removed is deleted again."""
    c = make_container()
    ask(c, PARROT)
    c.assistant.drain()
    c.history.delete(_history_ids(c))

    class ErasedMeanwhile(HistoryIndex):
        def add(self, records, embeddings=None):
            super().add(records, embeddings)
            c.privacy.erase(OLIVIA, "cli")  # the real erasure, between write and check

    history = ErasedMeanwhile(c.index, c.history.embedder)
    report = reindex_history(c.assistant.conversations, history)

    assert report.written == 0
    assert c.index.get("history", where={"customer_id": OLIVIA}) == []
    assert _history_ids(c) == []


def test_reindex_history_command(make_container):
    c = make_container()
    ask(c, PARROT)
    c.assistant.drain()
    lost = _history_ids(c)
    c.history.delete(lost)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return rapport_cli(c, "reindex-history", *args)

    r = run("--json", "--since-hours", "1")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == {"checked": 1, "written": 1}
    assert len(lost) == 1 and c.history.missing(lost) == []
    r = run()
    assert r.returncode == 0 and r.stdout.strip() == "re-indexed 0 of 1 history items"
    r = run("--since-hours", "0")
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert r.returncode == 2 and len(lines) == 1 and "--since-hours must be" in lines[0]
