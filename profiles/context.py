"""The queries that build what Rapport knows about one customer for one message."""

from __future__ import annotations

import itertools
import math
import re
import time
from collections import Counter
from collections.abc import Callable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, Literal, Protocol, TypeVar, cast

from pydantic import BaseModel, Field, PrivateAttr, field_validator
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from profiles.expressions import holds
from profiles.features import CustomerFeatures, customer_features
from profiles.models import CustomerRecord, ReferenceItem
from profiles.reads import (
    CustomerRead,
    CustomerRow,
    read_customer,
    read_history_ids,
    read_recent_events,
    read_records,
    read_reference_parts,
)
from profiles.relevance import (
    AFFIRMS,
    AGREES_TO,
    DECLINE_FILLER,
    DECLINE_WORDS,
    DECLINES,
    EXPLICIT_ID,
    FUZZY_MIN,
    HOW_LONG,
    HOW_TO,
    LATEST,
    NAMED_PRODUCT,
    NEGATED,
    NEGATES,
    OFFERED,
    OTHER_ONE,
    PAID,
    POSSESSIVE,
    REQUEST,
    RESTATED_WORDS,
    STANDING,
    TOKEN,
    WHEN_DONE,
    WHY,
    YET,
    Phrases,
    asks_amount,
    asks_whether,
    is_typo,
    message_words,
    name_match,
    phrase_forms,
    said_for,
    words,
)
from profiles.segments import Segments

FactKind = Literal["profile", "product", "record"]


class RecordAction(BaseModel):
    """An action a record's kind knows ("cancel"), whether its status allows it now, and
    its name in each language the business gave ("cancelar")."""

    name: str
    allowed: bool
    # by language, every way customers say it; the first is the one replies use
    names: dict[str, list[str]] = Field(default_factory=dict)
    # its status allows it but the record does not meet what it needs: why, by language
    why: dict[str, str] = Field(default_factory=dict)
    # False: asked of a record whose kind cannot have it (another kind of the business's
    # does: "freeze" of a credit card, where only debit cards freeze)
    known: bool = True
    # not allowed now: the action that does the same for the customer ("return" of an
    # order not yet delivered: "cancel"), by its kind's rules; "order.cancel": the action
    # of the record it links to (a line's refund before delivery cancels its order)
    instead: str | None = None
    # what it does, as the customer is told it, by language ("Once it is cancelled, the
    # $63.50 you paid goes back to your Visa."): said where a reply offers it
    outcome: dict[str, str] = Field(default_factory=dict)

    @field_validator("names", mode="before")
    @classmethod
    def _listed(cls, value: Any) -> Any:
        """One name per language (as stored before synonyms) is a list of one."""
        if isinstance(value, dict):
            return {k: [v] if isinstance(v, str) else v for k, v in value.items()}
        return value

    def said_in(self, lowered: str) -> bool:
        """Whether a (lower-cased) message names this action in any of its languages,
        in any form ("activated") and with a typo in a long word ("atcivate")."""
        return _said(self.said_as()).search(lowered)

    def asked_in(self, lowered: str) -> bool:
        """Whether a (lower-cased) message asks for it: names it (`said_in`), but not only
        as done ("cancel my card", "atcivate", not "the charge I disputed")."""
        return self.asked_at(lowered) is not None

    def asked_at(self, lowered: str) -> int | None:
        """Where a (lower-cased) message first asks for it (`asked_in`), else None; a
        question about how long or when ("when will I get my refund?") asks none."""
        if HOW_LONG.search(lowered) or WHEN_DONE.search(lowered):
            return None
        # asked how it stands, its name is the thing done, not asked to be done, unless
        # said as a verb: "any update on my refund?", "where is my replacement card?";
        # not "where is my order? cancel it", "status of #W1, and can I return it"
        standing = STANDING.search(lowered) is not None and not REQUEST.search(lowered)

        def asked(at: int) -> bool:
            return not standing or not _a_noun_at(lowered, at)

        for m in _asked(self.said_as()).finditer(lowered):
            if asked(m.start()):
                return m.start()
        # another form or a typo of a one-word name, not its past ("dipsuted", "¿por qué
        # cancelaron el otro?"), nor a thing done ("cancellation") asked about as under way
        return next(
            (
                m.start()
                for m in TOKEN.finditer(lowered)
                if not _PAST.search(m[0])
                and not (standing and _DONE_THING.search(m[0]))
                and self.said_in(m[0])
                and asked(m.start())
            ),
            None,
        )

    def every_name(self) -> list[str]:
        return [n for ns in self.names.values() for n in ns]

    def said_as(self) -> tuple[str, ...]:
        """Its own name and every name it is given, lower-cased, once each, sorted (the
        key of the cached patterns)."""
        names = {self.name.replace("_", " "), *self.every_name()}
        return tuple(sorted({n.lower() for n in names}))

    def outcome_in(self, language: str) -> str:
        """What it does, told in `language` where the business wrote it so, else in English,
        else as written; "" when the business told nothing."""
        return told_in(self.outcome, language)

    def name_in(self, language: str, lowered: str = "") -> str:
        """What a reply in `language` calls it: the customer's own word for it where the
        (lower-cased) message uses one ("cancel" for the action "close"), else the
        business's first name for it there, else its English one, else the action's own.
        A word of another language is not the customer's in this one (a Spanish reply to a
        follow-up of "can I cancel it?" says "cancelar", not "cancel")."""
        own = language if self.names.get(language) else "en"
        said = [n for n in self.names.get(own, []) if _asked((n.lower(),)).search(lowered)]
        if said:
            return said[0]
        for lang in (language, "en"):
            if self.names.get(lang):
                return self.names[lang][0]
        return self.name.replace("_", " ")


_DONE_THING = re.compile(r"(?:ment|tion|sion)s?$")  # "replacement", "cancellation"
# a verb's past: "cancelled", "cancelaron", "canceló", "cancelado", "annulée"
_PAST = re.compile(r"(?:ed|aron|ieron|[ií]ó|ó|ad[oa]s?|id[oa]s?|ée?s?|é)$")
# what comes before a noun ("my refund", "status of the return", "my bill dispute") and
# what before a verb ("can i still cancel it", "i want to dispute it")
_BEFORE_NOUN = frozenset(
    re.findall(
        r"\S+",
        "my our your the a an this that his her their its on of for about with mi mis su sus"
        " el la los las un una del de mon ma mes le les du des sur mein meine die der das den"
        " zum zur von",
    )
)
_BEFORE_VERB = frozenset(
    re.findall(
        r"\S+",
        "to i you we can could would will please pls still also just not dont t and or then"
        " lets me us",
    )
)


def _a_noun_at(lowered: str, at: int) -> bool:
    """Whether the word at `at` is said as a noun: right after a determiner or a
    preposition ("my refund"), or a word after one that is no subject or modal ("my bill
    dispute", not "can i still cancel"); not after a sentence's end ("… ? dispute it")."""
    before = lowered[:at].rstrip()
    if not before or before[-1] in ".!?,;:":
        return False
    prev = TOKEN.findall(before)[-2:]
    if prev and prev[-1] in _BEFORE_NOUN:
        return True
    return len(prev) == 2 and prev[0] in _BEFORE_NOUN and prev[1] not in _BEFORE_VERB


@lru_cache(maxsize=256)
def _asked(names: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(f for n in names for f in phrase_forms(n)) + r")\b")


@lru_cache(maxsize=256)
def _said(names: tuple[str, ...]) -> Phrases:
    return Phrases.of([form for n in names for form in _forms(n)])


def _forms(name: str) -> list[str]:
    """A one-word name in any of its forms ("close" as "closes", "closed", and the
    "closing" that drops its final e, though not in a short word: "use" is no "using");
    a phrase as it is."""
    if " " in name:
        return phrase_forms(name)
    forms = [rf"{re.escape(name)}\w*"]
    if len(name) >= 5 and name.endswith("e"):
        forms.append(rf"{re.escape(name[:-1])}ing\w*")
    return forms


def told_in(texts: dict[str, str], language: str) -> str:
    """What the business wrote, by language: in `language`, else in English, else in the
    first it wrote; "" when it wrote nothing."""
    return texts.get(language) or texts.get("en") or next(iter(texts.values()), "")


def record_kind(fact_id: str) -> str:
    """A record fact's kind as its mapping names it ("record:credit_card:cc_1" →
    "credit_card"); "" for a fact that is not a record's."""
    parts = fact_id.split(":")
    return parts[1] if len(parts) >= 3 else ""


def kind_phrase(fact_id: str, terms: list[str]) -> str:
    """A record's kind by the first of its words that has several ("bank account" rather
    than the "account" a credit card account is too), else the kind's own name
    ("record:credit_card:cc_1" → "credit card")."""
    own = record_kind(fact_id).replace("_", " ")
    return next((t.strip() for t in terms if " " in t.strip()), own)


LABEL_REACH = 60  # a record's key this far into its text begins it ("Order #W…: …")


