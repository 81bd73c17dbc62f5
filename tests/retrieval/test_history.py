from __future__ import annotations

import logging
from datetime import datetime

import pytest

from retrieval.embedder import MiniLMEmbedder
from retrieval.history import HistoryIndex
from retrieval.store import ChromaIndex
from retrieval.types import HistoryRecord


@pytest.fixture
def history(index: ChromaIndex, embedder: MiniLMEmbedder) -> HistoryIndex:
    h = HistoryIndex(index, embedder)
    h.add(
        [
            HistoryRecord(
                id="a:1",
                customer_id="A",
                kind="ticket",
                text="My headphones arrived cracked, I asked for a replacement.",
                created_at=datetime(2024, 5, 1, 9, 30),
            ),
            HistoryRecord(id="a:2", customer_id="A", kind="order", text="Order #W100 shoes"),
            HistoryRecord(
                id="b:1",
                customer_id="B",
                kind="ticket",
                text="Refund for order #W200 to my gift card please, the refund is late.",
            ),
        ]
    )
    return h


def test_search_only_ranks_the_customers_candidates(history: HistoryIndex) -> None:
    # B's ticket is by far the best match for this query, but it is not A's.
    hits = history.search("A", ["a:1", "a:2"], "refund to gift card is late", k=5)

    assert sorted(h.id for h in hits) == ["a:1", "a:2"]


def test_another_customers_id_passed_as_candidate_is_dropped(
    history: HistoryIndex, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="retrieval.history"):
        hits = history.search("A", ["a:1", "b:1", "missing"], "refund gift card late", k=5)

    assert [h.id for h in hits] == ["a:1"]
    assert "b:1" in caplog.text


def test_best_match_first_with_metadata(history: HistoryIndex) -> None:
    hits = history.search("A", ["a:2", "a:1"], "broken headphones replacement", k=1)

    assert len(hits) == 1
    hit = hits[0]
    assert (hit.id, hit.kind) == ("a:1", "ticket")
    assert hit.created_at == datetime(2024, 5, 1, 9, 30)
    assert hit.score > 0
    assert history.search("A", ["a:2"], "shoes", k=1)[0].created_at is None
    assert history.search("B", [], "refund", k=3) == []


def test_order_id_matches_through_bm25(history: HistoryIndex, embedder: MiniLMEmbedder) -> None:
    query = "W100"
    hits = history.search(
        "A", ["a:1", "a:2"], query, k=2, query_embedding=embedder.embed_query(query)
    )

    assert hits[0].id == "a:2"


def test_delete_customer_only_deletes_that_customers_items(
    history: HistoryIndex, index: ChromaIndex
) -> None:
    history.delete_customer("A", ["a:1", "b:1"])

    assert sorted(i.id for i in index.get("history")) == ["a:2", "b:1"]
    history.delete(["b:1"])
    assert [i.id for i in index.get("history")] == ["a:2"]


def test_add_is_idempotent(history: HistoryIndex, index: ChromaIndex) -> None:
    history.add([HistoryRecord(id="a:2", customer_id="A", kind="order", text="Order #W100 boots")])

    assert index.count("history") == 3
    assert index.get("history", ids=["a:2"])[0].document == "Order #W100 boots"


def test_a_reply_is_found_through_the_words_around_it(
    index: ChromaIndex, embedder: MiniLMEmbedder
) -> None:
    turns = [
        "Which colour did you paint the kitchen walls?",
        "Mostly a pale sage, with white trim.",  # the answer: no word of the question
        "Lovely choice.",
        "Did the delivery of the fridge go well?",
        "Yes, it came on Tuesday morning.",
        "I adopted a puppy last week!",
        "The puppy chewed a cabinet in the kitchen.",
        "Kitchens are the heart of a home.",
        "What is the colour of your car?",
        "It is red.",
    ]
    records = [
        HistoryRecord(id=f"c:{n}", customer_id="C", kind="conversation", text=t)
        for n, t in enumerate(turns)
    ]
    HistoryIndex(index, embedder).add(records)
    ids = [r.id for r in records]
    query = "What colour are the kitchen walls?"

    def top5(window: int) -> list[str]:
        h = HistoryIndex(index, embedder, neighbour_weight=0.0, lexical_window=window)
        return [hit.id for hit in h.search("C", ids, query, k=5)]

    # Indexed with its neighbours' words, the answer joins the top 5; alone it does not.
    assert top5(2)[0] == top5(0)[0] == "c:0"  # an item's own words still count most
    assert "c:1" in top5(2)
    assert "c:1" not in top5(0)
