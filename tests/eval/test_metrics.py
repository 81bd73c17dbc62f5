"""Metric math against hand-computed values."""

import math

import pytest

from eval.metrics import (
    dedupe,
    ndcg_at_k,
    paired_bootstrap,
    recall_at_k,
    reciprocal_rank,
    token_f1,
    win_tie_loss,
)


def test_recall_at_k_counts_each_relevant_id_once():
    ranked = ["a", "x", "b", "y", "c"]
    assert recall_at_k(ranked, {"a", "b", "c", "d"}, 1) == 0.25
    assert recall_at_k(ranked, {"a", "b", "c", "d"}, 3) == 0.5
    assert recall_at_k(ranked, ["c", "c"], 5) == 1.0
    assert recall_at_k(ranked, set(), 5) == 0.0


def test_reciprocal_rank_is_one_over_first_hit():
    assert reciprocal_rank(["x", "y", "a"], {"a", "b"}) == pytest.approx(1 / 3)
    assert reciprocal_rank(["a"], {"a"}) == 1.0
    assert reciprocal_rank(["x"], {"a"}) == 0.0


def test_ndcg_binary_relevance():
    # Hits at ranks 2 and 3 of two relevant: (1/log2 3 + 1/log2 4) / (1 + 1/log2 3)
    expected = (1 / math.log2(3) + 0.5) / (1 + 1 / math.log2(3))
    assert ndcg_at_k(["x", "a", "b"], {"a", "b"}, 10) == pytest.approx(expected)
    assert ndcg_at_k(["a", "b"], {"a", "b"}, 10) == pytest.approx(1.0)
    # Only the first k count; the ideal is capped at k too.
    assert ndcg_at_k(["x", "a"], {"a", "b", "c"}, 1) == 0.0
    assert ndcg_at_k(["a", "x"], {"a", "b", "c"}, 1) == 1.0


def test_dedupe_keeps_best_rank():
    assert dedupe(["d1", "d2", "d1", "d3", "d2"]) == ["d1", "d2", "d3"]


def test_token_f1_locomo_normalisation():
    assert token_f1("The adoption agencies.", "adoption agencies") == 1.0
    # pred {went, to, paris}, gold {paris}: P=1/3, R=1 → F1 = 0.5
    assert token_f1("went to Paris", "Paris") == pytest.approx(0.5)
    assert token_f1("nothing", "Paris") == 0.0
    assert token_f1("", "Paris") == 0.0
    # Stemmed: "painting" and "paints" meet at "paint".
    assert token_f1("painting", "paints") == 1.0


def test_paired_bootstrap_constant_difference_has_a_point_interval():
    diff, low, high = paired_bootstrap([0.0, 0.5, 1.0], [0.2, 0.7, 1.2])
    assert diff == pytest.approx(0.2) and low == pytest.approx(0.2) and high == pytest.approx(0.2)


def test_paired_bootstrap_interval_brackets_the_mean_and_is_seeded():
    a = [0, 0, 0, 0, 1, 1, 1, 1, 0, 1]
    b = [1, 0, 1, 0, 1, 1, 1, 0, 1, 1]
    diff, low, high = paired_bootstrap(a, b)
    assert diff == pytest.approx(0.2)
    assert low < diff < high and low > -0.3 and high < 0.7
    assert paired_bootstrap(a, b) == (diff, low, high)
    with pytest.raises(ValueError):
        paired_bootstrap([1.0], [1.0, 2.0])


def test_win_tie_loss():
    assert win_tie_loss([0, 1, 0.5, 0.5], [1, 0, 0.5, 0.6]) == (2, 1, 1)