def record_label(text: str, fact_id: str) -> str | None:
    """What a customer calls a record, from how its business shows it: its text up to its
    key ("Order #W5442520", "Pedido #W5442520", "Debit card dbc_4e…"), None when the text
    does not begin with it."""
    key = fact_id.rsplit(":", 1)[-1]
    at = text.find(key)
    if not key or at < 0 or at > LABEL_REACH:
        return None
    head = text[: at + len(key)]
    if head.count("(") > head.count(")"):
        # "Gold (checking account chk_1": what the parens hold; "Gold Card (cc_1": what
        # they follow, not the bare key
        cut = head.rfind("(")
        inside, before = head[cut + 1 :], head[:cut].strip()
        head = inside if inside != key else before
    if not head or head == key:
        return None
    return head[:1].upper() + head[1:]


def in_sentence(label: str) -> str:
    """A record's label inside a sentence: "your pedido"-style lower case for a kind's
    name ("Pedido #W1" → "pedido #W1", "Tarjeta de débito dbc_7" → "tarjeta de débito
    dbc_7"), a name kept as written ("Gold Rewards Card")."""
    first, *rest = label.split()
    if first[1:].islower() and not any(w[:1].isupper() for w in rest):
        return first[:1].lower() + label[1:]
    return label


class Fact(BaseModel):
    """One customer-specific fact that may go into the prompt, with its relevance."""

    id: str  # "profile:<customer>", "record:<kind>:<key>" ("record:order:#W1234567"),
    # "product:<product id>" (reference data the message asks about)
    kind: FactKind
    text: str
    relevance: float
    status: str | None = None  # an order's status, for rules and query hints
    # The text by attribute ("email", "address", ...), so a policy can leave one out.
    parts: list[tuple[str, str]] = Field(default_factory=list)
    # a mapped record's actions and what its status allows ("confirmed" → cancel)
    actions: list[RecordAction] = Field(default_factory=list)
    texts: dict[str, str] = Field(default_factory=dict)  # `text` in other languages
    arrived: bool | None = None  # a mapped record that has reached the customer
    open: bool | None = None  # a mapped record still under way (its kind's `open` statuses)
    status_texts: dict[str, str] = Field(default_factory=dict)  # its status by language
    # every status of its kind → the words it is said by ("is it active yet?")
    statuses: dict[str, list[str]] = Field(default_factory=dict)
    # what a mapped record answers to besides its text: its kind's words, its fields' names
    terms: list[str] = Field(default_factory=list)
    # a mapped record's links: the kind (or reference) → the key it points at
    links: dict[str, str] = Field(default_factory=dict)
    # what its amount is, as a customer who asks how much is told it, by language
    amount_texts: dict[str, str] = Field(default_factory=dict)

    def text_without(self, attributes: set[str]) -> str:
        """The fact's text minus the named attributes."""
        if not self.parts or not attributes & {name for name, _ in self.parts}:
            return self.text
        return " ".join(t for name, t in self.parts if name not in attributes)


class CustomerCard(BaseModel):
    """Who the customer is, as shown to the model and the agent."""

    id: str
    name: str
    email: str | None
    locale: str
    timezone: str
    plan: str | None = None
    city: str | None = None
    region: str | None = None
    country: str | None = None
    attributes: dict[str, str] = Field(default_factory=dict)  # the business's own ("tier")
    consents: dict[str, bool] = Field(default_factory=dict)
    segments: list[str] = Field(default_factory=list)  # filled when personalization is granted
    # The repository's read behind this card: `ProfileRepository.context` of the same turn
    # builds on it instead of reading the customer again, and takes the consents from it,
    # not from fields a caller could have changed since.
    _read: CustomerRead | None = PrivateAttr(default=None)

    def allows(self, purpose: str) -> bool:
        """Whether the customer granted `purpose`; an unrecorded purpose is not granted."""
        return self.consents.get(purpose, False)


class ConfirmedAction(BaseModel):
    """An action the customer agreed to ("yes, go ahead") on a record whose status allows
    it, after asking it of that record."""

    record: str  # the record's fact id: "record:order:#W1"
    action: str  # "cancel"

    def __str__(self) -> str:
        return f"{self.record.removeprefix('record:')} {self.action}"  # "order:#W1 cancel"


class CustomerContext(BaseModel):
    """Everything about the customer the turn may use, most relevant facts first."""

    card: CustomerCard
    facts: list[Fact]
    history_ids: list[str]
    features: CustomerFeatures | None = None  # None without personalization consent
    segments: list[str] = Field(default_factory=list)
    recent_events: list[str] = Field(default_factory=list)  # event types, newest first
    # What the customer holds by name ("Green Account", "Gold Rewards Card"): help articles
    # about it answer them before articles about another product (personalization only).
    holds: list[str] = Field(default_factory=list)
    # Every status the business's records of each kind are in ("booking": ["CANCELLED",
    # "CONFIRMED"]): the words a reply could state of one, which `check` verifies.
    record_statuses: dict[str, list[str]] = Field(default_factory=dict)
    # what the previous message asked of a record its status allows, when this one agrees
    # to it ("yes, go ahead", "yes, cancel it"): a person from the team does it
    confirmed: list[ConfirmedAction] = Field(default_factory=list)
    # what the previous message asked of a record, when this one takes it back ("no,
    # leave it", "ok wait, don't cancel"): nothing is to be done, the reply says so
    declined: list[ConfirmedAction] = Field(default_factory=list)
    # each kind whose ids have a shape → its `id_pattern` (personalization only): an id
    # of one of them the message writes that is none of theirs is not theirs to be told
    # about, and one a reply writes that the context does not hold is caught
    id_patterns: dict[str, str] = Field(default_factory=dict)


@dataclass(frozen=True)
class KindOf:
    """What every record of a kind shares: the words naming it, its actions with their
    names, and how customers write its ids."""

    words: list[str]
    actions: dict[str, Any]
    id_pattern: str | None


RECENT_EVENTS = (14, 10)  # days back, and at most this many events
MAX_VARIANTS = 6  # per product: the best-matching available items the reply may offer
HISTORY_CANDIDATES = 500  # newest history items considered per customer


def _card_of(read: CustomerRead) -> CustomerCard:
    c = read.customer
    card = CustomerCard(
        id=c.id,
        name=c.name,
        email=c.email,
        locale=c.locale,
        timezone=c.timezone,
        plan=c.plan,
        city=c.city,
        region=c.region,
        country=c.country,
        attributes=dict(c.attributes or {}),  # None in a row from before they existed
        consents=dict(read.consents),
    )
    card._read = read
    return card


