"""Experiment statistics, the report from stored turns and feedback, CLI and admin API."""

import pytest
from scipy import stats

from assistant.experiment_report import experiment_report, mean_ci, report_markdown, wilson
from profiles.experiments import TurnOutcome, variant_of


def test_wilson_interval_matches_the_textbook_values():
    e = wilson(8, 10)  # Wilson 95% for 8/10: 0.4902 – 0.9433
    assert (e.value, e.low, e.high) == (
        0.8,
        pytest.approx(0.4902, abs=1e-4),
        pytest.approx(0.9433, abs=1e-4),
    )
    zero = wilson(0, 20)
    assert zero.low == 0 and 0.15 < zero.high < 0.17
    assert wilson(0, 0).value is None


def test_mean_interval_uses_student_t():
    e = mean_ci([1, 2, 3, 4, 5])
    half = stats.t.ppf(0.975, 4) * stats.tstd([1, 2, 3, 4, 5]) / 5**0.5
    assert e.value == 3 and e.low == pytest.approx(3 - half, abs=1e-4)


def outcomes(variant, n, resolved, rating, handoffs=0):
    return [
        TurnOutcome(
            turn_id=f"{variant}{i}",
            customer_id=f"c{variant}{i}",
            variant=variant,
            handoff=i < handoffs,
            resolved=i < resolved,
            rating=rating(i),
        )
        for i in range(n)
    ]


def test_a_large_difference_is_significant_and_a_small_one_is_not():
    big = outcomes("a", 200, 80, lambda i: 2 + i % 2) + outcomes("b", 200, 150, lambda i: 4 + i % 2)
    r = experiment_report("x", big, ["a", "b"])
    tests = {t.metric: t for t in r.tests}
    assert tests["resolution_rate"].significant and tests["resolution_rate"].p_value < 1e-6
    assert tests["mean_rating"].test == "welch-t" and tests["mean_rating"].significant
    expected = stats.chi2_contingency([[80, 120], [150, 50]])
    assert tests["resolution_rate"].statistic == pytest.approx(expected.statistic, abs=1e-3)
    assert "not enough data" in tests["handoff_rate"].note  # no variant handed off
    small = outcomes("a", 30, 15, lambda i: 3 + i % 2) + outcomes("b", 30, 17, lambda i: 3 + i % 2)
    assert not experiment_report("x", small).tests[0].significant
    va = r.variants[0]
    assert (va.variant, va.turns, va.resolution_rate.value) == ("a", 200, 0.4)


def test_declared_variants_without_turns_are_listed():
    r = experiment_report("x", outcomes("a", 3, 1, lambda i: 5), ["a", "b", "c"])
    assert [v.variant for v in r.variants] == ["a", "b", "c"] and r.variants[2].turns == 0
    assert "| c | 0 | 0 | –" in report_markdown(r)


def test_variant_labels_parse_per_experiment():
    assert variant_of("a=x;b=y", "b") == "y" and variant_of("a=x", "b") is None
    assert variant_of(None, "a") is None and variant_of("ab=x", "a") is None
