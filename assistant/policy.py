"""The decide stage: a YAML rule file says what a turn may use, how it should read, and
whether a human takes over; every rule that fires is traced with the inputs it read.

Consent is not a rule in the file: a purpose the customer did not grant is never used,
whatever the rules say."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from assistant.signals import (
    SIGNAL_NAMES,
    BusinessHours,
    TurnSignals,
    turn_signals,
)
from assistant.types import Decision, ReplyStyle, Retrieved, RuleHit, TurnRequest
from profiles.context import CustomerCard, CustomerContext
from profiles.expressions import Expression, RuleFileError, compile_expression, read_rule_file
from profiles.relevance import Vocabulary

log = logging.getLogger("rapport.policy")

DEFAULT_POLICY_FILE = Path(__file__).parent / "rules" / "policy.yaml"
FACT_GROUPS = frozenset({"other_records", "products", "profile", "history"})
_LENGTHS = frozenset({"short", "normal", "full"})
_RULE_KEYS = frozenset(
    {
        *("id", "when", "handoff", "urgent", "tone", "style", "deny_facts", "never_mention"),
        "max_personal_facts",
    }
)


@dataclass(frozen=True)
class Rule:
    id: str
    when: Expression
    handoff: str | None = None
    urgent: bool = False  # its handoff goes first in the agents' queue
    tone: str | None = None
    length: str | None = None
    deny_facts: tuple[str, ...] = ()
    never_mention: tuple[str, ...] = ()
    max_personal_facts: int | None = None


@dataclass(frozen=True)
class Policy:
    """A loaded, checked policy file."""

    rules: tuple[Rule, ...]
    topics: Vocabulary
    sentiment: Vocabulary
    hours: BusinessHours
    greetings: dict[str, str]
    tone: str = "friendly and concise"
    max_personal_facts: int = 3
    never_mention: tuple[str, ...] = ()
    source: str = ""

    @classmethod
    def load(cls, path: Path | None = None) -> Policy:
        """Read and check a policy file; RuleFileError naming the file and the rule."""
        path = path or DEFAULT_POLICY_FILE
        raw = read_rule_file(path, "policy", "rules")
        where = f"policy file {path}"
        defaults = raw.get("defaults") or {}
        hours = raw.get("business_hours") or {}
        try:
            business = BusinessHours(
                int(hours.get("start", 9)),
                int(hours.get("end", 18)),
                tuple(str(d).lower()[:3] for d in hours.get("days", BusinessHours.days)),
                _zone(hours.get("timezone"), where),
            )
            max_facts = int(defaults.get("max_personal_facts", 3))
        except (TypeError, ValueError) as exc:
            raise RuleFileError(f"{where}: business_hours or defaults: {exc}") from exc
        rules = tuple(
            _rule(entry, f"{where}: rule {i + 1}") for i, entry in enumerate(raw["rules"])
        )
        ids = [r.id for r in rules]
        if len(set(ids)) != len(ids):
            raise RuleFileError(f"{where}: rule ids must be unique")
        return cls(
            rules=rules,
            topics=_lexicon(raw.get("topics"), f"{where}: topics"),
            sentiment=_lexicon(raw.get("sentiment"), f"{where}: sentiment"),
            hours=business,
            greetings={str(k): str(v) for k, v in (raw.get("greetings") or {"en": "Hi"}).items()},
            tone=str(defaults.get("tone", "friendly and concise")),
            max_personal_facts=max_facts,
            never_mention=tuple(str(a) for a in defaults.get("never_mention", [])),
            source=str(path),
        )

    def signals(
        self,
        request: TurnRequest,
        card: CustomerCard,
        ctx: CustomerContext,
        retrieved: Retrieved,
        now: datetime | None = None,
    ) -> TurnSignals:
        return turn_signals(
            request, card, ctx, retrieved, self.topics, self.sentiment, self.hours, now
        )

    def decide(self, card: CustomerCard, signals: TurnSignals) -> Decision:
        """Consent first, then every rule whose condition holds, in file order."""
        values = signals.values
        d = Decision(
            tone=self.tone,
            max_personal_facts=self.max_personal_facts,
            never_mention=list(self.never_mention),
            segments=list(values["segments"]),
        )
        d.use_profile = card.allows("personalization")
        d.use_history = card.allows("history")
        d.trace.append(
            RuleHit(
                rule="consent",
                inputs={"personalization": d.use_profile, "history": d.use_history},
            )
        )
        lang = values["language"]
        d.style = ReplyStyle(
            language=lang,
            greeting=self.greetings.get(lang, self.greetings.get("en", "Hi")),
            local_time=f"{signals.local:%H:%M}",
            business_hours=bool(values["business_hours"]),
            next_opening=None
            if values["business_hours"]
            else self.hours.next_opening(signals.local),
        )
        if not values["business_hours"]:
            day, time = self.hours.next_opening_parts(signals.local)
            d.style.next_opening_day, d.style.next_opening_time = day or None, time
        for rule in self.rules:
            try:
                fired = rule.when(values)
            except Exception as exc:  # noqa: BLE001 — a condition on a missing input is false
                log.debug("rule %s not evaluated: %s", rule.id, exc)
                continue
            if not fired:
                continue
            d.trace.append(RuleHit(rule=rule.id, inputs={n: values[n] for n in rule.when.names}))
            if rule.handoff and not d.handoff:
                d.handoff, d.handoff_reason, d.handoff_urgent = True, rule.handoff, rule.urgent
            if rule.tone:
                d.tone = rule.tone
            if rule.length:
                d.style.length = rule.length  # type: ignore[assignment]
            d.deny_facts.extend(g for g in rule.deny_facts if g not in d.deny_facts)
            d.never_mention.extend(a for a in rule.never_mention if a not in d.never_mention)
            if rule.max_personal_facts is not None:
                d.max_personal_facts = min(d.max_personal_facts, rule.max_personal_facts)
        return d


def _zone(name: Any, where: str) -> str | None:
    """The business's time zone, an IANA name ("America/Los_Angeles"), checked; None unset."""
    if name is None:
        return None
    try:
        ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError):
        raise RuleFileError(
            f"{where}: business_hours.timezone: not a time zone name (e.g. Europe/Madrid)"
        ) from None
    return str(name)


