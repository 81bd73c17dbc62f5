"""The compose stage: pack the most useful sources into the prompt within the token budget."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from assistant.tokens import TokenCounter
from assistant.turn.plan import best_named
from assistant.types import CitationKind, Composed, Decision, Source
from profiles.context import (
    NONE_HELD,
    CustomerCard,
    Fact,
    RecordAction,
    linked_stand_in,
    record_kind,
    stand_in,
    told_in,
)
from profiles.models import Message
from profiles.relevance import NAMED_PRODUCT, asks_amount
from prompts.loader import PromptTemplate, messages_text
from retrieval.types import HistoryHit, Passage

# Tags of the template's data blocks; the same text inside data is defused so a
# message or passage cannot close its block and pose as instructions.
_TAG_RE = re.compile(
    r"<\s*/?\s*(customer_card|customer_facts|kb_passages|history|conversation|customer_message)"
    r"\b[^<>]*>",
    re.IGNORECASE,
)
_ROLE = {"customer": "Customer", "assistant": "Assistant", "agent": "Agent"}


def defuse(text: str) -> str:
    """Data text with the template's block tags neutralised."""
    return _TAG_RE.sub(lambda m: m.group(0).replace("<", "‹").replace(">", "›"), text)


LANGUAGE_NAMES = {"en": "English", "es": "Spanish", "fr": "French", "de": "German"}
RELEVANT_FACT = 50.0  # priority base of a fact the message points at: base + relevance


@dataclass(frozen=True)
class _Candidate:
    section: str  # facts | passages | history
    id: str
    kind: CitationKind
    text: str
    priority: float
    title: str = ""
    relevance: float = 0.0  # how much the message points at it (a fact's own relevance)
    status: str | None = None  # a fact's record's status
    actions: list[RecordAction] = field(default_factory=list)  # a mapped record's
    texts: dict[str, str] = field(default_factory=dict)  # `text` in other languages
    status_texts: dict[str, str] = field(default_factory=dict)  # its status by language
    statuses: dict[str, list[str]] = field(default_factory=dict)  # its kind's, by words
    open: bool | None = None  # a record still under way
    terms: list[str] = field(default_factory=list)  # a record's kind words, field names
    links: dict[str, str] = field(default_factory=dict)  # a record's: kind → key
    held: bool = False  # a passage about something the customer holds
    amount_texts: dict[str, str] = field(default_factory=dict)  # a record's amount, told
    note: str = ""  # for the model only: what the record allows of what is asked

    @property
    def line(self) -> str:
        line = f"{self.title}: {self.text}" if self.title else self.text
        return f"{line} ({self.note})" if self.note else line


_FACT_GROUP = {"profile": "profile", "product": "products", "record": "records"}


def guard_facts(facts: list[Fact], decision: Decision) -> list[Fact]:
    """The facts the decision lets into the context (the over-personalization guard).

    `other_records` keeps only the records the message names (by id or what they hold):
    a question about one order is not an occasion to bring up the others."""
    deny = set(decision.deny_facts)
    planned = set(decision.plan.record_ids()) if decision.plan else set()
    others = _other_records(facts, planned) if "other_records" in deny else set()
    out = []
    for f in facts:
        if _FACT_GROUP[f.kind] in deny or f.id in others:
            continue
        out.append(f)
    return out


def _other_records(facts: list[Fact], planned: set[str]) -> set[str]:
    """`other_records`: of a kind the message names records of (by id, by what they hold
    or by the kind's word: "can I cancel #W1?"), the ones it does not name, and those that
    link to them and are not named either (their order lines); records of other kinds stay
    (what #W1 was paid with, and the other ways to pay), and so does every record the
    message names."""
    records = [f for f in facts if f.kind == "record" and not f.id.startswith(NONE_HELD)]
    named = {f.id for f in records if f.relevance >= NAMED_PRODUCT} | planned
    # the kinds of the ones named best: not of one ranked up behind them (what #W1 was
    # paid with leaves the customer's other cards in)
    kinds = {record_kind(f.id) for f in best_named(records) if f.relevance >= NAMED_PRODUCT}
    others = {f.id for f in records if record_kind(f.id) in kinds and f.id not in named}
    linked = {
        f.id
        for f in records
        if f.id not in named and any(f"record:{n}:{k}" in others for n, k in f.links.items())
    }
    return others | linked


