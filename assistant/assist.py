"""Agent assist: what the sidebar shows beside a conversation.

It runs the support turn up to `decide` and `compose` (no reply is sent, nothing is
stored), then derives drafts, next best actions and risk flags from the same context."""

from __future__ import annotations

from pydantic import BaseModel

from assistant import check
from assistant.generators.offline import OfflineComposer
from assistant.needs import Need, predict_needs
from assistant.pipeline import Assistant, Prepared
from assistant.turn.types import AnswerPlan
from assistant.types import Citation, RuleHit, TurnRequest
from profiles.context import CustomerCard, in_sentence, record_kind, record_label
from profiles.models import Message
from profiles.overview import CustomerOverview, customer_overview
from prompts.catalog import load_catalog

ASKED = 1.0  # a need scored this high was asked for (or its counterpart was), not only allowed


class NextAction(BaseModel):
    action: str  # return, exchange, cancel, modify, track, address_change, escalate, or a
    # record's own action ("freeze")
    target: str | None = None
    reason: str
    score: float


class Article(BaseModel):
    id: str
    title: str
    snippet: str
    audience: str = "customer"  # "internal": for the agent's eyes, never to be sent


class AssistResult(BaseModel):
    """Everything the agent sidebar shows for one customer message."""

    customer: CustomerCard
    overview: CustomerOverview
    summary: str
    message: str
    suggested_replies: list[str]
    articles: list[Article]
    next_best_actions: list[NextAction]
    predicted_needs: list[Need]
    risk_flags: list[str]
    decision_trace: list[RuleHit]
    segments: list[str]
    variant: str | None = None
    citations: list[Citation]
    # the answer plan the drafts come from: its intents name what an agent's reply was
    # about when the draft-acceptance report groups replies by intent
    plan: AnswerPlan | None = None


def assist(
    assistant: Assistant,
    customer_id: str,
    message: str,
    conversation: list[Message] | None = None,
) -> AssistResult:
    """Card, summary, drafts, articles, next best actions and flags for `message`, read
    as following `conversation` (its messages before it, oldest first) when given."""
    request = TurnRequest(customer_id=customer_id, message=message)
    prepared = assistant.prepare(request, conversation)
    overview = customer_overview(assistant.profiles.engine, customer_id)
    draft = OfflineComposer().draft(prepared.composed)
    needs = predict_needs(message, prepared.context, prepared.decision)
    actions = next_best_actions(needs)
    plan = prepared.decision.plan
    social = plan is not None and plan.social() and not prepared.decision.handoff
    return AssistResult(
        customer=prepared.card,
        overview=overview,
        summary=_summary(prepared.card, overview),
        message=message,
        suggested_replies=_drafts(prepared, draft.text, actions),
        # "ok thanks" needs no article: what search finds for it is noise beside a thanks
        articles=[
            Article(id=p.id, title=p.title, snippet=p.text[:240], audience=p.audience)
            for p in ([] if social else prepared.retrieved.passages[:5])
        ],
        next_best_actions=actions,
        predicted_needs=needs,
        risk_flags=_risk_flags(prepared, overview),
        decision_trace=prepared.decision.trace,
        segments=prepared.decision.segments,
        variant=prepared.decision.variant,
        citations=check.citations(prepared.composed, draft),
        plan=prepared.decision.plan,
    )


def _summary(card: CustomerCard, o: CustomerOverview) -> str:
    kinds = sorted(o.record_counts.items())  # orders, accounts, cards, bookings …
    held = ", ".join(f"{n} {k.replace('_', ' ')}{'s' if n != 1 else ''}" for k, n in kinds)
    parts = [f"{card.name or card.id} has {held or 'no records with us'}"]
    parts.append(f"{o.conversations} conversation{'s' if o.conversations != 1 else ''} with us")
    open_tickets = [t for t in o.tickets if t.status == "open"]
    if open_tickets:
        parts.append(f"{len(open_tickets)} open ticket(s), latest: {open_tickets[0].subject}")
    last = next((m for m in reversed(o.recent_messages) if m.role == "customer"), None)
    if last:
        parts.append(f'last wrote on {last.created_at:%Y-%m-%d}: "{last.text[:120]}"')
    return "; ".join(parts) + "."


