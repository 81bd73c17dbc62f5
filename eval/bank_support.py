"""The support suite's bank slice: realistic messages from the bank's customers (τ-knowledge's
`db.json`), sent through `POST /v1/chat` to a workspace that holds the bank as `rapport demo`
loads it (its mapping, its documents, the generic intents), and read as the customer reads
the reply.

Cases: per intent (debit card status, credit card balance, a merchant's charge, checking
balance, a card on its way, a dispute, activating a new card, asking for a person) and in
Spanish, French and German, drawn with a seed from the customers whose records fit. Each
carries the facts a correct reply states, taken from `db.json` itself (the card's last four
digits and status, the balance, the charge's amount …), never from Rapport's own rendering.
A reply fails on a missing fact, another customer's id or card, the store's text, staff
wording, an internal label, a wrong handoff or another language (support_suite.score)."""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel

from eval.report import CaseScore
from eval.support_suite import (
    HERE,
    ORDER_ID,
    Fact,
    Reading,
    SupportCase,
    _any,
    converse,
    detect_language,
    handoff_reasons,
    lexicon,
    noisy,
    score,
    sentences,
)

SUITE = "answers-support-bank"
LANGUAGES = ("es", "fr", "de")
# Ids of the bank's objects as they appear in replies ("txn_…", "cc_…_gold", "dbc_…").
RECORD_ID = re.compile(r"\b(?:b?txn|cc|dbc|chk|sav|biz_chk|dsp|ccord|pay|clsr)_[A-Za-z0-9_]+\b")
LAST4 = re.compile(r"\bending (?:in )?(\d{4})\b")
# The store's words: a bank customer has no order, parcel or return.
STORE_WORDS = (
    r"\border #",
    r"\bshipping address\b",
    r"\bexchange (?:it|the item)\b",
    r"\bgift card\b",
    r"\breturn (?:it|the item)\b",
)
ACTIVATE = r"activ|aktiv"
# A status as a reply in each language may say it (either gender, in plain words): the
# suite's own words, not the mapping's labels, so a reply is checked, not its source.
STATUS_WORDS: dict[str, dict[str, str]] = {
    "ACTIVE": {"es": r"activ[ao]", "fr": r"acti(?:ve|f)", "de": r"aktiv"},
    "PENDING": {"es": r"pendiente", "fr": r"en attente", "de": r"ausstehend|in bearbeitung"},
    "FROZEN": {
        "es": r"congelad[ao]|bloquead[ao]",
        "fr": r"gel[ée]e?|bloqu[ée]e?",
        "de": r"gesperrt",
    },
    "CLOSED": {"es": r"cerrad[ao]", "fr": r"ferm[ée]e?|cl[ôo]tur[ée]e?", "de": r"geschlossen"},
    "SHIPPED": {"es": r"enviad[ao]", "fr": r"exp[ée]di[ée]e?", "de": r"versandt|verschickt"},
    "DELIVERED": {"es": r"entregad[ao]", "fr": r"livr[ée]e?", "de": r"zugestellt|geliefert"},
    "UNDER_REVIEW": {"es": r"en revisi[óo]n", "fr": r"en cours d'examen", "de": r"in pr[üu]fung"},
}


def _status(code: str, lang: str) -> str:
    """A pattern for a record's status as a reply in `lang` may say it: its code, in plain
    words or as coded ("UNDER_REVIEW", "under review"), or the language's own word."""
    plain = re.escape(code).replace("_", "[_ ]")
    said = STATUS_WORDS.get(code.upper(), {}).get(lang)
    return rf"\b(?:{plain}|{said})\b" if said else rf"\b{plain}\b"


class BankCustomer(BaseModel):
    id: str
    debit: list[dict[str, Any]] = []
    credit: list[dict[str, Any]] = []
    charges: list[dict[str, Any]] = []
    checking: list[dict[str, Any]] = []
    card_orders: list[dict[str, Any]] = []
    disputes: list[dict[str, Any]] = []
    owned: set[str] = set()  # every id of theirs in db.json
    last4: set[str] = set()
    # names in their data (merchants, card types, account levels): no language's words
    names: set[str] = set()


