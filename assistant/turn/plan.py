"""The plan stage (`decide`'s answer plan): which intents a message carries, which of the
customer's records each concerns, what their status allows next, and the move.

Records come from the customer's structured orders (`CustomerContext.orders`), never
from rendered fact text. Intent and reference words are data (rules/intents.yaml); what
each status allows is data (rules/actions.yaml)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
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
    PlannedMethod,
    PlannedRecord,
    PlannedRefund,
    RecordChoice,
    Resolution,
)
from profiles.context import (
    FOLLOW_UP_WORDS,
    NONE_HELD,
    POINTS_AT,
    Fact,
    OrderRecord,
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
    Vocabulary,
    explicit_order_ids,
    message_words,
    name_match,
    words,
)

RULES = Path(__file__).resolve().parent.parent / "rules"
INTENTS_FILE = RULES / "intents.yaml"
ACTIONS_FILE = RULES / "actions.yaml"
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


@dataclass(frozen=True)
class StatusRule:
    allows: tuple[str, ...] = ()
    open: bool = False
    note: str | None = None


@dataclass(frozen=True)
class Actions:
    """What each status allows next, and the action each intent asks for."""

    statuses: dict[str, StatusRule] = field(default_factory=dict)
    intent_action: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path = ACTIONS_FILE) -> Actions:
        raw = _read(path)
        try:
            statuses = {
                str(k): StatusRule(
                    tuple(str(a) for a in v.get("allows") or ()),
                    bool(v.get("open", False)),
                    str(v["note"]) if v.get("note") else None,
                )
                for k, v in raw["statuses"].items()
            }
            intent_action = {str(k): str(v) for k, v in raw["intents"].items()}
        except (KeyError, AttributeError, TypeError) as exc:
            raise RuleFileError(f"actions file {path}: {exc}") from exc
        return cls(statuses, intent_action)

    def rule(self, status: str) -> StatusRule:
        return self.statuses.get(status, StatusRule())


@lru_cache(maxsize=1)
def default_rules() -> tuple[Lexicon, Actions]:
    return Lexicon.load(), Actions.load()


def planned(order: OrderRecord, actions: Actions) -> PlannedRecord:
    """The plan's view of one order: its facts and what its status allows."""
    rule = actions.rule(order.status)
    pays = [p for p in order.payments if p.kind == "payment"]
    return PlannedRecord(
        id=order.id,
        source_id=order.fact_id,
        status=order.status,
        items=order.item_names(),
        created_at=order.created_at,
        tracking=order.tracking,
        paid=round(sum(p.amount for p in pays), 2),
        paid_with=list(dict.fromkeys(p.method for p in pays)),
        paid_methods=list(
            {
                p.method: PlannedMethod(method=p.method, brand=p.brand, last_four=p.last_four)
                for p in pays
            }.values()
        ),
        refunds=[
            PlannedRefund(amount=p.amount, method=p.method, brand=p.brand, last_four=p.last_four)
            for p in order.payments
            if p.kind == "refund"
        ],
        allows=list(rule.allows),
        note=rule.note,
    )


_WHERE = re.compile(
    r"\b(?:where(?:'s|’s| is| are| r|s|'re)|d[oó]nde est[aá]n?|o[uù] (?:en )?est"
    r"|wo (?:ist|sind))\b",
    re.IGNORECASE,
)


