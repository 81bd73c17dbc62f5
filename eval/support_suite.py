"""The support suite: realistic shopper messages through `POST /v1/chat`, scored as the
customer reads the reply.

Cases are generated from the shared τ-retail data (customers, their orders, statuses,
tracking numbers, payments) and the phrasings in `eval/support/phrasings.yaml`, with typos
and case changes added at random, so each run with another seed reads differently. Each
case carries the facts a correct reply states (order ids, statuses, tracking numbers,
payment methods, policy facts such as 5 to 7 business days) and whether a person should
take over. A reply is read sentence by sentence with `eval/support/lexicon.yaml`: which
status it claims for which order (a false statement when SQL says otherwise), sentences
written for staff, internal labels, another business's text, and its language."""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable, Iterable, Sequence
from functools import cache
from pathlib import Path
from typing import Any, Literal, Protocol

import yaml
from pydantic import BaseModel, Field

from eval.report import CaseScore

SUITE = "answers-support"
HERE = Path(__file__).parent / "support"
LANGUAGES = ("en", "es", "fr", "de")
ORDER_ID = re.compile(r"#W\d{7}")
TRACKING = re.compile(r"(?<!\d)\d{12}(?!\d)")
HANDOFF_INTENTS = {"human"}


class Fact(BaseModel):
    """Something a correct reply states: an id, a record's status, or a policy fact."""

    kind: Literal["id", "status", "text", "not_found"]
    value: str  # the id, the status, or a regular expression for a text fact
    order: str | None = None  # the record a status is about


class SupportCase(BaseModel):
    id: str
    category: str  # the intent
    customer_id: str
    language: str
    turns: list[str]  # earlier turns of the conversation, then the message scored
    expect: list[Fact] = Field(default_factory=list)
    expect_handoff: bool | None = None  # None: either is acceptable


class Order(BaseModel):
    id: str
    status: str
    products: list[str]
    tracking: list[str]
    payments: list[tuple[str, float, str]]  # (kind, amount, payment method id)


class Customer(BaseModel):
    id: str
    orders: list[Order]
    methods: dict[str, dict[str, Any]]  # payment method id → its fields


class RetailData(BaseModel):
    customers: dict[str, Customer]
    products: list[str]


def read_retail(retail_dir: Path) -> RetailData:
    """The customers with their orders, from τ-retail's users.json and orders.json."""
    users = json.loads((retail_dir / "users.json").read_text(encoding="utf-8"))
    orders = json.loads((retail_dir / "orders.json").read_text(encoding="utf-8"))
    products = json.loads((retail_dir / "products.json").read_text(encoding="utf-8"))
    customers = {}
    for uid, user in users.items():
        mine = []
        for oid in user.get("orders", []):
            o = orders.get(oid)
            if o is None:
                continue
            mine.append(
                Order(
                    id=oid,
                    status=o["status"],
                    products=sorted({i["name"] for i in o["items"]}),
                    tracking=[t for f in o.get("fulfillments", []) for t in f["tracking_id"]],
                    payments=[
                        (p["transaction_type"], p["amount"], p["payment_method_id"])
                        for p in o.get("payment_history", [])
                    ],
                )
            )
        customers[uid] = Customer(id=uid, orders=mine, methods=user.get("payment_methods", {}))
    names = sorted({p["name"] for p in products.values()})
    return RetailData(customers=customers, products=names)


# -- case generation -----------------------------------------------------------------------


@cache
def phrasings() -> dict[str, dict[str, list[str]]]:
    data: dict[str, dict[str, list[str]]] = yaml.safe_load(
        (HERE / "phrasings.yaml").read_text(encoding="utf-8")
    )
    return data


@cache
def lexicon() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((HERE / "lexicon.yaml").read_text(encoding="utf-8"))
    return data


