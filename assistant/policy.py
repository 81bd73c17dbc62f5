"""The decide stage: rules that say what a turn may use and whether a human takes over."""

from __future__ import annotations

import re

from assistant.types import Decision
from profiles.context import CustomerCard

_HUMAN_RE = re.compile(
    r"\b(human|real person|live agent|an agent|representative|speak to someone|talk to someone)\b",
    re.IGNORECASE,
)
_SENSITIVE_RE = re.compile(
    r"\b(lawyer|lawsuit|legal action|sue|fraud|stolen|hacked|unauthori[sz]ed|chargeback)\b",
    re.IGNORECASE,
)
_UPSET_RE = re.compile(
    r"\b(angry|furious|unacceptable|terrible|ridiculous|disappointed|frustrat\w*|upset)\b",
    re.IGNORECASE,
)


def decide(card: CustomerCard, message: str) -> Decision:
    """Apply the turn rules in order; each rule that fires is named in the trace."""
    d = Decision()
    d.use_profile = card.allows("personalization")
    d.use_history = card.allows("history")
    d.trace.append(
        f"consent: personalization={'yes' if d.use_profile else 'no'}, "
        f"history={'yes' if d.use_history else 'no'}"
    )
    if _HUMAN_RE.search(message):
        d.handoff, d.handoff_reason = True, "customer asked for a human"
        d.trace.append("handoff.explicit_request")
    elif _SENSITIVE_RE.search(message):
        d.handoff, d.handoff_reason = True, "legal or security topic"
        d.trace.append("handoff.sensitive_topic")
    if _UPSET_RE.search(message):
        d.tone = "empathetic, calm and concise; acknowledge the frustration first"
        d.trace.append("tone.empathetic")
    return d