class ProfileRepository:
    """Read side of the customer data: the card, relevance-ranked facts, history ids."""

    def __init__(
        self, engine: Engine, catalog_ttl_s: float = 300.0, segments: Segments | None = None
    ) -> None:
        self.engine = engine
        self.catalog_ttl_s = catalog_ttl_s
        self.segments = segments or Segments.load()
        # business data every customer's turn reads, each kept for `catalog_ttl_s`
        self._shared: dict[str, tuple[float, Any]] = {}

    def _kept(self, name: str, read: Callable[[], Any]) -> Any:
        """`read()`'s result, read again once it is older than `catalog_ttl_s`."""
        now = time.monotonic()
        hit = self._shared.get(name)
        if hit is None or now - hit[0] > self.catalog_ttl_s:
            hit = self._shared[name] = (now, read())
        return hit[1]

    def _kinds(self, s: Session) -> dict[str, KindOf]:
        """Each kind of record the business keeps → the words naming it, its actions with
        their names and the shape of its ids (one record's of each kind)."""

        def read() -> dict[str, KindOf]:
            first = select(func.min(CustomerRecord.id)).group_by(CustomerRecord.kind)
            query = select(
                CustomerRecord.kind,
                CustomerRecord.words,
                CustomerRecord.actions,
                CustomerRecord.id_pattern,
            )
            rows = s.exec(query.where(CustomerRecord.id.in_(first))).all()  # type: ignore[union-attr]
            return {
                kind: KindOf(list(said or []), dict(acts or {}), shape)
                for kind, said, acts, shape in rows
            }

        return cast(dict[str, KindOf], self._kept("kinds", read))

    def _id_patterns(self, s: Session) -> dict[str, str]:
        """Each kind whose ids have a shape → its `id_pattern`."""
        return {k: i.id_pattern for k, i in self._kinds(s).items() if i.id_pattern}

    def _kind_statuses(self, s: Session) -> dict[str, list[str]]:
        """Each kind of record the business keeps → every status its records are in."""

        def read() -> dict[str, list[str]]:
            query = select(CustomerRecord.kind, CustomerRecord.status).distinct()
            out: dict[str, list[str]] = {}
            for kind, status in s.exec(query.where(col(CustomerRecord.status).is_not(None))):
                out.setdefault(kind, []).append(str(status))
            return {kind: sorted(found) for kind, found in out.items()}

        return cast(dict[str, list[str]], self._kept("statuses", read))

    def _reference_names(self, s: Session) -> dict[tuple[str, str], str]:
        """Each reference item that is no part of another → its own words ("water
        bottle" for "Water Bottle (product 8310926033)")."""

        def read() -> dict[tuple[str, str], str]:
            query = select(ReferenceItem.name, ReferenceItem.key, ReferenceItem.text)
            rows = s.exec(query.where(col(ReferenceItem.part_of).is_(None))).all()
            return {(n, k): own_words(n, k, t) for n, k, t in rows}

        return cast(dict[tuple[str, str], str], self._kept("references", read))

    def card(self, customer_id: str) -> CustomerCard | None:
        """The customer's card, or None when the id is unknown."""
        with Session(self.engine) as s:
            read = read_customer(s, customer_id)
            return _card_of(read) if read is not None else None

    def context(
        self,
        customer_id: str,
        message: str,
        card: CustomerCard | None = None,
        earlier: str | None = None,
        other: bool = False,
        older: Sequence[str] = (),
    ) -> CustomerContext | None:
        """The card and facts for `message`, or None for an unknown customer; `earlier`,
        the customer's previous message in the conversation, tells what a short follow-up
        ("can I activate it?") is about, and `older`, the ones before it (oldest first),
        what that one itself pointed back to; `other`, that the message asks for "the
        other one".

        `card`, the card `card()` returned for this customer earlier in the same turn,
        spares reading the customer again; its consents as read then gate this context.
        Without 'personalization' consent no profile or order fact, feature or segment
        is read; without 'history' consent no history id is selected."""
        if card is not None and card.id != customer_id:
            raise ValueError(f"the card is {card.id!r}'s, not {customer_id!r}'s")
        read = card._read if card is not None else None
        with Session(self.engine) as s:
            if read is None:
                read = read_customer(s, customer_id)
                if read is None:
                    return None
            card = _card_of(read)
            facts: list[Fact] = []
            features: CustomerFeatures | None = None
            events: list[str] = []
            holds: list[str] = []
            statuses: dict[str, list[str]] = {}
            held: list[CustomerRecord] = []
            readings: Readings = {}  # the earlier messages as read, once for the turn
            id_patterns: dict[str, str] = {}
            if card.allows("personalization"):
                id_patterns = self._id_patterns(s)
                held = read_records(s, customer_id)
                holds = held_names(held)
                statuses = self._kind_statuses(s) if held else {}
                facts = self._facts(
                    s, read.customer, message, (earlier, older), held, other, readings
                )
                features = customer_features(s, customer_id, records=held)
                if features is None:
                    return None  # erased since the card was read
                card.segments = self.segments.of(features)
                since = datetime.now(UTC) - timedelta(days=RECENT_EVENTS[0])
                events = read_recent_events(s, customer_id, since, RECENT_EVENTS[1])
            history_ids: list[str] = []
            if card.allows("history"):
                history_ids = read_history_ids(s, customer_id, HISTORY_CANDIDATES)
            return CustomerContext(
                card=card,
                facts=facts,
                history_ids=history_ids,
                features=features,
                segments=card.segments,
                recent_events=events,
                holds=holds,
                record_statuses=statuses,
                confirmed=confirmed_actions(held, facts, message, earlier, older, readings),
                declined=declined_actions(held, message, earlier, older, readings),
                id_patterns=id_patterns,
            )

    def segments_of(self, customer_id: str) -> list[str]:
        """The customer's segments (none without personalization consent): the flags an
        agent's queue shows."""
        with Session(self.engine) as s:
            read = read_customer(s, customer_id)
            if read is None or not _card_of(read).allows("personalization"):
                return []
            features = customer_features(s, customer_id)
            return self.segments.of(features) if features is not None else []

    def _facts(
        self,
        s: Session,
        customer: CustomerRow,
        message: str,
        said: tuple[str | None, Sequence[str]],
        held: list[CustomerRecord],
        other: bool = False,
        readings: Readings | None = None,
    ) -> list[Fact]:
        """The facts for `message`; `said`, the customer's previous message and the ones
        before it, for a follow-up."""
        profile_parts = _profile_parts(customer)
        facts = [
            Fact(
                id=f"profile:{customer.id}",
                kind="profile",
                text=" ".join(t for _, t in profile_parts),
                relevance=100.0,
                parts=profile_parts,
            )
        ]
        ranked = record_facts(held, message, said[0], other, said[1], readings)
        if held:
            unknown_asked(held, ranked, {k: i.actions for k, i in self._kinds(s).items()}, message)
        facts.extend(ranked)
        facts.extend(reference_facts(s, held, ranked, message))
        if held:
            facts.extend(none_held(held, {k: i.words for k, i in self._kinds(s).items()}, message))
            facts.extend(none_linked(held, self._reference_names(s), message))
        facts.extend(offered_facts(s, self._reference_names(s), message))
        facts.sort(key=lambda f: (-f.relevance, f.id))
        return facts


# A record's relevance, on the orders' scale (profiles/relevance.py): the message names
# it (its id) like an order id; names its kind ("my debit card") like a product; else it
# is background (below 1: compose packs it only after what the message points at).
RECORD_NAMED, RECORD_KIND = EXPLICIT_ID, NAMED_PRODUCT


FOLLOW_UP_WORDS = 8  # a message this short may be about what the previous one named
# Words by which a short message points back at what was said before: "can I activate
# it?", "the silver one", "and the other?", "¿y cuánto cuesta?", "l'autre", "und das?"
_BACK = re.compile(
    r"\b(?:it|its|it's|that|those|these|them|they|one|ones|other|others|same|there|either"
    r"|lo|los|las|le|les|eso|esa|ese|esos|esas|esto|otro|otra|otros|otras|mismo|misma"
    r"|ça|cela|celle|celui|ceux|celles|autre|autres|même|l'|es|ihn|ihm|diese|dieser|andere)\b"
    r"|\w{3,}r(?:lo|la|los|las|le|les)\b"  # a Spanish verb with its object: "activarla"
    r"|^\W*(?:and|also|but|or|so|then|what about|how about|y|e|o|pero|et|ou|mais|und|oder|aber)\b",
    re.I,
)
# A word for what was spoken of, however long the message: "can i exchange it for a
# different color?", "quiero devolverla", "je veux le retourner"
POINTS_AT = re.compile(
    r"\b(?:it|them|those|ça|le|les)\b|\b\w{3,}r(?:lo|la|los|las)\b|\b(?:ihn|sie|es)\b(?=.*\?)"
    # a Spanish pronoun before the verb that wants it: "lo quiero cancelar", "¿la puedo
    # devolver?"
    r"|\b(?:lo|la|los|las) (?:quiero|quieres|quiere|quisiera|puedo|puedes|puede|pueden"
    r"|podr[ií]a|podr[ií]as|necesito|tengo que|voy a|vas a|va a)\b",
    re.IGNORECASE,
)
# What says a message is about something not spoken of yet, however it then points
NEW_TOPIC = re.compile(
    r"\belse\b|\banother (?:question|thing)\b|\botra (?:cosa|pregunta)\b"
    r"|\bautre (?:chose|question)\b|\betwas anderes\b|\bandere frage\b",
    re.IGNORECASE,
)
# Words a short follow-up asks with and that name nothing: "why?", "how much?", "¿cuándo?"
_ASKING = frozenset(
    [
        "why",
        "when",
        "how",
        "much",
        "many",
        "what",
        "where",
        "who",
        "which",
        "ok",
        "okay",
        "so",
        "then",
        "now",
        "yet",
        "still",
        "really",
        "please",
        "is",
        "are",
        "was",
        "were",
        "do",
        "does",
        "did",
        "can",
        "could",
        "will",
        "would",
        "the",
        "a",
        "an",
        "to",
        "for",
        "of",
        "on",
        "in",
        "at",
        "me",
        "my",
        "i",
        "por",
        "qué",
        "que",
        "cuándo",
        "cuando",
        "cuánto",
        "cuanto",
        "cuánta",
        "cómo",
        "como",
        "dónde",
        "donde",
        "quién",
        "cuál",
        "y",
        "pourquoi",
        "quand",
        "combien",
        "comment",
        "où",
        "qui",
        "quel",
        "quelle",
        "et",
        "warum",
        "wann",
        "wie",
        "viel",
        "wo",
        "wer",
        "welche",
        "und",
    ]
)


def asks_its_own(message: str, named: list[Fact]) -> bool:
    """Whether a short follow-up asks a question of its own: a question word, and a word
    that neither points back, nor asks, nor is said of the records it reads ("how did I
    pay for it?": "pay"; not "the silver one", "the most recent one", "what about the
    other one?")."""
    said = TOKEN.findall(message.lower())  # "cuánto" whole
    if not _QUESTION.intersection(said):
        return False
    theirs = {w for f in named for text in (f.text, *f.terms) for w in TOKEN.findall(text.lower())}
    return any(
        w not in _ASKING and w not in theirs and w != "about" and not _BACK.fullmatch(w)
        for w in said
    )


# the words a question of its own opens with, in the four languages
_QUESTION = frozenset(
    [
        "how",
        "why",
        "what",
        "when",
        "where",
        "which",
        "who",
        # typed without the apostrophe: "whats my balance"
        "hows",
        "whats",
        "whens",
        "wheres",
        "whos",
        "did",
        "does",
        "do",
        "is",
        "are",
        "was",
        "can",
        "could",
        "will",
        "would",
        "qué",
        "cómo",
        "cuándo",
        "dónde",
        "cuánto",
        "cuanto",  # as often typed: unlike "que" or "como", no other word without its accent
        "cuál",
        "puedo",
        "comment",
        "pourquoi",
        "quand",
        "où",
        "combien",
        "quel",
        "est-ce",
        "wie",
        "warum",
        "wann",
        "wo",
        "welche",
        "kann",
    ]
)


