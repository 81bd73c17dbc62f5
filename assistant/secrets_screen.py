"""Secrets a customer types into the chat, removed before anything keeps or sends them.

Personal data such as an address may be what the customer wants us to use; a card
number, its security code, a password or a PIN never is, and support must never hold
them. A message is screened before it is stored (SQL, history vectors), embedded or put
in a prompt: card numbers keep their last four digits (enough to tell which card),
the rest is replaced whole. The reply tells the customer what was removed and not to
send it again (the reply catalogs' `secrets_removed`)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from assistant.redact import is_card_number

SecretKind = Literal["card", "cvv", "password", "pin"]
REMOVED = "[removed]"

# 13 to 19 digits, together or in groups split by spaces, dashes or dots, at most one
# separator between two digits ("4111.1111.1111.1111", "4111 1111 1111 1111"): wider than
# redaction's card pattern, which leaves dotted numbers alone; the same card check.
_CARD_RE = re.compile(r"(?<![\w.,-])\d(?:[ .\-]?\d){12,18}(?![\w-]|[.,]\d)")

_VALUE_MARK = r"(?:\s*(?:[:=#-]|is|was|es|est|ist|lautet|era|était|war)?\s*)"
_CVV_RE = re.compile(
    r"(?i)\b(?:cvv2?|cvc2?|cid|csc|security\s+code|card\s+code|c[oó]digo\s+de\s+seguridad|"
    r"cryptogramme(?:\s+visuel)?|pr[uü]fnummer|sicherheitscode)\b" + _VALUE_MARK + r"(\d{3,4})\b"
)
_PIN_RE = re.compile(r"(?i)\bpin(?:\s*(?:code|number|nummer))?\b" + _VALUE_MARK + r"(\d{4,8})\b")
_PASSWORD_WORDS = (
    r"pass\s*word|passwd|pwd|pw|passcode|contrase[nñ]a|clave|mot\s+de\s+passe|mdp|"
    r"passwort|kennwort"
)
# "password: x", "password = x": whatever follows is the password.
_PASSWORD_MARKED_RE = re.compile(
    r"(?i)\b(?:" + _PASSWORD_WORDS + r")\b\s*[:=]\s*[\"'“‘]?([^\s\"'”’]+)"
)
# "my password is Hunter2!", "password Hunter2!": a word shaped like a password follows
# (a digit, a symbol or a capital inside it), not "is wrong" or "doesn't work".
_PASSWORD_SAID_RE = re.compile(
    r"(?i)\b(?:" + _PASSWORD_WORDS + r")\b\s*(?:(?:is|was|es|est|ist|lautet|era|était|war)\s+)?"
    r"[\"'“‘]?([^\s\"'”’]{4,})"
)
_SHAPED = re.compile(r"\d|[^\w\s]|(?<=.)[A-Z]")


@dataclass(frozen=True)
class Screened:
    """A message with its secrets replaced, and which kinds were found (in order)."""

    text: str
    removed: list[SecretKind] = field(default_factory=list)


def screen(message: str) -> Screened:
    """The message with card numbers, security codes, passwords and PINs taken out."""
    spans: list[tuple[int, int, SecretKind, str]] = []
    for m in _CARD_RE.finditer(message):
        digits = re.sub(r"\D", "", m.group())
        if is_card_number(digits):
            spans.append(
                (m.start(), m.end(), "card", f"[card number removed, ending {digits[-4:]}]")
            )
    for pattern, kind in ((_CVV_RE, "cvv"), (_PIN_RE, "pin"), (_PASSWORD_MARKED_RE, "password")):
        for m in pattern.finditer(message):
            spans.append((m.start(1), m.end(1), kind, REMOVED))  # type: ignore[arg-type]
    for m in _PASSWORD_SAID_RE.finditer(message):
        if _SHAPED.search(m.group(1).rstrip(".,;?")):
            spans.append((m.start(1), m.end(1), "password", REMOVED))
    if not spans:
        return Screened(message)
    out, removed, at = [], [], 0
    for start, end, kind, label in sorted(spans):
        if start < at:  # overlapping detections: the first one already covers it
            continue
        out.append(message[at:start] + label)
        at = end
        if kind not in removed:
            removed.append(kind)
    out.append(message[at:])
    return Screened("".join(out), removed)
