"""A generator wrapper that keeps personal data out of prompts sent to a remote model."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from functools import lru_cache

from assistant.generators.base import Generator
from assistant.redact import Redactor, Span, find
from assistant.types import Composed, Generation, Source
from prompts.loader import pairs_text

KB_FINDINGS = 4096  # KB passages whose personal-data findings are remembered


def redacted(
    composed: Composed,
    redactor: Redactor,
    kb_find: Callable[[str], Sequence[Span]] = find,
) -> Composed:
    """A copy of `composed` whose prompt text, messages and sources carry placeholders
    instead of emails, phone numbers, card numbers, addresses and the like.

    `kb_find` finds the personal data in a KB passage's text (`find`, or a memo of it:
    the KB is the same for every customer); every other text is searched here."""
    messages = [(role, redactor.redact(text)) for role, text in composed.messages]
    # The prompt text is the messages joined: joined again from the redacted ones rather
    # than searched a second time.
    if composed.text == pairs_text(composed.messages):
        text = pairs_text(messages)
    else:
        text = redactor.redact(composed.text)
    return composed.model_copy(
        update={
            "messages": messages,
            "text": text,
            "message": redactor.redact(composed.message),
            "card": composed.card.model_copy(
                update={"email": redactor.redact(composed.card.email or "") or None}
            ),
            "sources": [
                Source(
                    **{
                        **s.model_dump(),
                        "text": redactor.redact(
                            s.text, kb_find(s.text) if s.kind == "kb" else None
                        ),
                    }
                )
                for s in composed.sources
            ],
        }
    )


class RedactingGenerator:
    """Sends `inner` the composed prompt with personal data replaced by stable placeholders
    (`<EMAIL_1>`, `<PHONE_1>`, ...) and puts the real values back in its reply, whole or
    streamed. Keeps `inner`'s name: the model that wrote the reply is still `inner`.

    What it finds in KB passages is remembered (by text, the `KB_FINDINGS` most recent);
    placeholders are still numbered afresh for each turn."""

    def __init__(self, inner: Generator, kb_findings: int = KB_FINDINGS) -> None:
        self.inner = inner
        self.name = inner.name
        self._kb_find = lru_cache(maxsize=kb_findings)(_findings)

    def generate(self, composed: Composed) -> Generation:
        redactor = Redactor()
        generation = self.inner.generate(redacted(composed, redactor, self._kb_find))
        return generation.model_copy(update={"text": redactor.restore(generation.text)})

    def stream(self, composed: Composed) -> Iterator[str]:
        redactor = Redactor()
        yield from redactor.restoring(
            self.inner.stream(redacted(composed, redactor, self._kb_find))
        )


def _findings(text: str) -> tuple[Span, ...]:
    return tuple(find(text))
