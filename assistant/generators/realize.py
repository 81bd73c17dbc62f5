"""Realize an answer plan as reply sentences from the language's reply catalog.

Every statement about a record is read from the plan's structured facts (never from
rendered text) and cites the record's fact source when the context holds it."""

from __future__ import annotations

import re

from assistant import redact
from assistant.turn.plan import default_rules
from assistant.turn.types import (
    SOCIAL_INTENTS,
    AnswerPlan,
    PlannedIntent,
    PlannedMethod,
    PlannedRecord,
)
from assistant.types import Composed
from prompts.catalog import ReplyCatalog

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
ACTION_INTENTS = ("cancel", "return", "exchange", "change_address", "wrong_item")
MOST_ITEMS = 3


def _money(x: float) -> str:
    return f"${x:,.2f}"


class Realizer:
    """Sentences for one plan, in one language, citing `composed`'s sources."""

    def __init__(self, composed: Composed, catalog: ReplyCatalog) -> None:
        self.cat = catalog
        self.message = composed.message
        self.source_n = {s.id: s.n for s in composed.sources}
        self.cited: list[int] = []
        # the customer's earlier messages the turn retrieved, best first
        self.history = [s for s in composed.sources if s.kind == "history"]

    def _cite(self, r: PlannedRecord) -> str:
        n = self.source_n.get(r.source_id)
        if n is None:
            return ""
        if n not in self.cited:
            self.cited.append(n)
        return f" [{n}]"

    def _status(self, r: PlannedRecord) -> str:
        key = f"status.{r.status}"
        if self.cat.has(key):
            return self.cat.text(key)
        return self.cat.text("status.other", status=r.status)

    def _status_word(self, status: str) -> str:
        """A status in a word, in the reply's language ("entregado"), else as stored."""
        key = f"status_word.{status}"
        return self.cat.text(key) if self.cat.has(key) else status

    def _values(self, r: PlannedRecord, cite: bool = True) -> dict[str, object]:
        items = ", ".join(r.items[:MOST_ITEMS]) + ("…" if len(r.items) > MOST_ITEMS else "")
        return {
            "order": self.cat.text("order", id=r.id, items=items),
            "status": self._status(r),
            "cite": self._cite(r) if cite else "",
            "amount": _money(r.paid),
            "method": self.cat.join([self._method(m) for m in r.paid_methods], "or")
            or "the original payment method",
        }

    def _method(self, m: PlannedMethod) -> str:
        """A payment method in the reply's language: "Visa terminada en 9182"."""
        if m.last_four and self.cat.has("card_ending"):
            return self.cat.text("card_ending", brand=m.brand, last4=m.last_four)
        if m.method == "gift card" and self.cat.has("gift_card"):
            return self.cat.text("gift_card")
        return m.method

    def _can_still(self, r: PlannedRecord) -> str:
        names = self.cat.entries.get("actions", {})
        acts = [str(names[a]) for a in r.allows if a in names]
        return self.cat.text("can_still", actions=self.cat.join(acts, "or")) if acts else ""

    def recall(self) -> list[str]:
        """What the customer told us before that best matches the question, quoted."""
        # what they told us, not an earlier question: "what did I say about X?" is
        # answered by the statement about X, not by asking it again
        lexicon = default_rules()[0]
        told = [h for h in self.history if "recall" not in lexicon.intents_in(h.text)]
        said = [h for h in told if not h.text.rstrip().endswith("?")]
        if not told:
            return [self.cat.text("recall.none")]
        best = (said or told)[0]
        when, _, text = best.text.partition(" ")
        if not _DATE.fullmatch(when):
            when, text = "", best.text
        if best.n not in self.cited:
            self.cited.append(best.n)
        key = "recall.found" if when else "recall.found_undated"
        return [self.cat.text(key, date=when, text=text.strip(), cite=f" [{best.n}]")]

    def intent(self, i: PlannedIntent, also: list[str] | None = None) -> list[str]:
        """The sentences for one intent; `also`, other actions asked among the same
        records, when it asks which one."""
        if i.name == "recall":
            return self.recall()
        if i.name in SOCIAL_INTENTS:
            return [self.cat.text(f"social.{i.name}")]
        # An id that is not the customer's is not repeated: it may be someone else's.
        out = [self.cat.text("missing_id")] if i.missing else []
        if i.move == "clarify" and i.candidates:
            names = self.cat.entries.get("actions", {})
            listed = [
                self.cat.text(
                    "clarify_item",
                    id=r.id,
                    items=", ".join(r.items[:MOST_ITEMS]),
                    status_word=self._status_word(r.status),
                )
                for r in i.candidates
            ]
            asked = [i.action or "", *(also or [])]
            action = self.cat.join([str(names.get(a, a)) for a in dict.fromkeys(asked)], "or")
            out.append(self.cat.text("clarify", action=action, list=self.cat.join(listed)))
            return out
        for r in i.records:
            out.extend(self._record(i, r))
        return out

    def _record(self, i: PlannedIntent, r: PlannedRecord) -> list[str]:
        v = self._values(r)
        if i.name in ACTION_INTENTS and i.action:
            if i.action == "cancel" and r.status == "cancelled" and self.cat.has("cancel.already"):
                return [self.cat.text("cancel.already", **v)]
            outcome = "allowed" if i.action in r.allows else "not_allowed"
            if (
                i.name == "exchange"
                and outcome == "not_allowed"
                and "modify" in r.allows
                and self.cat.has("exchange.modify_instead")
            ):
                # not shipped yet: the same wish is met by changing the item's option
                return [self.cat.text("exchange.modify_instead", **v)]
            if i.name == "change_address" and outcome == "allowed":
                # the new address is in the message: say it back instead of asking for it
                given = [x.text for x in redact.find(self.message) if x.kind == "ADDRESS"]
                if given and self.cat.has("change_address.confirm"):
                    return [self.cat.text("change_address.confirm", **v, address=given[-1])]
            lines = [self.cat.text(f"{i.name}.{outcome}", **v)]
            if outcome == "not_allowed":
                lines.append(self._can_still(r))
            return [x for x in lines if x]
        if i.name == "refund_status":
            if r.refunds:
                v["amount"] = _money(sum(x.amount for x in r.refunds))
                v["method"] = self.cat.join(
                    list(dict.fromkeys(self._method(x) for x in r.refunds)), "or"
                )
                return [self.cat.text("refund_status.refunded", **v)]
            key = "timing" if r.note == "refund_timing" else "none"
            return [self.cat.text(f"refund_status.{key}", **v)]
        if i.name == "payment":
            return [self.cat.text("payment", **v)]
        lines = [self.cat.text("where_is_order", **v)]
        if r.tracking and r.status in ("processed", "delivered"):
            lines.append(self.cat.text("tracking", tracking=", ".join(r.tracking)))
        return lines

    def plan(self, plan: AnswerPlan) -> list[str]:
        """Every sentence the plan calls for, each said once."""
        lines: list[str] = []
        for item in plan.not_bought:
            lines.append(self.cat.text("not_bought", item=item))
        # A record another intent already speaks about is not spoken of again:
        # - "where is it, can I cancel it?" gets one sentence (any other intent covers it);
        # - a cancel or return already says what was paid and where it goes back to;
        # - "can I get a refund instead?" answered by the return is not also told "I don't
        #   see a refund yet" (a refund already made is still told).
        answered = [i for i in plan.intents if i.move == "answer"]
        # "wrong size, can I swap it?": the wrong-item answer offers the return and the
        # exchange both
        wrong = {r.id for i in answered if i.name == "wrong_item" for r in i.records}
        spoken_for = {
            "exchange": wrong,
            "return": wrong,
            "where_is_order": {
                r.id for i in answered if i.name != "where_is_order" for r in i.records
            },
            "payment": {
                r.id for i in answered if i.name in ("cancel", "return") for r in i.records
            },
            "refund_status": {
                r.id for i in plan.intents if i.name == "return" for r in i.records if not r.refunds
            },
        }
        # "wrong size, can I swap it?" asks to exchange and to return among the same orders:
        # one question, "… could be exchanged or returned", not one per action
        choosing: dict[tuple[str, ...], list[str]] = {}
        for i in plan.intents:
            if i.move == "clarify" and i.candidates and i.action:
                choosing.setdefault(tuple(r.id for r in i.candidates), []).append(i.action)
        for i in plan.intents:
            among = tuple(r.id for r in i.candidates)
            also: list[str] = []
            if i.move == "clarify" and among in choosing:
                if choosing[among][0] != i.action:
                    continue  # asked together with the first action among them
                also = choosing[among][1:]
            drop = spoken_for.get(i.name)
            if drop:
                i = i.model_copy(update={"records": [r for r in i.records if r.id not in drop]})
                if not i.records and not i.candidates:
                    continue
            for line in self.intent(i, also):
                if line not in lines:
                    lines.append(line)
        if not lines and any(i.name != "other" for i in plan.intents):
            lines.append(self.cat.text("no_records"))
        if plan.asks_why and self.cited and self.cat.has("why_unknown"):
            lines.append(self.cat.text("why_unknown"))
        return lines