_WHY = re.compile(r"\b(?:why|how come|por ?qu[eé]|pourquoi|warum|wieso|weshalb)\b", re.IGNORECASE)
_BUYING = re.compile(
    r"\b(?:add|adding|buy|buying|purchase|in stock|available|do you (?:have|sell|carry)|"
    r"looking for|añadir|agregar|comprar|ajouter|acheter|hinzufügen|kaufen)\b",
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


def _only_social(message: str, names: list[str], pointed: _Pointed, lex: Lexicon) -> bool:
    if set(names) - SOCIAL_INTENTS or pointed.ids or pointed.by_product:
        return False
    rest = _unsocial(message, names, lex)
    # thanks and goodbyes run longer ("thank you so much for your help today")
    most = 8 if {"thanks", "goodbye"} & set(names) else 4
    return len(TOKEN.findall(rest)) <= most and "?" not in rest and not _QUESTION.search(rest)


def _head(name: str) -> str:
    ws = words(name)
    return ws[-1] if ws else ""


def _said(message: str, head: str) -> str:
    """The customer's own word for a product head noun ("shoes" for "shoe")."""
    for token in re.findall(r"\w+", message.lower()):
        if words(token) == [head]:
            return token
    return head


@dataclass
class _Pointed:
    """What the message itself points at, before intents are considered."""

    ids: list[str]
    by_product: list[OrderRecord]
    refs: set[str]
    not_bought: list[str]


def _pointed(
    message: str, orders: list[OrderRecord], mentions: list[str], lex: Lexicon
) -> _Pointed:
    ws = message_words(message)
    scored = [(max((name_match(n, ws) for n in o.item_names()), default=0.0), o) for o in orders]
    best = max((s for s, _ in scored), default=0.0)
    by_product = [o for s, o in scored if s > 0 and s == best]
    bought = {_head(n) for o in orders for n in o.item_names()}
    bought_names = {n.lower() for o in orders for n in o.item_names()}
    not_bought: list[str] = []
    # "can I add a mouse to my order", "do you sell kettles": a product they want, not one
    # they say they bought
    claimed = [] if _BUYING.search(message) else mentions
    for name in claimed:
        head = _head(name)
        if head and head not in bought:
            word = _said(message, head)
            if word not in not_bought:
                not_bought.append(word)
        elif (
            # "electric kettle" from someone who bought a tea kettle: another product.
            # Only when the message says the whole name: "the kettle" is their tea kettle.
            set(words(name)) <= ws
            and name.lower() not in not_bought
            and name.lower() not in bought_names
            and not any(name.lower() in n or n in name.lower() for n in bought_names)
        ):
            not_bought.append(name.lower())
    if not_bought and by_product:
        exact = [o for o in by_product if any(n.lower() in message.lower() for n in o.item_names())]
        by_product = exact
    ids = sorted(explicit_order_ids(message))
    return _Pointed(ids, by_product, lex.references_in(message), not_bought)


def _candidates(intent: str, orders: list[OrderRecord], actions: Actions) -> list[OrderRecord]:
    """The orders an intent could be about when the message names none."""
    action = actions.intent_action.get(intent)
    if action:
        return [o for o in orders if action in actions.rule(o.status).allows]
    if intent == "refund_status":
        return [
            o
            for o in orders
            if any(p.kind == "refund" for p in o.payments) or actions.rule(o.status).note
        ]
    if intent == "where_is_order":
        return [o for o in orders if actions.rule(o.status).open] or orders[:1]
    return orders[:1]


def plan_turn(
    message: str,
    orders: list[OrderRecord],
    *,
    mentions: list[str] | None = None,
    earlier: list[str] | None = None,
    language: str = "en",
    language_source: str = "locale",
    handoff: bool = False,
    lexicon: Lexicon | None = None,
    actions: Actions | None = None,
    records: list[Fact] | None = None,
) -> AnswerPlan:
    """The answer plan for `message` from the customer's `orders` (newest first).

    `mentions` are catalog product names the message uses; `earlier` the customer's
    earlier messages of the conversation, oldest first ("and the other one?"); `records`
    the customer's records of any kind, ranked for the message (`record_facts`)."""
    lex, acts = lexicon or default_rules()[0], actions or default_rules()[1]
    pointed = _pointed(message, orders, mentions or [], lex)
    # an id that is one of their records of another shape than a typed order is theirs:
    # the records answer for it ("#W6221400" imported by a mapping), never "I don't see
    # that order number in your orders"
    by_id = {o.id: o for o in orders}
    held = {f.id.split(":", 2)[2] for f in records or [] if f.id.startswith("record:")}
    pointed.ids = [i for i in pointed.ids if i in by_id or i not in held]
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
        names_record or not _only_social(message, names, pointed, lex)
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
    follow: list[OrderRecord] | None = None
    follow_pool: list[OrderRecord] = []
    if earlier and pointed.by_product and not names:
        # "la cámara" answering "which one would you like to return?": the product says
        # which, the question before what is asked of it
        before = plan_turn(earlier[-1], orders, lexicon=lex, actions=acts)
        names = [i.name for i in before.intents if i.name in RECORD_INTENTS]
    # a product the message names wins over the conversation: "can I return the yoga mat
    # instead?" is about the yoga mat, whatever order was spoken of before; "can I swap
    # it?" asks its own question of the order spoken of
    if (
        earlier
        and not pointed.by_product
        and (
            {"other", "previous"} & pointed.refs
            or not (names or pointed.ids)
            or (not pointed.ids and POINTS_AT.search(message) is not None)
        )
    ):
        for k in range(len(earlier) - 1, -1, -1):
            # each earlier message as it was read then, with the ones before it ("can I
            # cancel it?" was about the wristwatch's order)
            said_before = earlier[max(0, k - FOLLOWED_BACK) : k]
            before = plan_turn(earlier[k], orders, earlier=said_before, lexicon=lex, actions=acts)
            concerned = [r.id for i in before.intents for r in i.records or i.candidates]
            if not concerned:
                continue
            names = names or [i.name for i in before.intents]
            if "other" in pointed.refs:
                pool = [
                    o
                    for o in orders
                    if o.id not in concerned
                    and any(o in _candidates(n, orders, acts) for n in names)
                ]
                follow_pool = pool or [o for o in orders if o.id not in concerned]
                follow = follow_pool[:1] if len(follow_pool) == 1 else []
            else:
                follow = [o for o in orders if o.id in concerned]
            break
    about_records = bool(
        pointed.ids
        or pointed.by_product
        or pointed.not_bought
        or follow is not None
        or pointed.refs & {"self", "other", "previous", "recent", "open"}
        # "I'd like to cancel an order" acts on one of theirs, unless asked as policy
        or (set(names) & ACTING_INTENTS and "policy" not in pointed.refs)
    )
    if not names and (pointed.ids or pointed.by_product):
        names = ["where_is_order"]
    plan = AnswerPlan(
        language=language,
        language_source=cast(Any, language_source),
        about_records=about_records and bool(orders or pointed.ids or pointed.not_bought),
        about_policy="policy" in pointed.refs or (bool(names) and not about_records),
        # "what did I say about the charger?" is about the conversation, not a product
        not_bought=[] if "recall" in names else pointed.not_bought,
        asks_why=bool(_WHY.search(message)),
    )
    for name in names or ["other"]:
        intent = PlannedIntent(name=cast(IntentName, name), action=acts.intent_action.get(name))
        if name in RECORD_INTENTS and plan.about_records:
            _resolve(intent, pointed, follow, follow_pool, orders, by_id, acts)
        plan.intents.append(intent)
    # The items the message names come first, so a reply that lists an order shows them
    # ("#W9311069 (Tea Kettle, Bookshelf, …)" to "the wrong kettle").
    ws = message_words(message)
    for intent in plan.intents:
        for r in [*intent.records, *intent.candidates]:
            r.items = sorted(r.items, key=lambda n: -name_match(n, ws))
    plan.choose = record_choice(message, records or [])
    plan.action_text = _action_text(message, earlier[-1] if earlier else None, records or [])
    move: Move = "answer"
    if handoff or "human" in names:
        move = "handoff"
    elif plan.choose is not None or any(i.move == "clarify" for i in plan.intents):
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
    if HOW_TO.search(message) or HOW_LONG.search(message) or _WHY.search(message):
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


def _resolve(
    intent: PlannedIntent,
    pointed: _Pointed,
    follow: list[OrderRecord] | None,
    follow_pool: list[OrderRecord],
    orders: list[OrderRecord],
    by_id: dict[str, OrderRecord],
    acts: Actions,
) -> None:
    """Fill the intent's records, how they were found, whether the action is allowed and
    the move (clarify when an action has several candidates)."""
    found: list[OrderRecord]
    how: Resolution
    if pointed.ids:
        found = [by_id[i] for i in pointed.ids if i in by_id]
        intent.missing = [i for i in pointed.ids if i not in by_id]
        how = "id" if found else "unknown_id"
    elif follow is not None:
        found, how = follow, "conversation"
        if not follow and len(follow_pool) > 1:
            intent.candidates = [planned(o, acts) for o in follow_pool[:MOST_LISTED]]
            intent.move = "clarify"
            intent.resolved_by = how
            return
    elif pointed.by_product:
        found, how = pointed.by_product, "product"
    elif "recent" in pointed.refs and orders:
        found, how = orders[:1], "recent"
    elif "open" in pointed.refs:
        found, how = [o for o in orders if acts.rule(o.status).open], "open"
    elif pointed.not_bought:
        found, how = [], "none"
    elif len(orders) == 1:
        found, how = orders, "only"
    else:
        found, how = _candidates(intent.name, orders, acts), "status"
        if not found and intent.action:
            found = orders[:MOST_LISTED]  # none allows it: say why, order by order
    if intent.action and len(found) > 1:
        able = [o for o in found if intent.action in acts.rule(o.status).allows]
        if len(able) == 1:
            found = able
        elif len(able) > 1:
            intent.candidates = [planned(o, acts) for o in able[:MOST_LISTED]]
            intent.move = "clarify"
            intent.resolved_by = how
            return
    intent.records = [planned(o, acts) for o in found[:MOST_LISTED]]
    intent.resolved_by = how
    if intent.action and intent.records:
        intent.allowed = all(intent.action in r.allows for r in intent.records)