def _refers_back(message: str, before: list[Fact]) -> bool:
    """Whether a short message that names no record itself is about what the message
    before named: it points back ("it", "the other one", "and …"), asks only with
    question words ("why?", "how much?"), or asks an action a record named before knows
    ("activate"). Not a question of its own: "any fees this month?" after "what did I
    spend at Costco?" is not about the Costco charges."""
    if _BACK.search(message) or AFFIRMS.match(message):  # "yes, go ahead"
        return True
    said = words(message)
    if all(w in _ASKING for w in said):
        return True
    lowered = message.lower()
    named = [f for f in before if f.relevance >= 1.0]
    return any(a.asked_in(lowered) for f in named for a in f.actions)


FOLLOWED = 0.5  # what the previous message named, among records the follow-up names alike


def reference_facts(
    s: Session, rows: list[CustomerRecord], facts: list[Fact], message: str
) -> list[Fact]:
    """What the customer's named records link to that has parts to offer, each with its
    offered parts that best match the message: "the t-shirt in my last order, but in
    blue" brings the T-Shirt with its variants in stock, blue ones first, as the item an
    exchange or a change can be to. A record counts when the message names it (`facts`,
    ranked) and the linked item by a word of its own text ("t-shirt")."""
    by_fact = {f"record:{r.kind}:{r.key}": r for r in rows}
    wanted: dict[tuple[str, str], float] = {}
    for f in facts:
        r = by_fact.get(f.id)
        if r is None or f.relevance < 1.0:
            continue
        for name, key in (r.links or {}).items():
            wanted[(name, key)] = max(wanted.get((name, key), 0.0), f.relevance)
    wholes, parts = read_reference_parts(s, list(wanted))
    ws = message_words(message)
    out: list[Fact] = []
    for (name, key), whole in wholes.items():
        offered = parts.get(f"{name}:{key}", [])
        own = set(own_words(name, key, whole.text).split())  # "deluxe king"
        said = len(own & ws) / len(own) if own else 0.0
        if not offered or said <= 0:
            continue
        best = sorted(offered, key=lambda p: -_said_of(p.text, ws))[:MAX_VARIANTS]
        out.append(
            Fact(
                id=f"reference:{name}:{key}",
                kind="product",
                text=f"{whole.text}: " + "; ".join(p.text for p in best),
                relevance=wanted[(name, key)] + said,
            )
        )
    return out


def _said_of(text: str, ws: AbstractSet[str]) -> int:
    """How many of a text's words the message says ("blue", "large")."""
    return len(set(words(text)) & ws)


def record_facts(
    rows: list[CustomerRecord],
    message: str,
    earlier: str | None = None,
    other: bool = False,
    older: Sequence[str] = (),
    readings: Readings | None = None,
) -> list[Fact]:
    """The customer's records as facts ranked by what `message` names (_ranked); a short
    follow-up that names no record by id reads on from `earlier`, the previous message:
    "can I activate it?" is about the card asked about before, and "that charge" is the
    Costco charge of the question before rather than the latest one. `other`, when the
    message asks for "the other one": the records of the kind asked about before that
    were not named then. `older`, the customer's messages before `earlier` (oldest
    first): what `earlier` itself pointed back to ("how did I pay for it?", then "ok
    cancel it"). `readings`, the earlier messages as they were read, kept for the turn
    (`read_before`)."""
    if not rows:
        return []
    facts = _read_on(rows, message, earlier, other, older, {} if readings is None else readings)
    if LATEST.search(message):
        _latest_first(facts)
    _acted_on(rows, facts, message)
    return facts


def _latest_first(facts: list[Fact]) -> None:
    """ "the most recent one", "my last order": of the records named alike (apart by less
    than FOLLOWED), the newest (facts are newest first) ahead of the rest."""
    top = max((f.relevance for f in facts), default=0.0)
    if top < 1.0:
        return
    newest = next(f for f in facts if f.relevance > top - FOLLOWED)
    newest.relevance = top + FOLLOWED


Readings = dict[tuple[str, tuple[str, ...]], list[Fact]]
"""Earlier messages (each with the ones before it) → their records as they were read."""


def read_before(
    rows: list[CustomerRecord], earlier: str, older: Sequence[str], readings: Readings | None
) -> list[Fact]:
    """`earlier`, a message before this one, as it was read then (with `older`, the ones
    before it, oldest first): ranked once per turn (per `readings`), however many stages
    ask."""
    if readings is None:
        readings = {}
    key = (earlier, tuple(older))
    if key not in readings:
        before = older[-1] if older else None
        readings[key] = record_facts(rows, earlier, before, False, older[:-1], readings)
    return readings[key]


def _read_on(
    rows: list[CustomerRecord],
    message: str,
    earlier: str | None,
    other: bool,
    older: Sequence[str],
    readings: Readings,
) -> list[Fact]:
    """`record_facts` by what the message names, or for a follow-up by what it points
    back to."""
    facts = _ranked(rows, message)
    long = len(words(message)) >= FOLLOW_UP_WORDS
    if not earlier or (long and (not POINTS_AT.search(message) or NEW_TOPIC.search(message))):
        return facts
    if any(f.relevance >= RECORD_NAMED for f in facts):
        return facts
    # what the previous reply read: the previous message as it was read then; past one
    # that named nothing ("gracias!"), the one before it
    back = list(older)
    while True:
        ranked_before = read_before(rows, earlier, back, readings)
        if not back or any(f.relevance >= 1.0 for f in ranked_before):
            break
        earlier = back.pop()  # it named nothing ("gracias!"): the message before it
    if not _refers_back(message, ranked_before):
        return facts  # "¿tengo alguna comisión este mes?": a question of its own
    before = {f.id: f.relevance for f in ranked_before}
    top = max(before.values(), default=0.0)
    if other and top >= 1.0:
        # "and the other one?": the kind named best before, without the one(s) named (when
        # there is another of that kind; else it reads on like any follow-up)
        kind = record_kind(max(before, key=lambda i: before[i]))
        named = {i for i, r in before.items() if r > top - FOLLOWED}
        others = [f for f in facts if record_kind(f.id) == kind and f.id not in named]
        for f in others:
            f.relevance = max(f.relevance, top - FOLLOWED)
        for f in facts if others else []:
            if f.id in named:
                f.relevance = min(f.relevance, 0.0)
        if others:
            return facts
    now = [f.relevance for f in facts]
    named_now = any(r >= 1.0 for r in now)
    where = {(r.kind, r.key): i for i, r in enumerate(rows)}
    for i, f in enumerate(facts):
        prev = before.get(f.id, 0.0)
        if prev < 1.0:
            continue
        if named_now:  # "that charge": one of the charges the last answer was about
            shown = prev > top - FOLLOWED
            f.relevance += FOLLOWED if shown and f.relevance >= 1.0 else 0.0
            # "the bluest one" of the cards just listed: the card on the Bluest account
            # the message names, not that account; not when the message names the card's
            # own kind ("the watch order" of three orders: the order with the watch, not
            # every order paid with the card the watch's order was paid with), nor the
            # linked one's ("my checking balance" after the debit card: the account)
            if (
                shown
                and not _names_kind(rows[i], message)
                and any(
                    now[j] >= 1.0 and not _names_kind(rows[j], message)
                    for j in _linked(rows[i], where)
                )
            ):
                f.relevance = max(f.relevance, max(now) + FOLLOWED)
        else:  # names nothing itself: what was named before, as far apart as it was
            f.relevance = prev - FOLLOWED
    return facts


def _names_kind(r: CustomerRecord, message: str) -> bool:
    """Whether the message names the record's kind by one of its words ("order",
    "debit card"), as whole words."""
    return _kind_named(r.words, f" {' '.join(words(message))} ") > 0


def _kind_named(phrases: list[str], text: str) -> int:
    """How many words the longest of `phrases` (a kind's words, a status's) the text names
    has ("debit card": 2, before "card": 1); 0 when it names none. `text` is the message's
    words, space-joined with a space either side."""
    return max(
        (len(ws) for p in phrases if (ws := words(p)) and f" {' '.join(ws)} " in text), default=0
    )


def _names_key(key: str, lowered: str) -> bool:
    """The (lower-cased) message names a record by its (lower-cased) key: as the business
    writes it, or as customers type it without the sign it begins with ("w5442520" for
    "#w5442520"), as a word of its own."""
    if key in lowered:
        return True
    core = re.sub(r"^\W+", "", key)
    return (
        core != key
        and len(core) >= 4
        and re.search(rf"(?<!\w){re.escape(core)}(?!\w)", lowered) is not None
    )


