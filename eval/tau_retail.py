"""τ-bench retail tasks: the customer message and the ground-truth ids of each task."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from eval.datafiles import read_json_list

SKIPPED_ACTIONS = frozenset({"think", "calculate", "transfer_to_human_agents"})

# A sentence that only lists the simulated user's personality ("You are shy, polite.")
# says nothing a customer would write; every other sentence is kept word for word.
_PERSONA_RE = re.compile(r"You(?: are|'re) (?:very )?[a-z]+(?:, ?[a-z]+)*(?:,? and [a-z]+)?\.\s*")


class RetailTask(BaseModel):
    index: int
    customer_id: str
    message: str
    gold_ids: list[str]
    action_names: list[str]


def message_from_instruction(instruction: str) -> str:
    """The customer's message: the task instruction minus its personality sentence.

    No id from the ground-truth actions is ever added; ids the customer states in the
    instruction stay, because the customer would state them."""
    return re.sub(r"\s{2,}", " ", _PERSONA_RE.sub("", instruction)).strip()


def gold_ids(actions: list[dict[str, Any]]) -> list[str]:
    """Values of `*_id` / `*_ids` arguments of the actions, skipping identity look-ups."""
    ids: list[str] = []
    for action in actions:
        name = action.get("name", "")
        if name.startswith("find_user_id") or name in SKIPPED_ACTIONS:
            continue
        for key, value in (action.get("kwargs") or {}).items():
            if key.endswith("_ids") and isinstance(value, list):
                ids.extend(str(v) for v in value)
            elif key.endswith("_id") and value is not None:
                ids.append(str(value))
    return list(dict.fromkeys(ids))


def load_tasks(path: Path) -> list[RetailTask]:
    """Tasks from a τ-bench retail tasks JSON file; ValueError with the reason if malformed."""
    raw = read_json_list(path, "tasks")
    tasks = []
    for i, t in enumerate(raw):
        if not isinstance(t, dict) or not {"user_id", "instruction", "actions"} <= t.keys():
            raise ValueError(f"{path}: task {i} lacks user_id, instruction or actions")
        actions = t["actions"]
        tasks.append(
            RetailTask(
                index=i,
                customer_id=t["user_id"],
                message=message_from_instruction(t["instruction"]),
                gold_ids=gold_ids(actions),
                action_names=[a["name"] for a in actions],
            )
        )
    return tasks
