"""History items are written in the background, several per vector-store call, and a
customer's waiting items are written at once when someone needs them stored."""

from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np
import pytest

from retrieval.embedder import MiniLMEmbedder
from retrieval.history import HistoryIndex
from retrieval.history_writer import HistoryWriter
from retrieval.store import ChromaIndex
from retrieval.types import HistoryRecord


class CountingIndex:
    """The real Chroma index, counting upserts (and failing them on demand)."""

    def __init__(self, inner: ChromaIndex) -> None:
        self.inner = inner
        self.upserts: list[int] = []
        self.fail = False

    def upsert(self, collection: str, **kw: Any) -> None:
        if self.fail:
            raise ConnectionError("vector store down")
        self.upserts.append(len(kw["ids"]))
        self.inner.upsert(collection, **kw)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def record(i: int, customer: str) -> HistoryRecord:
    return HistoryRecord(
        id=f"m:{customer}:{i}",
        customer_id=customer,
        kind="message",
        text=f"message {i} of {customer} about a refund",
    )


def stored(index: ChromaIndex, ids: list[str]) -> set[str]:
    return {item.id for item in index.get("history", ids=ids, include_embeddings=False)}


@pytest.fixture
def counting(index: ChromaIndex) -> CountingIndex:
    return CountingIndex(index)


def test_items_waiting_together_go_in_one_write(
    counting: CountingIndex, index: ChromaIndex, embedder: MiniLMEmbedder
) -> None:
    writer = HistoryWriter(HistoryIndex(counting, embedder), max_delay_s=0.3)  # type: ignore[arg-type]
    records = [record(i, c) for i, c in enumerate(["A", "B", "A", "C"])]
    vectors = embedder.embed([r.text for r in records])
    for r, v in zip(records, vectors, strict=True):
        writer.add(r, v)

    assert stored(index, [r.id for r in records]) == set(), "nothing is written at once"
    time.sleep(0.6)

    assert counting.upserts == [4]
    assert stored(index, [r.id for r in records]) == {r.id for r in records}
    assert writer.pending() == 0


def test_flush_writes_one_customers_items_now(
    counting: CountingIndex, index: ChromaIndex, embedder: MiniLMEmbedder
) -> None:
    writer = HistoryWriter(HistoryIndex(counting, embedder), max_delay_s=60)  # type: ignore[arg-type]
    a, b = record(1, "A"), record(2, "B")
    writer.add(a, embedder.embed_query(a.text))
    writer.add(b, embedder.embed_query(b.text))

    t0 = time.perf_counter()
    assert writer.flush("A", timeout=10)

    assert time.perf_counter() - t0 < 10, "not the 60 s delay"
    assert a.id in stored(index, [a.id])
    assert writer.flush("Z") and writer.flush("A"), "nothing waits for them: at once"
    assert writer.flush(None) and stored(index, [b.id]) == {b.id}


def test_a_failed_write_is_logged_and_later_writes_go_on(
    counting: CountingIndex,
    index: ChromaIndex,
    embedder: MiniLMEmbedder,
    caplog: pytest.LogCaptureFixture,
) -> None:
    writer = HistoryWriter(HistoryIndex(counting, embedder), max_delay_s=60)  # type: ignore[arg-type]
    lost, kept = record(1, "A"), record(2, "A")
    counting.fail = True
    writer.add(lost, np.asarray(embedder.embed_query(lost.text)))
    with caplog.at_level(logging.WARNING, logger="rapport.history"):
        assert writer.flush("A", timeout=10), "a failed write does not hang its waiters"
    assert "vector store down" in caplog.text

    counting.fail = False
    writer.add(kept, embedder.embed_query(kept.text))
    assert writer.flush("A", timeout=10)
    assert stored(index, [lost.id, kept.id]) == {kept.id}
