"""The saved report of one run: typed cases and scores, written as JSON, Markdown and HTML."""

from __future__ import annotations

import base64
import html
import io
import json
import statistics
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from eval.metrics import percentile


class CaseScore(BaseModel):
    """One case's scores; `metrics` hold the per-case values the run's metrics average."""

    id: str
    category: str | None = None
    metrics: dict[str, float]
    ms: dict[str, float] = Field(default_factory=dict)  # latency per stage
    detail: dict[str, Any] = Field(default_factory=dict)  # what was retrieved, what was missing


class Report(BaseModel):
    """A run of one suite by one system (the pipeline, or a named baseline)."""

    suite: str
    system: str = "rapport"  # "rapport" or "baseline:<name>"
    cases: int
    config: dict[str, Any]
    metrics: dict[str, float]
    by_category: dict[str, dict[str, float]] = Field(default_factory=dict)
    latency_ms: dict[str, float] = Field(default_factory=dict)  # p50/p95 of the case total
    baselines: dict[str, dict[str, float]] = Field(default_factory=dict)
    created_at: str = Field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    per_case: list[CaseScore]


def build_report(
    suite: str,
    system: str,
    config: dict[str, Any],
    per_case: Sequence[CaseScore],
    extra: dict[str, float] | None = None,
) -> Report:
    """Average every per-case metric overall and per category; summarise latency."""
    names = sorted({m for c in per_case for m in c.metrics})
    metrics = {m: _mean(c.metrics[m] for c in per_case if m in c.metrics) for m in names}
    metrics.update(extra or {})
    by_category: dict[str, dict[str, float]] = {}
    for cat in sorted({c.category for c in per_case if c.category is not None}):
        group = [c for c in per_case if c.category == cat]
        by_category[cat] = {
            m: _mean(c.metrics[m] for c in group if m in c.metrics) for m in names
        } | {"cases": float(len(group))}
    totals = [sum(c.ms.values()) for c in per_case if c.ms]
    latency = (
        {"p50": round(percentile(totals, 50), 2), "p95": round(percentile(totals, 95), 2)}
        if totals
        else {}
    )
    return Report(
        suite=suite,
        system=system,
        cases=len(per_case),
        config=config,
        metrics=metrics,
        by_category=by_category,
        latency_ms=latency,
        per_case=list(per_case),
    )


def _mean(values: Iterable[float]) -> float:
    vals = list(values)
    return round(statistics.fmean(vals), 4) if vals else 0.0


def load_report(path: Path) -> Report:
    """A report.json written by write_report; ValueError naming the path if it is not one."""
    if not path.is_file():
        raise ValueError(f"no report at {path}")
    try:
        return Report.model_validate_json(path.read_text(encoding="utf-8"))
    except ValidationError as exc:
        raise ValueError(f"{path} is not a Rapport eval report: {exc.errors()[0]['msg']}") from exc


def write_report(report: Report, out: Path) -> None:
    """Write out/report.json, out/report.md and out/report.html (plots inline, offline)."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(report.model_dump_json(indent=2) + "\n", encoding="utf-8")
    (out / "report.md").write_text(markdown(report), encoding="utf-8")
    (out / "report.html").write_text(html_page(report), encoding="utf-8")


def _table(rows: list[list[str]]) -> str:
    head, *body = rows
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(r) + " |" for r in body]
    return "\n".join(lines)


def _fmt(x: float) -> str:
    return f"{x:.4f}" if abs(x) < 10 else f"{x:.1f}"


def _metric_rows(report: Report) -> list[list[str]]:
    systems = {report.system: report.metrics, **report.baselines}
    names = list(report.metrics)
    rows = [["metric", *systems]]
    for m in names:
        rows.append([m, *(_fmt(s[m]) if m in s else "–" for s in systems.values())])
    return rows


def markdown(report: Report) -> str:
    """The report for people: headline metrics (and baselines), categories, latency, config."""
    parts = [
        f"# Rapport eval: {report.suite} ({report.system})",
        f"{report.cases} cases, {report.created_at}",
        "## Metrics",
        _table(_metric_rows(report)),
    ]
    if report.by_category:
        names = [m for m in report.metrics if m in next(iter(report.by_category.values()))]
        rows = [["category", "cases", *names]]
        for cat, vals in report.by_category.items():
            rows.append([cat, str(int(vals["cases"])), *(_fmt(vals[m]) for m in names)])
        parts += ["## By category", _table(rows)]
    if report.latency_ms:
        parts += [
            "## Latency per case (ms)",
            ", ".join(f"{k} {v}" for k, v in report.latency_ms.items()),
        ]
    config = json.dumps(report.config, indent=2, default=str)
    parts += ["## Config", f"```json\n{config}\n```"]
    return "\n\n".join(parts) + "\n"


def _png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def plots(report: Report) -> list[tuple[str, str]]:
    """(title, base64 PNG) pairs: metrics by category and the latency distribution."""
    import matplotlib

    matplotlib.use("Agg")  # no display, no browser assets: the PNGs go inline
    import matplotlib.pyplot as plt

    out: list[tuple[str, str]] = []
    if report.by_category:
        names = [m for m in report.metrics if m in next(iter(report.by_category.values()))][:4]
        cats = list(report.by_category)
        fig, ax = plt.subplots(figsize=(7, 3.2))
        width = 0.8 / max(1, len(names))
        for i, m in enumerate(names):
            xs = [j + i * width for j in range(len(cats))]
            ax.bar(xs, [report.by_category[c][m] for c in cats], width, label=m)
        ax.set_xticks([j + 0.4 - width / 2 for j in range(len(cats))], cats)
        ax.set_ylim(0, 1)
        ax.legend(fontsize=8)
        out.append(("Metrics by category", _png(fig)))
        plt.close(fig)
    totals = [sum(c.ms.values()) for c in report.per_case if c.ms]
    if totals:
        fig, ax = plt.subplots(figsize=(7, 3.2))
        ax.hist(totals, bins=30)
        ax.set_xlabel("ms per case")
        ax.set_ylabel("cases")
        out.append(("Latency distribution", _png(fig)))
        plt.close(fig)
    return out


def html_page(report: Report) -> str:
    """A self-contained HTML page: the tables of the Markdown report and inline PNG plots."""
    esc = html.escape
    rows = _metric_rows(report)
    table = "<table><tr>" + "".join(f"<th>{esc(h)}</th>" for h in rows[0]) + "</tr>"
    for r in rows[1:]:
        table += "<tr>" + "".join(f"<td>{esc(c)}</td>" for c in r) + "</tr>"
    table += "</table>"
    images = "".join(
        f"<h2>{esc(title)}</h2><img alt='{esc(title)}' src='data:image/png;base64,{data}'>"
        for title, data in plots(report)
    )
    config = esc(json.dumps(report.config, indent=2, default=str))
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>Rapport eval: {esc(report.suite)}</title>"
        "<style>body{font-family:sans-serif;max-width:900px;margin:2em auto}"
        "td,th{padding:2px 10px;text-align:right}th:first-child,td:first-child{text-align:left}"
        "</style></head><body>"
        f"<h1>Rapport eval: {esc(report.suite)} ({esc(report.system)})</h1>"
        f"<p>{report.cases} cases, {esc(report.created_at)}; latency "
        f"{esc(json.dumps(report.latency_ms))}</p>"
        f"{table}{images}<h2>Config</h2><pre>{config}</pre></body></html>\n"
    )
