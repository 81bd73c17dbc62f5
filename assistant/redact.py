"""Finding personal data in text, and replacing it by placeholders that can be put back.

Detectors: emails (regex), phone numbers (Google's libphonenumber via `phonenumbers`),
payment card numbers (Luhn-checked with `python-stdnum`), IBANs (checksum-validated with
`python-stdnum`), US social security numbers (`python-stdnum`) and street addresses
(number, street name and a USPS street suffix, with the unit, city, state and ZIP that
follow). Retail identifiers the assistant needs — order ids like #W5442520, 10-digit item
ids, 12-digit tracking ids, user ids, ZIP codes alone, prices, dates — are not personal
data and are left alone."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Literal

import phonenumbers
from stdnum import iban, luhn
from stdnum.us import ssn

PiiKind = Literal["EMAIL", "PHONE", "CARD", "IBAN", "SSN", "ADDRESS"]
KINDS: tuple[PiiKind, ...] = ("EMAIL", "PHONE", "CARD", "IBAN", "SSN", "ADDRESS")


@dataclass(frozen=True, order=True)
class Span:
    """One piece of personal data in a text: [start, end) and its kind."""

    start: int
    end: int
    kind: PiiKind
    text: str


# The patterns start with a lookahead on the first character of a match: it changes no
# match and lets `re` skip the positions no match starts at, instead of testing a \b, a
# lookbehind or every alternative there (3x faster for addresses on a whole prompt).
# Emails are looked for only in text with an "@".
_EMAIL_RE = re.compile(
    r"(?<![\w.+'-])[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b"
)

# 13 to 19 digits, together or in the groups cards are printed in (4-4-4-4(-3), 4-6-5).
_CARD_RE = re.compile(
    r"(?=\d)(?<![\w#.,-])(?:\d{4}([ -])\d{4}\1\d{4}\1\d{1,4}(?:\1\d{3})?"
    r"|\d{4}([ -])\d{6}\2\d{4,5}|\d{13,19})(?![\w.,]\d|[\w-])"
)
_CARD_PREFIXES = ("2", "3", "4", "5", "6")  # Mastercard 2-series, Amex/Diners, Visa, MC, Discover

_IBAN_RE = re.compile(r"(?=[A-Z])\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b")
_SSN_RE = re.compile(r"(?=\d)(?<![\w-])\d{3}-\d{2}-\d{4}(?![\w-])")

# USPS street suffixes most addresses use (Publication 28, common forms and abbreviations).
_SUFFIXES = (
    "Street|St|Avenue|Ave|Av|Road|Rd|Drive|Dr|Lane|Ln|Boulevard|Blvd|Court|Ct|Place|Pl|"
    "Terrace|Ter|Way|Parkway|Pkwy|Highway|Hwy|Circle|Cir|Square|Sq|Trail|Trl|Crescent|Cres|"
    "Close|Row|Alley|Aly|Loop|Path|Pike|Plaza|Plz|Expressway|Expy|Freeway|Fwy|Grove|"
    "Gardens|Heights|Hts|Mews|Walk"
)
_WORD = r"(?:[A-Z][A-Za-z'.-]*|\d+(?:st|nd|rd|th))"
_STREET = (
    rf"\b\d{{1,6}}[A-Za-z]?\s+(?:(?:N|S|E|W|NE|NW|SE|SW|North|South|East|West)\.?\s+)?"
    rf"(?:(?:{_WORD}\s+){{1,4}}(?:{_SUFFIXES})\b\.?|Broadway\b)"
    rf"(?:\s+(?:N|S|E|W|NE|NW|SE|SW)\b\.?)?"
)
# Continental forms: "Hauptstraße 5", "Calle Mayor 10", "Rue de Rivoli 12", then a postcode.
_STREET_EU = (
    r"\b(?:[A-ZÄÖÜ][a-zäöüß]+(?:straße|strasse|str\.|weg|gasse|platz|allee|damm|ring)"
    r"|(?:Calle|Avenida|Paseo|Rue|Avenue|Boulevard|Via|Viale|Piazza|Rua|Plaza)"
    r"(?:\s+(?:de|del|de la|des|du|della|do|da)?\s*[A-Z][\w'-]+){1,3})"
    r"\s+\d{1,4}[a-z]?\b(?:,\s*\d{4,5}\s+[A-Z][\w-]+(?:\s+[A-Z][\w-]+)?)?"
)
_POBOX = r"\bP\.?\s?O\.?\s+Box\s+\d{1,6}\b"
_UNIT = r"(?:,?\s+(?:Suite|Ste\.?|Apt\.?|Apartment|Unit|Floor|Fl\.?|Room|#)\s*[A-Za-z0-9-]{1,6}\b)"
# city words, but not a two-letter state that follows them ("Austin TX 78701")
_CITY = r"(?:,\s*[A-Z][A-Za-z.'-]*(?:\s+(?![A-Z]{2}\b)[A-Z][A-Za-z.'-]*){0,3})"
_STATE_ZIP = r"(?:,?\s+[A-Z]{2}(?:,?\s+\d{5}(?:-\d{4})?)?\b)"
_LEADING_UNIT = r"(?:\b(?:Apt\.?|Apartment|Flat|Unit|Suite)\s*[A-Za-z0-9-]{1,6},?\s+)"
_ADDRESS_RE = re.compile(
    rf"(?=[A-ZÄÖÜ]|\d)(?:{_STREET_EU}|{_LEADING_UNIT}?(?:{_STREET}|{_POBOX}){_UNIT}?"
    rf"(?:{_CITY}{_STATE_ZIP}?)?(?:,\s*(?:USA|US|United States)\b)?)"
)

# Regions whose national formats are read besides international (+CC) numbers.
PHONE_REGIONS = ("US", "GB", "DE", "FR", "IN")
_PHONE_CONTEXT = re.compile(r"(?i)\b(?:phone|tel|telephone|mobile|cell|call|text|sms|whatsapp)\b")


def _emails(text: str) -> Iterator[Span]:
    if "@" not in text:
        return
    for m in _EMAIL_RE.finditer(text):
        yield Span(m.start(), m.end(), "EMAIL", m.group())


def is_card_number(digits: str) -> bool:
    """Whether these digits are a payment card's number: a card network's first digit and
    a valid Luhn checksum (so a 16-digit reference is not a card)."""
    return digits.startswith(_CARD_PREFIXES) and luhn.is_valid(digits)


def _cards(text: str) -> Iterator[Span]:
    for m in _CARD_RE.finditer(text):
        digits = re.sub(r"\D", "", m.group())
        if is_card_number(digits):
            yield Span(m.start(), m.end(), "CARD", m.group())


def _ibans(text: str) -> Iterator[Span]:
    for m in _IBAN_RE.finditer(text):
        candidate = m.group()
        # The pattern may have taken a following word in capitals: shrink until valid.
        while len(candidate) >= 15:
            if iban.is_valid(candidate):
                yield Span(m.start(), m.start() + len(candidate), "IBAN", candidate)
                break
            candidate = candidate[:-1].rstrip()


def _ssns(text: str) -> Iterator[Span]:
    for m in _SSN_RE.finditer(text):
        if ssn.is_valid(m.group()):
            yield Span(m.start(), m.end(), "SSN", m.group())


def _addresses(text: str) -> Iterator[Span]:
    for m in _ADDRESS_RE.finditer(text):
        yield Span(m.start(), m.end(), "ADDRESS", m.group())


# Runs of digits and phone punctuation: libphonenumber reads only these (it costs ~50 ms
# on a whole prompt, well under 1 ms on its candidates).
_PHONE_CANDIDATE_RE = re.compile(r"(?=[+(]|\d)[+(]?\d[\d ().\-/]{4,24}\d")


def _phones(text: str) -> Iterator[Span]:
    for c in _PHONE_CANDIDATE_RE.finditer(text):
        chunk = c.group()
        if sum(ch.isdigit() for ch in chunk) < 7:  # prices, short counts: no phone is shorter
            continue
        # A bare run of digits is an item or tracking id unless the text calls it a phone.
        if chunk.isdigit() and not _PHONE_CONTEXT.search(text, max(0, c.start() - 24), c.start()):
            continue
        seen: set[tuple[int, int]] = set()
        for region in PHONE_REGIONS:
            for m in phonenumbers.PhoneNumberMatcher(chunk, region, phonenumbers.Leniency.VALID):
                raw, start = m.raw_string, m.start
                if raw.startswith("(") and raw.count("(") > raw.count(")"):
                    raw, start = raw[1:], start + 1  # "(+1 646 ...)": the bracket is the text's
                if (start, m.end) in seen:
                    continue
                seen.add((start, m.end))
                yield Span(c.start() + start, c.start() + m.end, "PHONE", raw)


_DETECTORS = (_emails, _ibans, _cards, _ssns, _phones, _addresses)


def find(text: str) -> list[Span]:
    """The personal data in `text`, in order, without overlaps (earlier detectors win)."""
    spans: list[Span] = []
    for detect in _DETECTORS:
        for s in detect(text):
            if not any(s.start < o.end and o.start < s.end for o in spans):
                spans.append(s)
    return sorted(spans)


def _replace(text: str, spans: Iterable[Span], label: Callable[[Span], str]) -> str:
    out, pos = [], 0
    for s in spans:
        out.append(text[pos : s.start])
        out.append(label(s))
        pos = s.end
    out.append(text[pos:])
    return "".join(out)


def mask(text: str) -> str:
    """`text` with each piece of personal data replaced by its kind, e.g. `<EMAIL>`."""
    return _replace(text, find(text), lambda s: f"<{s.kind}>")


_PLACEHOLDER_RE = re.compile(r"<(" + "|".join(KINDS) + r")_(\d{1,4})>")
_PARTIAL_RE = re.compile(r"<(?:[A-Z]{0,7}(?:_\d{0,4})?)?$")


def _key(span: Span) -> str:
    """The value a placeholder stands for, normalised so one email or card spelled two
    ways gets one placeholder."""
    if span.kind == "EMAIL":
        return "EMAIL:" + span.text.lower()
    if span.kind in ("PHONE", "CARD", "SSN", "IBAN"):
        return f"{span.kind}:" + re.sub(r"[^0-9A-Z]", "", span.text.upper())
    return "ADDRESS:" + " ".join(span.text.split()).lower()


@dataclass
class Redactor:
    """Stable placeholders for one exchange: the same value always becomes the same
    `<KIND_n>`, and `restore` puts the original text back."""

    _by_key: dict[str, str] = field(default_factory=dict)
    _values: dict[str, str] = field(default_factory=dict)
    _counts: dict[str, int] = field(default_factory=dict)

    def _placeholder(self, span: Span) -> str:
        key = _key(span)
        if key not in self._by_key:
            n = self._counts.get(span.kind, 0) + 1
            self._counts[span.kind] = n
            token = f"<{span.kind}_{n}>"
            self._by_key[key] = token
            self._values[token] = span.text
        return self._by_key[key]

    def redact(self, text: str, spans: Iterable[Span] | None = None) -> str:
        """`text` with personal data replaced by placeholders; `spans` are `find(text)`
        when the caller has them already."""
        return _replace(text, find(text) if spans is None else spans, self._placeholder)

    def restore(self, text: str) -> str:
        """`text` with this redactor's placeholders replaced by the original values;
        placeholders it did not issue are left as they are."""
        return _PLACEHOLDER_RE.sub(lambda m: self._values.get(m.group(), m.group()), text)

    @property
    def placeholders(self) -> dict[str, str]:
        """Placeholder → original value."""
        return dict(self._values)

    def restoring(self, pieces: Iterable[str]) -> Iterator[str]:
        """`pieces` of a streamed reply with placeholders restored, holding back only the
        tail that could be the start of a placeholder split across pieces."""
        held = ""
        for piece in pieces:
            held += piece
            partial = _PARTIAL_RE.search(held)
            cut = partial.start() if partial else len(held)
            ready, held = held[:cut], held[cut:]
            if ready:
                yield self.restore(ready)
        if held:
            yield self.restore(held)
