"""Precision and recall of the PII detectors on a labelled set of strings.

    python -m eval.pii --cases eval/data/pii_cases.jsonl

Each line of the cases file is {"text": ..., "pii": [{"kind": "EMAIL", "value": ...}]};
a case with no pii is a negative (order ids, item ids, prices, dates...). A labelled value
is found when a detected span of its kind covers all of it; a detected span that covers
no labelled value of its kind is a false positive. Prints one JSON report."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pydantic import BaseModel, ValidationError

from assistant.redact import KINDS, PiiKind, Span, find

DEFAULT_CASES = Path(__file__).parent / "data" / "pii_cases.jsonl"


class Label(BaseModel):
    kind: PiiKind
    value: str


class PiiCase(BaseModel):
    text: str
    pii: list[Label] = []


class KindScore(BaseModel):
    labelled: int
    detected: int
    tp: int
    fp: int
    fn: int
    precision: float | None
    recall: float | None
    f1: float | None


class PiiReport(BaseModel):
    cases: int
    negatives: int
    per_kind: dict[str, KindScore]
    overall: KindScore
    misses: list[str]  # "KIND: value" not found
    false_positives: list[str]  # "KIND: text" detected where nothing of that kind is labelled


def load_cases(path: Path) -> list[PiiCase]:
    """The cases in `path`; ValueError naming the file and line when one is malformed."""
    if not path.is_file():
        raise ValueError(f"no PII cases file at {path}")
    cases = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            case = PiiCase.model_validate_json(line)
        except ValidationError as exc:
            raise ValueError(f"{path}:{n}: {exc.errors()[0]['msg']}") from exc
        for label in case.pii:
            if label.value not in case.text:
                raise ValueError(f"{path}:{n}: {label.value!r} is not in the text")
        cases.append(case)
    return cases


def _score(tp: int, fp: int, fn: int) -> KindScore:
    precision = tp / (tp + fp) if tp + fp else None
    recall = tp / (tp + fn) if tp + fn else None
    f1 = (
        2 * precision * recall / (precision + recall)
        if precision is not None and recall is not None and precision + recall
        else None
    )
    r = lambda x: None if x is None else round(x, 4)  # noqa: E731
    return KindScore(
        labelled=tp + fn,
        detected=tp + fp,
        tp=tp,
        fp=fp,
        fn=fn,
        precision=r(precision),
        recall=r(recall),
        f1=r(f1),
    )


def evaluate(cases: list[PiiCase]) -> PiiReport:
    """Per-kind and overall precision, recall and F1 of `assistant.redact.find`."""
    counts = {k: [0, 0, 0] for k in KINDS}  # tp, fp, fn
    misses: list[str] = []
    false_positives: list[str] = []
    for case in cases:
        spans = find(case.text)
        gold = []
        for label in case.pii:
            start = case.text.index(label.value)
            gold.append((label.kind, start, start + len(label.value)))
        matched: set[Span] = set()
        for kind, start, end in gold:
            hit = [s for s in spans if s.kind == kind and s.start <= start and s.end >= end]
            if hit:
                counts[kind][0] += 1
                matched.update(hit)
            else:
                counts[kind][2] += 1
                misses.append(f"{kind}: {case.text[start:end]}")
        for s in spans:
            overlaps_gold = any(
                k == s.kind and s.start < e and b < s.end for k, b, e in gold
            )  # a span that overlaps its gold only partly is a miss, not also a false positive
            if s not in matched and not overlaps_gold:
                counts[s.kind][1] += 1
                false_positives.append(f"{s.kind}: {s.text}")
    per_kind = {k: _score(*v) for k, v in counts.items()}
    total = [sum(v[i] for v in counts.values()) for i in range(3)]
    return PiiReport(
        cases=len(cases),
        negatives=sum(1 for c in cases if not c.pii),
        per_kind=per_kind,
        overall=_score(*total),
        misses=misses,
        false_positives=false_positives,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=Path, default=DEFAULT_CASES, help="JSONL of cases.")
    args = parser.parse_args(argv)
    try:
        cases = load_cases(args.cases)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(evaluate(cases).model_dump_json(indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
