from __future__ import annotations

import pytest

from retrieval.hybrid import rrf


def test_items_ranked_well_in_both_lists_win() -> None:
    fused = rrf([["a", "b", "c"], ["b", "a", "d"]], k=60)

    assert [i for i, _ in fused][:2] == ["a", "b"]
    assert fused[0][1] == pytest.approx(1 / 61 + 1 / 62)
    assert {i for i, _ in fused} == {"a", "b", "c", "d"}


def test_ties_break_by_id() -> None:
    fused = rrf([["z", "y"], ["y", "z"]])

    assert [i for i, _ in fused] == ["y", "z"]
    assert fused[0][1] == fused[1][1]


def test_weights_scale_each_ranking() -> None:
    fused = rrf([["a"], ["b"]], weights=[1.0, 2.0])

    assert [i for i, _ in fused] == ["b", "a"]
    assert fused[0][1] == pytest.approx(2 / 61)


def test_duplicates_count_once_and_bad_weights_fail() -> None:
    assert rrf([["a", "a"]]) == [("a", pytest.approx(1 / 61))]
    assert rrf([]) == []
    with pytest.raises(ValueError):
        rrf([["a"], ["b"]], weights=[1.0])
