"""Predicted needs on real tau-retail tasks: a floor under the measured accuracy, so a
regression in the needs rules turns CI red."""

from statistics import fmean

from eval import actions_suite
from tests.conftest import RETAIL

# Measured on all 19 dev tasks with a need: top1 1.00, top3 1.00 (train: 500/500).
TOP1_FLOOR = 0.89
TOP3_FLOOR = 0.94


def test_actions_on_tau_retail_dev(make_container):
    cases = actions_suite.load_cases(RETAIL / "tasks_dev.json")
    assert len(cases) == 19 and all(c.gold for c in cases)
    score = actions_suite.rapport_scorer(make_container().assistant)
    per_case = [score(c) for c in cases]
    top1 = fmean(c.metrics["top1"] for c in per_case)
    top3 = fmean(c.metrics["top3"] for c in per_case)
    print("ACTIONS", top1, top3)
    assert top1 >= TOP1_FLOOR and top3 >= TOP3_FLOOR


def test_gold_types_come_from_the_action_names():
    cases = actions_suite.load_cases(RETAIL / "tasks_train.json")
    kinds = {k for c in cases for k in c.gold}
    assert kinds <= {"cancel", "modify", "address_change", "return", "exchange", "escalate"}
    assert len(cases) == 500
