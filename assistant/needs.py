"""Predicted needs: why the customer is most likely writing, and what an agent can do
about it, with eligibility from the orders' status under the store policy.

Rule-based: what the message asks for (earlier requests rank higher), which of the
named orders allow each action, recent account events, and the policy's handoff."""

from __future__ import annotations

import re
from typing import Literal, TypeVar

from pydantic import BaseModel

from assistant.turn.plan import best_named
from assistant.types import Decision
from profiles.context import CustomerContext, Fact, RecordAction
from profiles.mapping import spoken
from profiles.relevance import NAMED_PRODUCT

ActionType = Literal[
    "return", "exchange", "cancel", "modify", "address_change", "track", "escalate"
]
ACTION_TYPES: tuple[ActionType, ...] = (
    "return",
    "exchange",
    "cancel",
    "modify",
    "address_change",
    "track",
    "escalate",
)

_A = TypeVar("_A", bound=str)  # an action's name: the store's action types, or a record's

# Which order statuses allow each action (the retail store policy); None: any order, or
# not about an order at all.
ELIGIBLE_STATUSES: dict[ActionType, frozenset[str] | None] = {
    "return": frozenset({"delivered"}),
    "exchange": frozenset({"delivered"}),
    "cancel": frozenset({"pending"}),
    "modify": frozenset({"pending"}),
    "address_change": None,  # the profile address any time; an order's while pending
    "track": frozenset({"pending", "processed", "delivered"}),
    "escalate": None,
}

# The action the same wish is on an order in the other state (pending vs delivered).
COUNTERPART: dict[ActionType, ActionType] = {
    "return": "cancel",
    "cancel": "return",
    "exchange": "modify",
    "modify": "exchange",
}


def _allows(action: ActionType, statuses: set[str]) -> bool:
    allowed = ELIGIBLE_STATUSES[action]
    return allowed is None or bool(allowed & statuses)


# What the customer writes when they want each action.
_TRIGGER_PATTERNS: dict[ActionType, str] = {
    "cancel": r"\bcancel\w*|\bcall off\b|\bdon'?t want (?:it|the order) anymore\b",
    "return": r"\breturn\w*|\brefund\w*|\bsend (?:it|them) back\b|\bmoney back\b",
    "exchange": r"\bexchang\w*|\bswap\w*|\breplac\w*|\bdifferent (?:size|colou?r|model)\b",
    "modify": r"\bmodif\w*|\bchange (?!(?:the |my )?(?:shipping )?address)\w+|"
    r"\bupdate (?!(?:the |my )?address)\w+|\bswitch\w*|\bedit\b|\bpayment method\b",
    "address_change": r"\baddress\b|\bship (?:it )?to\b|\bmoved\b|\brelocat\w*",
    "track": r"\btrack\w*|\bwhere is\b|\bhasn'?t arrived\b|\bnot arrived\b|\bshipped\b|"
    r"\bwhen will\b|\bdelivery status\b",
}
_TRIGGERS = {a: re.compile(p, re.IGNORECASE) for a, p in _TRIGGER_PATTERNS.items()}
# An account event whose type names an action makes that action more likely.
_EVENT_HINTS: dict[str, ActionType] = {
    "cancel": "cancel",
    "return": "return",
    "refund": "return",
    "exchange": "exchange",
    "address": "address_change",
    "deliver": "track",
    "ship": "track",
    "payment": "modify",
}


class Need(BaseModel):
    """One likely reason for contact, as an action an agent can take."""

    # one of ACTION_TYPES on the store's orders, or an action a business's mapping gives
    # its records ("freeze", "close", "change_seat")
    action: str
    score: float
    eligible: bool  # whether the policy (or the record's status) allows it
    targets: list[str]  # the order or record ids it applies to (eligible ones first)
    reasons: list[str]