def noisy(text: str, rng: random.Random, keep: Sequence[str]) -> str:
    """The message as people type it: sometimes a typo, lower case, no final punctuation.
    Words in `keep` (ids, product names) stay as they are."""
    protected = {w.lower() for k in keep for w in k.split()}
    if rng.random() < 0.35:
        words = text.split(" ")
        spots = [
            i
            for i, w in enumerate(words)
            if len(w) >= 5 and w.isalpha() and w.lower() not in protected
        ]
        if spots:
            i = rng.choice(spots)
            w = words[i]
            j = rng.randrange(1, len(w) - 2)
            words[i] = w[:j] + w[j + 1] + w[j] + w[j + 2 :]
            text = " ".join(words)
    if rng.random() < 0.3:
        text = text.lower()
    if rng.random() < 0.3:
        text = text.rstrip("?.! ")
    return text


def _status(order: Order) -> list[Fact]:
    facts = [
        Fact(kind="id", value=order.id),
        Fact(kind="status", value=order.status, order=order.id),
    ]
    if order.status in ("processed", "delivered") and order.tracking:
        facts.append(Fact(kind="id", value=order.tracking[0]))
    return facts


def _method_pattern(method: dict[str, Any]) -> str:
    source = method.get("source", "")
    if source == "credit_card":
        return re.escape(str(method.get("last_four", "")))
    if source == "paypal":
        return r"pay\s?pal"
    return r"gift\s?card"


