"""The plan stage (`decide`'s answer plan): which intents a message carries, whether it is
about the customer's own records or the business's policy, which record an action asked
of several is meant for, and the move.

Which records a message concerns is the records' ranking (`profiles.context.record_facts`,
from their structured facts, never rendered text); what each allows is its kind's rules in
the business's mapping. Intent and reference words are data (rules/intents.yaml)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, cast

import yaml

from assistant.turn.types import (
    SOCIAL_INTENTS,
    AnswerPlan,
    IntentName,
    Move,
    PlannedIntent,
    RecordChoice,
)
from profiles.context import (
    FOLLOW_UP_WORDS,
    NONE_HELD,
    Fact,
    asks_its_own,
    figures,
    kind_phrase,
)
from profiles.expressions import RuleFileError
from profiles.relevance import (
    EXPLICIT_ID,
    HOW_LONG,
    HOW_TO,
    TOKEN,
    WHY,
    Vocabulary,
    plain_id,
    words,
    written_ids,
)

RULES = Path(__file__).resolve().parent.parent / "rules"
INTENTS_FILE = RULES / "intents.yaml"
RECORD_INTENTS = frozenset(
    {
        "where_is_order",
        "cancel",
        "return",
        "exchange",
        "change_address",
        "refund_status",
        "payment",
        "wrong_item",
    }
)
MOST_LISTED = 3  # records a reply lists for one intent
# a follow-up reads on from the customer's previous message, that one as it was read with
# up to this many before it ("how did I pay for it?", then "ok cancel it")
FOLLOWED_BACK = 2
# Intents that act on one of the customer's records, whether or not the message says "my".
ACTING_INTENTS = frozenset({"cancel", "return", "exchange", "change_address", "wrong_item"})


def _read(path: Path) -> dict[str, Any]:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise RuleFileError(f"rule file {path}: {exc}") from exc
    if not isinstance(raw, dict):
        raise RuleFileError(f"rule file {path}: expected a mapping")
    return raw


@dataclass(frozen=True)
class Lexicon:
    """Intent and reference patterns, every language merged. A plain entry also matches
    with one typo in a long word ("cacnel", "the otehr one"), as customers type."""

    intents: Vocabulary
    references: Vocabulary
    # per language: every intent entry of that language, to tell a short message's
    # language by the support words it uses ("wehre is my order" is English)
    by_language: Vocabulary
    # the same for social words only ("gracias", "bonjour"): enough alone to open a
    # conversation in that language
    social_by_language: Vocabulary

    @classmethod
    def load(cls, path: Path = INTENTS_FILE) -> Lexicon:
        raw = _read(path)
        try:
            entries = {
                str(name): [str(w) for ws in by_lang.values() for w in ws]
                for name, by_lang in raw["intents"].items()
            }
            ref_entries = {str(k): [str(w) for w in v] for k, v in raw["references"].items()}
            unknown = set(entries) - RECORD_INTENTS - SOCIAL_INTENTS - {"human", "recall"}
            if unknown:
                raise RuleFileError(f"intents file {path}: unknown intents {sorted(unknown)}")
            per_lang: dict[str, list[str]] = {}
            social: dict[str, list[str]] = {}
            for name, by_lang in raw["intents"].items():
                for lang, ws in by_lang.items():
                    per_lang.setdefault(str(lang), []).extend(str(w) for w in ws)
                    if name in SOCIAL_INTENTS:
                        social.setdefault(str(lang), []).extend(str(w) for w in ws)
            return cls(
                Vocabulary.of(entries),
                Vocabulary.of(ref_entries),
                Vocabulary.of(per_lang),
                Vocabulary.of(social),
            )
        except (KeyError, AttributeError, TypeError, re.error) as exc:
            raise RuleFileError(f"intents file {path}: {exc}") from exc

    def only(self, names: list[str]) -> Lexicon:
        """This lexicon recognising only the intents `names` (a business without orders
        uses none of the order intents); every word still tells a message's language."""
        unknown = set(names) - set(self.intents.phrases)
        if unknown:
            raise RuleFileError(f"unknown intents {sorted(unknown)}")
        return Lexicon(
            self.intents.only(names), self.references, self.by_language, self.social_by_language
        )

    def language_of(self, message: str, social_only: bool = False) -> str | None:
        """The one language whose support words (or social words only) the message uses,
        if exactly one does (written exactly, else with a typo)."""
        table = self.social_by_language if social_only else self.by_language
        tokens = TOKEN.findall(message.lower())
        found = table.found(message, tokens, typos=False) or table.found(message, tokens)
        return found[0] if len(found) == 1 else None

    def intents_in(self, message: str) -> list[str]:
        return self.intents.found(message)

    def references_in(self, message: str) -> set[str]:
        return set(self.references.found(message))


