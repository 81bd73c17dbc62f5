from __future__ import annotations

from retrieval.queries import MIN_PART_WORDS, MIN_PARTS, sub_queries


def test_a_long_message_splits_into_its_sentences_and_list_items() -> None:
    text = (
        "I want to cancel my order #W123 today. Also, what is the refund policy?\n"
        "- Start by asking about the fee 2. Then ask for a human agent ok."
    )

    assert sub_queries(text) == [
        "I want to cancel my order #W123 today.",
        "Also, what is the refund policy?",
        "Start by asking about the fee",
        "Then ask for a human agent ok.",
    ]


def test_short_fragments_are_dropped_and_a_single_request_is_not_split() -> None:
    assert MIN_PART_WORDS == 3
    assert sub_queries("Hi. Thanks! Where is my order?") == []  # one part left: no split
    assert sub_queries("cancel order") == []
    assert sub_queries("") == []


def test_a_chat_turn_of_a_few_sentences_keeps_its_one_query_embedding() -> None:
    assert MIN_PARTS == 4
    three = "My lamp arrived broken. Can I return it please? What does the refund cost?"
    assert sub_queries(three) == []
    assert len(sub_queries(three + " And how long does it take?")) == 4


def test_parts_are_capped_keeping_the_first() -> None:
    text = " ".join(f"Question number {n} here." for n in range(10))

    assert sub_queries(text, max_parts=3) == [
        "Question number 0 here.",
        "Question number 1 here.",
        "Question number 2 here.",
    ]
