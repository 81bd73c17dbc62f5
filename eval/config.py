"""Variant configuration: a YAML file of Settings fields and retrieval knobs, resolved once."""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from assistant.settings import Settings
from profiles.files import first_error


class RetrievalKnobs(BaseModel):
    """Retrieval parameters a variant may change; the defaults are what the product runs."""

    model_config = ConfigDict(extra="forbid")

    kb_chunk_words: int = 180  # KnowledgeBase max_words
    kb_overlap_words: int = 30  # KnowledgeBase overlap_words
    kb_docs: int = 20  # documents ranked per KB query (chunks deduplicated in rank order)
    history_neighbour_weight: float = 0.35  # HistoryIndex neighbour_weight
    history_lexical_window: int = 2  # HistoryIndex lexical_window


class EvalConfig(BaseModel):
    """Settings overrides plus retrieval knobs, as a variant file states them."""

    settings: dict[str, Any] = {}
    knobs: RetrievalKnobs = RetrievalKnobs()

    def make_settings(self, data_dir: Path) -> Settings:
        """Settings for a run: the variant's fields, with the run's scratch data dir."""
        return Settings(**{**self.settings, "data_dir": data_dir})

    def resolved(self, data_dir: Path) -> dict[str, Any]:
        """Every setting and knob in force (secrets left out), for the saved report."""
        s = self.make_settings(data_dir).model_dump(mode="json", exclude={"openai_api_key"})
        return {"settings": s, "knobs": self.knobs.model_dump()}

    def digest(self) -> str:
        """A short hash of the variant and of the code it runs, so a resumed run only
        reuses cases scored by the same variant of the same code (a run into the folder of
        an earlier one, after a change, scores every case again)."""
        blob = json.dumps(self.model_dump(mode="json"), sort_keys=True, default=str)
        return hashlib.sha256(f"{blob}\x1e{code_version()}".encode()).hexdigest()[:12]


_SOURCE_SUFFIXES = frozenset({".py", ".yaml", ".yml", ".json", ".md", ".txt"})


@cache
def code_version() -> str:
    """A short hash of the product's own files (code, rules, prompts, evaluation), read
    once per process."""
    root = Path(__file__).resolve().parent.parent
    h = hashlib.sha256()
    for package in ("assistant", "profiles", "retrieval", "prompts", "eval"):
        for f in sorted((root / package).rglob("*")):
            if f.suffix in _SOURCE_SUFFIXES and "__pycache__" not in f.parts and f.is_file():
                h.update(f"{f.relative_to(root)}\x1e".encode())
                h.update(f.read_bytes())
    return h.hexdigest()[:12]


def load_config(path: Path | None) -> EvalConfig:
    """The variant in a YAML file (None: the defaults); ValueError naming any unknown key."""
    if path is None:
        return EvalConfig()
    if not path.is_file():
        raise ValueError(f"no config file at {path}")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ValueError(f"{path} is not valid YAML: {exc}".splitlines()[0]) from exc
    if not isinstance(raw, dict):
        raise ValueError(f"{path} should hold a mapping of setting names to values")
    settings_fields = set(Settings.model_fields)
    knob_fields = set(RetrievalKnobs.model_fields)
    unknown = sorted(set(raw) - settings_fields - knob_fields)
    if unknown:
        raise ValueError(f"{path}: unknown keys {', '.join(unknown)}")
    try:
        cfg = EvalConfig(
            settings={k: v for k, v in raw.items() if k in settings_fields},
            knobs=RetrievalKnobs(**{k: v for k, v in raw.items() if k in knob_fields}),
        )
        cfg.make_settings(Path("var"))  # validate the settings values now, not mid-run
    except ValidationError as exc:
        raise ValueError(f"{path}: {first_error(exc)}") from exc
    return cfg
