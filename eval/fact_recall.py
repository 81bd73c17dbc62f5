"""Context fact recall on τ-bench retail: are the ids a correct agent needs in the context?

    python -m eval.fact_recall --tasks ../shared/datasets/tau-retail/tasks_dev.json

Imports the tasks' data set (by its mapping, as the demo store loads) and its policy into
a scratch data dir on first use, then runs the pipeline's `prepare` (everything before
generation) for each task and counts the ground-truth ids present verbatim in the
assembled context."""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

from pydantic import BaseModel

from assistant.pipeline import Assistant
from assistant.settings import Settings
from assistant.types import TurnRequest
from assistant.wiring import Container
from eval.context_suite import load_data
from eval.tau_retail import RetailTask, load_tasks
from profiles.mapping import RETAIL_MAPPING, STORE_SEGMENTS


def prepare_container(data_dir: Path, retail_dir: Path, budget: int) -> Container:
    """A container on `data_dir`, with the retail data (by its packaged mapping, as the
    demo store loads) and policy loaded if not already."""
    settings = Settings(data_dir=data_dir, context_tokens=budget, segments_file=STORE_SEGMENTS)
    c = Container(settings)
    load_data(c, retail_dir, RETAIL_MAPPING)  # again when the mapping changes
    return c


class CaseResult(BaseModel):
    index: int
    customer_id: str
    gold: int
    found: int
    missing: list[str]
    tokens: int
    ms: float


class RecallReport(BaseModel):
    fact_recall: float | None
    cases: int
    gold_ids: int
    max_tokens: int
    mean_tokens: float
    p50_ms: float
    per_case: list[CaseResult]


def score(assistant: Assistant, tasks: list[RetailTask]) -> RecallReport:
    """Per-task and overall fact recall, context tokens and latency."""
    per_case = []
    for task in tasks:
        prepared = assistant.prepare(
            TurnRequest(customer_id=task.customer_id, message=task.message)
        )
        text = prepared.composed.text
        missing = [i for i in task.gold_ids if i not in text]
        per_case.append(
            CaseResult(
                index=task.index,
                customer_id=task.customer_id,
                gold=len(task.gold_ids),
                found=len(task.gold_ids) - len(missing),
                missing=missing,
                tokens=prepared.composed.context_tokens,
                ms=round(sum(prepared.timer.ms.values()), 1),
            )
        )
    gold = sum(c.gold for c in per_case)
    tokens = [c.tokens for c in per_case]
    return RecallReport(
        fact_recall=round(sum(c.found for c in per_case) / gold, 4) if gold else None,
        cases=len(per_case),
        gold_ids=gold,
        max_tokens=max(tokens, default=0),
        mean_tokens=round(statistics.mean(tokens), 1) if tokens else 0.0,
        p50_ms=round(statistics.median(c.ms for c in per_case), 1) if per_case else 0.0,
        per_case=per_case,
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", type=Path, required=True)
    ap.add_argument("--data", type=Path, help="tau-retail folder (default: the tasks' folder)")
    ap.add_argument("--data-dir", type=Path, default=Path("var/eval-tau-retail"))
    ap.add_argument("--budget", type=int, default=2000)
    ap.add_argument("--limit", type=int)
    ap.add_argument("--verbose", action="store_true", help="print per-case rows too")
    args = ap.parse_args(argv)
    try:
        tasks = load_tasks(args.tasks)[: args.limit]
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    retail = args.data or args.tasks.parent
    c = prepare_container(args.data_dir, retail, args.budget)
    report = score(c.assistant, tasks)
    if not args.verbose:
        report.per_case = [r for r in report.per_case if r.missing]
    print(report.model_dump_json(indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
