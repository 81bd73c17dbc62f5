"""The check stage: citations resolved to ids, leaked identifiers caught, handoff settled."""

from __future__ import annotations

import re

from assistant.types import Citation, Composed, Generation

# Identifiers that must never appear in a reply unless the context holds them.
_ID_RE = re.compile(r"#W\d{7}\b|\b(?:credit_card|gift_card|paypal)_\d+\b|\b[a-z]+_[a-z]+_\d{4}\b")


def citations(composed: Composed, generation: Generation) -> list[Citation]:
    """The sources the reply cites, in citation order."""
    by_n = {s.n: s for s in composed.sources}
    return [
        Citation(n=n, id=by_n[n].id, kind=by_n[n].kind, text=by_n[n].text)
        for n in generation.cited
        if n in by_n
    ]


def foreign_identifiers(composed: Composed, answer: str) -> list[str]:
    """Order, payment or customer ids in the answer that the context does not contain."""
    return sorted({m for m in _ID_RE.findall(answer) if m not in composed.text})


def personal_facts_stated(composed: Composed, generation: Generation) -> list[str]:
    """Ids of the customer's own facts (orders, products; not the profile card) the reply
    cites or names by order id."""
    stated = {c.id for c in citations(composed, generation) if c.kind in ("order", "product")}
    for oid in re.findall(r"#W\d{7}\b", generation.text):
        if f"order:{oid}" in {s.id for s in composed.sources}:
            stated.add(f"order:{oid}")
    return sorted(stated)


def never_mentioned(composed: Composed, answer: str) -> list[str]:
    """Denied attributes (`never_mention`) whose value appears in the answer."""
    card = composed.card
    values = {"email": card.email}
    return sorted(
        name
        for name in composed.decision.never_mention
        if values.get(name) and str(values[name]).lower() in answer.lower()
    )