def _ranked(rows: list[CustomerRecord], message: str) -> list[Fact]:
    """The customer's records (of any kind a mapping imported) as facts, ranked by what
    the message names: a record's id; else the most specific words naming its kind ("debit
    card" before "card"), a value it holds ("Costco") or a record it links to; then
    the kind the customer has fewer of; then recency."""
    # words naming any of the customer's kinds name that kind, not a value: "debit card"
    # asks about the card, not about every transaction described "DEBIT CARD PURCHASE"
    kind_words = {w for r in rows for phrase in r.words for w in words(phrase)}
    spelled = sorted(w for w in kind_words if len(w) >= FUZZY_MIN)  # once, not per token
    tokens = [_typo_of(t, kind_words, spelled) for t in words(message)]  # "dsipute"
    said, text = set(tokens), f" {' '.join(tokens)} "
    # what customers call a product in other words or languages names it by the catalog's
    # ("la cámara": the Digital Camera on an order line)
    said |= message_words(message) - set(words(message))
    lowered = message.lower()
    keys = {r.key.lower() for r in rows if _names_key(r.key.lower(), lowered)}  # named ones
    numbers = set(re.findall(r"(?<!\d)\d{4,}(?!\d)", message))
    # "how do I dispute a charge?" asks the way, not about their charges; a longer message
    # that also tells their situation is about their records too
    # nor does "do you offer debit cards?": what the business offers
    offers = OFFERED.search(message) is not None
    how = (HOW_TO.search(message) is not None or offers) and len(tokens) <= HOW_TO_WORDS
    per_kind = Counter(r.kind for r in rows)
    n = max(len(rows), 1)
    # the values each record holds, and how many of the customer's records hold each: a
    # value in every record ("Gold Rewards Card" on each of a card's charges) names none
    where = {(r.kind, r.key): i for i, r in enumerate(rows)}
    links = [_linked(r, where) for r in rows]  # where each record's linked ones stand
    # less the words naming another kind: "debit card" names the card, not the charges
    # described "DEBIT CARD PURCHASE"; a word naming its own kind that a value holds too
    # tells which of that kind when they have many of it and few hold it ("my transfer":
    # the 4 of 32 transactions described "TRANSFER"), not of the few they hold ("card" in
    # one card's name of two does not make "my card" that one)
    own_kind = {r.kind: {w for p in r.words for w in words(p)} for r in rows}
    held = [_value_words(r) for r in rows]
    in_kind = Counter((r.kind, w) for r, h in zip(rows, held, strict=True) for w in h)
    drop = {
        k: {w for j, ws in own_kind.items() if j != k for w in ws}
        | {w for w in own_kind[k] if per_kind[k] <= HELD_FEW or in_kind[(k, w)] * 2 >= per_kind[k]}
        for k in own_kind
    }
    own = [(h - drop[r.kind]) | _figures_of(r) for r, h in zip(rows, held, strict=True)]
    # what a record holds of the record it links to names that one: a charge's card type
    # names the card, not the charge
    values = [own[i].difference(*(own[j] for j in links[i])) for i in range(len(rows))]
    held_by = Counter(v for vs in values for v in vs)
    whole = {v for v in held_by if v.startswith(WHOLE) and f" {v[1:]} " in text}
    # a word before "my" is what is done to it, not a value: "can u check my debit card"
    # asks about the card, not a deposit described "BIRTHDAY CHECK"
    doing = {t for t, after in itertools.pairwise(tokens) if after in POSSESSIVE}
    mentioned = (said - doing) | figures(message) | whole
    # a value the message names ("Costco") says more than the kind ("what did I spend")
    valued = [_valued(sum(_rarity(held_by[v], n) for v in vs & mentioned)) for vs in values]
    by_value = {i for i, v in enumerate(valued) if v >= VALUE_NAMED}
    scores: list[float] = []
    by_kind: list[int] = []  # how long a phrase naming its kind the message uses
    for rank, r in enumerate(rows):
        recency = RECORD_RECENCY * (1.0 - rank / n)
        # the longest phrase naming its kind: "debit card" (2) before "card" (1)
        named = _kind_named(r.words, text)
        by_kind.append(named)
        # the record it belongs to names it too: named by id ("the payments on booking
        # BK1"), less when named by a value ("my EcoCard" is the card, then its charges)
        linked = 0.0
        if keys & {k.lower() for k in (r.links or {}).values()}:
            linked = VALUE_NAMED
        elif by_value.intersection(links[rank]):
            linked = VALUE_NAMED / 2
        # a number that is one of its own (a card's last four digits) names it like its id
        numbered = numbers & {str(v) for v in r.fields.values() if str(v).isdigit()}
        if r.key.lower() in keys or numbered:
            score = RECORD_NAMED
        # nor, asked what the business offers, a value of theirs: "do you have a travel
        # card?" is not about the charges filed under "Travel"
        elif (named and not how) or (valued[rank] and not offers) or linked:
            # of two kinds named alike, the one the customer has fewer of is the one meant:
            # "the charge I disputed" is their one dispute, not one of 47 charges
            specific = KIND_SPECIFIC / per_kind[r.kind]
            evidence = named + valued[rank] + linked + specific
            score = RECORD_KIND + _below_named(evidence) + recency
        else:
            score = recency
        scores.append(score)
    _kind_over_value(links, by_kind, scores)
    if not how:
        _status_named_first(rows, scores, message)
    if STANDING.search(message) and not how:
        _under_way_first(rows, scores)
    elif not how and max(scores, default=0.0) < RECORD_KIND and _asks_a_status(rows, message):
        # "has my stuff shipped yet?" names no record, but a status of a kind: the ones
        # under way are what it asks about, as "where is my stuff?"
        _under_way_first(rows, scores)
    elif asks_amount(message) and PAID.search(message) and not how:
        _amounts_told(rows, scores)  # "how much did I pay?", not "how much is shipping?"
    # what a named record links to comes right behind it: the card a named charge was
    # made on, the account of a named transfer (acting on the one needs the other)
    for linked_to, score in zip(links, list(scores), strict=True):
        for j in linked_to if score >= RECORD_KIND else []:
            scores[j] = max(scores[j], score - LINK_BEHIND)
    out = []
    for r, score in zip(rows, scores, strict=True):
        out.append(
            Fact(
                id=f"record:{r.kind}:{r.key}",
                kind="record",
                text=r.text,
                relevance=score,
                status=r.status,
                actions=record_actions(r),
                texts=r.texts or {},
                arrived=r.arrived,
                open=r.open,
                status_texts=r.status_texts or {},
                statuses=r.statuses or {},
                terms=[*r.words, *(name.replace("_", " ") for name in r.fields)],
                links=dict(r.links or {}),
                amount_texts=r.amount_texts or {},
            )
        )
    return out


def _acted_on(rows: list[CustomerRecord], facts: list[Fact], message: str) -> None:
    """The records an action the message asks is about. One that names no record ("can I
    return it?", "quiero cancelarlo") is about the records whose kind knows the action:
    those whose status allows it first (the delivered orders for a return), each above its
    own parts that know it too (an order before its lines). One whose best-named records
    know it not is about the record they belong to that does: "cancel it" of an order's
    line is its order. Not a question about the way ("how do I return an item?"), which
    the help articles answer, nor the action named as a thing ("my money back after a
    cancellation"): asked, not talked about."""
    if HOW_TO.search(message) or HOW_LONG.search(message):
        return
    best = _best(facts)
    lowered = _asking(rows, best, message)
    asked: dict[str, set[str]] = {}
    said = _names_said({r.kind: r.actions or {} for r in rows}, message)
    for r in rows:
        if r.kind not in asked:
            asked[r.kind] = {
                a.name
                for a in _kind_known(r.actions or {})
                if a.asked_in(lowered) and not _within_said(a, said)
            }
    acting = {i for i, r in enumerate(rows) if asked[r.kind]}
    if not acting:
        return
    where = {(r.kind, r.key): i for i, r in enumerate(rows)}
    if best:
        if not acting.intersection(best):
            top = max(f.relevance for f in facts)
            for j in {j for i in best for j in _linked(rows[i], where) if j in acting}:
                facts[j].relevance = max(facts[j].relevance, top + FOLLOWED)
        return
    per_kind = Counter(rows[i].kind for i in acting)
    n = len(rows)
    parts: dict[int, list[int]] = {}  # a part of a record asked about as a whole: its wholes
    for i in sorted(acting):
        r = rows[i]
        wholes = [
            j for j in _linked(r, where) if j in acting and asked[rows[j].kind] & asked[r.kind]
        ]
        if wholes:
            parts[i] = wholes
            continue
        score = RECORD_KIND + KIND_SPECIFIC / per_kind[r.kind] + RECORD_RECENCY * (1 - i / n)
        if asked[r.kind] & set(r.allows or []):
            score += UNDER_WAY_FIRST
        facts[i].relevance = max(facts[i].relevance, score)
    # its parts are the first of what the message does not name, not named themselves:
    # "return everything in the one delivered" is the delivered order, and its lines are
    # what a return is made of
    # (the parts of the best-asked whole first: of the delivered order, for a return)
    top = max((facts[j].relevance for ws in parts.values() for j in ws), default=1.0)
    for i, wholes in parts.items():
        whole = max(facts[j].relevance for j in wholes)
        facts[i].relevance = max(facts[i].relevance, PART_OF_ASKED * whole / top)