class _Builder:
    """Draws cases per intent from the customers whose records fit it."""

    def __init__(self, data: RetailData, rng: random.Random):
        self.data, self.rng = data, rng
        self.customers = sorted(data.customers.values(), key=lambda c: c.id)

    def message(self, lang: str, intent: str, keep: Sequence[str] = (), **slots: str) -> str:
        template = self.rng.choice(phrasings()[lang][intent])
        return noisy(template.format(**slots), self.rng, keep)

    def pick(self, fits: Callable[[Customer], bool]) -> Customer:
        pool = [c for c in self.customers if fits(c)]
        return self.rng.choice(pool)

    def by_status(self, *statuses: str) -> tuple[Customer, Order]:
        c = self.pick(lambda c: any(o.status in statuses for o in c.orders))
        return c, self.rng.choice([o for o in c.orders if o.status in statuses])

    def case(self, intent: str, lang: str = "en") -> SupportCase | None:
        build = getattr(self, f"_{intent}")
        case: SupportCase | None = build(lang)
        return case

    def _make(
        self, intent: str, lang: str, c: Customer, turns: list[str], **kw: Any
    ) -> SupportCase:
        return SupportCase(
            id="", category=intent, customer_id=c.id, language=lang, turns=turns, **kw
        )

    def _where_by_id(self, lang: str) -> SupportCase:
        c, o = self.by_status("pending", "processed", "delivered")
        msg = self.message(lang, "where_by_id", [o.id], order=o.id)
        return self._make("where_is_order", lang, c, [msg], expect=_status(o), expect_handoff=False)

    def _where_only(self, lang: str) -> SupportCase:
        c = self.pick(lambda c: len(c.orders) == 1 and c.orders[0].status != "cancelled")
        msg = self.message(lang, "where_only")
        return self._make(
            "where_is_order", lang, c, [msg], expect=_status(c.orders[0]), expect_handoff=False
        )

    def _where_by_product(self, lang: str) -> SupportCase:
        def unique(c: Customer) -> list[tuple[Order, str]]:
            seen = [p for o in c.orders for p in o.products]
            return [
                (o, p)
                for o in c.orders
                if o.status != "cancelled"
                for p in o.products
                if seen.count(p) == 1
            ]

        c = self.pick(lambda c: len(c.orders) >= 2 and bool(unique(c)))
        o, product = self.rng.choice(unique(c))
        msg = self.message(lang, "where_by_product", [product], product=product.lower())
        return self._make("where_is_order", lang, c, [msg], expect=_status(o), expect_handoff=False)

    def _cancel_ok(self, lang: str) -> SupportCase:
        c, o = self.by_status("pending")
        msg = self.message(lang, "cancel_by_id", [o.id], order=o.id)
        return self._make("cancel_allowed", lang, c, [msg], expect=_status(o), expect_handoff=False)

    def _cancel_no(self, lang: str) -> SupportCase:
        c, o = self.by_status("processed", "delivered")
        msg = self.message(lang, "cancel_by_id", [o.id], order=o.id)
        return self._make(
            "cancel_not_allowed", lang, c, [msg], expect=_status(o)[:2], expect_handoff=False
        )

    def _cancel_which(self, lang: str) -> SupportCase:
        # two or three open orders: the reply lists them all and asks which one
        c = self.pick(lambda c: 2 <= sum(o.status == "pending" for o in c.orders) <= 3)
        msg = self.message(lang, "cancel_which")
        expect = [Fact(kind="id", value=o.id) for o in c.orders if o.status == "pending"]
        return self._make("cancel_which", lang, c, [msg], expect=expect, expect_handoff=False)

    def _return(self, lang: str) -> SupportCase:
        c, o = self.by_status("delivered")
        if lang == "en" and len(c.orders) >= 2 and self.rng.random() < 0.4:
            others = {p for x in c.orders if x is not o for p in x.products}
            only_here = [p for p in o.products if p not in others]
            if only_here:
                product = self.rng.choice(only_here)
                msg = self.message(lang, "return_by_product", [product], product=product.lower())
                return self._make(
                    "return", lang, c, [msg], expect=_status(o)[:2], expect_handoff=False
                )
        msg = self.message(lang, "return_by_id", [o.id], order=o.id)
        return self._make("return", lang, c, [msg], expect=_status(o)[:2], expect_handoff=False)

    def _exchange(self, lang: str) -> SupportCase:
        c, o = self.by_status("delivered")
        msg = self.message(lang, "exchange_by_id", [o.id], order=o.id)
        return self._make("exchange", lang, c, [msg], expect=_status(o)[:2], expect_handoff=False)

    def _change_address(self, lang: str) -> SupportCase:
        c, o = self.by_status("pending")
        msg = self.message(lang, "change_address", [o.id], order=o.id)
        return self._make(
            "change_address", lang, c, [msg], expect=_status(o)[:2], expect_handoff=False
        )

    def _refund_timing(self, lang: str) -> SupportCase:
        c = self.pick(lambda c: bool(c.orders))
        msg = self.message(lang, "refund_timing")
        expect = [Fact(kind="text", value=r"\b5\s*(to|-|–)\s*7\b")]
        return self._make("refund_timing", lang, c, [msg], expect=expect, expect_handoff=False)

    def _refund_status(self, lang: str) -> SupportCase:
        def refunded(c: Customer) -> list[Order]:
            return [
                o
                for o in c.orders
                if o.status == "cancelled" and any(p[0] == "refund" for p in o.payments)
            ]

        c = self.pick(lambda c: bool(refunded(c)))
        o = self.rng.choice(refunded(c))
        method = next(p[2] for p in o.payments if p[0] == "refund")
        msg = self.message(lang, "refund_status", [o.id], order=o.id)
        # the refund and where it went answer the question; its status is optional
        expect = [
            Fact(kind="id", value=o.id),
            Fact(kind="text", value=_method_pattern(c.methods[method])),
        ]
        return self._make("refund_status", lang, c, [msg], expect=expect, expect_handoff=False)

    def _payment(self, lang: str) -> SupportCase:
        c = self.pick(lambda c: any(o.payments for o in c.orders))
        o = self.rng.choice([o for o in c.orders if o.payments])
        method = o.payments[0][2]
        msg = self.message(lang, "payment", [o.id], order=o.id)
        expect = [
            Fact(kind="id", value=o.id),
            Fact(kind="text", value=_method_pattern(c.methods[method])),
        ]
        return self._make("payment", lang, c, [msg], expect=expect, expect_handoff=False)

    def _damaged(self, lang: str) -> SupportCase:
        def unique(c: Customer) -> list[tuple[Order, str]]:
            seen = [p for x in c.orders for p in x.products]
            return [
                (o, p)
                for o in c.orders
                if o.status == "delivered"
                for p in o.products
                if seen.count(p) == 1
            ]

        c = self.pick(lambda c: bool(unique(c)))
        o, product = self.rng.choice(unique(c))
        msg = self.message(lang, "damaged", [product], product=product.lower())
        return self._make("wrong_or_damaged", lang, c, [msg], expect=[Fact(kind="id", value=o.id)])

    def _never_bought(self, lang: str) -> SupportCase:
        c = self.pick(lambda c: bool(c.orders))
        bought = {p for o in c.orders for p in o.products}
        product = self.rng.choice([p for p in self.data.products if p not in bought])
        msg = self.message(lang, "never_bought", [product], other_product=product.lower())
        expect = [Fact(kind="not_found", value=product)]
        return self._make("never_bought", lang, c, [msg], expect=expect, expect_handoff=False)

    def _human(self, lang: str) -> SupportCase:
        c = self.pick(lambda c: bool(c.orders))
        return self._make("human", lang, c, [self.message(lang, "human")], expect_handoff=True)

    def _out_of_scope(self, lang: str) -> SupportCase:
        c = self.pick(lambda c: bool(c.orders))
        return self._make("out_of_scope", lang, c, [self.message(lang, "out_of_scope")])

    def _follow_up(self, lang: str) -> SupportCase:
        c = self.pick(
            lambda c: len(c.orders) == 2 and all(o.status != "cancelled" for o in c.orders)
        )
        first, second = self.rng.sample(c.orders, 2)
        turns = [
            self.message(lang, "follow_up_first", [first.id], order=first.id),
            self.message(lang, "follow_up_second"),
        ]
        return self._make("follow_up", lang, c, turns, expect=_status(second), expect_handoff=False)

    def _foreign(self, lang: str) -> SupportCase:
        kind = self.rng.choice(["where_only", "where_by_id", "cancel_by_id", "return_by_id"])
        if kind == "where_only":
            case = self._where_only(lang)
        elif kind == "where_by_id":
            case = self._where_by_id(lang)
        elif kind == "cancel_by_id":
            case = self._cancel_ok(lang) if self.rng.random() < 0.6 else self._cancel_no(lang)
        else:
            case = self._return(lang)
        return case.model_copy(update={"category": "non_english"})


