"""Per-variant results of an experiment with confidence intervals and significance tests.

Rates (resolution among turns with a resolution answer, handoff among all turns) get
Wilson 95% intervals and a chi-square test of independence across variants; mean
ratings get t intervals and a Welch t-test (two variants) or one-way ANOVA (more)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from pydantic import BaseModel, Field
from scipy import stats
from sqlalchemy.engine import Engine

from assistant.agent.drafts import DraftStats, by_experiment_variant
from assistant.errors import NotFound
from assistant.experiments import Experiments
from profiles.experiments import TurnOutcome, experiment_outcomes
from profiles.inbox import InboxStore

Z95 = 1.959963984540054


class Estimate(BaseModel):
    value: float | None
    low: float | None
    high: float | None
    n: int


class VariantResult(BaseModel):
    variant: str
    turns: int
    customers: int
    resolution_rate: Estimate
    mean_rating: Estimate
    handoff_rate: Estimate


class Test(BaseModel):
    metric: str
    test: str
    statistic: float | None
    p_value: float | None
    significant: bool  # at alpha
    note: str = ""


class ExperimentReport(BaseModel):
    experiment: str
    alpha: float
    variants: list[VariantResult]
    tests: list[Test]
    simulated: bool = False  # outcomes were simulated, not given by customers
    # how agents used the drafts made under each variant (from their sent replies)
    drafts: dict[str, DraftStats] = Field(default_factory=dict)


def wilson(successes: int, n: int) -> Estimate:
    """A proportion with its Wilson score 95% interval (sound for small n and 0 or 1)."""
    if n == 0:
        return Estimate(value=None, low=None, high=None, n=0)
    p = successes / n
    denom = 1 + Z95**2 / n
    centre = (p + Z95**2 / (2 * n)) / denom
    half = Z95 * math.sqrt(p * (1 - p) / n + Z95**2 / (4 * n * n)) / denom
    return Estimate(
        value=round(p, 4), low=round(centre - half, 4), high=round(centre + half, 4), n=n
    )


def mean_ci(values: Sequence[float]) -> Estimate:
    """A mean with its Student-t 95% interval."""
    n = len(values)
    if n == 0:
        return Estimate(value=None, low=None, high=None, n=0)
    mean = sum(values) / n
    if n == 1:
        return Estimate(value=round(mean, 4), low=None, high=None, n=1)
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    half = float(stats.t.ppf(0.975, n - 1)) * sd / math.sqrt(n)
    return Estimate(
        value=round(mean, 4), low=round(mean - half, 4), high=round(mean + half, 4), n=n
    )


def _rate_test(metric: str, table: list[list[int]], alpha: float) -> Test:
    """Chi-square test of independence of a variants × {yes, no} table."""
    rows = [r for r in table if sum(r) > 0]
    if len(rows) < 2 or any(sum(col) == 0 for col in zip(*rows, strict=True)):
        return Test(
            metric=metric,
            test="chi-square",
            statistic=None,
            p_value=None,
            significant=False,
            note="not enough data: a variant or an outcome has no turns",
        )
    res = stats.chi2_contingency(rows)
    p = float(res.pvalue)
    return Test(
        metric=metric,
        test="chi-square",
        statistic=round(float(res.statistic), 4),
        p_value=round(p, 6),
        significant=p < alpha,
    )


def _mean_test(metric: str, groups: list[list[float]], alpha: float) -> Test:
    groups = [g for g in groups if len(g) >= 2]
    if len(groups) < 2:
        return Test(
            metric=metric,
            test="welch-t",
            statistic=None,
            p_value=None,
            significant=False,
            note="not enough data: fewer than two rated variants",
        )
    if len(groups) == 2:
        res = stats.ttest_ind(groups[0], groups[1], equal_var=False)
        name = "welch-t"
    else:
        res = stats.f_oneway(*groups)
        name = "anova"
    p = float(res.pvalue)
    if math.isnan(p):
        return Test(
            metric=metric,
            test=name,
            statistic=None,
            p_value=None,
            significant=False,
            note="no variance in ratings",
        )
    return Test(
        metric=metric,
        test=name,
        statistic=round(float(res.statistic), 4),
        p_value=round(p, 6),
        significant=p < alpha,
    )


def experiment_report(
    experiment_id: str,
    outcomes: Sequence[TurnOutcome],
    variants: Sequence[str] = (),
    alpha: float = 0.05,
    simulated: bool = False,
) -> ExperimentReport:
    """Per-variant resolution rate, mean rating and handoff rate, and the tests across them.
    `variants` fixes the order (declared variants with no turns are listed with n=0)."""
    names = list(dict.fromkeys([*variants, *sorted({o.variant for o in outcomes})]))
    results, resolution, handoff, ratings = [], [], [], []
    for name in names:
        group = [o for o in outcomes if o.variant == name]
        answered = [o for o in group if o.resolved is not None]
        solved = sum(1 for o in answered if o.resolved)
        handed = sum(1 for o in group if o.handoff)
        rated = [float(o.rating) for o in group if o.rating is not None]
        results.append(
            VariantResult(
                variant=name,
                turns=len(group),
                customers=len({o.customer_id for o in group}),
                resolution_rate=wilson(solved, len(answered)),
                mean_rating=mean_ci(rated),
                handoff_rate=wilson(handed, len(group)),
            )
        )
        resolution.append([solved, len(answered) - solved])
        handoff.append([handed, len(group) - handed])
        ratings.append(rated)
    return ExperimentReport(
        experiment=experiment_id,
        alpha=alpha,
        variants=results,
        tests=[
            _rate_test("resolution_rate", resolution, alpha),
            _mean_test("mean_rating", ratings, alpha),
            _rate_test("handoff_rate", handoff, alpha),
        ],
        simulated=simulated,
    )


def report_for(
    engine: Engine, experiments: Experiments, experiment_id: str, alpha: float = 0.05
) -> ExperimentReport:
    """The report of a declared experiment, or of one whose turns are still recorded."""
    outcomes = experiment_outcomes(engine, experiment_id)
    declared = experiments.get(experiment_id)
    if declared is None and not outcomes:
        raise NotFound("unknown experiment", subject=experiment_id)
    names = [v.name for v in declared.variants] if declared else []
    report = experiment_report(
        experiment_id, outcomes, names, alpha, simulated=any(o.simulated for o in outcomes)
    )
    report.drafts = by_experiment_variant(InboxStore(engine).replies(), experiment_id)
    return report


def report_markdown(report: ExperimentReport) -> str:
    """The report as a Markdown table for people."""

    def est(e: Estimate, pct: bool) -> str:
        if e.value is None:
            return "–"
        f = (lambda x: f"{100 * x:.1f}%") if pct else (lambda x: f"{x:.2f}")
        ci = f" [{f(e.low)}, {f(e.high)}]" if e.low is not None and e.high is not None else ""
        return f"{f(e.value)}{ci} (n={e.n})"

    lines = [f"# Experiment `{report.experiment}`", ""]
    if report.simulated:
        lines += [
            "**The outcomes in this report are simulated**, not given by customers: the "
            "turns ran through the real pipeline; ratings and resolutions were drawn at "
            "random with per-variant probabilities.",
            "",
        ]
    lines += [
        "| variant | turns | customers | resolution rate [95% CI] | mean rating [95% CI] | "
        "handoff rate [95% CI] |",
        "|---|---|---|---|---|---|",
    ]
    for v in report.variants:
        lines.append(
            f"| {v.variant} | {v.turns} | {v.customers} | {est(v.resolution_rate, True)} | "
            f"{est(v.mean_rating, False)} | {est(v.handoff_rate, True)} |"
        )
    lines += ["", f"Tests across variants (alpha {report.alpha}):", ""]
    for t in report.tests:
        if t.p_value is None:
            lines.append(f"- {t.metric}: {t.test}: {t.note}")
        else:
            verdict = "significant" if t.significant else "not significant"
            lines.append(
                f"- {t.metric}: {t.test} statistic {t.statistic}, p = {t.p_value:.4g} ({verdict})"
            )
    if report.drafts:
        lines += [
            "",
            "Drafts in the agent sidebar, as agents used them:",
            "",
            "| variant | agent replies | from a draft | acceptance | sent as is | "
            "mean edit (chars) |",
            "|---|---|---|---|---|---|",
        ]
        for name, d in report.drafts.items():
            edit = "–" if d.mean_edit_distance is None else f"{d.mean_edit_distance:.1f}"
            lines.append(
                f"| {name} | {d.replies} | {d.from_draft} | {d.acceptance:.2f} | "
                f"{d.sent_as_is:.2f} | {edit} |"
            )
    return "\n".join(lines) + "\n"
