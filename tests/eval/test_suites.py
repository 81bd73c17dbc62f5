"""Real-data slices of each suite, with floors just under the measured values, so a
retrieval regression turns CI red. Full-data numbers are in README (make eval)."""

import json
import os
import subprocess
import sys
from statistics import fmean

import pytest

from eval import context_suite, history_suite, kb_suite
from eval.report import build_report
from retrieval.history import HistoryIndex
from retrieval.kb import KnowledgeBase
from retrieval.sealing import Seals
from retrieval.store import ChromaIndex
from tests.conftest import BANK_DOCS, DATASETS, RETAIL
from tests.stores import MemoryKeys

LOCOMO = DATASETS / "locomo" / "locomo8.json"
BANK_TASKS = DATASETS / "tau-banking-knowledge" / "tasks.json"

# Measured on these slices (see each test); floors sit just under.
HISTORY_RECALL10_FLOOR = 0.76  # measured 0.783 (150 questions, 4 categories)
KB_RECALL10_FLOOR = 0.72  # measured 0.742 (8 tasks, 72 documents)
CONTEXT_RECALL_FLOOR = 0.95  # measured 0.967 (10 dev tasks, 30 ids)
# All 20 dev tasks (68 ids) with the store imported by its mapping file (the generic
# importer, as any business's data arrives): measured 0.985 (train 0.989; typed 0.971 and
# 0.993; `rapport eval context --mapping`). Without the catalog's variants as parts of the
# products the named order lines link to, it was 0.853 (train 0.807).
CONTEXT_MAPPED_FLOOR = 0.96
# The bank's 28 tasks with ids of the customer's own objects (107 ids), at 2000 tokens
# around the message, with the documents the tasks need: measured 0.925 pooled, 0.971 per
# case (the same with all 698 documents, `rapport eval context`). When the message counted
# against the budget it was 0.841 / 0.944: 16 charges named in a 1,050-token message did
# not fit. What is missed: a customer who asks to check all 75 of their transactions
# (README, "Evaluation").
BANK_CONTEXT_FLOOR, BANK_CONTEXT_CASE_FLOOR = 0.90, 0.95


def test_history_slice_first_conversation(tmp_path, embedder):
    conversations, cases = history_suite.load(LOCOMO)
    conv = conversations[0]
    cases = [c for c in cases if c.customer_id == conv.customer_id]
    history = HistoryIndex(ChromaIndex.embedded(tmp_path / "chroma"), embedder)
    history_suite.index_conversations(history, [conv], lambda n: None)
    score = history_suite.rapport_scorer(history, {conv.customer_id: [t.id for t in conv.turns]})
    per_case = [score(c) for c in cases]
    recall10 = fmean(c.metrics["recall@10"] for c in per_case)
    bm25 = history_suite.baseline_scorer("bm25", [conv], embedder, None)
    bm25_recall10 = fmean(bm25(c).metrics["recall@10"] for c in cases)
    print("HISTORY", len(cases), recall10, bm25_recall10)
    assert recall10 >= HISTORY_RECALL10_FLOOR
    assert recall10 > bm25_recall10  # the pipeline's retrieval beats its own baseline
    report = build_report("history", "rapport", {}, per_case)
    assert set(report.by_category) == set(history_suite.CATEGORIES.values())

    # Sealed (texts encrypted, vectors turned per customer: what erasure relies on), the
    # same questions find the same turns.
    sealed = HistoryIndex(
        ChromaIndex.embedded(tmp_path / "sealed"), embedder, seals=Seals(MemoryKeys())
    )
    history_suite.index_conversations(sealed, [conv], lambda n: None)
    ids = {conv.customer_id: [t.id for t in conv.turns]}
    sealed_score = history_suite.rapport_scorer(sealed, ids)
    assert [sealed_score(c).metrics["recall@10"] for c in cases] == [
        c.metrics["recall@10"] for c in per_case
    ]


