"""Help articles about what the customer holds come first, and only those."""

from __future__ import annotations

from retrieval.kb import own_first
from retrieval.types import Passage


def _p(i: int, title: str) -> Passage:
    return Passage(id=f"d{i}#0", doc_id=f"d{i}", title=title, text="…", score=1.0 / (i + 1))


PASSAGES = [
    _p(0, "FAQ: Blue Account > Frequently asked questions"),
    _p(1, "FAQ: Light Green Account > Transfers"),
    _p(2, "Wire transfers"),
    _p(3, "FAQ: Green Account (checking) > Frequently asked questions"),
    _p(4, "The Gold Rewards Card > Fees"),
    _p(5, "Business Gold Rewards Card > Fees"),
    _p(6, "Green Account (savings): Transferring funds"),
]
HELD = ["Green Account", "Green Account (checking)", "Gold Rewards Card"]


def test_the_articles_naming_what_the_customer_holds_come_first_marked_held() -> None:
    out = own_first(PASSAGES, HELD)
    assert [p.doc_id for p in out] == ["d3", "d4", "d0", "d1", "d2", "d5", "d6"]
    assert [p.held for p in out] == [True, True, False, False, False, False, False]


def test_a_name_inside_a_longer_name_or_qualified_otherwise_is_another_product() -> None:
    # "Light Green Account" is not the Green Account, nor the Business card the Gold one;
    # the Green Account (savings) is not the holder's Green Account (checking)
    out = own_first(PASSAGES, HELD)
    assert [p.doc_id for p in out if p.held] == ["d3", "d4"]
    saver = own_first(PASSAGES, ["Green Account", "Green Account (savings)"])
    assert [p.doc_id for p in saver if p.held] == ["d6"]
    assert not any(p.held for p in own_first(PASSAGES, ["Rewards Card"]))


def test_nothing_held_or_nothing_named_leaves_the_order() -> None:
    assert own_first(PASSAGES, []) == PASSAGES
    assert own_first(PASSAGES, ["Purple Account"]) == PASSAGES
