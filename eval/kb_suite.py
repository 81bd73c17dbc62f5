"""Knowledge-base retrieval on τ-knowledge banking: are a task's required documents found?

Dataset: `tasks.json` (66 tasks) and `documents/*.json` (698 documents). Case: the
customer's query, taken from `user_scenario.instructions` minus the simulator's
role-play boilerplate, and the ids of `required_documents`. Evaluator: the ranked
documents (chunks deduplicated to their document in rank order) scored by recall@5/10/20,
MRR and nDCG@10, a document counting when any of its chunks is retrieved."""

from __future__ import annotations

import re
import time
from pathlib import Path

from pydantic import BaseModel

from eval.baselines import Bm25Ranker, DenseRanker
from eval.datafiles import read_json_list
from eval.metrics import dedupe, ndcg_at_k, recall_at_k, reciprocal_rank
from eval.report import CaseScore
from retrieval.documents import Document
from retrieval.kb import KnowledgeBase
from retrieval.queries import embed_message

SUITE = "kb"
KS = (5, 10, 20)

# Sentences addressed to the user simulator, not part of the customer's situation.
_BOILERPLATE = re.compile(
    r"[^.!?\n]*\b(?:playing the role|role of the customer|customer service representative"
    r"|customer support agent|dump all your information|Never respond as|end the conversation"
    r"|no need to respond to the agent)\b[^.!?\n]*[.!?]?",
    re.IGNORECASE,
)


class KbCase(BaseModel):
    id: str
    query: str
    required: list[str]


def query_from_instructions(instructions: str) -> str:
    """The customer's situation: the instructions without sentences about role-playing."""
    text = _BOILERPLATE.sub(" ", instructions)
    text = re.sub(r"^You are (?:a|an) (?:customer )?(?:contacting[^.]*)\.", " ", text)
    return re.sub(r"\s+", " ", text).strip()


def load_cases(path: Path, docs: list[Document] | None = None) -> list[KbCase]:
    """Cases from a τ-knowledge tasks.json; ValueError with the reason if malformed or if a
    required document is not among docs."""
    raw = read_json_list(path, "tasks")
    known = {d.id for d in docs} if docs is not None else None
    cases = []
    for i, t in enumerate(raw):
        try:
            instructions = t["user_scenario"]["instructions"]
            required = list(t["required_documents"])
            case_id = str(t.get("id", i))
        except (KeyError, TypeError) as exc:
            raise ValueError(
                f"{path}: task {i} lacks user_scenario.instructions or required_documents"
            ) from exc
        if not isinstance(instructions, str) or not required:
            continue  # a task needing no document says nothing about retrieval
        if known is not None and (absent := [d for d in required if d not in known]):
            raise ValueError(f"{path}: task {case_id} requires unknown documents {absent[:3]}")
        cases.append(
            KbCase(id=case_id, query=query_from_instructions(instructions), required=required)
        )
    return cases


def scores(case: KbCase, ranked_docs: list[str], ms: dict[str, float]) -> CaseScore:
    metrics = {f"recall@{k}": recall_at_k(ranked_docs, case.required, k) for k in KS}
    metrics["mrr"] = reciprocal_rank(ranked_docs, case.required)
    metrics["ndcg@10"] = ndcg_at_k(ranked_docs, case.required, 10)
    top10 = set(ranked_docs[:10])
    return CaseScore(
        id=case.id,
        metrics=metrics,
        ms=ms,
        detail={
            "required": len(case.required),
            "missed@10": [d for d in case.required if d not in top10],
            "top5": ranked_docs[:5],
        },
    )


def rapport_scorer(kb: KnowledgeBase, n_docs: int):
    """Score a case with KnowledgeBase.search, the hybrid search the pipeline runs."""

    def score(case: KbCase) -> CaseScore:
        t0 = time.perf_counter()
        query = embed_message(kb.embedder, case.query)  # as a turn does: one embedder call
        t1 = time.perf_counter()
        ranked: list[str] = []
        k = 5 * n_docs
        while True:
            passages = kb.search(case.query, k=k, parts=query)
            ranked = dedupe([p.doc_id for p in passages])
            if len(ranked) >= n_docs or len(passages) < k:
                break
            k *= 2
        t2 = time.perf_counter()
        ms = {"embed": round((t1 - t0) * 1e3, 2), "retrieve": round((t2 - t1) * 1e3, 2)}
        return scores(case, ranked[:n_docs], ms)

    return score


def baseline_scorer(ranker: DenseRanker | Bm25Ranker, n_docs: int):
    def score(case: KbCase) -> CaseScore:
        t0 = time.perf_counter()
        ranked = ranker.rank(case.query, n_docs)
        return scores(case, ranked, {"retrieve": round((time.perf_counter() - t0) * 1e3, 2)})

    return score


def whole_texts(docs: list[Document]) -> tuple[list[str], list[str]]:
    """(ids, texts) of whole documents: title then content, as a default setup loads them."""
    return [d.id for d in docs], [f"{d.title}\n\n{d.text}" for d in docs]