def test_kb_slice(tmp_path, embedder):
    docs = KnowledgeBase.load_documents([BANK_DOCS])
    cases = kb_suite.load_cases(BANK_TASKS, docs)[:8]
    needed = {d for c in cases for d in c.required}
    # The required documents among distractors from the same knowledge base.
    corpus = [d for d in docs if d.id in needed] + [d for d in docs if d.id not in needed][::12]
    kb = KnowledgeBase(ChromaIndex.embedded(tmp_path / "chroma"), embedder)
    kb.ingest(corpus)
    score = kb_suite.rapport_scorer(kb, 20)
    recall10 = fmean(score(c).metrics["recall@10"] for c in cases)
    print("KB", len(corpus), recall10)
    assert recall10 >= KB_RECALL10_FLOOR


def test_kb_query_drops_role_play_boilerplate():
    q = kb_suite.query_from_instructions(
        "You are playing the role of a customer contacting a customer service representative "
        "agent. My card was declined twice today. Never respond as a customer service "
        "representative/assistant."
    )
    assert q == "My card was declined twice today."


def test_context_slice_tau_retail_dev(make_container):
    c = make_container(context_tokens=2000)
    cases = context_suite.load_cases(RETAIL / "tasks_dev.json")[:10]
    per_case = [context_suite.rapport_scorer(c.assistant)(case) for case in cases]
    pooled = context_suite.pooled_recall(per_case)
    print("CONTEXT", pooled)
    assert pooled["max_tokens"] <= 2000
    assert pooled["fact_recall"] >= CONTEXT_RECALL_FLOOR
    assert {"identify", "retrieve", "compose"} <= per_case[0].ms.keys()


def test_context_slice_tau_retail_dev_by_its_mapping(tmp_path, embedder):
    """The store's files imported by `profiles/mappings/tau_retail.yaml` alone: the ids of
    each task's actions reach the context the generic records make, the new item of an
    exchange among the offered variants of the product a named order line links to."""
    from assistant.settings import Settings
    from assistant.wiring import Container
    from profiles.mapping import RETAIL_MAPPING

    c = Container(
        Settings(data_dir=tmp_path, context_tokens=2000, database_url=None, chroma_url=None),
        shared_embedder=embedder,
    )
    context_suite.load_data(c, RETAIL, RETAIL_MAPPING)
    with c.engine.connect() as db:  # the records are all there is
        assert db.exec_driver_sql("select count(*) from customerrecord").scalar() > 0
    cases = context_suite.load_cases(RETAIL / "tasks_dev.json")
    per_case = [context_suite.rapport_scorer(c.assistant)(case) for case in cases]
    pooled = context_suite.pooled_recall(per_case)
    print("CONTEXT BY MAPPING", pooled)
    assert pooled["gold_ids"] == 68
    assert pooled["max_tokens"] <= 2000
    assert pooled["fact_recall"] >= CONTEXT_MAPPED_FLOOR


def test_context_slice_tau_banking(tmp_path, embedder):
    """The bank's customers imported by its mapping (records linked to accounts
    included), the documents its tasks need in the KB: the ids of each task's actions
    reach the context within the budget."""
    from assistant.settings import Settings
    from assistant.wiring import Container
    from eval import tau_banking
    from profiles.mapping import BANK_MAPPING, import_files, load_mapping

    bank = DATASETS / "tau-banking-knowledge"
    c = Container(
        Settings(data_dir=tmp_path, context_tokens=2000, database_url=None, chroma_url=None),
        shared_embedder=embedder,
    )
    mapping = load_mapping(BANK_MAPPING)
    import_files(c.engine, mapping, [bank / "db.json"])
    cases = tau_banking.load_cases(bank / "tasks.json", bank / "db.json")
    wanted = {d for t in json.loads(BANK_TASKS.read_text()) for d in t["required_documents"]}
    c.kb.ingest(c.kb.load_documents([bank / "documents" / f"{d}.json" for d in sorted(wanted)]))
    per_case = [context_suite.rapport_scorer(c.assistant)(case) for case in cases]
    pooled = context_suite.pooled_recall(per_case)
    print("BANK CONTEXT", pooled)
    assert (len(cases), pooled["gold_ids"]) == (28, 107)
    assert pooled["max_tokens"] <= 2000
    assert pooled["fact_recall"] >= BANK_CONTEXT_FLOOR
    assert pooled["fact_recall_case_mean"] >= BANK_CONTEXT_CASE_FLOOR