INTENTS = (
    "where_by_id",
    "where_only",
    "where_by_product",
    "cancel_ok",
    "cancel_no",
    "cancel_which",
    "return",
    "exchange",
    "change_address",
    "refund_timing",
    "refund_status",
    "payment",
    "damaged",
    "never_bought",
    "human",
    "out_of_scope",
    "follow_up",
)


def build_cases(data: RetailData, per_intent: int = 6, seed: int = 0) -> list[SupportCase]:
    """`per_intent` cases of each intent (and of non-English messages), drawn with `seed`."""
    rng = random.Random(seed)
    builder = _Builder(data, rng)
    cases: list[SupportCase] = []
    for intent in INTENTS:
        for k in range(per_intent):
            case = builder.case(intent)
            if case is not None:
                cases.append(case.model_copy(update={"id": f"{intent}-{k}"}))
    for k in range(per_intent * 2):
        lang = LANGUAGES[1 + k % 3]
        case = builder._foreign(lang)
        cases.append(case.model_copy(update={"id": f"non_english-{lang}-{k}"}))
    return cases


# -- reading a reply -----------------------------------------------------------------------


class Claim(BaseModel):
    order: str
    consistent: frozenset[str]  # the statuses the claim is true of
    text: str


def sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+|\n+", text) if s.strip()]


def _any(patterns: Iterable[str], text: str) -> list[str]:
    return [p for p in patterns if re.search(p, text, re.IGNORECASE)]


# How a general rule starts ("An order can …", "Refunds go …"): about no record.
_GENERAL = {
    "en": r"^(?:\W|\[\d+\])*(an?|any|every|all|orders|refunds|items|the shipping address of an)\b",
    "es": r"^(?:\W|\[\d+\])*(un|una|los|las|todo|todos)\b",
    "fr": r"^(?:\W|\[\d+\])*(une?|les|tout|toutes?|l'adresse de livraison)\b",
    "de": r"^(?:\W|\[\d+\])*(eine?|alle|erstattungen|artikel|die lieferadresse)\b",
}
# Words by which a sentence without an id speaks of the record named before it.
_POINTS_BACK = {
    "en": r"\b(it|its|it's|this order|that order|the order|your order)\b",
    "es": r"\b(lo|la|le|su|este pedido|tu pedido|el pedido)\b",
    "fr": r"\b(il|elle|la|le|sa|son|cette commande|votre commande)\b",
    "de": r"\b(sie|er|es|ihre|diese bestellung|die bestellung)\b",
}
_HYPOTHETICAL = {
    "en": r"\b(will|would|once|if|after|when|can|could|may|might|only)\b",
    "es": r"\b(será|sería|si|cuando|una vez|puede|podría|solo)\b",
    "fr": r"\b(sera|serait|si|quand|une fois|peut|pourrait|seulement)\b",
    "de": r"\b(wird|würde|wenn|sobald|kann|könnte|nur)\b",
}