def unknown_asked(
    rows: list[CustomerRecord],
    facts: list[Fact],
    kind_actions: dict[str, dict[str, Any]],
    message: str,
) -> None:
    """An action the message asks of the records it names best that their kind cannot
    have, though another kind of the business's can: "I want to freeze my card" from
    someone whose cards are credit cards, where only debit cards freeze. It goes with
    them as not known to their kind (`RecordAction.known`), so that a reply says it cannot
    be done rather than list the cards as if that answered. Not when a record they link
    to, or one linking to them, has it ("cancel it" of an order's line: its order), nor a
    question about the way or how long it takes, which the help articles answer."""
    if HOW_TO.search(message) or HOW_LONG.search(message):
        return
    best = _best(facts)
    if not best:
        return
    where = {(r.kind, r.key): i for i, r in enumerate(rows)}
    chosen = set(best)
    near = chosen | {j for i in best for j in _linked(rows[i], where)}
    near |= {j for j, r in enumerate(rows) if chosen.intersection(_linked(r, where))}
    # what they can have, by every name: "cancel" an order is "close" a card's other name
    had = {n for j in near for a in _kind_known(rows[j].actions or {}) for n in a.said_as()}
    lowered = _asking(rows, best, message)
    # the names of theirs the message says: "pay" is no other action in "pay it off"
    theirs = _names_said({rows[j].kind: rows[j].actions or {} for j in near}, message)
    asked: dict[str, RecordAction] = {}
    for action in (a for actions in kind_actions.values() for a in _kind_known(actions)):
        named_before = action.name in asked or had.intersection(action.said_as())
        within = _within_said(action, theirs)
        if not named_before and not within and action.asked_in(lowered):
            asked[action.name] = action.model_copy(update={"known": False})
    for action in asked.values():
        for i in best:
            facts[i].actions.append(action)


def _names_said(kind_actions: dict[str, dict[str, Any]], message: str) -> list[str]:
    """Every name of the kinds' actions the message says, of each action it says."""
    lowered = message.lower()
    return [
        n
        for actions in kind_actions.values()
        for a in _kind_known(actions)
        if a.said_in(lowered)
        for n in a.said_as()
    ]


def _within_said(action: RecordAction, said: list[str]) -> bool:
    """Whether a name of the action is words of a name the message says of another
    action: "pay" in "pay it off", which is "pay off"."""
    own = action.said_as()
    return any(
        re.search(rf"(?<!\w){re.escape(n)}(?!\w)", longer)
        for n in own
        for longer in said
        if longer not in own
    )


def _kind_known(actions: dict[str, Any]) -> list[RecordAction]:
    """A kind's actions (name → its names by language), none of them allowed."""
    return [RecordAction(name=a, allowed=False, names=n) for a, n in actions.items()]


def _best(facts: list[Fact]) -> list[int]:
    """Where the records named best stand (those within FOLLOWED of the best), if any is
    named."""
    top = max((f.relevance for f in facts), default=0.0)
    return [i for i, f in enumerate(facts) if f.relevance > top - FOLLOWED] if top >= 1 else []


def _asking(rows: list[CustomerRecord], best: list[int], message: str) -> str:
    """The (lower-cased) message without what names the records named best, nor actions
    named as done things ("a cancellation"): what is left asks an action. A word naming
    what it names is no action asked: "status of my dispute" names the dispute, it does
    not ask to dispute the charge the dispute is about (as it names them, with a typo:
    "dsipute")."""
    tokens = [t for t in TOKEN.findall(message.lower()) if not _DONE_THING.search(t)]
    naming = {w for i in best for p in rows[i].words for w in TOKEN.findall(p.lower())}
    spelled = sorted(w for w in naming if len(w) >= FUZZY_MIN)
    return " ".join(t for t in tokens if _typo_of(t, naming, spelled) not in naming)


def _asks_a_status(rows: list[CustomerRecord], message: str) -> bool:
    """A yes-or-no question naming a status of a kind the customer holds, by any of the
    words it is said by ("has it shipped yet?", "is it active?")."""
    said = {w for r in {r.kind: r for r in rows}.values() for ws in r.statuses.values() for w in ws}
    if not asks_whether(message, said):
        return False
    return _kind_named(list(said), f" {' '.join(words(message))} ") > 0


def _status_named_first(rows: list[CustomerRecord], scores: list[float], message: str) -> None:
    """ "Why was my order cancelled?", "can I return my delivered order?": a status the
    message names, by any word it is said by, tells which of the records it names alike it
    is about (the cancelled order, not each of them); naming none and pointing back at
    none ("why was my stuff cancelled?"), the records in that status. A negated why ("why
    hasn't my order shipped?") is about the ones still under way and not in it. Not a
    yes-or-no question, which asks whether the status holds ("has it shipped yet?", "my
    old line still active?"), nor another negated one ("it says delivered but I never got
    it")."""
    why = WHY.search(message) is not None
    negated = NEGATED.search(message) is not None
    said = {w for r in rows for ws in r.statuses.values() for w in ws}
    whether = asks_whether(message, said) or YET.search(message) or _STILL.search(message)
    if not why and (whether or negated):
        return
    text = f" {' '.join(words(message))} "
    fits: list[int] = []
    for i, r in enumerate(rows):
        if not r.status:
            continue
        named = {code for code, said in r.statuses.items() if _kind_named(said, text)}
        if not named:
            continue
        if (r.status.upper() in named) != negated and not (negated and r.open is False):
            fits.append(i)
    if not fits:
        return
    kinded = [i for i, score in enumerate(scores) if score >= RECORD_KIND]
    if kinded:
        # among the ones named alike (apart by recency alone), not over a better-named one
        top = max(scores[i] for i in kinded)
        for i in (i for i in fits if scores[i] >= top - RECORD_RECENCY):
            scores[i] = min(scores[i] + STATUS_NAMED, RECORD_NAMED - RECORD_RECENCY)
    elif not _BACK.search(message):
        for i in fits:
            scores[i] += RECORD_KIND


_STILL = re.compile(r"\b(?:still|already)\b", re.I)  # "still active?": whether it is


def _under_way_first(rows: list[CustomerRecord], scores: list[float]) -> None:
    """ "Where is it?", "any news on my dispute?": of the records the message names, the
    ones still under way come first (the pending order before the delivered ones); when it
    names none ("where's my stuff?"), the ones under way are what it asks about, else the
    latest of a kind that can be under way (rows are newest first)."""
    named = [i for i, score in enumerate(scores) if score >= RECORD_KIND]
    if named:
        # among the ones named alike (apart by recency alone), not over a better-named one:
        # "where is my debit card" is not the credit card on its way
        top = max(scores[i] for i in named)
        for i in (i for i in named if scores[i] >= top - RECORD_RECENCY and rows[i].open):
            scores[i] = min(scores[i] + UNDER_WAY_FIRST, RECORD_NAMED - RECORD_RECENCY)
        return
    under_way = [i for i, r in enumerate(rows) if r.open]
    latest = next((i for i, r in enumerate(rows) if r.open is False), None)
    for i in under_way or ([latest] if latest is not None else []):
        scores[i] += RECORD_KIND


def _kind_over_value(links: list[list[int]], by_kind: list[int], scores: list[float]) -> None:
    """ "The order with the backpack": the value names an order line, the kind names the
    order it is on; the record of the kind the message names comes first, right above
    the one its value named (whose kind the message does not name)."""
    for j, linked_to in enumerate(links):
        if by_kind[j]:
            continue
        for i in linked_to:
            if by_kind[i] and RECORD_KIND <= scores[i] <= scores[j] < RECORD_NAMED:
                scores[i] = scores[j] + KIND_OVER_VALUE


def _amounts_told(rows: list[CustomerRecord], scores: list[float]) -> None:
    """ "How much did I pay?" naming no record: the ones whose kind tells its amount
    (`amount_said`), those still under way, else the latest (rows are newest first)."""
    if any(score >= RECORD_KIND for score in scores):
        return
    told = [i for i, r in enumerate(rows) if r.amount_texts]
    for i in [i for i in told if rows[i].open] or told[:1]:
        scores[i] += RECORD_KIND


RECORD_RECENCY = 0.4  # below the step between two kind words' lengths: ties break only
KIND_SPECIFIC = 0.5  # for the only record of its kind; less for each of several
VALUE_NAMED = 2.0  # a named value outranks a kind phrase one or two words longer
NAMES_FEW = 0.25  # the least rarity that names: held by up to 4 of 6 records, 21 of 60
UNDER_WAY_FIRST = RECORD_RECENCY + 0.5  # a named record still under way, before the
# named ones done however recent: a reply lists those within half a point of the best
KIND_OVER_VALUE = 0.1  # the record of the kind named, just above the one a value named
LINK_BEHIND = 1.0  # a named record's linked one ranks this far behind it: not as named
# a record in the status the message names, before the ones named alike, and before what
# the previous message named ("can i return my delivered order" after asking of others)
STATUS_NAMED = UNDER_WAY_FIRST + FOLLOWED
PART_OF_ASKED = 0.9  # a part of a record an action is asked of: above every record only
# recent (RECORD_RECENCY at most), below what the message names (1 and more)