RAPPORT = [sys.executable, "-m", "assistant.cli", "eval"]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["kb", "--tasks", "/nonexistent/t.json", "--docs", str(BANK_DOCS)], "/nonexistent/t.json"),
        (["kb", "--tasks", str(BANK_TASKS), "--docs", "/nonexistent/docs"], "/nonexistent/docs"),
        (["history", "--data", "/nonexistent/locomo.json"], "/nonexistent/locomo.json"),
        (["context", "--tasks", "/nope.json", "--data", str(RETAIL)], "/nope.json"),
        (
            ["context", "--tasks", str(RETAIL / "tasks_dev.json"), "--data", str(RETAIL)]
            + ["--mapping", "/nope/map.yaml"],
            "/nope/map.yaml",
        ),
        (["compare", "/nope/a.json", "/nope/b.json"], "/nope/a.json"),
        (["kb", "--tasks", str(BANK_TASKS), "--docs", str(BANK_DOCS), "--baseline", "x"], "x"),
    ],
)
def test_bad_paths_exit_2_with_one_line(tmp_path, args, expected):
    env = {**os.environ, "RAPPORT_DATA_DIR": str(tmp_path), "HF_HUB_OFFLINE": "1"}
    r = subprocess.run(
        [*RAPPORT, *args, "--out", str(tmp_path / "out")]
        if args[0] != "compare"
        else [*RAPPORT, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert r.returncode == 2, r.stderr
    assert len(lines) == 1 and lines[0].startswith("error: ") and expected in lines[0], r.stderr


def test_malformed_locomo_exits_2(tmp_path):
    bad = tmp_path / "locomo.json"
    bad.write_text(json.dumps([{"qa": []}]))
    r = subprocess.run(
        [*RAPPORT, "history", "--data", str(bad), "--out", str(tmp_path / "o")],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    assert r.returncode == 2 and "lacks conversation" in r.stderr and "Traceback" not in r.stderr


def test_a_gold_id_counts_only_as_itself():
    present = context_suite.present
    assert present("05", "Green Account (checking account 05): OPEN")
    assert not present("05", "born 05/12/1991, opened 11/05/2022, 2025-05-01")
    assert present("#W5442520", "Order #W5442520: pending")
    assert not present("W544", "Order #W5442520") and not present("txn_1", "txn_12")


def test_bank_cases_take_ids_from_nested_tool_arguments(tmp_path):
    from eval import tau_banking

    db = tmp_path / "db.json"
    db.write_text(
        json.dumps(
            {
                "users": {"data": {"u1": {"user_id": "u1"}, "u2": {"user_id": "u2"}}},
                "accounts": {"data": {"a1": {"user_id": "u1"}, "a2": {"user_id": "u2"}}},
                "bank_tx": {"data": {"b1": {"account_id": "a1"}}},
            }
        )
    )
    args = json.dumps({"user_id": "u1", "account_id": "a1", "tx": ["b1", "a2"]})
    tasks = tmp_path / "tasks.json"
    stage = "You are playing the role of a customer contacting an agent. "
    tasks.write_text(
        json.dumps(
            [
                {
                    "id": "t1",
                    "user_scenario": {"instructions": stage + "My card was charged twice."},
                    "evaluation_criteria": {
                        "actions": [
                            {
                                "name": "call_discoverable_agent_tool",
                                "arguments": {"arguments": args},
                            }
                        ]
                    },
                },
                {  # nothing of a customer's: not a case
                    "id": "t2",
                    "user_scenario": {"instructions": "Which card is best?"},
                    "evaluation_criteria": {"actions": [{"name": "x", "arguments": {"a": "b"}}]},
                },
            ]
        )
    )
    (case,) = tau_banking.load_cases(tasks, db)
    # a2 is another customer's account: not gold for u1
    assert (case.customer_id, case.gold_ids) == ("u1", ["a1", "b1"])
    assert case.message == "My card was charged twice."
    long = "A sentence. " * 500
    cut = tau_banking.message_from_instructions(long, limit=100)
    assert len(cut) <= 100 and cut.endswith(".")
