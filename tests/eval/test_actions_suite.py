"""Predicted needs on real tau-retail tasks: a floor under the measured accuracy, so a
regression in the needs rules turns CI red."""

from statistics import fmean

from eval import actions_suite
from tests.conftest import RETAIL

# Measured on all 19 dev tasks with a need: top1 1.00, top3 1.00 (train: 500/500), typed
# and by the mapping alike; one miss of 19 is 0.947.
TOP1_FLOOR = 0.94
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


def test_actions_on_the_store_by_its_mapping(tmp_path):
    """The same tasks on the store imported by its mapping: a record's actions, what its
    status allows, and what the mapping's `instead` says a wish is meanwhile (a return
    asked before delivery is a cancellation; an exchange, a change). Measured on dev: top1
    1.00, top3 1.00 (0.84 / 0.95 before `instead` and the order actions are asked in, 0.95
    / 0.95 before "refund" named the return: a question about when asks for no action);
    train 500/500."""
    from eval.cli import _retail_run
    from eval.config import load_config
    from profiles.mapping import RETAIL_MAPPING

    cases = actions_suite.load_cases(RETAIL / "tasks_dev.json")
    _run, c = _retail_run(
        actions_suite.SUITE,
        tmp_path / "out",
        load_config(None),
        RETAIL,
        tmp_path / "data",
        True,
        RETAIL_MAPPING,
    )
    per_case = [actions_suite.rapport_scorer(c.assistant)(case) for case in cases]
    top1 = fmean(x.metrics["top1"] for x in per_case)
    top3 = fmean(x.metrics["top3"] for x in per_case)
    print("MAPPED ACTIONS", top1, top3)
    assert top1 >= TOP1_FLOOR and top3 >= TOP3_FLOOR, [x.detail for x in per_case]


def test_gold_types_come_from_the_action_names():
    cases = actions_suite.load_cases(RETAIL / "tasks_train.json")
    kinds = {k for c in cases for k in c.gold}
    assert kinds <= {"cancel", "modify", "address_change", "return", "exchange", "escalate"}
    assert len(cases) == 500
