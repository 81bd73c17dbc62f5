"""Where a support turn spends its time: pyinstrument over in-process turns.

    python -m bench.profile [--turns 40] [--html var/bench/profile.html]

Uses the benchmark's data (run `python -m bench.run --quick` once first), a fresh working
copy, and the fake LLM on loopback, so the profile shows Rapport's own costs: context
assembly, the ChatOpenAI call, the check and the persistence of the turn."""

from __future__ import annotations

import argparse
import os
import random
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from bench import servers  # noqa: E402
from bench.data import load_queries, working_copy  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    from pyinstrument import Profiler

    from assistant.settings import Settings
    from assistant.types import TurnRequest
    from assistant.wiring import Container

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--turns", type=int, default=40)
    ap.add_argument("--mode", choices=["turn", "prepare"], default="turn")
    ap.add_argument("--work", type=Path, default=ROOT / "var" / "bench")
    ap.add_argument("--datasets", type=Path, default=ROOT.parent / "shared" / "datasets")
    ap.add_argument("--html", type=Path, default=ROOT / "var" / "bench" / "profile.html")
    args = ap.parse_args(argv)
    base = args.work / "base"
    if not base.exists():
        raise SystemExit("no benchmark data: run `python -m bench.run --quick` first")
    data = working_copy(base, args.work / "run" / "profile")
    queries = load_queries(args.datasets)
    random.Random(7).shuffle(queries)
    port = servers.free_port()
    fake = servers.start(
        "fake_llm_profile",
        servers.uvicorn_argv("bench.fake_llm:app", port),
        {},
        port,
        args.work / "logs",
        ready_path="/v1/models",
    )
    try:
        c = Container(
            Settings(
                data_dir=data,
                openai_base_url=fake.base + "/v1",
                llm_model="bench-model",
                openai_api_key="x",
            )
        )
        a = c.assistant
        run = a.turn if args.mode == "turn" else a.prepare
        for q in queries[:3]:  # warm up: model, BM25, connections
            run(TurnRequest(customer_id=q.customer_id, message=q.message))
        profiler = Profiler(interval=0.001)
        profiler.start()
        for q in queries[3 : 3 + args.turns]:
            run(TurnRequest(customer_id=q.customer_id, message=q.message))
        profiler.stop()
    finally:
        fake.stop()
    print(profiler.output_text(unicode=True, color=False, show_all=False))
    args.html.parent.mkdir(parents=True, exist_ok=True)
    args.html.write_text(profiler.output_html())
    print(f"wrote {args.html}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
