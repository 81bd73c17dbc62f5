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


def test_items_sealed_before_v2_are_read_and_ranked_beside_new_ones(
    index: ChromaIndex, embedder
) -> None:
    """A customer's history sealed v1 (its vectors turned by the dense rotation) before
    the upgrade, and their items sealed v2 since, are searched together, each opened and
    turned back by its own version: nothing already stored is lost."""
    import numpy as np

    from retrieval.sealing import PREFIX, V1, Seals
    from tests.stores import MemoryKeys

    seals = Seals(MemoryKeys())
    h = HistoryIndex(index, embedder, seals=seals)
    h.add([HistoryRecord(id="a:new", customer_id="A", kind="message", text="Where is my parcel")])
    # an item as v1 stored it: the same text sealing, the vector by the dense rotation
    seal = seals.for_writing("A")
    old_text = "My lamp flickers when I turn it on"
    vector = np.asarray(embedder.embed([old_text]), dtype=np.float32)
    sealed = seal.seal_text("a:old", old_text)
    index.upsert(
        "history",
        ids=["a:old"],
        embeddings=vector @ seal._rotation(vector.shape[-1]).T,
        documents=[V1 + sealed[len(PREFIX) :]],
        metadatas=[{"kind": "message", "created_at": "", "tag": seal.tag}],
    )
    opened = {i.id: i for i in h.start_search("A", ["a:old", "a:new"], "lamp", k=2).items}
    assert np.allclose(opened["a:old"].embedding, vector[0], atol=1e-4)  # turned back by v1
    fresh = np.asarray(embedder.embed(["Where is my parcel"]), dtype=np.float32)[0]
    assert np.allclose(opened["a:new"].embedding, fresh, atol=1e-4)  # and by v2
    hits = h.search("A", ["a:old", "a:new"], "the lamp keeps flickering", k=2)
    assert [x.id for x in hits][0] == "a:old" and hits[0].text == old_text
    hits = h.search("A", ["a:old", "a:new"], "where's my package?", k=2)
    assert [x.id for x in hits][0] == "a:new"
    assert [r.text for r in h.records("A", ["a:old"])] == [old_text]
