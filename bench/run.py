"""`make bench`: Rapport against a measured floor and a plain LangChain RAG baseline.

    python -m bench.run            # the full run, a few minutes
    python -m bench.run --quick    # a ~1 minute smoke run

Everything is measured in one run on loopback, so the ratios hold on a noisy machine:

1. floor: one query embedding + one Chroma query + one indexed SQL read by customer id;
2. Rapport: context assembly (Assistant.prepare, everything before generation) in
   process, and POST /v1/chat over HTTP with the offline composer and with a fake
   OpenAI-compatible server that answers instantly, at concurrency 1, 8 and 32;
3. baseline: LangChain (langchain-chroma retriever k=6, ChatPromptTemplate, ChatOpenAI
   at the same fake server, StrOutputParser) behind POST /chat, on the same KB;
4. ingestion: embedding throughput on a sample, and store ingestion of 10k and 100k
   passages with precomputed vectors (embedding 100k passages on 2 cores would take
   hours), with peak memory; time from start to ready.

Prints a table and writes bench/results.json."""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import platform
import random
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

import httpx  # noqa: E402
import numpy as np  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from bench import servers  # noqa: E402
from bench.data import Query, load_queries, prepare_base, working_copy  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
MODEL = "bench-model"
SECRET = "bench-widget-secret"
out = Console()


@dataclass(frozen=True)
class Plan:
    queries: int  # in-process floor / context-assembly samples
    requests: dict[int, int]  # HTTP requests per concurrency level
    embed_sample: int
    ingest_sizes: tuple[int, ...]


FULL = Plan(150, {1: 60, 8: 120, 32: 192}, 256, (10_000, 100_000))
QUICK = Plan(30, {1: 12, 8: 32, 32: 64}, 64, (10_000,))


def pct(values: list[float], q: float) -> float:
    return round(float(np.percentile(values, q)), 2) if values else float("nan")


def summary(ms: list[float]) -> dict[str, float]:
    mean = round(float(np.mean(ms)), 2) if ms else float("nan")
    return {"n": len(ms), "p50_ms": pct(ms, 50), "p95_ms": pct(ms, 95), "mean_ms": mean}


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


# -- in process: floor and context assembly -------------------------------------------