def none_held(rows: list[CustomerRecord], kinds: dict[str, list[str]], message: str) -> list[Fact]:
    """What the message names that the customer holds none of: "my debit card" from
    someone with only credit cards. Only a phrase sharing a word with one of their own
    kinds' ("card"), which would otherwise read their credit cards as the answer, or one
    said as theirs in asking how it stands ("any news on my dispute?"); not in a request
    ("can I get a replacement card": they do not have it yet). A fact the prompt states
    and a reply says: "I don't see a debit card on your account"."""
    if REQUEST.search(message) or OFFERED.search(message):
        return []  # "can I get a debit card", "do you offer debit cards?"
    said = f" {' '.join(words(message))} "
    held_kinds = {r.kind for r in rows}
    own = {" ".join(words(p)) for r in rows for p in r.words}
    own_words = {w for p in own for w in p.split()}
    standing = STANDING.search(message) is not None
    # what is on its way, when the message asks how things stand
    under_way = (
        {w for r in rows if r.open for p in r.words for w in words(p)}
        if standing or HOW_LONG.search(message)
        else set()
    )
    out: dict[str, Fact] = {}
    for kind, phrases in kinds.items():
        if kind in held_kinds:
            continue
        named = [" ".join(words(p)) for p in phrases]
        named = [p for p in named if p and f" {p} " in said and p not in own]
        named = [
            p
            for p in named
            if own_words & set(p.split())
            or (standing and any(f" {mine} {p} " in said for mine in POSSESSIVE))
        ]
        # "where's my new card?" from someone whose debit card is on its way: that card
        # is the answer, not "I don't see a new card"
        named = [p for p in named if not under_way & set(p.split())]
        if named:
            phrase = max(named, key=len)
            text = f"The customer has no {phrase} ({kind.replace('_', ' ')})."
            out.setdefault(phrase, _none_fact(kind, phrase, text))
    return list(out.values())


def _none_fact(tail: str, phrase: str, text: str) -> Fact:
    """A fact that the customer holds no `phrase`: its id starts with NONE_HELD and its
    first term is what a reply names ("I don't see a debit card on your account")."""
    return Fact(
        id=f"{NONE_HELD}{tail}", kind="record", text=text, relevance=RECORD_NAMED, terms=[phrase]
    )


def stand_in(actions: list[RecordAction], action: RecordAction) -> RecordAction | None:
    """The record's own action that does the same for the customer while its status does
    not allow `action` ("return" of a pending order: "cancel"), if it can be done now."""
    return next((a for a in actions if a.name == action.instead and a.allowed and not a.why), None)


class _Acting(Protocol):
    """A record as a fact or a prompt's source: its id, links and actions."""

    id: str
    links: dict[str, str]
    actions: list[RecordAction]


_R = TypeVar("_R", bound=_Acting)


def linked_stand_in(
    record: _R, action: RecordAction, others: Sequence[_R]
) -> tuple[_R, RecordAction] | None:
    """`instead: {return: order.cancel}`: the record `record` links to, among `others`,
    and its action that does the same for the customer while `action` is not allowed
    ("return" of a pending order's line: its order's cancellation), if it can be done."""
    link, _, name = (action.instead or "").rpartition(".")
    if not link or action.allowed:
        return None
    owner = next((o for o in others if o.id == f"record:{link}:{record.links.get(link)}"), None)
    if owner is None:
        return None
    other = next((b for b in owner.actions if b.name == name and b.allowed and not b.why), None)
    return (owner, other) if other is not None else None


def record_actions(r: CustomerRecord, now: datetime | None = None) -> list[RecordAction]:
    """What the record's kind can do and whether it can be done now: its status allows
    it, and the record meets what the action needs (`requires`: "amount == 0"), checked
    now, since an age or a balance changes; else why not, as the business says it."""
    values: dict[str, Any] | None = None  # read once, for a record with requirements
    out = []
    for a, names in (r.actions or {}).items():
        allowed, why = a in (r.allows or []), {}
        for need in (r.requires or {}).get(a, []) if allowed else []:
            values = values or record_values(r, now or datetime.now(UTC))
            if not holds(str(need.get("when", "")), values):
                allowed, why = False, dict(need.get("why") or {})
                break
        instead = None if allowed else (r.instead or {}).get(a)
        outcome = (r.outcomes or {}).get(a, {})
        out.append(
            RecordAction(
                name=a, allowed=allowed, names=names, why=why, instead=instead, outcome=outcome
            )
        )
    return out


def record_values(r: CustomerRecord, now: datetime) -> dict[str, Any]:
    """What a condition reads of a record: its fields (a number written as text, "$842.15"
    or "2156 points", as the number), `amount`, `age_days` since its date, `status`."""
    values: dict[str, Any] = {}
    for name, value in (r.fields or {}).items():
        if isinstance(value, bool | int | float) or value is None:
            values[name] = value
        elif isinstance(value, str):
            number = _NUMBER.fullmatch(value.strip())
            values[name] = float(number.group(1).replace(",", "")) if number else value
    values["amount"] = r.amount
    values["status"] = r.status
    if r.at is not None:
        at = r.at if r.at.tzinfo else r.at.replace(tzinfo=UTC)
        values["age_days"] = (now - at).total_seconds() / 86400
    return values


_NUMBER = re.compile(r"[$€£¥]?\s*(-?[\d,]*\.?\d+)(?:\s*[a-zA-Z%]+)?")
"""A number as a field writes it: "842.15", "$1,234.56", "2156 points", "12%"."""


def own_words(name: str, key: str, text: str) -> str:
    """A reference item's own words: its text without its id and its reference's name."""
    drop = set(words(name.replace("_", " ")))
    return " ".join(w for w in words(text.replace(key, " ")) if w not in drop)


def none_linked(
    rows: list[CustomerRecord], references: dict[tuple[str, str], str], message: str
) -> list[Fact]:
    """What the message names of the business's reference data (a product, a plan) that
    none of the customer's records links to, of a kind their records link to: "where is my
    water bottle?" from someone who never bought one. A reply says "I don't see a water
    bottle on your account" rather than read their other orders as the answer. Not in a
    request ("can I add a water bottle") unless it asks what is done to what one holds
    ("I want to return the makeup kit": one of their records' actions), and not when one
    of their records names it."""
    if REQUEST.search(message) and not _asks_an_action(rows, message):
        return []
    if OFFERED.search(message):
        return []  # "do you sell bikes?": what the business sells, not what they bought
    linked = {(n, k) for r in rows for n, k in (r.links or {}).items()}
    names = {n for n, _ in linked}
    ws = message_words(message)
    held = {f" {' '.join(words(r.text))} " for r in rows}
    # the customer's own words for products ("cafetera"), and whether each names one they hold
    phrases = {own.lower(): ps for own, ps in said_for(message).items()}
    holding = {p.lower() for own, ps in phrases.items() if _says(held, own) for p in ps}
    plain = set(words(message))
    out: list[Fact] = []
    for (name, key), own in references.items():
        if name not in names or (name, key) in linked or not own or name_match(own, ws) < 1.0:
            continue
        if _says(held, own):
            continue  # one of their records says it ("Water Bottle" in an order's line)
        theirs = [p for p in phrases.get(own.lower(), []) if p.lower() not in holding]
        if name_match(own, plain) < 1.0 and not theirs:
            continue  # "cafetera" of their Espresso Machine, not a Coffee Maker they lack
        text = f"None of the customer's records is for {own} ({name.replace('_', ' ')})."
        # named as they said it: "No encuentro mochila", not "backpack"
        said = theirs[0] if name_match(own, plain) < 1.0 else own
        out.append(_none_fact(f"{name}:{key}", said, text))
    return out[:2]


def offered_facts(s: Session, names: dict[tuple[str, str], str], message: str) -> list[Fact]:
    """What the business offers of what the message asks it offers ("do you sell bikes?",
    "¿venden bicicletas?"): the reference items it names (a product, a plan), each with
    its parts that can be had now (the bicycles in stock), whoever asks. Their ids start
    with OFFERED_ID."""
    if not OFFERED.search(message):
        return []
    ws = message_words(message)
    named = [k for k, own in names.items() if own and name_match(own, ws) >= 1.0][:MOST_OFFERED]
    wholes, parts = read_reference_parts(s, named)
    out = []
    for (name, key), whole in wholes.items():
        offered = parts.get(f"{name}:{key}", [])
        now = "; ".join(p.text for p in offered[:MAX_VARIANTS]) or "none available right now"
        out.append(
            Fact(
                id=f"{OFFERED_ID}{name}:{key}",
                kind="product",
                text=f"The business offers {whole.text}: {now}",
                relevance=RECORD_NAMED,
                # what a reply names: the item, then the parts to be had now
                terms=[whole.text, *(p.text for p in offered[:MOST_PARTS])],
            )
        )
    return out


OFFERED_ID = "offered:"  # the id of a fact about what the business offers
MOST_OFFERED = 2  # items named
MOST_PARTS = 3  # of each, read to the customer


def _says(texts: set[str], name: str) -> bool:
    """Whether one of the (word-spaced, lower-cased) texts holds the name as words."""
    return any(f" {' '.join(words(name))} " in text for text in texts)


def _asks_an_action(rows: list[CustomerRecord], message: str) -> bool:
    """Whether the message asks one of the actions the customer's records know, in any
    status ("return", "cancel", "replace"): one that is done to something one holds."""
    lowered = message.lower()
    known = {a: names for r in rows for a, names in (r.actions or {}).items()}
    return any(
        RecordAction(name=a, allowed=False, names=n).asked_in(lowered) for a, n in known.items()
    )