@lru_cache(maxsize=1)
def default_lexicon() -> Lexicon:
    return Lexicon.load()


_WHERE = re.compile(
    r"\b(?:where(?:'s|’s| is| are| r|s|'re)|d[oó]nde est[aá]n?|o[uù] (?:en )?est"
    r"|wo (?:ist|sind))\b",
    re.IGNORECASE,
)


_QUESTION = re.compile(
    r"\b(?:what|what's|whats|where|when|why|how|which|who|can|could|do|does|is|are|will|"
    r"qué|que|dónde|cuándo|cómo|por qué|quoi|où|quand|comment|pourquoi|was|wo|wann|wie|warum)\b",
    re.IGNORECASE,
)


def _unsocial(message: str, names: list[str], lex: Lexicon) -> str:
    """The message without its greeting, thanks or goodbye words."""
    for name in SOCIAL_INTENTS & set(names):
        message = lex.intents.phrases[name].pattern.sub(" ", message)
    return message


def _only_social(message: str, names: list[str], ids: list[str], lex: Lexicon) -> bool:
    if set(names) - SOCIAL_INTENTS or ids:
        return False
    rest = _unsocial(message, names, lex)
    # thanks and goodbyes run longer ("thank you so much for your help today")
    most = 8 if {"thanks", "goodbye"} & set(names) else 4
    return len(TOKEN.findall(rest)) <= most and "?" not in rest and not _QUESTION.search(rest)


def plan_turn(
    message: str,
    *,
    earlier: list[str] | None = None,
    language: str = "en",
    language_source: str = "locale",
    handoff: bool = False,
    lexicon: Lexicon | None = None,
    records: list[Fact] | None = None,
    id_patterns: Iterable[str] = (),
) -> AnswerPlan:
    """The answer plan for `message`; `earlier`, the customer's earlier messages of the
    conversation, oldest first; `records`, the customer's records of any kind ranked for
    the message (`record_facts`); `id_patterns`, how the business's ids of each kind are
    written (`CustomerContext.id_patterns`)."""
    lex = lexicon or default_lexicon()
    refs = lex.references_in(message)
    # an id written in the shape of the business's that is none of their records: never
    # theirs to be told about
    held = {plain_id(f.id.split(":", 2)[2]) for f in records or [] if f.id.startswith("record:")}
    unknown = [i for i in written_ids(message, id_patterns) if plain_id(i) not in held]
    names = lex.intents_in(message)
    # "hi, where is my order?" is about the order: social words count only alone, with
    # at most a few words besides and no question ("hello, I have a question" is social,
    # "hi what's your phone number" is not)
    # "hola, quiero bloquear mi tarjeta" names one of their records: not a greeting alone
    # (thanks and goodbyes stay social: "thanks, my card works now"; so does a greeting
    # alone, whatever the conversation was about)
    names_record = (
        not {"thanks", "goodbye"} & set(names)
        and len(TOKEN.findall(_unsocial(message, names, lex))) > 1
        and any(f.kind == "record" and f.relevance >= 1.0 for f in records or [])
    )
    if set(names) & SOCIAL_INTENTS and (
        names_record or not _only_social(message, names, unknown, lex)
    ):
        names = [n for n in names if n not in SOCIAL_INTENTS]
    # "where's my refund?" asks where the money is, not the parcel: where-is-my-order
    # stays only when something besides the "where" says so (shipped, tracking …)
    if (
        "where_is_order" in names
        and {"refund_status", "payment"} & set(names)
        and "where_is_order" not in lex.intents_in(_WHERE.sub(" ", message))
    ):
        names = [n for n in names if n != "where_is_order"]
    about_records = bool(
        unknown
        or refs & {"self", "other", "previous", "recent", "open"}
        # "I'd like to cancel an order" acts on one of theirs, unless asked as policy
        or (set(names) & ACTING_INTENTS and "policy" not in refs)
    )
    if not names and unknown:
        names = ["where_is_order"]
    plan = AnswerPlan(
        language=language,
        language_source=cast(Any, language_source),
        # the plan itself answers of their records only an id that is not theirs; what
        # they hold the records' ranking answers
        about_records=about_records and bool(unknown),
        about_policy="policy" in refs or (bool(names) and not about_records),
    )
    for name in names or ["other"]:
        intent = PlannedIntent(name=cast(IntentName, name))
        if name in RECORD_INTENTS and plan.about_records:
            intent.missing = unknown
        plan.intents.append(intent)
    plan.choose = record_choice(message, records or [])
    plan.action_text = _action_text(message, earlier[-1] if earlier else None, records or [])
    move: Move = "answer"
    if handoff or "human" in names:
        move = "handoff"
    elif plan.choose is not None:
        move = "clarify"
    plan.move = move
    return plan