class CountingEmbedder:
    """The real embedder, counting calls: the query must be embedded once per turn."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.dim = inner.dim
        self.calls = 0

    def embed(self, texts: Any) -> np.ndarray:
        self.calls += 1
        return self.inner.embed(texts)

    def embed_query(self, text: str) -> np.ndarray:
        self.calls += 1
        return self.inner.embed_query(text)


def in_process(data_dir: Path, embedder: Any, queries: list[Query], n: int) -> dict[str, Any]:
    """Floor and Assistant.prepare, interleaved query by query (order alternating)."""
    from sqlalchemy import text

    from assistant.settings import Settings
    from assistant.types import TurnRequest
    from assistant.wiring import Container

    counting = CountingEmbedder(embedder)
    c = Container(Settings(data_dir=data_dir), shared_embedder=counting)
    assistant = c.assistant
    index, engine, k = c.index, c.engine, c.settings.kb_top_k
    sql = text('SELECT id, status FROM "order" WHERE customer_id = :c')

    def floor(q: Query) -> float:
        t0 = time.perf_counter()
        vec = embedder.embed_query(q.message)
        index.query(c.kb.collection, vec, k)
        with engine.connect() as conn:
            conn.execute(sql, {"c": q.customer_id}).all()
        return (time.perf_counter() - t0) * 1e3

    stages: dict[str, list[float]] = {}

    def prepare(q: Query) -> float:
        t0 = time.perf_counter()
        p = assistant.prepare(TurnRequest(customer_id=q.customer_id, message=q.message))
        ms = (time.perf_counter() - t0) * 1e3
        for name, v in p.timer.ms.items():
            stages.setdefault(name, []).append(v)
        return ms

    sample = [queries[i % len(queries)] for i in range(n)]
    # The first turn of a fresh process: whatever is built lazily is paid here.
    first_prepare = prepare(sample[0])
    first_floor = floor(sample[0])
    stages.clear()
    for q in sample[1:4]:  # warm-up
        floor(q), prepare(q)
    stages.clear()
    modules_before = set(sys.modules)
    counting.calls = 0
    floors, prepares = [], []
    for i, q in enumerate(sample):
        if i % 2:
            floors.append(floor(q))
            prepares.append(prepare(q))
        else:
            prepares.append(prepare(q))
            floors.append(floor(q))
    new_modules = sorted(set(sys.modules) - modules_before)
    return {
        "floor": summary(floors),
        "context_assembly": summary(prepares),
        "context_first_call_ms": round(first_prepare, 1),
        "floor_first_call_ms": round(first_floor, 1),
        "context_stages_p50_ms": {s: pct(v, 50) for s, v in stages.items()},
        "embed_calls_per_turn": round(counting.calls / len(sample), 2),
        "imports_on_request_path": new_modules,
    }


# -- over HTTP: the chat endpoints --------------------------------------------------


@dataclass
class Target:
    name: str
    url: str
    server: servers.Server
    body: Callable[[Query], dict[str, Any]]
    ok: Callable[[dict[str, Any]], bool]


def rapport_target(name: str, server: servers.Server, generator: str) -> Target:
    from assistant.api.security import user_hash

    def body(q: Query) -> dict[str, Any]:
        return {
            "customer_id": q.customer_id,
            "user_hash": user_hash(SECRET, q.customer_id),
            "message": q.message,
        }

    def ok(r: dict[str, Any]) -> bool:
        return r.get("generator") == generator and not r.get("degraded")

    return Target(name, server.base + "/v1/chat", server, body, ok)


def langchain_target(server: servers.Server, name: str = "langchain") -> Target:
    return Target(
        name,
        server.base + "/chat",
        server,
        lambda q: {"customer_id": q.customer_id, "message": q.message},
        lambda r: bool(r.get("answer")),
    )


async def _load(
    client: httpx.AsyncClient, t: Target, queries: list[Query], n: int, conc: int, offset: int
) -> dict[str, Any]:
    latencies: list[float] = []
    failures: list[str] = []
    stages: dict[str, list[float]] = {}
    counter = itertools.count()

    async def worker() -> None:
        while (i := next(counter)) < n:
            q = queries[(offset + i) % len(queries)]
            t0 = time.perf_counter()
            r = await client.post(t.url, json=t.body(q))
            latencies.append((time.perf_counter() - t0) * 1e3)
            body = r.json()
            if r.status_code != 200 or not t.ok(body):
                failures.append(f"{r.status_code} {r.text[:200]}")
            for stage, ms in (body.get("timings_ms") or {}).items():
                stages.setdefault(stage, []).append(ms)

    cpu0 = t.server.cpu_s()
    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(conc)))
    wall = time.perf_counter() - t0
    cpu = t.server.cpu_s() - cpu0
    return {
        **summary(latencies),
        "rps": round(n / wall, 2),
        # CPU the server process spent per request: steadier than latency on a busy machine.
        "server_cpu_ms_per_request": round(cpu * 1e3 / n, 1),
        "errors": len(failures),
        "first_error": failures[0] if failures else None,
        # Rapport reports its own per-stage timings in each turn; the baseline has none.
        "server_stages_p50_ms": {k: pct(v, 50) for k, v in stages.items()},
    }


async def http_runs(targets: list[Target], queries: list[Query], plan: Plan) -> dict[str, Any]:
    """Every target at every concurrency, interleaved level by level (same noise for all)."""
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    results: dict[str, Any] = {t.name: {"first_request_ms": None} for t in targets}
    async with httpx.AsyncClient(timeout=300.0, limits=limits) as client:
        for t in targets:  # the first request after ready, then a short warm-up
            t0 = time.perf_counter()
            r = await client.post(t.url, json=t.body(queries[0]))
            results[t.name]["first_request_ms"] = round((time.perf_counter() - t0) * 1e3, 1)
            if r.status_code != 200 or not t.ok(r.json()):
                raise RuntimeError(f"{t.name} answered {r.status_code}: {r.text[:300]}")
            await _load(client, t, queries, 4, 2, 1)
        for conc, n in plan.requests.items():
            offset = random.Random(conc).randrange(len(queries))
            for t in targets:
                out.print(f"  {t.name:16} concurrency {conc:>2}: {n} requests", highlight=False)
                results[t.name][f"c{conc}"] = await _load(client, t, queries, n, conc, offset)
    return results


# -- ingestion --------------------------------------------------------------------------


def embed_throughput(embedder: Any, texts: list[str], n: int) -> dict[str, float]:
    sample = [texts[i % len(texts)] for i in range(n)]
    embedder.embed(sample[:16])
    t0 = time.perf_counter()
    embedder.embed(sample)
    s = time.perf_counter() - t0
    return {"passages": n, "seconds": round(s, 2), "passages_per_s": round(n / s, 1)}


def store_ingest(n: int, source: Path, work: Path) -> dict[str, Any]:
    argv = [
        sys.executable,
        "-m",
        "bench.ingest_child",
        "--n",
        str(n),
        "--source",
        str(source),
        "--dir",
        str(work / f"ingest-{n}"),
    ]
    done = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT, check=False)
    if done.returncode:
        raise RuntimeError(f"ingest of {n} failed: {done.stderr[-2000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def kb_sample(base: Path, dest: Path) -> list[str]:
    """Real KB chunks with their real embeddings, saved for the ingest children."""
    from retrieval.store import ChromaIndex

    if not dest.exists():
        index = ChromaIndex.embedded(base / "chroma")
        items = index.get("kb_chunks", include_embeddings=True)
        np.savez(
            dest,
            vectors=np.stack([i.embedding for i in items]).astype(np.float32),  # type: ignore[misc]
            texts=np.array([i.document for i in items]),
        )
    return [str(t) for t in np.load(dest)["texts"]]


# -- report -----------------------------------------------------------------------------


def ratio(a: float, b: float) -> float:
    return round(a / b, 3) if b else float("nan")


def machine() -> dict[str, Any]:
    import onnxruntime

    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "embedding_runtime": f"onnxruntime {onnxruntime.__version__} (baseline: torch)",
        "loadavg_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def print_report(r: dict[str, Any]) -> None:
    f, ratios = r["figures"], r["ratios"]
    t = Table(title="Context assembly vs floor (in process, same queries, interleaved)")
    for col in ("measure", "p50 ms", "p95 ms", "n"):
        t.add_column(col, justify="right" if col != "measure" else "left")
    t.add_row(
        "floor: 1 query embedding + 1 Chroma query (k=6) + 1 indexed SQL read",
        *(str(f["floor"][k]) for k in ("p50_ms", "p95_ms", "n")),
    )
    t.add_row(
        "Rapport context assembly (Assistant.prepare)",
        *(str(f["context_assembly"][k]) for k in ("p50_ms", "p95_ms", "n")),
    )
    out.print(t)
    out.print(
        "  stage p50 ms: " + ", ".join(f"{k} {v}" for k, v in f["context_stages_p50_ms"].items()),
        highlight=False,
    )
    out.print(
        f"  first call in a fresh process: {f['context_first_call_ms']} ms; embedder "
        f"calls per turn: {f['embed_calls_per_turn']}; modules imported on the request "
        f"path: {len(f['imports_on_request_path'])}",
        highlight=False,
    )

    t = Table(title="POST chat over loopback HTTP (fake LLM answers instantly)")
    cols = ("endpoint", "conc", "p50 ms", "p95 ms", "req/s", "CPU ms/req", "errors", "first req ms")
    for col in cols:
        t.add_column(col, justify="right" if col != "endpoint" else "left")
    labels = {
        "rapport_offline": "Rapport /v1/chat, offline composer",
        "rapport_llm": "Rapport /v1/chat, ChatOpenAI → fake",
        "langchain": "LangChain RAG baseline /chat → fake",
        "langchain_onnx": "  the same, on Rapport's ONNX embedder",
    }
    for conc in r["plan"]["concurrency"]:
        for name, label in labels.items():
            m = f["chat"][name][f"c{conc}"]
            t.add_row(
                label,
                str(conc),
                str(m["p50_ms"]),
                str(m["p95_ms"]),
                str(m["rps"]),
                str(m["server_cpu_ms_per_request"]),
                str(m["errors"]),
                str(f["chat"][name]["first_request_ms"]),
            )
        t.add_section()
    out.print(t)

    t = Table(title="Ingestion and start-up")
    t.add_column("measure")
    t.add_column("value", justify="right")
    e = f["ingest"]["embedding"]
    t.add_row(
        f"embedding (MiniLM, {e['passages']} real KB chunks)", f"{e['passages_per_s']} passages/s"
    )
    for size, m in f["ingest"]["store"].items():
        t.add_row(
            f"store ingest {size} passages, precomputed vectors (ChromaIndex)",
            f"{m['passages_per_s']} passages/s, peak RSS {m['peak_rss_mb']} MB",
        )
        t.add_row(
            f"  projected full pipeline at {size} (embed + store)",
            f"{f['ingest']['projected_full_pipeline_per_s'][size]} passages/s",
        )
    t.add_row("embedder resident memory (model loaded)", f"{f['ingest']['model_rss_mb']} MB")
    for name, s in f["start_to_ready_s"].items():
        t.add_row(f"start → ready: {name}", f"{s} s")
    out.print(t)

    t = Table(title="Ratios (Rapport / other; < 1 means Rapport is faster)")
    t.add_column("ratio")
    t.add_column("value", justify="right")
    t.add_column("goal")
    goals = {"context_vs_floor": "≤ 2", "chat_vs_langchain": "≤ 1"}
    for k, v in ratios.items():
        t.add_row(k, str(v), goals.get(k, ""))
    out.print(t)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a ~1 minute smoke run")
    ap.add_argument("--datasets", type=Path, default=ROOT.parent / "shared" / "datasets")
    ap.add_argument("--work", type=Path, default=ROOT / "var" / "bench")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results.json")
    args = ap.parse_args(argv)
    plan = QUICK if args.quick else FULL
    work: Path = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    result: dict[str, Any] = {"machine": machine(), "when": datetime.now(UTC).isoformat()}

    from bench.langchain_baseline import MiniLMEmbeddings, fill_from_rapport
    from retrieval.embedder import MiniLMEmbedder

    out.print("[bold]Preparing data[/] (once; reused on later runs)")
    rss0 = rss_mb()
    embedder = MiniLMEmbedder()
    model_rss = rss_mb() - rss0
    base = work / "base"
    prep = prepare_base(base, args.datasets, embedder)
    texts = kb_sample(base, work / "kb_sample.npz")
    fill_from_rapport(work / "langchain", base / "chroma", MiniLMEmbeddings(embedder))
    queries = load_queries(args.datasets)
    random.Random(7).shuffle(queries)
    run_dir = work / "run"
    offline_dir = working_copy(base, run_dir / "offline")
    llm_dir = working_copy(base, run_dir / "llm")

    out.print("[bold]Starting services[/] (each timed from start to ready)")
    logs = work / "logs"
    started_servers: list[servers.Server] = []
    try:
        p = servers.free_port()
        fake = servers.start(
            "fake_llm",
            servers.uvicorn_argv("bench.fake_llm:app", p),
            {},
            p,
            logs,
            ready_path="/v1/models",
        )
        started_servers.append(fake)
        common = {"RAPPORT_WIDGET_SECRET": SECRET, "RAPPORT_RATE_LIMIT_PER_MINUTE": "1000000"}
        p = servers.free_port()
        r_off = servers.start(
            "rapport_offline",
            servers.rapport_serve_argv(p),
            {**common, "RAPPORT_DATA_DIR": str(offline_dir)},
            p,
            logs,
        )
        started_servers.append(r_off)
        p = servers.free_port()
        llm_env = {
            **common,
            "RAPPORT_DATA_DIR": str(llm_dir),
            "OPENAI_BASE_URL": fake.base + "/v1",
            "RAPPORT_LLM_MODEL": MODEL,
            "OPENAI_API_KEY": "not-needed",
        }
        r_llm = servers.start("rapport_llm", servers.rapport_serve_argv(p), llm_env, p, logs)
        started_servers.append(r_llm)
        p = servers.free_port()
        lc_env = {
            "BENCH_LC_DIR": str(work / "langchain"),
            "OPENAI_BASE_URL": fake.base + "/v1",
            "RAPPORT_LLM_MODEL": MODEL,
        }
        lc = servers.start(
            "langchain",
            servers.uvicorn_argv("bench.langchain_baseline:create_app", p, factory=True),
            lc_env,
            p,
            logs,
        )
        started_servers.append(lc)
        p = servers.free_port()
        lc_onnx = servers.start(
            "langchain_onnx",
            servers.uvicorn_argv("bench.langchain_baseline:create_app", p, factory=True),
            {**lc_env, "BENCH_LC_EMBED": "onnx"},
            p,
            logs,
        )
        started_servers.append(lc_onnx)

        out.print(f"[bold]Floor and context assembly[/] ({plan.queries} queries, in process)")
        inproc = in_process(base, embedder, queries, plan.queries)

        out.print("[bold]Chat endpoints[/] over loopback HTTP")
        targets = [
            rapport_target("rapport_offline", r_off, "offline"),
            rapport_target("rapport_llm", r_llm, f"openai:{MODEL}"),
            langchain_target(lc),
            langchain_target(lc_onnx, "langchain_onnx"),
        ]
        chat = asyncio.run(http_runs(targets, queries, plan))
        start_to_ready = {s.name: s.start_to_ready_s for s in started_servers}
    finally:
        for s in reversed(started_servers):
            s.stop()

    out.print("[bold]Ingestion[/] (embedding on a sample; store with precomputed vectors)")
    emb = embed_throughput(embedder, texts, plan.embed_sample)
    store = {}
    for n in plan.ingest_sizes:
        out.print(f"  store ingest of {n} passages", highlight=False)
        store[str(n)] = store_ingest(n, work / "kb_sample.npz", work)
    projected = {
        size: round(1 / (1 / emb["passages_per_s"] + 1 / m["passages_per_s"]), 1)
        for size, m in store.items()
    }

    figures: dict[str, Any] = {
        **inproc,
        "chat": chat,
        "start_to_ready_s": start_to_ready,
        "ingest": {
            "embedding": emb,
            "store": store,
            "projected_full_pipeline_per_s": projected,
            "model_rss_mb": round(model_rss, 1),
            "note": "embedding throughput is measured on a sample of real KB chunks; store "
            "ingestion uses real embeddings tiled (with tiny noise) to the size; the full "
            "pipeline rate is projected as 1/(1/embed + 1/store)",
        },
        "data": {"queries": len(queries), "kb_chunks": len(texts), **prep},
    }
    c = chat
    ratios = {
        "context_vs_floor": ratio(inproc["context_assembly"]["p50_ms"], inproc["floor"]["p50_ms"]),
        "chat_vs_langchain": ratio(
            c["rapport_llm"]["c1"]["p50_ms"], c["langchain"]["c1"]["p50_ms"]
        ),
    }
    for conc in plan.requests:
        if conc != 1:
            ratios[f"chat_vs_langchain_c{conc}"] = ratio(
                c["rapport_llm"][f"c{conc}"]["p50_ms"], c["langchain"][f"c{conc}"]["p50_ms"]
            )
    for conc in plan.requests:
        ratios[f"chat_rps_vs_langchain_c{conc}"] = ratio(
            c["rapport_llm"][f"c{conc}"]["rps"], c["langchain"][f"c{conc}"]["rps"]
        )
    ratios["chat_cpu_per_request_vs_langchain"] = ratio(  # at concurrency 8
        c["rapport_llm"]["c8"]["server_cpu_ms_per_request"],
        c["langchain"]["c8"]["server_cpu_ms_per_request"],
    )
    # The baseline embeds on torch, as a plain LangChain app does; on Rapport's own ONNX
    # embedder it isolates what the rest of each stack costs.
    ratios["chat_vs_langchain_same_embedder"] = ratio(
        c["rapport_llm"]["c1"]["p50_ms"], c["langchain_onnx"]["c1"]["p50_ms"]
    )
    ratios["offline_chat_vs_langchain"] = ratio(
        c["rapport_offline"]["c1"]["p50_ms"], c["langchain"]["c1"]["p50_ms"]
    )
    ratios["start_to_ready_vs_langchain"] = ratio(
        start_to_ready["rapport_llm"], start_to_ready["langchain"]
    )
    result["machine"]["loadavg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    result["plan"] = {
        "quick": args.quick,
        "concurrency": list(plan.requests),
        "requests": plan.requests,
        "queries": plan.queries,
    }
    result["figures"] = figures
    result["ratios"] = ratios
    result["seconds"] = round(time.perf_counter() - started, 1)
    print_report(result)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    out.print(
        f"wrote {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}"
        f" in {result['seconds']} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
