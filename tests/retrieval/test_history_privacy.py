"""History vectors read and erased for one customer, on a real Chroma."""

from __future__ import annotations

import pytest

from retrieval.history import HistoryIndex
from retrieval.store import ChromaIndex
from retrieval.types import HistoryRecord


@pytest.fixture
def history(index: ChromaIndex, embedder) -> HistoryIndex:
    h = HistoryIndex(index, embedder)
    h.add(
        [
            HistoryRecord(id="a:1", customer_id="A", kind="message", text="My lamp flickers"),
            HistoryRecord(id="a:2", customer_id="A", kind="ticket", text="Refund to gift card"),
            # Stored for A but unknown to SQL (e.g. written while A's rows were deleted).
            HistoryRecord(id="stray", customer_id="A", kind="message", text="A stray note"),
            HistoryRecord(id="b:1", customer_id="B", kind="message", text="Where is my parcel"),
        ]
    )
    return h


def test_records_return_only_the_customers_texts(history: HistoryIndex) -> None:
    got = history.records("A", ["a:2", "b:1", "a:1", "missing"])
    assert [(r.id, r.kind, r.text) for r in got] == [
        ("a:2", "ticket", "Refund to gift card"),
        ("a:1", "message", "My lamp flickers"),
    ]


def test_erase_deletes_the_customers_vectors_and_strays_only(history: HistoryIndex) -> None:
    assert history.erase("A", ["a:1", "a:2", "b:1"]) == 3  # a:1, a:2 and the stray
    index = history.index
    assert index.get("history", ids=["a:1", "a:2", "stray"]) == []
    assert index.get("history", where={"customer_id": "A"}) == []
    assert [i.document for i in index.get("history", ids=["b:1"])] == ["Where is my parcel"]
    assert history.erase("A", ["a:1", "a:2"]) == 0  # again: nothing left, not an error
