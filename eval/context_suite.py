"""Context fact recall on τ-bench retail: do the ids a correct agent needs reach the prompt?

Dataset: `tasks_*.json` with the retail data folder. Case: the customer (`user_id`) and
their message, the task `instruction` minus its personality sentence, word for word
otherwise (eval.tau_retail.message_from_instruction; no id from `actions` is added).
Evaluator: the ground-truth ids (values of `*_id`/`*_ids` arguments of `actions`, identity
look-ups and reasoning steps skipped) found verbatim in the context the pipeline assembles
within its token budget; context tokens and per-stage latency from the pipeline's timer."""

from __future__ import annotations

import hashlib
import json
import re
import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from assistant.pipeline import Assistant
from assistant.tokens import TokenCounter
from assistant.types import TurnRequest
from assistant.wiring import Container
from eval.baselines import Bm25Ranker, DenseRanker
from eval.report import CaseScore
from eval.tau_retail import RetailTask, load_tasks
from profiles.mapping import RETAIL_MAPPING, import_files, load_mapping, retail_files
from retrieval.embedder import Embedder

SUITE = "context"


class ContextCase(BaseModel):
    id: str
    customer_id: str
    message: str
    gold_ids: list[str]


def load_cases(path: Path) -> list[ContextCase]:
    return [_case(t) for t in load_tasks(path)]


def _case(t: RetailTask) -> ContextCase:
    return ContextCase(
        id=f"task-{t.index}", customer_id=t.customer_id, message=t.message, gold_ids=t.gold_ids
    )


def load_data(container: Container, retail_dir: Path, mapping: Path | None = None) -> None:
    """Import the retail data and its policy once per scratch data dir, by the store's
    packaged mapping or by `mapping` (customers, records and reference data, as any
    business's data arrives)."""
    mapping = mapping or RETAIL_MAPPING
    # a mapping is imported again when it changes
    digest = hashlib.sha256(mapping.read_bytes()).hexdigest()[:12]
    marker = container.settings.data_dir / f".tau-retail-{mapping.stem}-{digest}-loaded"
    if marker.exists():
        return
    import_files(container.engine, load_mapping(mapping), retail_files(retail_dir))
    kb = container.kb
    kb.ingest(kb.load_documents([retail_dir / "policy.md"]))
    marker.write_text("ok\n")


def present(gold_id: str, text: str) -> bool:
    """`gold_id` stands in `text` as itself: not inside a longer id or a date ("05" is
    not found in "05/12/1991" nor "W5" in "#W5442520")."""
    return re.search(rf"(?<![\w/-]){re.escape(gold_id)}(?![\w/])(?!-\w)", text) is not None


def scores(
    case: ContextCase, text: str, tokens: int, ms: dict[str, float], prompt_tokens: int = 0
) -> CaseScore:
    """`tokens` is what the budget bounds (the prompt less the customer's message);
    `prompt_tokens` the whole prompt's, where there is one."""
    missing = [i for i in case.gold_ids if not present(i, text)]
    metrics: dict[str, float] = {"tokens": float(tokens)}
    if prompt_tokens:
        metrics["prompt_tokens"] = float(prompt_tokens)
    if case.gold_ids:
        metrics["fact_recall"] = 1 - len(missing) / len(case.gold_ids)
    return CaseScore(
        id=case.id,
        metrics=metrics,
        ms=ms,
        detail={
            "gold": len(case.gold_ids),
            "found": len(case.gold_ids) - len(missing),
            "missing": missing,
        },
    )


def pooled_recall(per_case: list[CaseScore]) -> dict[str, float]:
    """fact_recall over all gold ids pooled (the issue's measure), next to the per-case mean."""
    gold = sum(int(c.detail["gold"]) for c in per_case)
    found = sum(int(c.detail["found"]) for c in per_case)
    mean = [c.metrics["fact_recall"] for c in per_case if "fact_recall" in c.metrics]
    return {
        "fact_recall": round(found / gold, 4) if gold else 0.0,
        "fact_recall_case_mean": round(sum(mean) / len(mean), 4) if mean else 0.0,
        "gold_ids": float(gold),
        "max_tokens": float(max((c.metrics["tokens"] for c in per_case), default=0)),
    }


def rapport_scorer(assistant: Assistant):
    """Score with Assistant.prepare: identify → compose, exactly as a turn runs it."""

    def score(case: ContextCase) -> CaseScore:
        prepared = assistant.prepare(
            TurnRequest(customer_id=case.customer_id, message=case.message)
        )
        composed = prepared.composed
        return scores(
            case, composed.text, composed.context_tokens, prepared.timer.ms, composed.tokens
        )

    return score


class RawRecords:
    """A customer's raw records as a default RAG setup would load them: the user record,
    each of their orders and the catalog entry of each product they ordered, as JSON."""

    def __init__(self, retail_dir: Path) -> None:
        def read(name: str) -> dict[str, Any]:
            path = retail_dir / name
            if not path.is_file():
                raise ValueError(f"no {name} in {retail_dir}")
            return dict(json.loads(path.read_text(encoding="utf-8")))

        self.users, self.orders, self.products = (
            read("users.json"),
            read("orders.json"),
            read("products.json"),
        )

    def docs(self, customer_id: str) -> tuple[list[str], list[str]]:
        user = self.users.get(customer_id)
        if user is None:
            return [], []
        ids, texts = [f"user:{customer_id}"], [json.dumps(user)]
        products: dict[str, None] = {}
        for oid in user.get("orders", []):
            order = self.orders.get(oid)
            if order is not None:
                ids.append(f"order:{oid}")
                texts.append(json.dumps(order))
                products.update({i["product_id"]: None for i in order.get("items", [])})
        for pid in products:
            if pid in self.products:
                ids.append(f"product:{pid}")
                texts.append(json.dumps(self.products[pid]))
        return ids, texts


def baseline_scorer(name: str, raw: RawRecords, embedder: Embedder, budget: int):
    """Rank the customer's raw records by dense or BM25 similarity to the message and
    pack whole records into the token budget in rank order."""
    counter = TokenCounter()

    def score(case: ContextCase) -> CaseScore:
        t0 = time.perf_counter()
        ids, texts = raw.docs(case.customer_id)
        ranker = (
            DenseRanker(embedder, ids, texts, cache=None)
            if name == "dense"
            else Bm25Ranker(ids, texts)
        )
        ranked = ranker.rank(case.message, len(ids))
        ranked += [i for i in ids if i not in ranked]  # BM25 leaves out zero scores
        by_id = dict(zip(ids, texts, strict=True))
        packed, used = [], counter.count(case.message)
        for i in ranked:
            n = counter.count(by_id[i])
            if used + n <= budget:
                packed.append(by_id[i])
                used += n
        ms = {"retrieve": round((time.perf_counter() - t0) * 1e3, 2)}
        return scores(case, "\n".join(packed), used, ms)

    return score