def claims(text: str, language: str, focus: str | None) -> list[Claim]:
    """The status claims a reply makes about orders. A sentence's claims are about the one
    order it names, else the order named last in its paragraph, else `focus` (the case's
    only record). Sentences naming several orders, and conditional ones ("once it has
    shipped"), claim nothing checkable."""
    lex = lexicon()["claims"].get(language) or lexicon()["claims"]["en"]
    statuses = set(lexicon()["statuses"])
    found: list[Claim] = []
    for paragraph in re.split(r"\n\s*\n", text):
        current = focus
        for sentence in sentences(paragraph):
            ids = set(ORDER_ID.findall(sentence))
            if len(ids) > 1:
                current = None
                continue
            if ids:
                current = ids.pop()
            elif re.match(_GENERAL.get(language, _GENERAL["en"]), sentence, re.I) or not re.search(
                _POINTS_BACK.get(language, _POINTS_BACK["en"]), sentence, re.I
            ):
                continue  # a general sentence ("An order can be cancelled while …")
            if current is None:
                continue
            rest = sentence
            for key in ("able", "unable"):
                rule = lex.get(key)
                if rule and re.search(rule["pattern"], rest, re.IGNORECASE):
                    found.append(
                        Claim(order=current, consistent=frozenset(rule["true_of"]), text=sentence)
                    )
                    rest = re.sub(rule["pattern"], " ", rest, flags=re.IGNORECASE)
            found += _word_claims(rest, sentence, current, language, lex, statuses)
    return found


def _word_claims(
    rest: str, sentence: str, order: str, language: str, lex: dict[str, Any], statuses: set[str]
) -> list[Claim]:
    """Status words in a sentence's clauses ("has been delivered, so it can no longer be
    cancelled": the first clause claims, the conditional second one does not)."""
    found: list[Claim] = []
    hypothetical = _HYPOTHETICAL.get(language, _HYPOTHETICAL["en"])
    for clause in re.split(r"[,;:]\s+|\s+(?:so|but|and|y|pero|et|mais|und|aber)\s+", rest):
        if re.search(hypothetical, clause, re.IGNORECASE):
            continue
        rest = clause
        for word_group, words in lex["words"].items():
            true_of = set(lex.get("means", {}).get(word_group, [word_group]))
            for word in sorted(words, key=len, reverse=True):
                m = re.search(rf"(?<!\w){re.escape(word)}(?!\w)", rest, re.IGNORECASE)
                if not m:
                    continue
                before = rest[: m.start()].split()[-3:]
                # a phrase that carries its own negation ("not shipped yet") is read as is
                negated = not re.search(lex["negation"], word, re.IGNORECASE) and bool(
                    re.search(lex["negation"], " ".join(before), re.IGNORECASE)
                )
                consistent = statuses - true_of if negated else true_of
                found.append(Claim(order=order, consistent=frozenset(consistent), text=sentence))
                rest = rest[: m.start()] + " " + rest[m.end() :]
                break
    return found


class Reading(BaseModel):
    """What one reply says, as the metrics count it."""

    missing: list[str]
    false_statements: list[str]
    staff_voice: list[str]
    internal_labels: list[str]
    other_business: list[str]
    language: str | None


class LanguageDetector(Protocol):
    def __call__(self, text: str) -> str | None: ...


@cache
def _lingua() -> Any:
    try:
        from lingua import Language, LanguageDetectorBuilder
    except ImportError:  # pragma: no cover - the package is a dependency
        return None
    langs = [Language.ENGLISH, Language.SPANISH, Language.FRENCH, Language.GERMAN]
    return LanguageDetectorBuilder.from_languages(*langs).build()


def detect_language(text: str) -> str | None:
    detector = _lingua()
    if detector is None:
        return None
    plain = re.sub(r"\[\d+\]|#W\d+|\d+", " ", text)
    lang = detector.detect_language_of(plain)
    return None if lang is None else str(lang.iso_code_639_1.name).lower()