def predict_needs(message: str, ctx: CustomerContext, decision: Decision) -> list[Need]:
    """Every action type with a score, best first; eligibility from the named orders.

    A request written earlier in the message ranks above a later one. A wish the named
    orders' status does not allow counts for its counterpart that it does allow: a
    refund asked before delivery is a cancellation, a change after it an exchange."""
    first_at = {a: m.start() for a, p in _TRIGGERS.items() if (m := p.search(message))}
    orders = [f for f in ctx.facts if f.id.startswith("order:") and f.status]
    # named, or found by the answer plan: "ok cancel it then" is the order spoken of
    plan = decision.plan
    found = set(plan.found_ids()) if plan else set()
    named = [f for f in orders if f.relevance >= NAMED_PRODUCT or f.id in found]
    statuses = {f.status for f in named if f.status}
    asked: dict[ActionType, float] = _asked(first_at)
    scores: dict[ActionType, float] = dict.fromkeys(ACTION_TYPES, 0.0)
    reasons: dict[ActionType, list[str]] = {a: [] for a in ACTION_TYPES}
    for action, weight in asked.items():
        scores[action] += weight
        reasons[action].append("the customer asks for it")
        # The same wish on an order in the other state is the other action by policy:
        # a refund before delivery is a cancellation, a change after it an exchange.
        other = COUNTERPART.get(action)
        if other and statuses and not _allows(action, statuses) and _allows(other, statuses):
            scores[other] += weight + 0.5
            reasons[other].append(
                f"asked to {action.replace('_', ' ')} a {'/'.join(sorted(statuses))} order"
            )
    for event in ctx.recent_events:
        hint = next((a for k, a in _EVENT_HINTS.items() if k in event.lower()), None)
        if hint:
            scores[hint] += 0.5
            reasons[hint].append(f"recent event: {event}")
    if decision.handoff:
        scores["escalate"] += 6.0
        reasons["escalate"].append(decision.handoff_reason or "the policy hands off")
    needs: list[Need] = []
    for action in ACTION_TYPES:
        score = scores[action]
        allowed = ELIGIBLE_STATUSES[action]
        targets = [f.id.removeprefix("order:") for f in named]
        eligible = True
        if allowed is not None and named:
            ok = [f.id.removeprefix("order:") for f in named if f.status in allowed]
            eligible = bool(ok)
            targets = ok + [t for t in targets if t not in ok]
            if not ok and score > 0:
                score -= 2.0
                reasons[action].append(f"not allowed on {'/'.join(sorted(statuses))} orders")
            elif ok and score == 0:
                score += 0.3  # what the named order's status allows, unasked
                reasons[action].append(f"allowed on the named {named[0].status} order")
            elif ok:
                status = next(f.status for f in named if f.id == f"order:{ok[0]}")
                reasons[action].append(f"order {ok[0]} is {status}: the store policy allows it")
        elif action == "address_change":
            targets = [f.id.removeprefix("order:") for f in named if f.status == "pending"]
        needs.append(
            Need(
                action=action,
                score=round(score, 3),
                eligible=eligible,
                targets=targets,
                reasons=reasons[action],
            )
        )
    held = _record_needs(message, ctx)
    if held and not orders:
        # a business whose records are cards, accounts, bookings: their own actions, not
        # the store's (a person remains one)
        needs = [n for n in needs if n.action == "escalate"]
    needs += held
    rank: dict[str, int] = {a: i for i, a in enumerate(ACTION_TYPES)}
    needs.sort(key=lambda n: (-n.score, rank.get(n.action, len(rank)), n.action))
    return needs


CONFIRMED = 7.0  # a confirmed action ranks above the handoff that brings a person to it


def _asked(first_at: dict[_A, int]) -> dict[_A, float]:
    """How much each asked action weighs, by where it is first asked: one asked earlier
    ranks higher."""
    positions = sorted(first_at.values())
    return {a: 3.0 + 1.0 / (1 + positions.index(at)) for a, at in first_at.items()}


