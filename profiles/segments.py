"""Customer segments declared in a YAML file as conditions over the customer's features."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from profiles.expressions import Expression, RuleFileError, compile_expression, read_rule_file
from profiles.features import FEATURE_NAMES, CustomerFeatures

DEFAULT_SEGMENTS_FILE = Path(__file__).with_name("segments.yaml")


@dataclass(frozen=True)
class Segment:
    name: str
    description: str
    when: Expression


@dataclass(frozen=True)
class Segments:
    """The segment definitions in force; `of(features)` names the ones a customer is in."""

    segments: tuple[Segment, ...]
    source: str

    @classmethod
    def load(cls, path: Path | None = None) -> Segments:
        """Read and check a segments file; RuleFileError naming the file and entry."""
        path = path or DEFAULT_SEGMENTS_FILE
        entries = read_rule_file(path, "segments", "segments")["segments"]
        out: list[Segment] = []
        for i, entry in enumerate(entries):
            where = f"{path}: segment {i + 1}"
            if not isinstance(entry, dict) or not {"name", "when"} <= entry.keys():
                raise RuleFileError(f"{where}: needs 'name' and 'when'")
            name = str(entry["name"])
            if any(s.name == name for s in out):
                raise RuleFileError(f"{where}: segment {name!r} is declared twice")
            expr = compile_expression(str(entry["when"]), FEATURE_NAMES, f"{where} ({name})")
            out.append(Segment(name, str(entry.get("description", "")), expr))
        return cls(tuple(out), str(path))

    def of(self, features: CustomerFeatures) -> list[str]:
        values = features.values()
        return [s.name for s in self.segments if s.when(values)]

    @property
    def names(self) -> list[str]:
        return [s.name for s in self.segments]
