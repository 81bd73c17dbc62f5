"""The benchmark's data: the real tau-retail customers and a real KB, prepared once.

`prepare_base` imports tau-retail and ingests the retail policy plus the banking KB into
var/bench/base (idempotent; a marker skips the work on later runs). Every run copies the
base into fresh working dirs, so turns persisted by one run (messages, history vectors)
never change what the next run measures."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from assistant.settings import Settings
from assistant.wiring import Container
from eval.tau_retail import load_tasks
from profiles.mapping import import_retail
from retrieval.embedder import Embedder

MARKER = ".bench-data-v2"  # v2: the store by its mapping, as records


@dataclass(frozen=True)
class Query:
    customer_id: str
    message: str


def prepare_base(base: Path, datasets: Path, embedder: Embedder) -> dict[str, float]:
    """Import customers and ingest the KB into `base` unless done before; what it took."""
    import time

    if (base / MARKER).exists():
        return {}
    retail = datasets / "tau-retail"
    bank = datasets / "tau-banking-knowledge" / "documents"
    c = Container(Settings(data_dir=base), shared_embedder=embedder)
    t0 = time.perf_counter()
    import_retail(c.engine, retail)
    t1 = time.perf_counter()
    docs = c.kb.load_documents([retail / "policy.md", bank])
    report = c.kb.ingest(docs)
    t2 = time.perf_counter()
    c.engine.dispose()
    (base / MARKER).write_text("ok\n")
    return {
        "import_s": round(t1 - t0, 2),
        "kb_ingest_s": round(t2 - t1, 2),
        "kb_chunks": report.chunks_written,
    }


def working_copy(base: Path, dest: Path) -> Path:
    """A fresh copy of the base data dir at `dest` (replacing any earlier one)."""
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(base, dest, ignore=shutil.ignore_patterns(MARKER))
    return dest


def load_queries(datasets: Path) -> list[Query]:
    """Customer messages with their customer ids from tau-retail dev and train tasks."""
    retail = datasets / "tau-retail"
    tasks = [
        *load_tasks(retail / "tasks_dev.json"),
        *load_tasks(retail / "tasks_train.json"),
    ]
    seen: set[tuple[str, str]] = set()
    out = []
    for t in tasks:
        key = (t.customer_id, t.message)
        if t.message and key not in seen:
            seen.add(key)
            out.append(Query(t.customer_id, t.message))
    return out
