"""Predicted needs: why the customer is most likely writing, and what an agent can do
about it, by the actions the business's mapping gives the records the message names
(cancel an order, freeze a card, change a seat) and what each record's status allows.

Rule-based: what the message asks for (earlier requests rank higher), which of the named
records allow each action, what the customer confirmed, and the policy's handoff."""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel

from assistant.turn.plan import best_named
from assistant.types import Decision
from profiles.context import CustomerContext, Fact, RecordAction
from profiles.mapping import spoken

_A = TypeVar("_A", bound=str)  # an action's name

ESCALATE = "escalate"  # a person from the team: always possible, the one need of a handoff
HANDOFF = 6.0  # the policy hands off: a person ranks above what the message asks


class Need(BaseModel):
    """One likely reason for contact, as an action an agent can take."""

    # an action the business's mapping gives the records ("cancel", "freeze",
    # "change_seat"), or "escalate"
    action: str
    score: float
    eligible: bool  # whether the record's status allows it
    targets: list[str]  # the ids of the records it applies to (eligible ones first)
    reasons: list[str]


def predict_needs(message: str, ctx: CustomerContext, decision: Decision) -> list[Need]:
    """Every action the named records know, and a person, with a score, best first.

    A request written earlier in the message ranks above a later one. A wish the named
    record's status does not allow counts for what its kind does instead: a refund asked
    before delivery is a cancellation, a change after it an exchange."""
    escalate = Need(action=ESCALATE, score=0.0, eligible=True, targets=[], reasons=[])
    if decision.handoff:
        escalate.score = HANDOFF
        escalate.reasons.append(decision.handoff_reason or "the policy hands off")
    needs = [escalate, *_record_needs(message, ctx)]
    needs.sort(key=lambda n: (-n.score, n.action != ESCALATE, n.action))
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
    declined = {c.action for c in ctx.declined}  # "ok wait, don't cancel": not asked
    # where each action is first asked for
    asked = _asked(
        {
            n: min(ps)
            for n, pairs in by_action.items()
            if n not in declined and (ps := _positions(pairs, lowered))
        }
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
        if name in declined:
            continue  # taken back: not what they want done, however its status allows it
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
