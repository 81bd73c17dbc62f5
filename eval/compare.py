"""Paired A/B comparison of two saved reports of the same suite, case by case."""

from __future__ import annotations

from pydantic import BaseModel

from eval.metrics import paired_bootstrap, win_tie_loss
from eval.report import Report


class MetricDelta(BaseModel):
    metric: str
    a: float  # mean of A over the paired cases
    b: float
    diff: float  # mean of B − A
    ci_low: float  # 95% bootstrap interval of diff
    ci_high: float
    wins: int  # cases where B > A
    ties: int
    losses: int

    @property
    def significant(self) -> bool:
        return self.ci_low > 0 or self.ci_high < 0


class Comparison(BaseModel):
    suite: str
    a: str
    b: str
    paired_cases: int
    only_a: int
    only_b: int
    metrics: list[MetricDelta]


def compare(a: Report, b: Report, n_resamples: int = 2000, seed: int = 0) -> Comparison:
    """Match cases by id, then per metric: means, B − A with its 95% CI, win/tie/loss.

    Raises ValueError when the reports are of different suites or share no case."""
    if a.suite != b.suite:
        raise ValueError(f"reports are of different suites: {a.suite} and {b.suite}")
    a_cases = {c.id: c for c in a.per_case}
    b_cases = {c.id: c for c in b.per_case}
    shared = [i for i in a_cases if i in b_cases]
    if not shared:
        raise ValueError("the reports share no case id")
    names = [m for m in a_cases[shared[0]].metrics if m in b_cases[shared[0]].metrics]
    deltas = []
    for m in names:
        pairs = [
            (a_cases[i].metrics[m], b_cases[i].metrics[m])
            for i in shared
            if m in a_cases[i].metrics and m in b_cases[i].metrics
        ]
        xs, ys = [p[0] for p in pairs], [p[1] for p in pairs]
        diff, low, high = paired_bootstrap(xs, ys, n_resamples, seed)
        w, t, lo = win_tie_loss(xs, ys)
        deltas.append(
            MetricDelta(
                metric=m,
                a=round(sum(xs) / len(xs), 4),
                b=round(sum(ys) / len(ys), 4),
                diff=round(diff, 4),
                ci_low=round(low, 4),
                ci_high=round(high, 4),
                wins=w,
                ties=t,
                losses=lo,
            )
        )
    return Comparison(
        suite=a.suite,
        a=a.system,
        b=b.system,
        paired_cases=len(shared),
        only_a=len(a_cases) - len(shared),
        only_b=len(b_cases) - len(shared),
        metrics=deltas,
    )


def markdown(c: Comparison) -> str:
    lines = [
        f"# {c.suite}: B ({c.b}) vs A ({c.a}), {c.paired_cases} paired cases"
        + (f" ({c.only_a} only in A, {c.only_b} only in B)" if c.only_a or c.only_b else ""),
        "",
        "| metric | A | B | B − A | 95% CI | win/tie/loss |",
        "|---|---|---|---|---|---|",
    ]
    for d in c.metrics:
        mark = " *" if d.significant else ""
        lines.append(
            f"| {d.metric} | {d.a:.4f} | {d.b:.4f} | {d.diff:+.4f}{mark} | "
            f"[{d.ci_low:+.4f}, {d.ci_high:+.4f}] | {d.wins}/{d.ties}/{d.losses} |"
        )
    lines.append("\n`*`: the interval excludes 0.")
    return "\n".join(lines) + "\n"
