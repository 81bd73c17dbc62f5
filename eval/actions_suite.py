"""Predicted needs on τ-bench retail: does the top prediction name what the task does?

Dataset: `tasks_*.json` with the retail data folder. Case: the customer and the message
derived from the instruction exactly as in the context suite. Evaluator: the task's
action types, mapped from the ground-truth action names (`cancel_pending_order` →
cancel, `modify_pending_order_items`/`_payment` → modify, `modify_pending_order_address`
and `modify_user_address` → address_change, `return_…` → return, `exchange_…` →
exchange, `transfer_to_human_agents` → escalate; read-only look-ups are not needs).
`top1` is 1 when the first predicted action is one of the task's; `top3` when any of the
first three is. The prediction comes from the pipeline's own prepare stage and
assistant.needs.predict_needs, the code the agent sidebar runs. With `--mapping` the
store is imported by its mapping, and the needs are its records' actions."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path

from pydantic import BaseModel

from assistant.needs import predict_needs
from assistant.pipeline import Assistant
from assistant.types import TurnRequest
from eval.report import CaseScore
from eval.tau_retail import load_tasks

SUITE = "actions"

ACTION_TYPE_OF = {
    "cancel_pending_order": "cancel",
    "modify_pending_order_items": "modify",
    "modify_pending_order_payment": "modify",
    "modify_pending_order_address": "address_change",
    "modify_user_address": "address_change",
    "return_delivered_order_items": "return",
    "exchange_delivered_order_items": "exchange",
    "transfer_to_human_agents": "escalate",
}


# The store's mapping names a record's actions as its answer plan does: the same action
# types by another name.
RECORD_ACTION_TYPE = {"change_address": "address_change"}


def _type(action: str) -> str:
    return RECORD_ACTION_TYPE.get(action, action)


class ActionsCase(BaseModel):
    id: str
    customer_id: str
    message: str
    gold: list[str]  # action types, in the order the task performs them


def load_cases(path: Path) -> list[ActionsCase]:
    """Tasks with at least one action that is a need (write or hand-off)."""
    out = []
    for t in load_tasks(path):
        gold = list(dict.fromkeys(ACTION_TYPE_OF[a] for a in t.action_names if a in ACTION_TYPE_OF))
        if gold:
            out.append(
                ActionsCase(
                    id=f"task-{t.index}", customer_id=t.customer_id, message=t.message, gold=gold
                )
            )
    return out


def score(case: ActionsCase, ranked: Sequence[str], ms: dict[str, float]) -> CaseScore:
    gold = set(case.gold)
    return CaseScore(
        id=case.id,
        category=case.gold[0],
        metrics={
            "top1": float(bool(ranked[:1]) and ranked[0] in gold),
            "top3": float(bool(gold & set(ranked[:3]))),
        },
        ms=ms,
        detail={"gold": case.gold, "predicted": ranked[:3]},
    )


def rapport_scorer(assistant: Assistant) -> Callable[[ActionsCase], CaseScore]:
    def run(case: ActionsCase) -> CaseScore:
        t0 = time.perf_counter()
        prepared = assistant.prepare(
            TurnRequest(customer_id=case.customer_id, message=case.message, channel="eval")
        )
        t1 = time.perf_counter()
        needs = predict_needs(case.message, prepared.context, prepared.decision)
        t2 = time.perf_counter()
        ranked = list(dict.fromkeys(_type(n.action) for n in needs if n.score > 0))
        ms = {"prepare": round((t1 - t0) * 1e3, 2), "predict": round((t2 - t1) * 1e3, 3)}
        return score(case, ranked, ms)

    return run