def _drafts(prepared: Prepared, grounded: str, actions: list[NextAction]) -> list[str]:
    """A grounded full answer, a short acknowledgement with the next step, and a question,
    in the language the customer is answered in (`prompts/replies`, `drafts.*`)."""
    decision = prepared.decision
    cat = load_catalog(decision.plan.language if decision.plan else decision.style.language)
    first = prepared.card.name.split()[0] if decision.use_profile and prepared.card.name else ""
    hello = (
        cat.text("greeting", greeting=decision.style.greeting, name=first)
        if first
        else cat.text("greeting_anonymous", greeting=decision.style.greeting)
    )
    ack = cat.text("drafts.ack", hello=hello)
    # A handoff of a message the plan read as social only ("ok thanks. also I lost my other
    # card!!"): its "You're welcome!" answers the thanks, not what a person is needed for;
    # nor does the plan's answer to an urgent one ("i lost my card": not how an order was paid)
    social = decision.plan is not None and decision.plan.social()
    if decision.handoff and (social or decision.handoff_urgent):
        grounded = ""
    # The first draft is the plan's answer as the agent would send it; without one, an
    # acknowledgement (the bot's "I'm handing you to an agent" is no draft for an agent).
    drafts = [grounded or ack]
    verbs = cat.entries.get("drafts", {}).get("verbs", {})
    # an offer to do what the customer asks, to the order or record it is for ("I can help
    # you return …" with nothing to return is no draft, nor "I can help you close your
    # card" to "is my debit card active?": what its status allows, unasked)
    offer = actions[0] if actions else None
    if prepared.context.declined:  # "no, leave it": the offer is taken back, not made again
        offer = None
    if offer and offer.action != "escalate" and offer.target and offer.score >= ASKED:
        a, facts = offer, prepared.context.facts
        record = next((f for f in facts if f.id.endswith(f":{a.target}")), None)
        if record is not None and record.kind == "record":
            # a business's record: its action in the reply's language, its own id
            known = next((x for x in record.actions if x.name == a.action), None)
            action = known.name_in(cat.language) if known else a.action.replace("_", " ")
            # "your debit card dbc_7", by its kind's name where the language reads it so
            kind = record_kind(record.id).replace("_", " ")
            target = cat.text("drafts.record_target", kind=kind, id=a.target)
            # "your order #W1", "tu pedido #W1", "your Gold Rewards Card": as it is shown
            shown = record.texts.get(cat.language) or (record.text if cat.language == "en" else "")
            if cat.has("drafts.record_named") and (label := record_label(shown, record.id)):
                target = cat.text("drafts.record_named", label=in_sentence(label))
        else:
            action = verbs.get(a.action, a.action.replace("_", " "))
            target = cat.text("drafts.target", id=a.target)
        # "yes, go ahead" to it: the agent does it now, and says so first (asking them to
        # confirm again, or repeating the bot's offer, answers nothing)
        confirmed = record is not None and any(
            c.action == a.action and c.record == record.id for c in prepared.context.confirmed
        )
        key = "drafts.confirmed" if confirmed else "drafts.offer"
        said = cat.text(key, hello=hello, action=action, target=target)
        if confirmed:
            drafts.insert(0, said)
        else:
            drafts.append(said)
    else:
        drafts.append(ack)
    drafts.append(cat.text("drafts.clarify", hello=hello))
    return list(dict.fromkeys(drafts))


def next_best_actions(needs: list[Need], most: int = 5) -> list[NextAction]:
    """The predicted needs an agent can act on now: asked or suggested, and allowed by the
    store policy on the orders concerned (escalation is always allowed)."""
    out = []
    for n in needs:
        if n.score <= 0 or not n.eligible:
            continue
        target = n.targets[0] if n.targets else None
        out.append(
            NextAction(action=n.action, target=target, reason="; ".join(n.reasons), score=n.score)
        )
    return out[:most]


def _risk_flags(prepared: Prepared, overview: CustomerOverview) -> list[str]:
    flags = []
    d = prepared.decision
    if d.handoff:
        flags.append(f"handoff: {d.handoff_reason}")
    for segment, flag in (("vip", "VIP customer"), ("at_risk", "at-risk customer")):
        if segment in d.segments:
            flags.append(flag)
    if d.fired("tone.empathetic"):
        flags.append("customer seems upset")
    if not d.use_profile:
        flags.append("no personalization consent: do not use profile or orders")
    if not d.use_history:
        flags.append("no history consent: past conversations not used")
    if not prepared.retrieved.passages:
        flags.append("no knowledge-base article found")
    return flags
