"""Run cases through a scorer with a progress bar, journaling each result so a run resumes."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol, TypeVar

from assistant.console import progress
from eval.report import CaseScore


class Case(Protocol):
    @property
    def id(self) -> str: ...


C = TypeVar("C", bound=Case)


def run_cases(
    cases: Sequence[C],
    score: Callable[[C], CaseScore],
    label: str,
    journal: Path | None = None,
    digest: str = "",
) -> list[CaseScore]:
    """Score every case, in order. With a journal file, cases already scored under the same
    digest (the variant and data) are read back instead of run again, and each new score is
    appended as soon as it is known, so an interrupted run picks up where it stopped."""
    done: dict[str, CaseScore] = {}
    if journal is not None:
        done = _read_journal(journal, digest)
        journal.parent.mkdir(parents=True, exist_ok=True)
        if not done:
            journal.write_text(json.dumps({"digest": digest}) + "\n", encoding="utf-8")
    results: list[CaseScore] = []
    with progress(label, len(cases)) as advance:
        for case in cases:
            result = done.get(case.id)
            if result is None:
                result = score(case)
                if journal is not None:
                    with journal.open("a", encoding="utf-8") as fh:
                        fh.write(result.model_dump_json() + "\n")
            results.append(result)
            advance(1)
    return results


def _read_journal(path: Path, digest: str) -> dict[str, CaseScore]:
    if not path.is_file():
        return {}
    lines = path.read_text(encoding="utf-8").splitlines()
    if not lines or json.loads(lines[0]).get("digest") != digest:
        return {}
    done = {}
    for line in lines[1:]:
        try:
            result = CaseScore.model_validate_json(line)
        except ValueError:
            break  # a line cut short by an interrupted write ends the usable journal
        done[result.id] = result
    return done
