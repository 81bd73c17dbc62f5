"""Saved reports round-trip, render offline, and compare case by case."""

import json

import pytest

from eval.compare import compare, markdown
from eval.config import load_config
from eval.report import CaseScore, build_report, load_report, write_report


def _report(system, values, suite="kb"):
    cases = [
        CaseScore(id=f"c{i}", category="a" if i % 2 else "b", metrics={"recall@10": v}, ms={"x": i})
        for i, v in enumerate(values)
    ]
    return build_report(suite, system, {"knobs": {}}, cases)


def test_report_averages_overall_and_per_category_and_writes_three_files(tmp_path):
    r = _report("rapport", [1.0, 0.0, 0.5, 0.5])
    assert r.metrics == {"recall@10": 0.5}
    assert r.by_category["a"] == {"recall@10": 0.25, "cases": 2.0}
    assert r.latency_ms["p50"] == 1.5
    write_report(r, tmp_path)
    data = json.loads((tmp_path / "report.json").read_text())
    assert {"suite", "cases", "config", "metrics", "per_case"} <= data.keys()
    assert load_report(tmp_path / "report.json") == r
    page = (tmp_path / "report.html").read_text()
    assert "data:image/png;base64," in page and "http" not in page.split("<body>")[1]
    assert "| recall@10 | 0.5000 |" in (tmp_path / "report.md").read_text()


def test_compare_pairs_by_case_id(tmp_path):
    a = _report("A", [0.0, 0.0, 1.0, 1.0])
    b = _report("B", [1.0, 0.0, 1.0, 0.0, 1.0])  # c4 only in B
    result = compare(a, b)
    assert result.paired_cases == 4 and result.only_b == 1
    (d,) = result.metrics
    assert (d.a, d.b, d.diff) == (0.5, 0.5, 0.0)
    assert (d.wins, d.ties, d.losses) == (1, 2, 1)
    assert d.ci_low <= 0 <= d.ci_high
    assert "| recall@10 |" in markdown(result)
    with pytest.raises(ValueError, match="different suites"):
        compare(a, _report("C", [1.0], suite="history"))


def test_load_report_rejects_other_json(tmp_path):
    p = tmp_path / "r.json"
    p.write_text('{"x": 1}')
    with pytest.raises(ValueError, match="not a Rapport eval report"):
        load_report(p)


def test_variant_config_splits_settings_and_knobs(tmp_path):
    p = tmp_path / "v.yaml"
    p.write_text("kb_top_k: 9\nkb_docs: 10\n")
    cfg = load_config(p)
    assert cfg.settings == {"kb_top_k": 9} and cfg.knobs.kb_docs == 10
    resolved = cfg.resolved(tmp_path)
    assert resolved["settings"]["kb_top_k"] == 9 and "openai_api_key" not in resolved["settings"]
    assert cfg.digest() != load_config(None).digest()
    p.write_text("kb_topk: 9\n")
    with pytest.raises(ValueError, match="unknown keys kb_topk"):
        load_config(p)
    p.write_text("kb_top_k: 0\n")
    with pytest.raises(ValueError, match="kb_top_k"):
        load_config(p)


def test_a_run_reads_back_only_what_the_same_code_scored(tmp_path, monkeypatch):
    """A journal is read back when the variant and the code are the same; a run into the
    folder of an earlier one after a change to the code scores every case again (it read
    the earlier scores back, and a change looked like it changed nothing)."""
    from types import SimpleNamespace

    from eval import config
    from eval.runner import run_cases

    scored: list[str] = []

    def score(case):
        scored.append(case.id)
        return CaseScore(id=case.id, metrics={"x": 1.0})

    cases = [SimpleNamespace(id="a"), SimpleNamespace(id="b")]
    journal = tmp_path / ".journal" / "s.jsonl"
    cfg = load_config(None)
    run_cases(cases, score, "s", journal, cfg.digest())
    run_cases(cases, score, "s", journal, cfg.digest())
    assert scored == ["a", "b"]  # read back: the same code
    assert len(config.code_version()) == 12
    monkeypatch.setattr(config, "code_version", lambda: "another-code")
    run_cases(cases, score, "s", journal, cfg.digest())
    assert scored == ["a", "b", "a", "b"]