def read_bank(db_path: Path) -> dict[str, BankCustomer]:
    """Each customer's objects in the bank's `db.json`; ValueError if it is not one."""
    try:
        db = json.loads(db_path.read_text(encoding="utf-8"))
        users = db["users"]["data"]
        sections = {k: (v.get("data") or {}) for k, v in db.items()}
    except (OSError, ValueError, KeyError, AttributeError, TypeError) as exc:
        raise ValueError(
            f"{db_path}: not a τ-knowledge db.json ({exc.__class__.__name__})"
        ) from None
    out = {uid: BankCustomer(id=uid) for uid in users}
    accounts = sections.get("accounts", {})

    def owner(item: dict[str, Any]) -> BankCustomer | None:
        uid = item.get("user_id") or item.get("referrer_id")
        if uid not in out and item.get("account_id") in accounts:
            uid = accounts[item["account_id"]].get("user_id")
        return out.get(uid) if isinstance(uid, str) else None

    for name, items in sections.items():
        if name == "users":
            continue
        for key, item in items.items():
            c = owner(item)
            if c is None:
                continue
            c.owned.add(key)
            bucket = {
                "debit_cards": c.debit,
                "credit_card_accounts": c.credit,
                "credit_card_transaction_history": c.charges,
                "credit_card_orders": c.card_orders,
                "transaction_disputes": c.disputes,
            }.get(name)
            if name == "accounts" and item.get("class") == "checking":
                bucket = c.checking
            if bucket is not None:
                bucket.append({"key": key, **item})
            for field in ("merchant_name", "card_type", "level", "credit_card_type"):
                if isinstance(item.get(field), str):
                    c.names.add(item[field])
            if name == "debit_cards" and item.get("last_4_digits"):
                c.last4.add(str(item["last_4_digits"]))
    return out


@cache
def phrasings() -> dict[str, dict[str, list[str]]]:
    data: dict[str, dict[str, list[str]]] = yaml.safe_load(
        (HERE / "bank_phrasings.yaml").read_text(encoding="utf-8")
    )
    return data


def _money(value: Any) -> str:
    """An amount as a pattern that finds it as written, with or without "$", thousands
    commas and zero cents ("$1,134.26", "1134.26", "$0.00" for 0), and not inside another
    number."""
    text = str(value).replace("$", "").replace(",", "").strip()
    whole, _, cents = text.partition(".")
    groups = [whole[max(i - 3, 0) : i] for i in range(len(whole), 0, -3)][::-1]
    number = ",?".join(re.escape(g) for g in groups)
    # a whole amount may be written with its cents: "0" as "$0.00"
    tail = rf"\.{re.escape(cents)}(?!\d)" if cents else r"(?:\.00)?(?!\d|[,.]\d)"
    return rf"(?<![\d.])(?<!\d,){number}{tail}"