def held_names(rows: list[CustomerRecord]) -> list[str]:
    """The names among the values of what the customer holds: "Green Account", "Gold
    Rewards Card", "EcoCard" (several words, or one with a capital inside), not a status,
    an id or an amount. What one holds is a kind one has few of (accounts, cards); what
    one does one has many of (charges: their merchants are not products of the business)."""
    per_kind = Counter(r.kind for r in rows)
    out: dict[str, None] = {}
    for r in rows:
        if per_kind[r.kind] > HELD_FEW:
            continue
        for value in r.fields.values():
            if not isinstance(value, str) or value == r.status or any(c.isdigit() for c in value):
                continue
            name = value.strip()
            several = len(name.split()) > 1 and name[:1].isupper() and len(name) <= 40
            if several or _CAMEL.fullmatch(name):
                out[name] = None
                # as articles qualify it: "Green Account (checking)", not "(savings)"
                for other in r.fields.values():
                    if isinstance(other, str) and other.isalpha() and other.islower():
                        out[f"{name} ({other})"] = None
    return list(out)


NONE_HELD = "none:"  # the id of a fact that the customer holds none of a kind
HELD_FEW = 3  # records of one kind a customer holds at most; more are what they did
_CAMEL = re.compile(r"[A-Z][a-z]+(?:[A-Z][a-z]+)+")


def _linked(r: CustomerRecord, where: dict[tuple[str, str], int]) -> list[int]:
    """Where the records `r` links to stand among the customer's (those it holds)."""
    found = (where.get(link) for link in (r.links or {}).items())
    return [j for j in found if j is not None]


def _below_named(evidence: float) -> float:
    """`evidence` kept below a record named by its id, its order kept: what a long
    message names of many records ranks them without reaching RECORD_NAMED."""
    room = RECORD_NAMED - RECORD_KIND - 1
    return room * (1 - math.exp(-evidence / room))


def _rarity(holders: int, records: int) -> float:
    """How well a value names a record, 0 to 1, by how few of the customer's `records`
    hold it: 1 for one record among many; 0 for a value most of them hold ("Gold" on
    each charge of a Gold card), which names none."""
    rarity = math.log((records + 1) / holders) / math.log(records + 1)
    return rarity if rarity >= NAMES_FEW else 0.0


def _valued(evidence: float) -> float:
    """What the values a message names add to a record: a distinctive one (rarity 0.5 and
    up: a merchant among dozens of charges) counts as VALUE_NAMED, a common one less; more
    beyond it (the amount and the date beside the merchant) add half as much again, so the
    charge whose merchant, amount and date are all named leads the merchant's others."""
    return VALUE_NAMED * (min(1.0, 2 * evidence) + max(0.0, evidence - 0.5))


_FIGURE = re.compile(r"(?<![\w.,/-])\d[\d,]*(?:\.\d+)?(?:[/-]\d+)*(?![\w/-])")


def figures(text: str) -> set[str]:
    """Amounts and dates written in `text`, comparable with a record's: "$1,299.99" and
    "1299.99" are one, "245.00" and "245" are one; a month/day/year date also as its
    month/day ("10/28"). Short bare numbers ("4 cards") are left out."""
    out = set()
    for m in _FIGURE.findall(text):
        f = m.replace(",", "")
        if "." in f:
            f = f.rstrip("0").rstrip(".")
        parts = re.split(r"[/-]", f)
        if len(parts) == 3 and len(parts[2]) == 4:
            out.add("/".join(parts[:2]))
        if len(f) >= 3:
            out.add(f.replace("-", "/"))
    return out


def _figures_of(r: CustomerRecord) -> set[str]:
    """The amounts and dates a record's values hold; an amount with cents also as its
    whole part, as customers round it ("the 183 one" for $183.24)."""
    out = {
        f for v in r.fields.values() if isinstance(v, (str, int, float)) for f in figures(str(v))
    }
    return out | {f.partition(".")[0] for f in out if "." in f and len(f.partition(".")[0]) >= 3}


HOW_TO_WORDS = 12  # a how-to question longer than this tells the customer's own case too


def _typo_of(token: str, vocabulary: set[str], long_words: list[str]) -> str:
    """The vocabulary word `token` is a typo of (a swapped, missing or extra letter, in a
    word of FUZZY_MIN letters or more, never the first), else the token. Not a replaced
    letter nor one added at the end: those make other words ("card" / "cart")."""
    if token in vocabulary or len(token) < FUZZY_MIN:
        return token
    # the vocabulary's words of FUZZY_MIN letters or more, sorted
    return next((w for w in long_words if w[0] == token[0] and is_typo(token, w)), token)


def _value_words(r: CustomerRecord) -> set[str]:
    """Distinctive words of a record's values (a merchant, a card type), not its status:
    "what did I spend at Costco" names the Costco transaction. Words of four letters or
    more, names of three written in capitals ("REI", "AWS"), and a value of several words
    as a whole."""
    out: set[str] = set()
    for value in r.fields.values():
        if isinstance(value, str) and value != r.status and not any(c.isdigit() for c in value):
            said = words(value)
            out.update(w for w in said if len(w) >= 4)
            out.update(w.lower() for w in _ACRONYM.findall(value))
            # a name written whole: "Gold Rewards Card" is not "Business Gold Rewards Card",
            # and "Per Se" is named though each of its words is short
            if len(said) > 1:
                out.add(WHOLE + " ".join(said))
    return out


WHOLE = "="  # marks a value of several words, named when the message writes all of them


_ACRONYM = re.compile(r"\b[A-Z]{3}\b")


def _profile_parts(c: CustomerRow) -> list[tuple[str, str]]:
    """The profile fact by attribute: name, email, phone, address."""
    addr = ", ".join(
        p
        for p in (
            c.address1,
            c.address2,
            c.city,
            f"{c.state or ''} {c.zip or ''}".strip(),
            c.country,
        )
        if p
    )
    parts = [("name", f"Customer {c.id}: {c.name}.")]
    if c.email:
        parts.append(("email", f"Email {c.email}."))
    if c.phone:
        parts.append(("phone", f"Phone {c.phone}."))
    if addr:
        parts.append(("address", f"Default address {addr}."))
    return parts


def confirmed_actions(
    rows: list[CustomerRecord],
    facts: list[Fact],
    message: str,
    earlier: str | None,
    older: Sequence[str] = (),
    readings: Readings | None = None,
) -> list[ConfirmedAction]:
    """What the customer's previous message asked of a record its status allows ("can I
    cancel #W1?"), when this one only agrees ("yes, go ahead") or agrees and asks it again
    ("yes, cancel it"): of the records `facts` (this message's) and that message (read
    with `older`, the ones before it) both name best. Nothing when the previous message
    asked nothing ("thanks!"), or this one says more or not to: a question, a "but", a
    "don't", another action, another record ("please cancel #W2")."""
    if earlier is None:
        return []
    go_ahead = AFFIRMS.match(message) is not None
    restated = (
        AGREES_TO.match(message) is not None
        and "?" not in message
        and len(words(message)) <= RESTATED_WORDS
        and not OTHER_ONE.search(message)
        and not NEGATES.search(message)
    )
    if not (go_ahead or restated):
        return []
    lowered, before = message.lower(), earlier.lower()
    # what the previous message was about, as it was read then
    then = read_before(rows, earlier, older, readings)
    asked_of = {f.id for f in _named_best(then)}
    best = [f for f in _named_best(facts) if f.id in asked_of]
    if not go_ahead and any(  # "yes, and change the address": more than it agrees to
        a.asked_in(lowered) and not a.asked_in(before) for f in best for a in f.actions
    ):
        return []
    return [  # of the records it reads on to (named best), not every one of their kind
        ConfirmedAction(record=f.id, action=a.name)
        for f in best
        for a in f.actions
        if a.allowed and a.asked_in(before) and (go_ahead or a.asked_in(lowered))
    ]


def declined_actions(
    rows: list[CustomerRecord],
    message: str,
    earlier: str | None,
    older: Sequence[str] = (),
    readings: Readings | None = None,
) -> list[ConfirmedAction]:
    """What the customer's previous message asked of a record its status allows ("can I
    cancel it?"), when this one takes it back: it opens with a no ("no, leave it", "ok
    wait, don't cancel", "never mind", "déjalo") and asks nothing of its own (no question,
    no other action, not "the other one")."""
    if earlier is None or not DECLINES.match(message) or "?" in message:
        return []
    if len(words(message)) > DECLINE_WORDS or OTHER_ONE.search(message):
        return []
    lowered, before = message.lower(), earlier.lower()
    then = _named_best(read_before(rows, earlier, older, readings))
    actions = [(f, a) for f in then for a in f.actions if a.allowed and a.asked_in(before)]
    # "no, return it instead": another action asked, not the offer taken back
    if any(a.said_in(lowered) for f in then for a in f.actions if not a.asked_in(before)):
        return []
    # "no, it hasn't arrived": something of its own besides the no and the action
    rest = [
        t
        for t in TOKEN.findall(lowered.replace("’", "'"))
        if t not in DECLINE_FILLER and not any(a.said_in(t) for _, a in actions)
    ]
    if rest:
        return []
    return [ConfirmedAction(record=f.id, action=a.name) for f, a in actions]


def _named_best(facts: list[Fact]) -> list[Fact]:
    """The records named best: the top one and those within a follow-up's step of it."""
    named = [f for f in facts if f.kind == "record" and f.relevance >= NAMED_PRODUCT]
    return [named[i] for i in _best(named)]
