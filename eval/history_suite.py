"""History retrieval on LoCoMo: does a customer's history search find the evidence turns?

Dataset: `locomo8.json` (CC BY-NC: read in place, never copied). Each conversation is one
customer; each turn one HistoryRecord whose text carries the speaker and the session date
(the record a support system keeps: who said it, when). Case: a question of category 1–4
with evidence dia_ids. Evaluator: recall@5 and recall@10 of the evidence among the items
HistoryIndex.search returns for that customer's ids, overall and per category."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel

from eval.baselines import Bm25Ranker, DenseRanker
from eval.datafiles import read_json_list
from eval.metrics import recall_at_k
from eval.report import CaseScore
from retrieval.embedder import Embedder
from retrieval.history import HistoryIndex
from retrieval.types import HistoryRecord

SUITE = "history"
KS = (5, 10)
CATEGORIES = {1: "1 multi-hop", 2: "2 temporal", 3: "3 open-domain", 4: "4 single-hop"}
_DIA = re.compile(r"D\d+:\d+")


class Turn(BaseModel):
    id: str  # history item id: "locomo-<sample>:<dia_id>"
    dia_id: str
    speaker: str
    text: str  # the raw utterance (and the caption of a shared photo)
    session: int
    at: datetime | None

    def record_text(self) -> str:
        """What the history index stores: speaker and date travel with the words."""
        when = f"{self.at:%d %B %Y}" if self.at else ""
        return f"{self.speaker} ({when}): {self.text}" if when else f"{self.speaker}: {self.text}"


class Conversation(BaseModel):
    customer_id: str
    turns: list[Turn]


class HistoryCase(BaseModel):
    id: str
    customer_id: str
    question: str
    answer: str
    category: int
    evidence: list[str]  # history item ids


def parse_when(text: str) -> datetime | None:
    """LoCoMo session stamps look like "1:56 pm on 8 May, 2023"."""
    try:
        return datetime.strptime(text.strip(), "%I:%M %p on %d %B, %Y")
    except ValueError:
        return None


def load(path: Path) -> tuple[list[Conversation], list[HistoryCase]]:
    """Conversations and their evidence questions; ValueError with the reason if malformed.

    Evidence ids are normalised ("D8:6; D9:17" is two ids) and ids naming no turn are
    dropped; a question left with no evidence is not a case."""
    raw = read_json_list(path, "conversations")
    conversations, cases = [], []
    for n, sample in enumerate(raw):
        try:
            conv, qa = sample["conversation"], sample["qa"]
            sample_id = str(sample.get("sample_id", n))
        except (KeyError, TypeError) as exc:
            raise ValueError(f"{path}: conversation {n} lacks conversation or qa") from exc
        customer = f"locomo-{sample_id}"
        turns = []
        for key, value in conv.items():
            m = re.fullmatch(r"session_(\d+)", key)
            if not m or not isinstance(value, list):
                continue
            session = int(m.group(1))
            at = parse_when(str(conv.get(f"{key}_date_time", "")))
            for t in value:
                text = str(t.get("text", ""))
                if t.get("blip_caption"):
                    text += f" [shares a photo: {t['blip_caption']}]"
                turns.append(
                    Turn(
                        id=f"{customer}:{t['dia_id']}",
                        dia_id=t["dia_id"],
                        speaker=str(t.get("speaker", "")),
                        text=text,
                        session=session,
                        at=at,
                    )
                )
        known = {t.dia_id for t in turns}
        conversations.append(Conversation(customer_id=customer, turns=turns))
        for q_n, q in enumerate(qa):
            category = q.get("category")
            if category not in CATEGORIES or "answer" not in q:
                continue
            evidence = [
                e
                for e in dict.fromkeys(_DIA.findall(" ".join(q.get("evidence") or [])))
                if e in known
            ]
            if evidence:
                cases.append(
                    HistoryCase(
                        id=f"{customer}:q{q_n}",
                        customer_id=customer,
                        question=str(q["question"]),
                        answer=str(q["answer"]),
                        category=int(category),
                        evidence=[f"{customer}:{e}" for e in evidence],
                    )
                )
    return conversations, cases


def records(conversation: Conversation) -> list[HistoryRecord]:
    return [
        HistoryRecord(
            id=t.id,
            customer_id=conversation.customer_id,
            kind="conversation",
            text=t.record_text(),
            created_at=t.at,
        )
        for t in conversation.turns
    ]


def index_conversations(
    history: HistoryIndex, conversations: list[Conversation], on_progress: Callable[[int], None]
) -> int:
    """Add every turn not already stored with the same text; return how many were written."""
    written = 0
    for conv in conversations:
        recs = records(conv)
        stored = {
            i.id: i.document
            for i in history.index.get(history.collection, ids=[r.id for r in recs])
        }
        todo = [r for r in recs if stored.get(r.id) != r.text]
        history.add(todo)
        written += len(todo)
        on_progress(len(recs))
    return written


def scores(case: HistoryCase, ranked: list[str], ms: dict[str, float]) -> CaseScore:
    return CaseScore(
        id=case.id,
        category=CATEGORIES[case.category],
        metrics={f"recall@{k}": recall_at_k(ranked, case.evidence, k) for k in KS},
        ms=ms,
        detail={"evidence": case.evidence, "top10": ranked[:10]},
    )


def rapport_scorer(history: HistoryIndex, candidates: dict[str, list[str]]):
    """Score with HistoryIndex.search over the customer's ids (the pipeline's SQL list)."""

    def score(case: HistoryCase) -> CaseScore:
        t0 = time.perf_counter()
        hits = history.search(case.customer_id, candidates[case.customer_id], case.question, k=10)
        ms = {"retrieve": round((time.perf_counter() - t0) * 1e3, 2)}
        return scores(case, [h.id for h in hits], ms)

    return score


def baseline_scorer(
    name: str, conversations: list[Conversation], embedder: Embedder, cache: Path | None
) -> Callable[[HistoryCase], CaseScore]:
    """Rank a customer's raw turns (no speaker, no date) by plain MiniLM or BM25."""
    ids = [t.id for conv in conversations for t in conv.turns]
    texts = [t.text for conv in conversations for t in conv.turns]
    rows: dict[str, list[int]] = {}
    for n, conv in enumerate(c for c in conversations for _ in c.turns):
        rows.setdefault(conv.customer_id, []).append(n)
    dense = DenseRanker(embedder, ids, texts, cache) if name == "dense" else None
    lexical = {
        cid: Bm25Ranker([ids[i] for i in r], [texts[i] for i in r]) for cid, r in rows.items()
    }

    def score(case: HistoryCase) -> CaseScore:
        t0 = time.perf_counter()
        if dense is not None:
            ranked = dense.rank(case.question, 10, rows[case.customer_id])
        else:
            ranked = lexical[case.customer_id].rank(case.question, 10)
        return scores(case, ranked, {"retrieve": round((time.perf_counter() - t0) * 1e3, 2)})

    return score
