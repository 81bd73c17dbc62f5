"""τ-knowledge's bank tasks for context recall: the customer, their message and the ids a
correct agent's actions name.

Dataset: `tasks.json` with the bank's `db.json` beside it. Case: the customer whose id the
task's actions name (`user_id` in any argument, the nested JSON arguments of the
discoverable tools included) and the task's instructions as their message, word for word
less the sentences about the simulation itself ("You are playing the role of a
customer …"), cut at a sentence end within the longest message the chat accepts (they
describe the situation in the customer's words; no id from the actions is added).
Gold: the values of the actions' arguments, nested ones included, that are the ids of that
customer's own objects in `db.json` (accounts, cards, transactions …; anything whose
`user_id`, `referrer_id` or account is theirs). Tasks with no such id (product questions,
applications of new customers) are not cases."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from assistant.wiring import Container
from eval.context_suite import ContextCase
from eval.datafiles import read_json_list
from profiles.mapping import PACKAGED_MAPPINGS, import_files, load_mapping

OWNER_FIELDS = ("user_id", "referrer_id")


# Sentences that direct the simulated customer, not what the customer would say.
_STAGE = re.compile(
    r"[^.!?\n]*(?:playing the role|role of the customer|customer service representative|"
    r"Never respond as|Don't dump all)[^.!?\n]*[.!?]?",
    re.IGNORECASE,
)
MAX_MESSAGE = 4000  # the chat's default max_message_chars


def message_from_instructions(instructions: str, limit: int = MAX_MESSAGE) -> str:
    """The customer's message: the instructions without their stage directions, cut
    after the last sentence that fits in `limit` characters."""
    text = re.sub(r"[ \t]{2,}", " ", _STAGE.sub("", instructions)).strip()
    if len(text) <= limit:
        return text
    cut = text[:limit]
    end = max(cut.rfind(c) for c in ".!?\n")
    return cut[: end + 1].strip() if end > 0 else cut


def load_cases(tasks: Path, db: Path) -> list[ContextCase]:
    """Cases of `tasks` (τ-knowledge tasks.json) against the bank's `db`; ValueError with
    the reason if either is malformed."""
    raw = read_json_list(tasks, "tasks")
    try:
        owned = _owned(json.loads(db.read_text(encoding="utf-8")))
    except (OSError, ValueError, AttributeError, TypeError) as exc:
        raise ValueError(f"{db}: not a τ-knowledge db.json ({exc.__class__.__name__})") from None
    cases = []
    for i, task in enumerate(raw):
        if not isinstance(task, dict):
            raise ValueError(f"{tasks}: task {i} is not an object")
        try:
            actions = task["evaluation_criteria"]["actions"] or []
            message = task["user_scenario"]["instructions"]
        except (KeyError, TypeError):
            raise ValueError(f"{tasks}: task {i} lacks its actions or instructions") from None
        values = list(dict.fromkeys(v for a in actions for v in _values(a.get("arguments"))))
        customer = next((v for v in values if v in owned), None)
        if customer is None:
            continue
        gold = [v for v in values if v in owned[customer]]
        if gold:
            cases.append(
                ContextCase(
                    id=str(task.get("id", f"task-{i}")),
                    customer_id=customer,
                    message=message_from_instructions(str(message)),
                    gold_ids=gold,
                )
            )
    return cases


def _owned(db: dict[str, Any]) -> dict[str, set[str]]:
    """Each customer's ids of their objects: those naming them, and those naming an
    account of theirs."""
    users = set(db["users"]["data"])
    owner_of: dict[str, str] = {}
    sections = {name: (v.get("data") or {}) for name, v in db.items() if name != "users"}
    for items in sections.values():
        for key, item in items.items():
            who = next((item[f] for f in OWNER_FIELDS if item.get(f) in users), None)
            if who is not None:
                owner_of[key] = who
    for items in sections.values():  # objects that name only an account of the customer
        for key, item in items.items():
            if key not in owner_of and item.get("account_id") in owner_of:
                owner_of[key] = owner_of[item["account_id"]]
    owned: dict[str, set[str]] = {u: set() for u in users}
    for key, who in owner_of.items():
        owned[who].add(key)
    return owned


def _values(value: Any) -> Iterator[str]:
    """Every string in an action's arguments; a string holding a JSON object (the
    discoverable tools' `arguments`) is read as one."""
    if isinstance(value, dict):
        for v in value.values():
            yield from _values(v)
    elif isinstance(value, list):
        for v in value:
            yield from _values(v)
    elif isinstance(value, str):
        if value.startswith("{"):
            try:
                yield from _values(json.loads(value))
                return
            except ValueError:
                pass
        yield value


def load_data(container: Container, bank_dir: Path) -> None:
    """Import the bank's customers and records by the packaged mapping, and its
    documents (internal ones marked by their own titles), once per scratch data dir."""
    marker = container.settings.data_dir / ".tau-banking-loaded"
    if marker.exists():
        return
    mapping = load_mapping(PACKAGED_MAPPINGS / "tau_banking.yaml")
    import_files(container.engine, mapping, [bank_dir / "db.json"])
    kb = container.kb
    kb.ingest(kb.load_documents([bank_dir / "documents"]))
    marker.write_text("ok\n")