class _Builder:
    def __init__(self, bank: dict[str, BankCustomer], rng: random.Random):
        self.rng = rng
        self.customers = sorted(bank.values(), key=lambda c: c.id)

    def message(
        self, lang: str, intent: str, keep: Sequence[str] = (), exact: bool = True, **slots: str
    ) -> str:
        """A phrasing of `intent` that uses exactly the `slots` given (or, not `exact`, any
        of them), with typos and casing as people type."""
        templates = phrasings()[lang][intent]
        uses = [(t, set(re.findall(r"\{(\w+)\}", t))) for t in templates]
        usable = [t for t, u in uses if u == slots.keys()] if exact else []
        usable = usable or [t for t, u in uses if u <= slots.keys()]
        return noisy(self.rng.choice(usable).format(**slots), self.rng, keep)

    def pick(self, fits: Callable[[BankCustomer], bool]) -> BankCustomer | None:
        pool = [c for c in self.customers if fits(c)]
        return self.rng.choice(pool) if pool else None

    def case(self, intent: str, lang: str) -> SupportCase | None:
        made: SupportCase | None = getattr(self, f"_{intent}")(lang)
        return made

    def _make(self, intent: str, lang: str, c: BankCustomer, msg: str, **kw: Any) -> SupportCase:
        return SupportCase(
            id="", category=intent, customer_id=c.id, language=lang, turns=[msg], **kw
        )

    def _card_status(self, lang: str) -> SupportCase | None:
        c = self.pick(lambda c: bool(c.debit))
        if c is None:
            return None
        card = self.rng.choice(c.debit)
        last4 = str(card["last_4_digits"])
        if len(c.debit) > 1 and self.rng.random() < 0.5:  # "my debit card ending 4821"
            msg = self.message(lang, "card_status", [last4], last4=last4)
        else:
            msg = self.message(lang, "card_status")
        cards = [card] if last4 in msg else c.debit
        expect = [Fact(kind="id", value=str(d["last_4_digits"])) for d in cards]
        expect += [Fact(kind="text", value=_status(str(d["status"]), lang)) for d in cards]
        return self._make("card_status", lang, c, msg, expect=expect, expect_handoff=False)

    def _card_balance(self, lang: str) -> SupportCase | None:
        c = self.pick(lambda c: any(x.get("current_balance") for x in c.credit))
        if c is None:
            return None
        card = self.rng.choice([x for x in c.credit if x.get("current_balance")])
        kind = str(card["card_type"])
        msg = self.message(lang, "card_balance", [kind], card_type=kind)
        expect = [Fact(kind="text", value=_money(card["current_balance"]))]
        return self._make("card_balance", lang, c, msg, expect=expect, expect_handoff=False)

    def _merchant(self, lang: str) -> SupportCase | None:
        def merchants(c: BankCustomer) -> dict[str, list[dict[str, Any]]]:
            by: dict[str, list[dict[str, Any]]] = {}
            for t in c.charges:
                by.setdefault(str(t["merchant_name"]), []).append(t)
            return {m: ts for m, ts in by.items() if len(ts) <= 2}

        c = self.pick(lambda c: bool(merchants(c)))
        if c is None:
            return None
        merchant, charges = self.rng.choice(sorted(merchants(c).items()))
        msg = self.message(lang, "merchant", [merchant], merchant=merchant)
        expect = [Fact(kind="text", value=_money(t["transaction_amount"])) for t in charges]
        return self._make("merchant", lang, c, msg, expect=expect, expect_handoff=False)

    def _account_balance(self, lang: str) -> SupportCase | None:
        c = self.pick(lambda c: len(c.checking) == 1)
        if c is None:
            return None
        msg = self.message(lang, "account_balance")
        expect = [Fact(kind="text", value=_money(c.checking[0]["current_holdings"]))]
        return self._make("account_balance", lang, c, msg, expect=expect, expect_handoff=False)

    def _card_order(self, lang: str) -> SupportCase | None:
        c = self.pick(lambda c: bool(c.card_orders))
        if c is None:
            return None
        order = c.card_orders[0]
        msg = self.message(lang, "card_order")
        expect = [
            Fact(kind="text", value=_status(str(order["status"]), lang)),
            Fact(kind="id", value=str(order["expected_delivery"])),
        ]
        return self._make("card_order", lang, c, msg, expect=expect, expect_handoff=False)

    def _dispute(self, lang: str) -> SupportCase | None:
        c = self.pick(lambda c: bool(c.disputes))
        if c is None:
            return None
        d = c.disputes[0]
        msg = self.message(lang, "dispute")
        expect = [
            Fact(kind="id", value=str(d["key"])),
            Fact(kind="text", value=_status(str(d["status"]), lang)),
        ]
        return self._make("dispute", lang, c, msg, expect=expect, expect_handoff=False)

    def _activate(self, lang: str) -> SupportCase | None:
        c = self.pick(lambda c: len([d for d in c.debit if d.get("status") == "PENDING"]) == 1)
        if c is None:
            return None
        card = next(d for d in c.debit if d.get("status") == "PENDING")
        last4 = str(card["last_4_digits"])
        msg = self.message(lang, "activate", [last4], exact=False, last4=last4)
        expect = [Fact(kind="id", value=last4), Fact(kind="text", value=ACTIVATE)]
        return self._make("activate", lang, c, msg, expect=expect, expect_handoff=False)

    def _human(self, lang: str) -> SupportCase | None:
        c = self.pick(lambda c: True)
        assert c is not None
        return self._make("human", lang, c, self.message(lang, "human"), expect_handoff=True)