NAMED_ALIKE = 0.5  # records ranked this close are named alike by the message
# "did you get my request to close my card?": about something asked before, not an
# action asked now
_ASKED_BEFORE = re.compile(
    r"^\W*(?:(?:hi|hey|hello)\W+)?(?:did|have|has|had|was|were|what happened|any (?:news|update)"
    r"|(?:ya )?(?:han|ha)\b|avez-vous|as-tu|haben sie|hast du|wurde)\b",
    re.IGNORECASE,
)


def _named(records: list[Fact]) -> list[Fact]:
    """The records the message names (by kind, value or id), best first."""
    return sorted(
        (
            f
            for f in records
            if f.kind == "record" and f.relevance >= 1.0 and not f.id.startswith(NONE_HELD)
        ),
        key=lambda f: -f.relevance,
    )


def best_named(records: list[Fact]) -> list[Fact]:
    """The records the message names best, and those named alike (within NAMED_ALIKE of
    the best), best first: the ones a reply reads."""
    named = _named(records)
    return [f for f in named if f.relevance > named[0].relevance - NAMED_ALIKE] if named else []


def _action_text(message: str, previous: str | None, records: list[Fact]) -> str:
    """The text whose actions the reply answers (`AnswerPlan.action_text`): the message,
    or for a short follow-up that asks none, `previous` when that asked one."""
    lowered = message.lower()
    if not previous or len(words(message)) >= FOLLOW_UP_WORDS:
        return lowered
    named = _named(records)
    actions = [a for f in named for a in f.actions]
    if any(a.asked_in(lowered) for a in actions) or asks_its_own(message, named):
        return lowered  # "how did I pay for it?" asks no longer what the message before did
    earlier = previous.lower()
    return earlier if any(a.asked_in(earlier) for a in actions) else lowered


def asked_actions(message: str, previous: str | None, records: list[Fact]) -> list[str]:
    """What the customer asks to do to the records the message names, in the business's
    English words with the kind's name ("close credit card"): the help articles about
    doing it ("How can I close a credit card account?") are found by them. A short
    follow-up naming no action ("the business one") asks what the message before did."""
    alike = best_named(records)
    if not alike:
        return []
    lowered = _action_text(message, previous, records)
    out: list[str] = []
    for f in alike:
        kind = kind_phrase(f.id, f.terms)
        for a in f.actions:
            if a.asked_in(lowered):
                out.append(f"{a.name_in('en')} {kind}".strip())
    return list(dict.fromkeys(out))[:2]


def record_choice(message: str, records: list[Fact]) -> RecordChoice | None:
    """An action the message asks of the records it names ("I want to cancel my card")
    when several of them allow it and nothing in the message tells which: the customer
    with two cards is asked which one, rather than read both with help on cancelling.
    Not for a question about the way ("how do I freeze my card?"), nor when the message
    names one by its id or number, or lists amounts and dates (it says which)."""
    if HOW_TO.search(message) or HOW_LONG.search(message) or WHY.search(message):
        return None
    if _ASKED_BEFORE.search(message):
        return None
    if len(figures(message)) > 1:
        return None  # it lists which: "Delta $487.50 on 10/08, Apple $299.99 …"
    alike = best_named(records)
    if not alike:
        return None
    if alike[0].relevance >= EXPLICIT_ID:
        return None  # named by its id, or a number of its own
    lowered = message.lower()
    asked = {a.name for f in alike for a in f.actions if a.asked_in(lowered)}
    for action in sorted(asked):
        able = [f for f in alike if any(a.name == action and a.allowed for a in f.actions)]
        if len(able) > 1:
            return RecordChoice(
                action=action,
                records=[f.id for f in able[:MOST_LISTED]],
                more=len(able) > MOST_LISTED,
            )
    return None
