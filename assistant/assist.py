"""Agent assist: what the sidebar shows beside a conversation.

It runs the support turn up to `decide` and `compose` (no reply is sent, nothing is
stored), then derives drafts, next best actions and risk flags from the same context."""

from __future__ import annotations

from pydantic import BaseModel

from assistant import check
from assistant.generators.offline import OfflineComposer
from assistant.pipeline import Assistant, Prepared
from assistant.types import Citation, TurnRequest
from profiles.context import CustomerCard
from profiles.overview import CustomerOverview, customer_overview
from profiles.relevance import NAMED_PRODUCT, intents

# What each order status lets an agent do, by the store policy.
_ACTIONS_BY_STATUS = {
    "pending": [("cancel", "cancel"), ("modify", "modify items, address or payment")],
    "delivered": [("return", "return items"), ("exchange", "exchange items")],
    "processed": [("track", "share tracking")],
}


class NextAction(BaseModel):
    action: str  # return | exchange | cancel | modify | track | address_change | escalate
    target: str | None = None
    reason: str
    score: float


class Article(BaseModel):
    id: str
    title: str
    snippet: str


class AssistResult(BaseModel):
    """Everything the agent sidebar shows for one customer message."""

    customer: CustomerCard
    overview: CustomerOverview
    summary: str
    message: str
    suggested_replies: list[str]
    articles: list[Article]
    next_best_actions: list[NextAction]
    risk_flags: list[str]
    decision_trace: list[str]
    citations: list[Citation]


def assist(assistant: Assistant, customer_id: str, message: str) -> AssistResult:
    """Card, summary, drafts, articles, next best actions and flags for `message`."""
    prepared = assistant.prepare(TurnRequest(customer_id=customer_id, message=message))
    overview = customer_overview(assistant.profiles.engine, customer_id)
    draft = OfflineComposer().generate(prepared.composed)
    actions = next_best_actions(prepared)
    return AssistResult(
        customer=prepared.card,
        overview=overview,
        summary=_summary(prepared.card, overview),
        message=message,
        suggested_replies=_drafts(prepared, draft.text, actions),
        articles=[
            Article(id=p.id, title=p.title, snippet=p.text[:240])
            for p in prepared.retrieved.passages[:5]
        ],
        next_best_actions=actions,
        risk_flags=_risk_flags(prepared, overview),
        decision_trace=prepared.decision.trace,
        citations=check.citations(prepared.composed, draft),
    )


def _summary(card: CustomerCard, o: CustomerOverview) -> str:
    counts = ", ".join(f"{n} {status}" for status, n in sorted(o.order_status_counts.items()))
    parts = [f"{card.name or card.id} has {sum(o.order_status_counts.values())} orders"]
    if counts:
        parts[0] += f" ({counts})"
    parts.append(f"{o.conversations} conversation{'s' if o.conversations != 1 else ''} with us")
    open_tickets = [t for t in o.tickets if t.status == "open"]
    if open_tickets:
        parts.append(f"{len(open_tickets)} open ticket(s), latest: {open_tickets[0].subject}")
    last = next((m for m in reversed(o.recent_messages) if m.role == "customer"), None)
    if last:
        parts.append(f'last wrote on {last.created_at:%Y-%m-%d}: "{last.text[:120]}"')
    return "; ".join(parts) + "."


def _drafts(prepared: Prepared, grounded: str, actions: list[NextAction]) -> list[str]:
    """A grounded full answer, a short acknowledgement with the next step, and a question."""
    first = (
        prepared.card.name.split()[0]
        if prepared.decision.use_profile and prepared.card.name
        else ""
    )
    hello = f"Hi {first}," if first else "Hello,"
    drafts = [grounded]
    if actions and actions[0].action != "escalate":
        a = actions[0]
        target = f" order {a.target}" if a.target else ""
        drafts.append(
            f"{hello} thanks for reaching out. I can help you {a.action}{target}. "
            "Could you confirm that you'd like me to go ahead?"
        )
    else:
        drafts.append(f"{hello} thanks for your message. I'm looking into this for you now.")
    drafts.append(
        f"{hello} to make sure I get this right: which order and which item is this about?"
    )
    return drafts


def next_best_actions(prepared: Prepared) -> list[NextAction]:
    """Actions ranked by what the message asks and what each named order's status allows."""
    wanted = intents(prepared.request.message)
    orders = [f for f in prepared.context.facts if f.id.startswith("order:") and f.status]
    named = [f for f in orders if f.relevance >= NAMED_PRODUCT] or orders[:2]
    out: list[NextAction] = []
    if prepared.decision.handoff:
        out.append(
            NextAction(action="escalate", reason=prepared.decision.handoff_reason or "", score=10)
        )
    for fact in named:
        oid = fact.id.removeprefix("order:")
        for action, label in _ACTIONS_BY_STATUS.get(fact.status or "", []):
            asked = action in wanted
            out.append(
                NextAction(
                    action=action,
                    target=oid,
                    reason=f"order {oid} is {fact.status}: policy allows to {label}"
                    + ("; the customer asks for it" if asked else ""),
                    score=(5.0 if asked else 1.0) + fact.relevance / 10,
                )
            )
        if fact.status not in _ACTIONS_BY_STATUS and wanted & {"cancel", "return", "exchange"}:
            out.append(
                NextAction(
                    action="escalate",
                    target=oid,
                    reason=f"order {oid} is {fact.status}: the request is outside policy",
                    score=4.0,
                )
            )
    if "address" in prepared.request.message.lower():
        out.append(
            NextAction(action="address_change", reason="the customer mentions an address", score=3)
        )
    out.sort(key=lambda a: (-a.score, a.action, a.target or ""))
    return out[:6]


def _risk_flags(prepared: Prepared, overview: CustomerOverview) -> list[str]:
    flags = []
    d = prepared.decision
    if d.handoff:
        flags.append(f"handoff: {d.handoff_reason}")
    if "tone.empathetic" in d.trace:
        flags.append("customer seems upset")
    if not d.use_profile:
        flags.append("no personalization consent: do not use profile or orders")
    if not d.use_history:
        flags.append("no history consent: past conversations not used")
    cancelled = overview.order_status_counts.get("cancelled", 0)
    if cancelled >= 2:
        flags.append(f"{cancelled} cancelled orders")
    if not prepared.retrieved.passages:
        flags.append("no knowledge-base article found")
    return flags
