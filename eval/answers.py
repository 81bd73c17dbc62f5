"""Answer quality: the configured generator's replies scored against gold answers.

LoCoMo: the question is a customer turn; the pipeline's retrieve (history search over the
customer's turns), decide, compose and generate stages answer it; token F1 against the
gold answer is the LoCoMo metric. τ-bench retail has no gold wording, so its answers are
scored by the ground-truth ids the reply names (`answer_id_recall`). With an LLM
configured, a judge (prompts/judge.v1) also grades correctness and groundedness."""

from __future__ import annotations

import time
from collections.abc import Callable

from pydantic import BaseModel

from assistant.pipeline import Assistant
from assistant.types import Retrieved, TurnRequest
from eval.context_suite import ContextCase
from eval.history_suite import CATEGORIES, Conversation, HistoryCase
from eval.judge import Judge
from eval.metrics import token_f1
from eval.report import CaseScore
from profiles.context import CustomerCard, CustomerContext

SUITE = "answers"
GRANTED = {"personalization": True, "history": True}


class Answer(BaseModel):
    text: str
    context: str
    generator: str
    ms: dict[str, float]


def locomo_card(conversation: Conversation) -> CustomerCard:
    """The customer of a LoCoMo conversation: its first speaker, history use granted."""
    name = conversation.turns[0].speaker if conversation.turns else conversation.customer_id
    return CustomerCard(
        id=conversation.customer_id,
        name=name,
        email=None,
        locale="en",
        timezone="UTC",
        consents=GRANTED,
    )


def answer_locomo(
    assistant: Assistant, card: CustomerCard, candidates: list[str], question: str
) -> Answer:
    """Run the pipeline's stages on a history question (the card comes from the data set,
    not SQL; the candidate ids are the customer's turns)."""
    t0 = time.perf_counter()
    qvec = assistant.embedder.embed_query(question)
    hits = assistant.history.search(
        card.id, candidates, question, k=assistant.settings.history_top_k, query_embedding=qvec
    )
    t1 = time.perf_counter()
    retrieved = Retrieved(passages=[], history=hits, facts=[])
    ctx = CustomerContext(card=card, facts=[], history_ids=candidates)
    request = TurnRequest(customer_id=card.id, message=question, channel="eval")
    decision = assistant.decide(request, card, ctx, retrieved)
    composed = assistant.compose(card, decision, question, retrieved, [])
    t2 = time.perf_counter()
    generation, _ = assistant.generate(composed)
    t3 = time.perf_counter()
    ms = {"retrieve": (t1 - t0) * 1e3, "compose": (t2 - t1) * 1e3, "generate": (t3 - t2) * 1e3}
    return Answer(
        text=generation.text,
        context=composed.text,
        generator=generation.generator,
        ms={k: round(v, 2) for k, v in ms.items()},
    )


def locomo_scorer(
    assistant: Assistant,
    conversations: list[Conversation],
    judge: Judge | None,
) -> Callable[[HistoryCase], CaseScore]:
    cards = {c.customer_id: locomo_card(c) for c in conversations}
    candidates = {c.customer_id: [t.id for t in c.turns] for c in conversations}

    def score(case: HistoryCase) -> CaseScore:
        ans = answer_locomo(
            assistant, cards[case.customer_id], candidates[case.customer_id], case.question
        )
        metrics = {"token_f1": token_f1(ans.text, case.answer)}
        detail = {"gold": case.answer, "answer": ans.text[:500], "generator": ans.generator}
        if judge is not None:
            verdict = judge.grade(case.question, case.answer, ans.text, ans.context)
            metrics |= {"judge_correct": verdict.correct, "judge_grounded": verdict.grounded}
            detail["judge_reason"] = verdict.reason
        return CaseScore(
            id=case.id,
            category=CATEGORIES[case.category],
            metrics=metrics,
            ms=ans.ms,
            detail=detail,
        )

    return score


def retail_scorer(assistant: Assistant, judge: Judge | None) -> Callable[[ContextCase], CaseScore]:
    """A full turn without persistence: prepare, then generate."""

    def score(case: ContextCase) -> CaseScore:
        prepared = assistant.prepare(
            TurnRequest(customer_id=case.customer_id, message=case.message)
        )
        t0 = time.perf_counter()
        generation, _ = assistant.generate(prepared.composed)
        ms = dict(prepared.timer.ms) | {"generate": round((time.perf_counter() - t0) * 1e3, 2)}
        named = [i for i in case.gold_ids if i in generation.text]
        metrics = {}
        if case.gold_ids:
            metrics["answer_id_recall"] = len(named) / len(case.gold_ids)
        detail = {"answer": generation.text[:500], "generator": generation.generator}
        if judge is not None:
            gold = "A reply that uses these ids: " + ", ".join(case.gold_ids)
            verdict = judge.grade(case.message, gold, generation.text, prepared.composed.text)
            metrics |= {"judge_correct": verdict.correct, "judge_grounded": verdict.grounded}
            detail["judge_reason"] = verdict.reason
        return CaseScore(id=case.id, metrics=metrics, ms=ms, detail=detail)

    return score
