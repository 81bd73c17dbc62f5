"""`make reliability`: load and fault runs against `rapport serve`, loopback only.

    python -m bench.reliability            # about three minutes
    python -m bench.reliability --quick    # about a minute

Starts a `chroma run` server and loads the demo data (tau-retail customers, the retail
policy and part of the banking KB) into it and a SQLite file, a fake OpenAI-compatible
server that adds latency and injects errors and hangs (bench/faulty_llm.py), and
`rapport serve` pointed at both. Then:

1. load: requests at a bounded concurrency; requests sent, error rate, p50/p95,
   degraded turns (fallbacks);
2. fault: load for a fixed time while the LLM server is killed and restarted, then the
   vector store (`chroma run`) is killed and restarted;
3. idempotency: every request sent twice with the same Idempotency-Key;
4. audit in SQL: every 200 has its message, reply and turn stored; every accepted
   message (a 200, or a failed turn after its message was committed) is in SQL.

Prints a table and writes out/reliability.json."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import signal
import sys
import time
import uuid
from dataclasses import asdict, dataclass, field
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
from sqlalchemy import create_engine  # noqa: E402
from sqlmodel import Session, col, select  # noqa: E402

from bench import servers  # noqa: E402
from bench.data import Query, load_queries  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SECRET = "reliability-widget-secret"
# The load runs as staff so each reply carries its detail: the decision trace tells
# which turns went without history while the vector store was down.
AGENT_KEY = "reliability-agent-key"
METRICS_KEY = "reliability-metrics-key"  # /metrics needs a key
MARK = re.compile(r"\(ref (rel-[0-9a-f]+-[a-z]-\d+)\)$")
out = Console(width=120)


@dataclass(frozen=True)
class Plan:
    load_requests: int
    concurrency: int
    fault_s: float
    llm_down: tuple[float, float]  # kill at, restart at (seconds into the fault phase)
    chroma_down: tuple[float, float]
    idempotent: int


FULL = Plan(240, 8, 30.0, (3.0, 10.0), (15.0, 22.0), 24)
QUICK = Plan(80, 8, 20.0, (2.0, 6.0), (8.0, 12.0), 10)


@dataclass
class Outcome:
    phase: str
    marker: str
    customer: str
    key: str
    started_s: float
    ms: float
    status: int | None  # None: no HTTP answer (connection failed)
    retried: bool = False  # the connection failed once; sent again with the same key
    history_skipped: bool = False  # the vector store was down; answered without history
    degraded: bool | None = None
    turn_id: str | None = None
    answer: str | None = None
    error: str | None = None


@dataclass
class Services:
    llm: servers.Server
    chroma: servers.Server
    rapport: servers.Server
    argv: dict[str, list[str]] = field(default_factory=dict)
    env: dict[str, dict[str, str]] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)


# -- services -------------------------------------------------------------------------


def _chroma_argv(path: Path, port: int) -> list[str]:
    exe = shutil.which("chroma") or str(Path(sys.executable).with_name("chroma"))
    return [exe, "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)]


def _llm_env(error_rate: float, hang_rate: float) -> dict[str, str]:
    return {
        "FAKE_LLM_LATENCY_MS": "50,250",
        "FAKE_LLM_ERROR_RATE": str(error_rate),
        "FAKE_LLM_HANG_RATE": str(hang_rate),
        "FAKE_LLM_HANG_S": "30",
    }


def prepare_data(data_dir: Path, chroma_url: str, datasets: Path, bank_docs: int) -> None:
    """Customers into SQLite, the KB into the Chroma server (embedded model, offline)."""
    from assistant.settings import Settings
    from assistant.wiring import Container
    from profiles.mapping import import_retail

    retail = datasets / "tau-retail"
    docs = sorted((datasets / "tau-banking-knowledge" / "documents").glob("*.json"))
    c = Container(Settings(data_dir=data_dir, chroma_url=chroma_url))
    import_retail(c.engine, retail)
    c.kb.ingest(c.kb.load_documents([retail / "policy.md", *docs[:bank_docs]]))
    c.engine.dispose()


def start_services(work: Path, datasets: Path, error_rate: float, hang_rate: float) -> Services:
    logs = work / "logs"
    ports = {name: servers.free_port() for name in ("llm", "chroma", "rapport")}
    argv = {
        "llm": servers.uvicorn_argv("bench.faulty_llm:app", ports["llm"]),
        "chroma": _chroma_argv(work / "chroma", ports["chroma"]),
    }
    env = {"llm": _llm_env(error_rate, hang_rate), "chroma": {}}
    out.print("starting the fake LLM and `chroma run` …")
    llm = servers.start("llm", argv["llm"], env["llm"], ports["llm"], logs, "/v1/models")
    chroma_base = f"http://127.0.0.1:{ports['chroma']}"
    chroma = servers.start("chroma", argv["chroma"], {}, ports["chroma"], logs, "/api/v2/heartbeat")
    out.print("loading customers and the knowledge base …")
    t0 = time.perf_counter()
    try:
        prepare_data(work / "data", chroma_base, datasets, bank_docs=40)
    except BaseException:
        llm.stop()
        chroma.stop()
        raise
    out.print(f"  loaded in {time.perf_counter() - t0:.1f}s")
    # `rapport serve` itself, run as a module so the checkout's code is what serves.
    argv["rapport"] = servers.python_argv(
        "-m", "assistant.cli", "serve", "--host", "127.0.0.1", "--port", str(ports["rapport"])
    )
    env["rapport"] = {
        "RAPPORT_DATA_DIR": str(work / "data"),
        "CHROMA_URL": chroma_base,
        "OPENAI_BASE_URL": f"http://127.0.0.1:{ports['llm']}/v1",
        "OPENAI_API_KEY": "not-needed",
        "RAPPORT_LLM_MODEL": "fake",
        "RAPPORT_LLM_TIMEOUT_S": "2",
        "RAPPORT_LLM_MAX_RETRIES": "2",
        "RAPPORT_LLM_BACKOFF_S": "0.1",
        "RAPPORT_LLM_BACKOFF_MAX_S": "0.5",
        "RAPPORT_LLM_BREAKER_FAILURES": "5",
        "RAPPORT_LLM_BREAKER_OPEN_S": "3",
        "RAPPORT_WIDGET_SECRET": SECRET,
        "RAPPORT_AGENT_KEYS": AGENT_KEY,
        "RAPPORT_METRICS_KEY": METRICS_KEY,
        "RAPPORT_RATE_LIMIT_PER_MINUTE": "100000",
        "RAPPORT_EMBED_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
    }
    out.print("starting rapport serve …")
    try:
        rapport = servers.start(
            "rapport", argv["rapport"], env["rapport"], ports["rapport"], logs, timeout_s=240
        )
    except BaseException:
        llm.stop()
        chroma.stop()
        raise
    out.print(f"  ready in {rapport.start_to_ready_s}s")
    return Services(llm, chroma, rapport, argv, env, ports)


def kill(server: servers.Server) -> None:
    """SIGKILL: no graceful shutdown, like a crashed process or a lost host."""
    if server.proc.poll() is None:
        server.proc.send_signal(signal.SIGKILL)
        server.proc.wait()


def restart(svc: Services, name: str, work: Path) -> servers.Server:
    ready = {"llm": "/v1/models", "chroma": "/api/v2/heartbeat"}[name]
    return servers.start(
        name, svc.argv[name], svc.env[name], svc.ports[name], work / "logs", ready, timeout_s=60
    )


# -- load -----------------------------------------------------------------------------


def user_hash(customer_id: str) -> str:
    from assistant.api.security import user_hash as h

    return h(SECRET, customer_id)


async def send(
    client: httpx.AsyncClient, phase: str, marker: str, q: Query, t0: float, key: str = ""
) -> Outcome:
    body = {
        "customer_id": q.customer_id,
        "user_hash": user_hash(q.customer_id),
        "message": f"{q.message} (ref {marker})",
        "channel": "api",
    }
    key = key or uuid.uuid4().hex
    start = time.perf_counter()
    o = Outcome(phase, marker, q.customer_id, key, round(start - t0, 3), 0.0, None)
    headers = {"Idempotency-Key": key, "X-API-Key": AGENT_KEY}
    for attempt in range(2):
        try:
            r = await client.post("/v1/chat", json=body, headers=headers)
        except httpx.TransportError as exc:
            # What a careful client does: send again with the same key, which makes it safe.
            o.error = f"{type(exc).__name__}: {exc}"[:200]
            o.retried = attempt == 0
            continue
        o.status, o.error = r.status_code, None
        try:
            data = r.json()
        except ValueError:
            o.error = r.text[:200]
            break
        if r.status_code == 200:
            o.degraded, o.turn_id, o.answer = data["degraded"], data["turn_id"], data["answer"]
            rules = [hit.get("rule") for hit in data["detail"]["decision_trace"]]
            o.history_skipped = "retrieve.history_unavailable" in rules
        else:
            o.error = str(data.get("error"))[:200]
        break
    o.ms = round((time.perf_counter() - start) * 1e3, 1)
    return o


async def run_load(
    base: str,
    phase: str,
    queries: list[Query],
    run_id: str,
    concurrency: int,
    n: int | None = None,
    duration_s: float | None = None,
    t0: float | None = None,
) -> list[Outcome]:
    """`n` requests, or as many as fit in `duration_s`, from `concurrency` clients."""
    t0 = t0 or time.perf_counter()
    counter = iter(range(10**9))
    results: list[Outcome] = []
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as client:

        async def worker() -> None:
            while True:
                i = next(counter)
                if n is not None and i >= n:
                    return
                if duration_s is not None and time.perf_counter() - t0 >= duration_s:
                    return
                q = queries[i % len(queries)]
                results.append(await send(client, phase, f"rel-{run_id}-{phase[0]}-{i}", q, t0))

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return results


async def watch_ready(
    base: str, until: asyncio.Event, t0: float, log: list[dict[str, Any]]
) -> None:
    """Record every change of /readyz during the fault phase."""
    last = None
    async with httpx.AsyncClient(base_url=base, timeout=5) as client:
        while not until.is_set():
            try:
                r = await client.get("/readyz")
                state = json.dumps(r.json().get("checks", {}), sort_keys=True)
            except (httpx.HTTPError, ValueError) as exc:
                state = f"unreachable: {type(exc).__name__}"
            if state != last:
                log.append({"t_s": round(time.perf_counter() - t0, 2), "readyz": state})
                last = state
            await asyncio.sleep(0.5)


async def fault_phase(
    svc: Services, work: Path, plan: Plan, queries: list[Query], run_id: str
) -> list[Outcome]:
    t0 = time.perf_counter()
    loop = asyncio.get_running_loop()

    async def at(seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds - (time.perf_counter() - t0)))

    def note(what: str) -> None:
        svc.events.append({"t_s": round(time.perf_counter() - t0, 2), "event": what})
        out.print(f"  [{time.perf_counter() - t0:5.1f}s] {what}")

    async def faults() -> None:
        await at(plan.llm_down[0])
        kill(svc.llm)
        note("fake LLM killed (SIGKILL)")
        await at(plan.llm_down[1])
        svc.llm = await loop.run_in_executor(None, restart, svc, "llm", work)
        note("fake LLM restarted")
        await at(plan.chroma_down[0])
        kill(svc.chroma)
        note("chroma run killed (SIGKILL)")
        await at(plan.chroma_down[1])
        svc.chroma = await loop.run_in_executor(None, restart, svc, "chroma", work)
        note("chroma run restarted")

    done = asyncio.Event()
    ready_log: list[dict[str, Any]] = []
    watcher = asyncio.create_task(watch_ready(svc.rapport.base, done, t0, ready_log))
    load = run_load(
        svc.rapport.base, "fault", queries, run_id, plan.concurrency, duration_s=plan.fault_s, t0=t0
    )
    results, _ = await asyncio.gather(load, faults())
    done.set()
    await watcher
    svc.events.extend(ready_log)
    return results


async def idempotency_phase(base: str, queries: list[Query], run_id: str, n: int) -> list[Outcome]:
    """Each request sent twice at once and once more after, with one key: one turn each."""
    t0 = time.perf_counter()
    results: list[Outcome] = []
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        for i in range(n):
            q, key, marker = queries[i % len(queries)], uuid.uuid4().hex, f"rel-{run_id}-i-{i}"
            pair = await asyncio.gather(
                send(client, "idempotency", marker, q, t0, key),
                send(client, "idempotency", marker, q, t0, key),
            )
            results.extend(pair)
            results.append(await send(client, "idempotency", marker, q, t0, key))
    return results


# -- audit ----------------------------------------------------------------------------


def audit(db: Path, outcomes: list[Outcome]) -> dict[str, Any]:
    """What SQL holds for every request sent."""
    from profiles.models import Message, Turn

    engine = create_engine(f"sqlite:///{db}")
    with Session(engine) as s:
        stored: dict[str, list[Message]] = {}
        for m in s.exec(select(Message).where(col(Message.text).like("% (ref rel-%)"))):
            found = MARK.search(m.text)
            if found:
                stored.setdefault(found.group(1), []).append(m)
        turns = {t.id: t for t in s.exec(select(Turn))}
        replies = {
            m.id: m.text
            for m in s.exec(select(Message).where(Message.role == "assistant"))
            if m.id is not None
        }
    engine.dispose()

    ok = [o for o in outcomes if o.status == 200]
    missing_pairs = []
    for o in ok:
        turn = turns.get(o.turn_id or "")
        msgs = stored.get(o.marker, [])
        good = (
            turn is not None
            and any(m.id == turn.message_id for m in msgs)
            and replies.get(turn.reply_message_id or -1) == o.answer
        )
        if not good:
            missing_pairs.append(o.marker)
    # A 409 of the idempotency phase is a duplicate being refused, not a failed turn.
    failed = [o for o in outcomes if o.status != 200 and o.phase != "idempotency"]
    failed_stored = [o for o in failed if o.marker in stored]
    markers = {o.marker for o in outcomes}
    by_key: dict[str, set[str]] = {}
    for o in outcomes:
        if o.phase == "idempotency" and o.turn_id:
            by_key.setdefault(o.key, set()).add(o.turn_id)
    idem_markers = {o.marker for o in outcomes if o.phase == "idempotency"}
    return {
        "requests": len(outcomes),
        "ok_200": len(ok),
        "ok_with_message_reply_and_turn": len(ok) - len(missing_pairs),
        "lost_after_200": len(missing_pairs),
        "lost_examples": missing_pairs[:5],
        "failed_requests": len(failed),
        "failed_with_message_stored": len(failed_stored),
        "failed_before_message_stored": len(failed) - len(failed_stored),
        "distinct_messages_stored": len(markers & stored.keys()),
        "idempotency_keys": len(by_key),
        "idempotency_keys_with_one_turn": sum(len(v) == 1 for v in by_key.values()),
        "idempotency_duplicate_messages": sum(len(stored.get(m, [])) > 1 for m in idem_markers),
    }


# -- report ---------------------------------------------------------------------------


def stats(outcomes: list[Outcome], wall_s: float) -> dict[str, Any]:
    ms = [o.ms for o in outcomes if o.status == 200]
    codes: dict[str, int] = {}
    for o in outcomes:
        k = str(o.status) if o.status is not None else "no answer"
        codes[k] = codes.get(k, 0) + 1
    errors = sum(o.status != 200 for o in outcomes)
    return {
        "requests": len(outcomes),
        "status_codes": dict(sorted(codes.items())),
        "error_rate": round(errors / len(outcomes), 4) if outcomes else 0.0,
        "degraded": sum(bool(o.degraded) for o in outcomes),
        "degraded_without_history": sum(o.history_skipped for o in outcomes),
        "client_retries": sum(o.retried for o in outcomes),
        "p50_ms": round(float(np.percentile(ms, 50)), 1) if ms else None,
        "p95_ms": round(float(np.percentile(ms, 95)), 1) if ms else None,
        "rps": round(len(outcomes) / wall_s, 2) if wall_s else None,
        "wall_s": round(wall_s, 1),
    }


def scrape(base: str) -> dict[str, float]:
    names = (
        "rapport_fallbacks_total",
        "rapport_llm_breaker_opens_total",
        "rapport_llm_breaker_rejected_total",
    )
    auth = {"Authorization": f"Bearer {METRICS_KEY}"}
    text = httpx.get(base + "/metrics", headers=auth, timeout=10).raise_for_status().text
    found = {}
    for line in text.splitlines():
        for name in names:
            if line.startswith(name + " "):
                found[name] = float(line.split()[1])
    return found


def print_report(result: dict[str, Any]) -> None:
    t = Table(title="Rapport reliability (loopback)")
    columns = (
        "phase",
        "requests",
        "codes",
        "error rate",
        "degraded",
        "of which no history",
        "breaker opens/refused",
    )
    for c in (*columns, "p50 ms", "p95 ms", "rps"):
        t.add_column(c, justify="right" if c != "phase" else "left")
    for name, s in result["phases"].items():
        t.add_row(
            name,
            str(s["requests"]),
            " ".join(f"{k}:{v}" for k, v in s["status_codes"].items()),
            f"{s['error_rate']:.1%}",
            str(s["degraded"]),
            str(s["degraded_without_history"]),
            f"{s['breaker_opens']:.0f}/{s['breaker_rejected']:.0f}" if "breaker_opens" in s else "",
            str(s["p50_ms"]),
            str(s["p95_ms"]),
            str(s["rps"]),
        )
    out.print(t)
    a = Table(title="Nothing accepted is lost (audit in SQL)")
    a.add_column("check")
    a.add_column("value", justify="right")
    for k, v in result["audit"].items():
        a.add_row(k, str(v))
    for k, v in result["metrics"].items():
        a.add_row(k, str(v))
    out.print(a)


# -- main -----------------------------------------------------------------------------


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    plan = QUICK if args.quick else FULL
    work = (ROOT / args.work).resolve()
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    datasets = Path(args.datasets).resolve()
    queries = [q for q in load_queries(datasets) if len(q.message) < 1500]
    run_id = uuid.uuid4().hex[:6]
    svc = start_services(work, datasets, args.error_rate, args.hang_rate)
    phases: dict[str, Any] = {}
    outcomes: list[Outcome] = []
    try:
        out.print(f"load: {plan.load_requests} requests at concurrency {plan.concurrency} …")
        t0 = time.perf_counter()
        load = await run_load(
            svc.rapport.base, "load", queries, run_id, plan.concurrency, n=plan.load_requests
        )
        phases["load"] = stats(load, time.perf_counter() - t0)
        outcomes += load
        before = scrape(svc.rapport.base)
        out.print(f"fault: {plan.fault_s:.0f}s of load while the LLM and Chroma are killed …")
        t0 = time.perf_counter()
        fault = await fault_phase(svc, work, plan, queries[plan.load_requests :], run_id)
        phases["fault"] = stats(fault, time.perf_counter() - t0)
        outcomes += fault
        after = scrape(svc.rapport.base)
        for name in ("opens", "rejected"):
            metric = f"rapport_llm_breaker_{name}_total"
            phases["load"][f"breaker_{name}"] = before.get(metric, 0)
            phases["fault"][f"breaker_{name}"] = after.get(metric, 0) - before.get(metric, 0)
        out.print(f"idempotency: {plan.idempotent} keys, each sent three times …")
        t0 = time.perf_counter()
        idem = await idempotency_phase(svc.rapport.base, queries, run_id, plan.idempotent)
        phases["idempotency"] = stats(idem, time.perf_counter() - t0)
        outcomes += idem
        metrics = scrape(svc.rapport.base)
        llm_stats = httpx.get(svc.llm.base + "/stats", timeout=5).json()
    finally:
        for server in (svc.rapport, svc.llm, svc.chroma):
            server.stop()
    # The server is stopped, so its background writes are drained before the audit.
    return {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": "python -m bench.reliability" + (" --quick" if args.quick else ""),
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
        "plan": asdict(plan),
        "fake_llm": {
            "latency_ms": "50-250",
            "error_rate": args.error_rate,
            "hang_rate": args.hang_rate,
            "after_restart": llm_stats,
        },
        "rapport_settings": {
            k: v for k, v in svc.env["rapport"].items() if k.startswith("RAPPORT_LLM")
        },
        "start_to_ready_s": svc.rapport.start_to_ready_s,
        "phases": phases,
        "fault_timeline": svc.events,
        "metrics": metrics,
        "audit": audit(work / "data" / "rapport.db", outcomes),
        "failures": [asdict(o) for o in outcomes if o.status != 200][:50],
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="a shorter run (about a minute)")
    p.add_argument("--datasets", default=str(ROOT.parent / "shared" / "datasets"))
    p.add_argument("--work", default="var/reliability", help="scratch dir (replaced)")
    p.add_argument("--out", default="out/reliability.json")
    p.add_argument("--error-rate", type=float, default=0.1, help="LLM answers 500")
    p.add_argument("--hang-rate", type=float, default=0.02, help="LLM hangs past the timeout")
    args = p.parse_args()
    result = asyncio.run(main_async(args))
    print_report(result)
    dest = ROOT / args.out
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(json.dumps(result, indent=2) + "\n")
    out.print(f"wrote {dest.relative_to(ROOT) if dest.is_relative_to(ROOT) else dest}")
    a = result["audit"]
    if a["lost_after_200"] or a["idempotency_duplicate_messages"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