def style_instructions(decision: Decision) -> str:
    """The reply-style lines of the prompt, from the decision's style and guard."""
    st = decision.style
    lines = [
        f'- Greet the customer with "{st.greeting}" and reply in '
        f"{LANGUAGE_NAMES.get(st.language, st.language)}."
    ]
    if decision.handoff and st.urgent:
        lines.append(f"- A person will take over; tell the customer meanwhile: {st.urgent}")
    if decision.plan is not None and decision.plan.about_records:
        lines.append(f"- Plan: {decision.plan.summary()}.")
    if decision.plan is not None and decision.plan.declined:
        lines.append(
            "- The customer takes back what they asked before: say nothing is changed and "
            "offer it no more."
        )
    if decision.plan is not None and decision.plan.choose is not None:
        # kept short: it shares the token budget with the records it is about
        action = decision.plan.choose.action.replace("_", " ")
        lines.append(f"- Ask which of the records it could be they want to {action}.")
    lines.append(
        {
            "short": "- Keep it short: at most 3 sentences and no lists; they read on a phone.",
            "full": "- Give a complete answer an agent can send as it is, with every step.",
            "normal": "- Be concise: a few sentences; use a short list only for steps.",
        }[st.length]
    )
    guard = (
        f"- State at most {decision.max_personal_facts} of the customer's personal facts, "
        "and only ones about what they asked"
    )
    if decision.never_mention:
        guard += f"; never mention their {', '.join(decision.never_mention)}"
    lines.append(guard + ".")
    if st.business_hours:
        lines.append("- Our support team is available now if a human is needed.")
    elif st.next_opening:
        lines.append(
            f"- It is {st.local_time} for the customer, outside our support hours: if a "
            f"human is needed, say an agent will reply {st.next_opening}."
        )
    return "\n".join(lines)


def _note(fact: Fact, how_much: bool, asking: str, facts: Sequence[Fact]) -> str:
    """For the model only: what the record allows of the actions asked, and what its amount
    is when the customer asks how much (`how_much`; the business's words for it: "You
    paid $663.85 for it", which its text may not hold)."""
    notes = [action_note(fact, asking, facts)]
    if how_much:  # English where the business wrote it, else as written
        notes.append(told_in(fact.amount_texts, "en").rstrip("."))
    return "; ".join(n for n in notes if n)


def action_note(fact: Fact, asking: str, facts: Sequence[Fact] = ()) -> str:
    """What the record allows of the actions the customer asks of it, by the business's
    rules, for the model ("cancel: not yet, its balance must be $0.00 first"), so that an
    LLM reply says what the offline one says rather than guessing from the status. Empty
    when nothing is asked of it."""
    if not asking or not fact.actions:
        return ""
    notes = []
    for a in fact.actions:
        if not a.asked_in(asking):
            continue
        name = a.name_in("en", asking)
        if not a.known:
            notes.append(f"{name}: never, not for this kind of record")
        elif a.why:
            why = a.why.get("en") or next(iter(a.why.values()))
            notes.append(f"{name}: not yet, {why}")
        elif a.allowed:
            notes.append(f"{name}: allowed" + _told(a))
        else:
            note = f"{name}: not allowed" + (f" while {fact.status}" if fact.status else "")
            # what does the same for the customer then ("return" of a pending order), or
            # for the record it links to ("return" of a pending order's line: its order's
            # cancellation), among `facts`
            if (other := stand_in(fact.actions, a)) is not None:
                note += f", but {other.name_in('en', asking)} is allowed" + _told(other)
            elif (linked := linked_stand_in(fact, a, facts)) is not None:
                owner, other = linked
                whose = owner.id.split(":", 2)[2]
                note += f", but {other.name_in('en', asking)} of {whose} is allowed" + _told(other)
            notes.append(note)
    return "; ".join(notes)


def _told(action: RecordAction) -> str:
    """What the business tells a customer the action does, for the model to say too."""
    outcome = action.outcome_in("en")
    return f" — {outcome.rstrip('.')}" if outcome else ""


def _candidates(
    facts: list[Fact],
    passages: list[Passage],
    history: list[HistoryHit],
    never: set[str],
    planned: set[str],
    asking: str = "",
    message: str = "",
) -> list[_Candidate]:
    """`asking` is the (lower-cased) text whose record actions the reply answers;
    `message`, the customer's."""
    out: list[_Candidate] = []
    how_much = asks_amount(message)
    for f in facts:
        if f.kind == "profile":
            prio = 1000.0 - len(out)  # who the customer is comes first
        elif f.id in planned and f.relevance < 1.0:
            # A record the answer plan is about though the message only points at it
            # ("my order", the only one) ranks with the facts the message names.
            prio = RELEVANT_FACT + 1.0
        elif f.relevance >= 1.0:
            prio = RELEVANT_FACT + min(f.relevance, 30.0)
        else:
            prio = 5.0 + f.relevance
        kind: CitationKind = "profile" if f.kind == "profile" else f.kind
        out.append(
            _Candidate(
                "facts",
                f.id,
                kind,
                f.text_without(never),
                prio,
                relevance=f.relevance,
                status=f.status,
                actions=f.actions,
                links=f.links,
                texts=f.texts,
                status_texts=f.status_texts,
                statuses=f.statuses,
                open=f.open,
                terms=f.terms,
                amount_texts=f.amount_texts,
                note=_note(f, how_much, asking, facts),
            )
        )
    # Internal passages (written for staff) never enter a reply's context: what the
    # context holds can be quoted or cited to the customer. The sidebar lists them, labelled.
    customer_facing = [p for p in passages if p.audience != "internal"]
    for rank, p in enumerate(customer_facing):
        out.append(
            _Candidate(
                "passages", p.id, "kb", p.text, 62.0 - 9.0 * rank, p.title.strip(), held=p.held
            )
        )
    for rank, h in enumerate(history):
        when = f"{h.created_at:%Y-%m-%d} " if h.created_at else ""
        out.append(_Candidate("history", h.id, "history", f"{when}{h.text}", 48.0 - 9.0 * rank))
    return out