INTENTS = (
    "card_status",
    "card_balance",
    "merchant",
    "account_balance",
    "card_order",
    "dispute",
    "activate",
    "human",
)
FOREIGN = ("card_status", "card_balance", "merchant")


def build_cases(
    bank: dict[str, BankCustomer], per_intent: int = 4, seed: int = 0
) -> list[SupportCase]:
    """`per_intent` cases of each intent, and as many in Spanish, French and German."""
    rng = random.Random(seed)
    builder = _Builder(bank, rng)
    cases: list[SupportCase] = []
    for intent in INTENTS:
        for k in range(per_intent):
            case = builder.case(intent, "en")
            if case is not None:
                cases.append(case.model_copy(update={"id": f"{intent}-{k}"}))
    for k in range(per_intent * 2):
        lang = LANGUAGES[k % 3]
        case = builder.case(FOREIGN[k % len(FOREIGN)], lang)
        if case is not None:
            cases.append(
                case.model_copy(update={"id": f"non_english-{lang}-{k}", "category": "non_english"})
            )
    return cases


def read_reply(
    case: SupportCase, customer: BankCustomer, answer: str, citation_ids: Sequence[str]
) -> Reading:
    """What a bank reply says, as the support suite counts it."""
    lex = lexicon()
    missing = []
    for fact in case.expect:
        found = (
            fact.value in answer
            if fact.kind == "id"
            else bool(re.search(fact.value, answer, re.IGNORECASE))
        )
        if not found:
            missing.append(fact.value)
    false = [f"not this customer's: {i}" for i in set(RECORD_ID.findall(answer)) - customer.owned]
    false += [f"not this customer's card: {d}" for d in set(LAST4.findall(answer)) - customer.last4]
    parts = sentences(answer)
    reasons = [rf"\b{re.escape(r)}\b" for r in handoff_reasons()]
    other = [s for s in parts if _any(STORE_WORDS, s)] + ORDER_ID.findall(answer)
    other += [i for i in citation_ids if i.startswith("order:") or i.startswith("product:")]
    return Reading(
        missing=missing,
        false_statements=false,
        staff_voice=[s for s in parts if _any(lex["staff_voice"], s)],
        internal_labels=[s for s in parts if _any([*lex["internal_labels"], *reasons], s)],
        other_business=other,
        language=detect_language(_without(customer.names, RECORD_ID.sub(" ", answer))),
    )


def _without(names: set[str], text: str) -> str:
    """`text` less the names it quotes from the customer's data, longest first."""
    for name in sorted(names, key=len, reverse=True):
        text = text.replace(name, " ")
    return text


def http_scorer(
    send: Callable[[dict[str, Any]], dict[str, Any]],
    bank: dict[str, BankCustomer],
    hash_of: Callable[[str], str],
) -> Callable[[SupportCase], CaseScore]:
    """Score a case through `send` (one `POST /v1/chat` body → its JSON reply)."""

    def run(case: SupportCase) -> CaseScore:
        reply, ms, cites = converse(send, case, hash_of)
        reading = read_reply(case, bank[case.customer_id], str(reply.get("answer", "")), cites)
        return score(case, reply, reading, ms)

    return run
