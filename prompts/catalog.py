"""Reply catalogs: the offline composer's per-intent templates, one file per language
(prompts/replies/<lang>.yaml)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from prompts.loader import PromptError

REPLIES_DIR = Path(__file__).parent / "replies"
LANGUAGES = ("en", "es", "fr", "de")
_REQUIRED = (
    "greeting",
    "missing_id",
    "record_action",
    "handoff",
    "cannot_answer",
)


@dataclass(frozen=True)
class ReplyCatalog:
    """One language's templates; `text` looks a dotted key up and fills it."""

    language: str
    entries: dict[str, Any]

    def text(self, key: str, **values: object) -> str:
        node: Any = self.entries
        for part in key.split("."):
            node = node[part]
        return str(node).format(**values)

    def join(self, parts: list[str], word: str = "and") -> str:
        """ "a, b and c" in the catalog's language (`word` is "and" or "or")."""
        if len(parts) <= 1:
            return "".join(parts)
        return ", ".join(parts[:-1]) + self.text(word) + parts[-1]

    def has(self, key: str) -> bool:
        node: Any = self.entries
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                return False
            node = node[part]
        return True


@lru_cache(maxsize=8)
def load_catalog(language: str) -> ReplyCatalog:
    """The catalog of `language`, English when there is none; PromptError for a bad file."""
    lang = language if language in LANGUAGES else "en"
    path = REPLIES_DIR / f"{lang}.yaml"
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise PromptError(f"reply catalog {path}: {exc}") from exc
    missing = [k for k in _REQUIRED if not isinstance(raw, dict) or k not in raw]
    if missing:
        raise PromptError(f"reply catalog {path}: missing {missing}")
    return ReplyCatalog(lang, raw)
