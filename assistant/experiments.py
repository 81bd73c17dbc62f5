"""Experiments: variants assigned per customer by a stable hash, applied to each turn.

Assignment needs no state: sha256("<experiment>:<customer>") picks the variant by its
weight, so every worker, restart and replay gives a customer the same variant."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from profiles.expressions import RuleFileError, read_rule_file

DEFAULT_EXPERIMENTS_FILE = Path(__file__).parent / "rules" / "experiments.yaml"
_VARIANT_KEYS = frozenset(
    {"name", "weight", "prompt_version", "kb_top_k", "history_top_k", "policy_file"}
)


@dataclass(frozen=True)
class Variant:
    name: str
    weight: float
    prompt_version: str | None = None
    kb_top_k: int | None = None
    history_top_k: int | None = None
    policy_file: Path | None = None


@dataclass(frozen=True)
class Experiment:
    id: str
    variants: tuple[Variant, ...]
    description: str = ""
    enabled: bool = True

    def bucket(self, customer_id: str) -> float:
        """Where the customer falls in [0, 1) for this experiment; stable everywhere."""
        digest = hashlib.sha256(f"{self.id}:{customer_id}".encode()).digest()
        return int.from_bytes(digest[:8], "big") / 2**64

    def assign(self, customer_id: str) -> Variant:
        total = sum(v.weight for v in self.variants)
        point = self.bucket(customer_id) * total
        upto = 0.0
        for v in self.variants:
            upto += v.weight
            if point < upto:
                return v
        return self.variants[-1]


@dataclass(frozen=True)
class Assignment:
    """The variants a customer is in and the settings they change for the turn."""

    variants: tuple[tuple[str, Variant], ...] = ()

    @property
    def label(self) -> str | None:
        """'exp=variant;exp2=variant', as recorded on the turn; None outside experiments."""
        return ";".join(f"{e}={v.name}" for e, v in self.variants) or None

    def value(self, name: str) -> Any:
        """The first assigned variant's setting `name`, or None."""
        for _, v in self.variants:
            if getattr(v, name) is not None:
                return getattr(v, name)
        return None


@dataclass(frozen=True)
class Experiments:
    experiments: tuple[Experiment, ...] = ()
    source: str = ""

    @classmethod
    def load(cls, path: Path | None = None) -> Experiments:
        """Read and check an experiments file; RuleFileError naming the entry."""
        path = path or DEFAULT_EXPERIMENTS_FILE
        entries = read_rule_file(path, "experiments", "experiments")["experiments"]
        out = [
            _experiment(e, f"experiments file {path}: experiment {i + 1}", path.parent)
            for i, e in enumerate(entries)
        ]
        ids = [e.id for e in out]
        if len(set(ids)) != len(ids):
            raise RuleFileError(f"experiments file {path}: experiment ids must be unique")
        return cls(tuple(out), str(path))

    def get(self, experiment_id: str) -> Experiment | None:
        return next((e for e in self.experiments if e.id == experiment_id), None)

    def assign(self, customer_id: str) -> Assignment:
        """The customer's variant in every enabled experiment."""
        return Assignment(
            tuple((e.id, e.assign(customer_id)) for e in self.experiments if e.enabled)
        )


def _experiment(entry: Any, where: str, base: Path) -> Experiment:
    if not isinstance(entry, dict) or not {"id", "variants"} <= entry.keys():
        raise RuleFileError(f"{where}: needs 'id' and 'variants'")
    where = f"{where} ({entry['id']})"
    raw_variants = entry["variants"]
    if not isinstance(raw_variants, list) or len(raw_variants) < 2:
        raise RuleFileError(f"{where}: needs at least two variants")
    variants = []
    for v in raw_variants:
        if not isinstance(v, dict) or "name" not in v:
            raise RuleFileError(f"{where}: every variant needs a 'name'")
        unknown = set(v) - _VARIANT_KEYS
        if unknown:
            raise RuleFileError(
                f"{where}: variant {v['name']!r} has unknown keys {sorted(unknown)}"
            )
        try:
            weight = float(v.get("weight", 1))
            kb = int(v["kb_top_k"]) if v.get("kb_top_k") is not None else None
            hist = int(v["history_top_k"]) if v.get("history_top_k") is not None else None
        except (TypeError, ValueError) as exc:
            raise RuleFileError(f"{where}: variant {v['name']!r}: {exc}") from exc
        if weight <= 0:
            raise RuleFileError(f"{where}: variant {v['name']!r} needs a positive weight")
        policy = v.get("policy_file")
        variants.append(
            Variant(
                name=str(v["name"]),
                weight=weight,
                prompt_version=str(v["prompt_version"]) if v.get("prompt_version") else None,
                kb_top_k=kb,
                history_top_k=hist,
                policy_file=(base / policy) if policy else None,
            )
        )
    names = [v.name for v in variants]
    if len(set(names)) != len(names):
        raise RuleFileError(f"{where}: variant names must be unique")
    return Experiment(
        id=str(entry["id"]),
        variants=tuple(variants),
        description=str(entry.get("description", "")),
        enabled=bool(entry.get("enabled", True)),
    )
