"""The signals a turn's decision reads: what the message says, who the customer is, where
and when they write, and how well the knowledge base answers.

Every value is a label, a count or an id, never free text, so a decision trace built
from them carries no personal data."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from assistant.types import Retrieved, TurnRequest
from profiles.context import CustomerCard, CustomerContext
from profiles.features import FEATURE_NAMES
from profiles.relevance import NAMED_PRODUCT, TOKEN, Vocabulary, intents, words

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

SIGNAL_NAMES: tuple[str, ...] = (
    "topics",
    "sentiment",
    "intents",
    "named_statuses",
    "named_records",
    "confirmed_actions",
    "segments",
    "channel",
    "device",
    "language",
    "local_hour",
    "business_hours",
    "retrieval_confidence",
    "history_hits",
    "message_words",
    "consent_personalization",
    "consent_history",
    *FEATURE_NAMES,
)


@dataclass(frozen=True)
class BusinessHours:
    start: int = 9
    end: int = 18
    days: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri")
    # the business's IANA time zone: its hours are kept there; None, where the customer is
    zone: str | None = None

    def _here(self, t: datetime) -> datetime:
        """`t` on the business's clock (on the customer's, when it keeps no zone)."""
        return t.astimezone(ZoneInfo(self.zone)) if self.zone else t

    def open_at(self, t: datetime) -> bool:
        here = self._here(t)
        return _DAYS[here.weekday()] in self.days and self.start <= here.hour < self.end

    def next_opening(self, t: datetime) -> str:
        """'today 09:00', 'tomorrow 09:00' or 'Monday 09:00' from local time `t`."""
        day, time = self.next_opening_parts(t)
        return f"{day} {time}" if day else time

    def next_opening_parts(self, t: datetime) -> tuple[str, str]:
        """The next opening as (day word, "HH:MM"): 'today', 'tomorrow' or a weekday name
        ('' when none is open), told by the clock of `t` (the customer's local time), so
        each reply language can say it in its own words."""
        here = self._here(t)
        for ahead in range(8):
            day = here + timedelta(days=ahead)
            if _DAYS[day.weekday()] not in self.days:
                continue
            if ahead == 0 and here.hour >= self.start:
                continue
            opening = day.replace(hour=self.start, minute=0, second=0, microsecond=0)
            seen = opening.astimezone(t.tzinfo) if t.tzinfo else opening
            days = (seen.date() - t.date()).days
            label = ("today", "tomorrow")[days] if days < 2 else _DAY_NAMES[seen.weekday()]
            return label, f"{seen:%H:%M}"
        return "", f"{self.start:02d}:00"


def local_time(tz_name: str | None, now: datetime) -> datetime:
    """`now` in the given IANA zone; UTC when the zone is unknown."""
    try:
        return now.astimezone(ZoneInfo(tz_name or "UTC"))
    except (ZoneInfoNotFoundError, ValueError):
        return now.astimezone(UTC)


@dataclass(frozen=True)
class TurnSignals:
    """The inputs of the decision policy for one turn."""

    values: dict[str, Any]
    local: datetime

    def __getitem__(self, name: str) -> Any:
        return self.values[name]


def turn_signals(
    request: TurnRequest,
    card: CustomerCard,
    ctx: CustomerContext,
    retrieved: Retrieved,
    topics: Vocabulary,
    sentiment: Vocabulary,
    hours: BusinessHours,
    now: datetime | None = None,
) -> TurnSignals:
    """Signals from the message, the customer's context and the retrieval results."""
    message = request.message
    # the customer's clock; the business's when theirs is unknown
    local = local_time(request.timezone or card.timezone or hours.zone, now or datetime.now(UTC))
    # a record (order, account, booking …) the message names by id or by its kind
    named = [f for f in ctx.facts if f.kind == "record" and f.relevance >= NAMED_PRODUCT]
    tokens = TOKEN.findall(message.lower())
    moods = sentiment.found(message, tokens)
    # a complaint with a "thanks" is still a complaint
    mood = next((label for label in ("negative", "positive") if label in moods), "neutral")
    similarities = [p.similarity for p in retrieved.passages if p.similarity is not None]
    values: dict[str, Any] = {
        "topics": sorted(topics.found(message, tokens)),
        "sentiment": mood,
        "intents": sorted(intents(message)),
        "named_records": [f.id.removeprefix("record:") for f in named],
        "named_statuses": sorted({f.status for f in named if f.status}),
        # "yes, go ahead" to an action asked of a record before: "order:#W1 cancel"
        "confirmed_actions": [str(c) for c in ctx.confirmed],
        "segments": list(ctx.segments),
        "channel": request.channel,
        "device": request.device,
        "language": language_of(request.locale or card.locale),
        "local_hour": local.hour,
        "business_hours": hours.open_at(local),
        "retrieval_confidence": round(max(similarities), 3) if similarities else 0.0,
        "history_hits": len(retrieved.history),
        "message_words": len(words(message)),
        "consent_personalization": card.allows("personalization"),
        "consent_history": card.allows("history"),
    }
    features = ctx.features.values() if ctx.features is not None else {}
    for name in FEATURE_NAMES:
        values[name] = features.get(name)
    return TurnSignals(values, local)


def language_of(locale: str | None) -> str:
    """'es' for 'es-MX' or 'es_MX'; 'en' when unknown."""
    if not locale:
        return "en"
    return re.split(r"[-_]", locale.strip())[0].lower() or "en"
