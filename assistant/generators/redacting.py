"""A generator wrapper that keeps personal data out of prompts sent to a remote model."""

from __future__ import annotations

from collections.abc import Iterator

from assistant.generators.base import Generator
from assistant.redact import Redactor
from assistant.types import Composed, Generation, Source


def redacted(composed: Composed, redactor: Redactor) -> Composed:
    """A copy of `composed` whose prompt text, messages and sources carry placeholders
    instead of emails, phone numbers, card numbers, addresses and the like."""
    return composed.model_copy(
        update={
            "messages": [(role, redactor.redact(text)) for role, text in composed.messages],
            "text": redactor.redact(composed.text),
            "message": redactor.redact(composed.message),
            "card": composed.card.model_copy(
                update={"email": redactor.redact(composed.card.email or "") or None}
            ),
            "sources": [
                Source(**{**s.model_dump(), "text": redactor.redact(s.text)})
                for s in composed.sources
            ],
        }
    )


class RedactingGenerator:
    """Sends `inner` the composed prompt with personal data replaced by stable placeholders
    (`<EMAIL_1>`, `<PHONE_1>`, ...) and puts the real values back in its reply, whole or
    streamed. Keeps `inner`'s name: the model that wrote the reply is still `inner`."""

    def __init__(self, inner: Generator) -> None:
        self.inner = inner
        self.name = inner.name

    def generate(self, composed: Composed) -> Generation:
        redactor = Redactor()
        generation = self.inner.generate(redacted(composed, redactor))
        return generation.model_copy(update={"text": redactor.restore(generation.text)})

    def stream(self, composed: Composed) -> Iterator[str]:
        redactor = Redactor()
        yield from redactor.restoring(self.inner.stream(redacted(composed, redactor)))