@cache
def handoff_reasons(policy_file: Path | None = None) -> tuple[str, ...]:
    """The policy's internal handoff reasons ("a VIP customer is unhappy"): staff's words,
    never the customer's."""
    path = policy_file or Path(__file__).parents[1] / "assistant" / "rules" / "policy.yaml"
    rules = yaml.safe_load(path.read_text(encoding="utf-8")).get("rules", [])
    return tuple(r["handoff"] for r in rules if isinstance(r.get("handoff"), str))


def read_reply(
    case: SupportCase,
    customer: Customer,
    answer: str,
    citation_ids: Sequence[str],
    other_business_ids: Sequence[str] = (),
    internal_reasons: Sequence[str] = (),
) -> Reading:
    lex = lexicon()
    orders = {o.id: o for o in customer.orders}
    status_of = {o.id: o.status for o in customer.orders}
    focus_ids = [f.order for f in case.expect if f.kind == "status" and f.order]
    focus = focus_ids[0] if len(focus_ids) == 1 else None
    said = claims(answer, case.language, focus)
    missing = []
    for fact in case.expect:
        named = (
            fact.value in answer
            if fact.kind == "id"
            else bool(re.search(fact.value, answer, re.IGNORECASE))
        )
        if fact.kind in ("id", "text") and not named:
            missing.append(fact.value)
        elif fact.kind == "status":
            ok = any(
                c.order == fact.order and fact.value in c.consistent and len(c.consistent) <= 2
                for c in said
            )
            if not ok:
                missing.append(f"{fact.order}: {fact.value}")
        elif fact.kind == "not_found":
            patterns = lex["not_found"].get(case.language, lex["not_found"]["en"])
            if not _any(patterns, answer):
                missing.append(f"not found: {fact.value}")
    false = [
        f"{c.order} is not {'/'.join(sorted(c.consistent))}: {c.text}"
        for c in said
        if c.order in status_of and status_of[c.order] not in c.consistent
    ]
    false += [
        f"not this customer's order: {i}" for i in set(ORDER_ID.findall(answer)) - set(orders)
    ]
    tracking = {t for o in customer.orders for t in o.tracking}
    false += [f"unknown tracking number: {t}" for t in set(TRACKING.findall(answer)) - tracking]
    parts = sentences(answer)
    staff = [s for s in parts if _any(lex["staff_voice"], s)]
    reasons = [rf"\b{re.escape(r)}\b" for r in internal_reasons]
    labels = [s for s in parts if _any([*lex["internal_labels"], *reasons], s)]
    other = [s for s in parts if _any(lex["other_business"], s)]
    other += [i for i in citation_ids if any(i.startswith(b) for b in other_business_ids)]
    return Reading(
        missing=missing,
        false_statements=false,
        staff_voice=staff,
        internal_labels=labels,
        other_business=other,
        language=detect_language(answer),
    )


def score(case: SupportCase, reply: dict[str, Any], reading: Reading, ms: float) -> CaseScore:
    """The case's metrics: pass/fail and what made it fail."""
    handoff = bool(reply.get("handoff"))
    n_expect = len(case.expect)
    metrics: dict[str, float] = {
        "false_statements": float(len(reading.false_statements)),
        "staff_voice": float(len(reading.staff_voice)),
        "internal_labels": float(len(reading.internal_labels)),
        "other_business": float(len(reading.other_business)),
        "handoff": float(handoff),
    }
    if n_expect:
        metrics["fact_recall"] = 1 - len(reading.missing) / n_expect
    if case.expect_handoff is not None:
        metrics["expect_handoff"] = float(case.expect_handoff)
        metrics["handoff_correct"] = float(handoff == case.expect_handoff)
    language_ok = reading.language is None or reading.language == case.language
    if reading.language is not None:
        metrics["language_match"] = float(language_ok)
    passed = (
        not reading.missing
        and not reading.false_statements
        and not reading.staff_voice
        and not reading.internal_labels
        and not reading.other_business
        and (case.expect_handoff is None or handoff == case.expect_handoff)
        and language_ok
    )
    metrics["pass"] = float(passed)
    return CaseScore(
        id=case.id,
        category=case.category,
        metrics=metrics,
        ms={"turn": round(ms, 2)},
        detail={
            "customer": case.customer_id,
            "messages": case.turns,
            "answer": str(reply.get("answer", ""))[:800],
            "handoff": handoff,
            "language": reading.language,
        }
        | {k: v for k, v in reading.model_dump().items() if k != "language" and v},
    )