def _lexicon(raw: Any, where: str) -> Vocabulary:
    if raw is None:
        return Vocabulary.of({})
    if not isinstance(raw, dict):
        raise RuleFileError(f"{where}: expected a mapping of name to a list of words")
    entries: dict[str, list[str]] = {}
    for name, patterns in raw.items():
        if not isinstance(patterns, list) or not patterns:
            raise RuleFileError(f"{where}: {name!r} needs a non-empty list of words")
        entries[str(name)] = [str(p) for p in patterns]  # plain words match "a real preson"
    try:
        return Vocabulary.of(entries)
    except re.error as exc:  # names the entry's name
        raise RuleFileError(f"{where}: {exc}") from exc


def _rule(entry: Any, where: str) -> Rule:
    if not isinstance(entry, dict) or not {"id", "when"} <= entry.keys():
        raise RuleFileError(f"{where}: needs 'id' and 'when'")
    unknown = set(entry) - _RULE_KEYS
    if unknown:
        raise RuleFileError(f"{where} ({entry['id']}): unknown keys {sorted(unknown)}")
    rid = str(entry["id"])
    where = f"{where} ({rid})"
    style = entry.get("style") or {}
    length = style.get("length") if isinstance(style, dict) else None
    if length is not None and length not in _LENGTHS:
        raise RuleFileError(f"{where}: style.length must be one of {sorted(_LENGTHS)}")
    deny = tuple(str(g) for g in entry.get("deny_facts") or [])
    bad = set(deny) - FACT_GROUPS
    if bad:
        raise RuleFileError(
            f"{where}: unknown fact groups {sorted(bad)}; known {sorted(FACT_GROUPS)}"
        )
    cap = entry.get("max_personal_facts")
    urgent = entry.get("urgent", False)
    if not isinstance(urgent, bool) or (urgent and not entry.get("handoff")):
        raise RuleFileError(f"{where}: urgent is true or false, and says so of a handoff")
    return Rule(
        id=rid,
        when=compile_expression(str(entry["when"]), SIGNAL_NAMES, where),
        handoff=str(entry["handoff"]) if entry.get("handoff") else None,
        urgent=urgent,
        tone=str(entry["tone"]) if entry.get("tone") else None,
        length=length,
        deny_facts=deny,
        never_mention=tuple(str(a) for a in entry.get("never_mention") or []),
        max_personal_facts=int(cap) if cap is not None else None,
    )
