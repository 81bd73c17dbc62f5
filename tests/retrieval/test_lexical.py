from __future__ import annotations

from retrieval.lexical import Bm25, tokenize


def test_tokenize_keeps_ids_whole_and_drops_stopwords() -> None:
    tokens = tokenize("Where is the order #W5442520 for gift_card_123?")

    assert "w5442520" in tokens
    assert "gift_card_123" in tokens
    assert {"gift", "card", "123"} <= set(tokens)
    assert "the" not in tokens and "is" not in tokens


def test_search_finds_an_order_id_exactly() -> None:
    bm25 = Bm25()
    bm25.build(
        ["a", "b", "c"],
        ["Order #W5442520 was delivered", "Order #W1111111 is pending", "Refund policy"],
    )

    hits = bm25.search("status of W5442520", k=3)

    assert [i for i, _ in hits] == ["a"]
    assert hits[0][1] > 0


def test_results_are_ranked_and_limited_to_k() -> None:
    bm25 = Bm25()
    bm25.build(
        ["one", "two", "three"],
        ["refund refund refund policy", "refund once", "shipping times"],
    )

    hits = bm25.search("refund", k=1)

    assert hits == [("one", hits[0][1])]
    assert len(bm25.search("refund", k=10)) == 2  # only positive scores, even when k > corpus


def test_empty_corpus_and_unknown_query_return_nothing() -> None:
    bm25 = Bm25()
    bm25.build([], [])
    assert bm25.search("anything", k=5) == []

    bm25.build(["a"], ["exchange a delivered order"])
    assert bm25.search("zebra quantum", k=5) == []
    assert bm25.search("the of and", k=5) == []
    assert bm25.search("", k=5) == []


def test_search_best_scores_each_text_by_its_best_query() -> None:
    bm25 = Bm25()
    bm25.build(
        ["fee", "transfer", "card"],
        ["annual fee waived", "transfer to a human agent", "card annual fee rewards card"],
    )
    parts = ["is there an annual fee", "I want a human agent"]

    hits = bm25.search_best(parts, k=3)

    # Each sentence finds its own text; summing the two would rank by shared words only.
    assert {i for i, _ in hits[:3]} == {"fee", "transfer", "card"}
    assert dict(hits)["transfer"] == bm25.search("I want a human agent", k=1)[0][1]
    assert bm25.search_best([], k=3) == []
    assert bm25.search_best(parts, k=1) == hits[:1]