def totals(per_case: Sequence[CaseScore]) -> dict[str, float]:
    """Counts over the run and handoff precision and recall."""

    def total(name: str) -> float:
        return float(sum(c.metrics.get(name, 0.0) for c in per_case))

    judged = [c for c in per_case if "expect_handoff" in c.metrics]
    tp = sum(1 for c in judged if c.metrics["handoff"] and c.metrics["expect_handoff"])
    fp = sum(1 for c in judged if c.metrics["handoff"] and not c.metrics["expect_handoff"])
    fn = sum(1 for c in judged if not c.metrics["handoff"] and c.metrics["expect_handoff"])
    result = {
        "false_statements_total": total("false_statements"),
        "staff_voice_total": total("staff_voice"),
        "internal_labels_total": total("internal_labels"),
        "other_business_total": total("other_business"),
        "handoff_precision": tp / (tp + fp) if tp + fp else 1.0,
        "handoff_recall": tp / (tp + fn) if tp + fn else 1.0,
    }
    by_intent: dict[str, list[float]] = {}
    for c in per_case:
        by_intent.setdefault(c.category or "", []).append(c.metrics["pass"])
    result["min_intent_pass"] = min((sum(v) / len(v) for v in by_intent.values()), default=0.0)
    return result


def http_scorer(
    send: Callable[[dict[str, Any]], dict[str, Any]],
    data: RetailData,
    hash_of: Callable[[str], str],
    other_business_ids: Sequence[str] = (),
) -> Callable[[SupportCase], CaseScore]:
    """Score a case through `send` (one `POST /v1/chat` body → its JSON reply), as the
    widget sends it: earlier turns first, in the same conversation."""

    def run(case: SupportCase) -> CaseScore:
        reply, ms, cites = converse(send, case, hash_of)
        customer = data.customers[case.customer_id]
        reading = read_reply(
            case,
            customer,
            str(reply.get("answer", "")),
            cites,
            other_business_ids,
            handoff_reasons(),
        )
        return score(case, reply, reading, ms)

    return run


def converse(
    send: Callable[[dict[str, Any]], dict[str, Any]],
    case: SupportCase,
    hash_of: Callable[[str], str],
) -> tuple[dict[str, Any], float, list[str]]:
    """A case's turns through `send` in one conversation, as the widget sends them: the
    last reply, the milliseconds they all took, and the ids the last reply cites."""
    import time

    conversation: str | None = None
    reply: dict[str, Any] = {}
    t0 = time.perf_counter()
    for message in case.turns:
        body = {
            "customer_id": case.customer_id,
            "user_hash": hash_of(case.customer_id),
            "message": message,
            "conversation_id": conversation,
        }
        reply = send({k: v for k, v in body.items() if v})
        conversation = reply.get("conversation_id")
    ms = (time.perf_counter() - t0) * 1e3
    return reply, ms, [str(c.get("id", "")) for c in reply.get("citations", [])]


def http_sender(client: Any) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """`send` over HTTP with a TestClient or an httpx client on the app."""

    def send(body: dict[str, Any]) -> dict[str, Any]:
        response = client.post("/v1/chat", json=body)
        if response.status_code != 200:
            raise RuntimeError(f"/v1/chat answered {response.status_code}")
        reply: dict[str, Any] = response.json()
        return reply

    return send


def bank_document_ids(docs_dir: Path | None) -> list[str]:
    """The ids of another business's documents (the bank's KB), to catch in citations."""
    if docs_dir is None or not docs_dir.is_dir():
        return []
    return sorted(p.stem for p in docs_dir.glob("*.json"))


def load_cases_file(path: Path) -> list[SupportCase]:
    """Cases saved as JSON (a list), e.g. a held-out set written by `build_cases`."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    return [SupportCase.model_validate(c) for c in raw]
