"""The support suite's CI slice: realistic shopper messages through POST /v1/chat on the
demo data (store customers, the store policy and bank documents in the same index), with
the offline composer. Floors: what customers read must be true, in their voice and
language, from their own business; a regression in any of it turns CI red."""

from __future__ import annotations

from pathlib import Path

import pytest

from eval import support_suite as ss
from eval.report import build_report
from tests.api.conftest import identity
from tests.conftest import BANK_DOCS, RETAIL

PER_INTENT = 3
SEED = 20261203  # another draw than the dev runs; the CLI's --seed gives others


@pytest.fixture(scope="module")
def retail() -> ss.RetailData:
    return ss.read_retail(RETAIL)


def test_support_slice_meets_its_floors(client, retail: ss.RetailData, tmp_path: Path) -> None:
    cases = ss.build_cases(retail, per_intent=PER_INTENT, seed=SEED)
    scorer = ss.http_scorer(
        ss.http_sender(client),
        retail,
        lambda cid: identity(cid)["user_hash"],
        ss.bank_document_ids(BANK_DOCS),
    )
    per_case = [scorer(c) for c in cases]
    report = build_report(ss.SUITE, "rapport", {}, per_case, ss.totals(per_case))
    failed = {
        c.id: {k: v for k, v in c.detail.items() if k not in ("customer", "handoff")}
        for c in per_case
        if not c.metrics["pass"]
    }
    m = report.metrics
    # never: a false statement, staff wording, an internal label, another business's text
    assert m["false_statements_total"] == 0, failed
    assert m["staff_voice_total"] == 0, failed
    assert m["internal_labels_total"] == 0, failed
    assert m["other_business_total"] == 0, failed
    assert m["pass"] >= PASS_FLOOR, (m["pass"], failed)
    assert m["min_intent_pass"] >= INTENT_FLOOR, (report.by_category, failed)
    assert m["handoff_recall"] == 1.0 and m["handoff_precision"] >= 0.75, failed
    assert m["language_match"] >= 0.95, failed


PASS_FLOOR = 0.9
INTENT_FLOOR = 0.66


def test_the_store_by_its_mapping_meets_its_floors(tmp_path: Path) -> None:
    """The same suite on the store imported by `profiles/mappings/tau_retail.yaml` (the
    generic records path any business takes), through POST /v1/chat: nothing false, in
    the customer's language, and most of it answered. What it still misses is the order
    intents' plan on typed orders only ("and the other one?", a product never bought)."""
    from eval.cli import SupportCasesOpts, _support_run
    from eval.config import load_config
    from profiles.mapping import RETAIL_MAPPING

    _run, report = _support_run(
        tmp_path / "out",
        load_config(None),
        RETAIL,
        None,
        tmp_path / "data",
        True,
        SupportCasesOpts(file=None, per_intent=PER_INTENT, seed=SEED),
        RETAIL_MAPPING,
    )
    m = report.metrics
    print("MAPPED STORE", {k: v for k, v in m.items() if not k.endswith("_total")})
    failed = {c.id: c.detail.get("answer") for c in report.per_case if not c.metrics["pass"]}
    assert m["false_statements_total"] == 0, failed
    assert m["staff_voice_total"] == 0 and m["internal_labels_total"] == 0, failed
    assert m["language_match"] >= 0.95, failed
    assert m["pass"] >= MAPPED_PASS_FLOOR, (m["pass"], failed)


MAPPED_PASS_FLOOR = 0.8