def _record_needs(message: str, ctx: CustomerContext) -> list[Need]:
    """What can be done to the records the message names, by their kinds' own actions: asked
    and allowed by a record's status first ("freeze my card": freeze, on the active card),
    then what their status allows unasked; asked but not allowed ranks low, saying why, and
    counts for what its kind does instead then ("return" of an order not yet delivered is
    its cancellation)."""
    named = [f for f in best_named(ctx.facts) if f.actions]
    lowered = message.lower()
    by_action: dict[str, list[tuple[Fact, RecordAction]]] = {}
    for f in named:
        for a in f.actions:
            by_action.setdefault(a.name, []).append((f, a))
    confirmed = {c.action for c in ctx.confirmed}
    # where each action is first asked for
    asked = _asked(
        {n: min(ps) for n, pairs in by_action.items() if (ps := _positions(pairs, lowered))}
    )
    # asked, not allowed, and standing for an allowed action: that action, with why
    stands_for: dict[str, list[tuple[float, str]]] = {}
    for name, weight in asked.items():
        pairs = by_action[name]
        if any(a.allowed for _, a in pairs):
            continue
        for f, a in pairs:
            found = _stand_in(f, a.instead, by_action, ctx)
            if found is not None:
                other, on = found
                said = f"{f.status} " if f.status else ""
                why = f"asked to {spoken(name)} a {said}{_kind(f)}: " + (
                    f"its status allows {spoken(other)}"
                    if on is f
                    else f"its {_kind(on)} allows {spoken(other)}"
                )
                stands_for.setdefault(other, []).append((weight, why))
                break
    out = []
    for name, pairs in by_action.items():
        ok = [f for f, a in pairs if a.allowed]
        targets = [_key(f) for f in ok] + [_key(f) for f, a in pairs if not a.allowed]
        reasons = ["the customer asks for it"] if name in asked else []
        score = asked.get(name, 0.0)
        if name in stands_for:
            # what the customer asked for, as the record's status allows it
            score += max(w for w, _ in stands_for[name]) + 0.5
            reasons.append(max(stands_for[name])[1])
        if name in confirmed:
            # "yes, go ahead": what the person the turn went to is there to do
            score += CONFIRMED
            reasons.insert(0, "the customer confirmed it")
        if ok:
            score += 0.3
            first = ok[0]
            reasons.append(
                f"{_key(first)} is {first.status}: its status allows it"
                if first.status
                else f"{_key(first)} allows it"
            )
        elif name in asked:
            score -= 2.0
            f, a = pairs[0]
            why = a.why.get("en") or f"not while {f.status}" if a.known else "not for its kind"
            reasons.append(f"{_key(f)}: {why}")
        out.append(
            Need(
                action=name,
                score=round(score, 3),
                eligible=bool(ok),
                targets=targets,
                reasons=reasons,
            )
        )
    return out


def _stand_in(
    f: Fact,
    instead: str | None,
    by_action: dict[str, list[tuple[Fact, RecordAction]]],
    ctx: CustomerContext,
) -> tuple[str, Fact] | None:
    """The allowed action `instead` names for a wish `f`'s status does not allow, and the
    record it is done to: `f` itself, or ("order.cancel") the record `f` links to, which
    then joins the records that action applies to (`by_action`)."""
    if not instead:
        return None
    link, _, action = instead.rpartition(".")
    if not link:
        ok = any(b.allowed for g, b in by_action.get(action, []) if g is f)
        return (action, f) if ok else None
    key = f.links.get(link)
    on = next((g for g in ctx.facts if g.id == f"record:{link}:{key}"), None) if key else None
    act = next((b for b in on.actions if b.name == action and b.allowed), None) if on else None
    if on is None or act is None:
        return None
    pairs = by_action.setdefault(action, [])
    if all(g is not on for g, _ in pairs):
        pairs.insert(0, (on, act))
    return action, on


def _positions(pairs: list[tuple[Fact, RecordAction]], lowered: str) -> list[int]:
    return [p for _, a in pairs if (p := a.asked_at(lowered)) is not None]


def _kind(f: Fact) -> str:
    """A record fact's kind in words ("record:debit_card:dbc_1" → "debit card")."""
    return spoken(f.id.split(":", 2)[1])


def _key(f: Fact) -> str:
    """A record fact's own id ("record:debit_card:dbc_1" → "dbc_1")."""
    return f.id.split(":", 2)[2]
