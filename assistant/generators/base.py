"""The protocol every generator implements."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Protocol

from assistant.types import Composed, Generation

_CITE_RE = re.compile(r"\[(\d{1,3})\]")


class Generator(Protocol):
    """Produces a reply for a composed context, whole or as a stream of text pieces."""

    name: str

    def generate(self, composed: Composed) -> Generation:
        """The whole reply; raises GenerationFailed when it cannot produce one."""
        ...

    def stream(self, composed: Composed) -> Iterator[str]:
        """The reply in pieces as they are produced; raises GenerationFailed on failure."""
        ...


def cited_numbers(text: str, n_sources: int) -> list[int]:
    """Source numbers cited in `text` as [n], in first-seen order, only those that exist."""
    seen: list[int] = []
    for m in _CITE_RE.finditer(text):
        n = int(m.group(1))
        if 1 <= n <= n_sources and n not in seen:
            seen.append(n)
    return seen