def compose(
    prompt: PromptTemplate,
    counter: TokenCounter,
    budget: int,
    card: CustomerCard,
    decision: Decision,
    message: str,
    facts: list[Fact],
    passages: list[Passage],
    history: list[HistoryHit],
    conversation: list[Message],
    brand: str = "",
) -> Composed:
    """The prompt with the highest-priority sources that fit in `budget` tokens.

    The budget bounds what is put around the customer's message (instructions, card,
    sources, the conversation so far), not the message itself, which the chat bounds
    (`max_message_chars`): a customer who lists sixteen charges needs all sixteen in
    front of the model, not fewer because they wrote more.

    Priority: the customer card and order list, then facts and passages interleaved by
    relevance, then history. Sources are numbered in the order they appear."""
    card_text = _card_text(card, decision)
    convo = "\n".join(f"{_ROLE.get(m.role, m.role)}: {defuse(m.text)}" for m in conversation)
    if "history" in decision.deny_facts:
        history = []
    facts = guard_facts(facts, decision)
    base = dict(
        brand=brand or "this business",
        tone=decision.tone,
        reply_style=style_instructions(decision),
        customer_card=card_text,
        facts="",
        passages="",
        history="",
        conversation=convo,
        message=defuse(message),
    )
    base = {k: v for k, v in base.items() if k in prompt.variables}  # older templates
    own = counter.count(base["message"]) if "message" in base else 0
    used = counter.count(messages_text(prompt.render(**base))) - own
    if used > budget and convo:
        base["conversation"] = ""
        used = counter.count(messages_text(prompt.render(**base))) - own
    chosen: list[_Candidate] = []
    never = set(decision.never_mention)
    planned = set(decision.plan.record_ids()) if decision.plan else set()
    asking = (decision.plan.action_text if decision.plan else "") or message.lower()
    candidates = _candidates(facts, passages, history, never, planned, asking, message)
    for cand in sorted(candidates, key=lambda c: (-c.priority, c.id)):
        # "[NN] " plus the newline between sources
        cost = counter.count(defuse(cand.line)) + 5
        if used + cost <= budget:
            chosen.append(cand)
            used += cost
    sources: list[Source] = []
    blocks: dict[str, list[str]] = {"facts": [], "passages": [], "history": []}
    for section in ("facts", "passages", "history"):
        for cand in (c for c in chosen if c.section == section):
            n = len(sources) + 1
            sources.append(
                Source(
                    n=n,
                    id=cand.id,
                    kind=cand.kind,
                    text=cand.text,
                    title=cand.title,
                    priority=cand.priority,
                    relevance=cand.relevance,
                    status=cand.status,
                    actions=cand.actions,
                    links=cand.links,
                    texts=cand.texts,
                    status_texts=cand.status_texts,
                    statuses=cand.statuses,
                    open=cand.open,
                    terms=cand.terms,
                    held=cand.held,
                    amount_texts=cand.amount_texts,
                )
            )
            blocks[section].append(f"[{n}] {defuse(cand.line)}")
    values = {**base, **{k: "\n".join(v) for k, v in blocks.items()}}
    rendered = prompt.render(**values)
    text = messages_text(rendered)
    return Composed(
        customer_id=card.id,
        text=text,
        tokens=counter.count(text),
        sources=sources,
        messages=[(m.type, str(m.content)) for m in rendered],
        replied_before=any(m.role in ("assistant", "agent") for m in conversation),
        message_tokens=own,
        message=message,
        card=card,
        decision=decision,
    )


def _card_text(card: CustomerCard, decision: Decision) -> str:
    if not decision.use_profile:
        return f"Customer {card.id} (no consent to personalization: answer generically)."
    where = ", ".join(p for p in (card.city, card.region, card.country) if p)
    parts = [f"Customer {card.id}: {card.name}", f"locale {card.locale}"]
    if where:
        parts.append(where)
    if card.plan:
        parts.append(f"plan {card.plan}")
    parts += [f"{name.replace('_', ' ')} {value}" for name, value in card.attributes.items()]
    return ", ".join(parts) + "."
