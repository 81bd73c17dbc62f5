"""Loads prompt template files and renders them through LangChain."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from langchain_core.messages import BaseMessage
from langchain_core.prompts import ChatPromptTemplate

PROMPT_DIR = Path(__file__).parent
_ROLES = {"system", "human", "ai"}


class PromptError(ValueError):
    """A template file is missing or does not declare what it uses."""


@dataclass(frozen=True)
class PromptTemplate:
    """A named, versioned chat template with its declared variables."""

    name: str
    version: int
    variables: tuple[str, ...]
    template: ChatPromptTemplate

    @property
    def id(self) -> str:
        return f"{self.name}.v{self.version}"

    def render(self, **values: str) -> list[BaseMessage]:
        """The chat messages, with every declared variable filled; unknown names are refused."""
        missing = set(self.variables) - values.keys()
        extra = values.keys() - set(self.variables)
        if missing or extra:
            raise PromptError(f"{self.id}: missing {sorted(missing)}, unexpected {sorted(extra)}")
        return list(self.template.format_messages(**values))


def load_prompt(prompt_id: str, directory: Path = PROMPT_DIR) -> PromptTemplate:
    """Load `<name>.v<version>` from `directory`; declared and used variables must agree."""
    path = directory / f"{prompt_id}.yaml"
    if not path.is_file():
        raise PromptError(f"no prompt template {prompt_id!r} in {directory}")
    spec: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    messages = []
    for m in spec["messages"]:
        if m["role"] not in _ROLES:
            raise PromptError(f"{path.name}: unknown role {m['role']!r}")
        messages.append((m["role"], m["template"].rstrip("\n")))
    template = ChatPromptTemplate.from_messages(messages)
    declared = tuple(spec["input_variables"])
    if set(template.input_variables) != set(declared):
        raise PromptError(
            f"{path.name}: declares {sorted(declared)} but uses {sorted(template.input_variables)}"
        )
    return PromptTemplate(spec["name"], int(spec["version"]), declared, template)


def messages_text(messages: list[BaseMessage]) -> str:
    """The exact text sent to a chat model, one block per message with its role."""
    return pairs_text([(m.type, str(m.content)) for m in messages])


def pairs_text(messages: Iterable[tuple[str, str]]) -> str:
    """`messages_text` of (role, content) pairs, as `Composed.messages` holds them."""
    return "\n\n".join(f"[{role}]\n{content}" for role, content in messages)
