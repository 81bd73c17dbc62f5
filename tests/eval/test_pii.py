"""The PII detectors on the labelled set: floors just under the measured figures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval.pii import DEFAULT_CASES, evaluate, load_cases, main

# Measured on eval/data/pii_cases.jsonl (181 cases, 115 labelled values, 71 negatives).
FLOORS = {
    "overall": (0.97, 0.95),
    "EMAIL": (0.95, 0.90),
    "PHONE": (0.95, 0.95),
    "CARD": (0.95, 0.90),
    "IBAN": (0.95, 0.95),
    "ADDRESS": (0.95, 0.95),
}


def test_precision_and_recall_stay_above_their_floors():
    report = evaluate(load_cases(DEFAULT_CASES))
    assert report.cases >= 150 and report.negatives >= 50
    for kind, (precision, recall) in FLOORS.items():
        score = report.overall if kind == "overall" else report.per_kind[kind]
        assert score.precision is not None and score.precision >= precision, (kind, score)
        assert score.recall is not None and score.recall >= recall, (kind, score)


def test_no_retail_identifier_is_taken_for_pii():
    report = evaluate(load_cases(DEFAULT_CASES))
    for fp in report.false_positives:
        assert "#W" not in fp and "_" not in fp, fp  # order, user and payment ids


def test_scoring_counts_partial_cover_as_a_miss(tmp_path: Path):
    cases = tmp_path / "cases.jsonl"
    lines = [
        {"text": "mail me at a@b.io", "pii": [{"kind": "EMAIL", "value": "a@b.io"}]},
        # Detected as an address only up to "Road": the unit is left, so not covered.
        {
            "text": "at 12 Pine Road Lot 5",
            "pii": [{"kind": "ADDRESS", "value": "12 Pine Road Lot 5"}],
        },
        {"text": "item 6086499569 and card 4111111111111111", "pii": []},
    ]
    cases.write_text("\n".join(json.dumps(x) for x in lines))
    report = evaluate(load_cases(cases))
    assert report.per_kind["EMAIL"].recall == 1.0
    assert report.per_kind["ADDRESS"].tp == 0 and report.per_kind["ADDRESS"].fn == 1
    assert report.per_kind["ADDRESS"].fp == 0  # the partial span is a miss, not also an FP
    assert report.per_kind["CARD"].fp == 1 and report.per_kind["CARD"].precision == 0.0


def test_cli_prints_json_and_rejects_a_bad_file(tmp_path: Path, capsys):
    assert main(["--cases", str(DEFAULT_CASES)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out["per_kind"]) == {"EMAIL", "PHONE", "CARD", "IBAN", "SSN", "ADDRESS"}
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "x", "pii": [{"kind": "EMAIL", "value": "y@z.io"}]}\n')
    assert main(["--cases", str(bad)]) == 2
    assert "bad.jsonl:1" in capsys.readouterr().err
    with pytest.raises(ValueError, match="no PII cases file"):
        load_cases(tmp_path / "missing.jsonl")
