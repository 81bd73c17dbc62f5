"""A fake OpenAI-compatible chat endpoint that is slow and fails on purpose, for the
reliability run on loopback.

    FAKE_LLM_LATENCY_MS=50,250 FAKE_LLM_ERROR_RATE=0.1 FAKE_LLM_HANG_RATE=0.02 \\
        python -m uvicorn bench.faulty_llm:app --port 8766

Each request waits a uniform latency from the range, then with the given probabilities
answers 500 (error) or hangs for FAKE_LLM_HANG_S seconds (past the client's timeout);
otherwise it answers like bench.fake_llm. GET /stats counts what it did."""

from __future__ import annotations

import asyncio
import os
import random
from collections import Counter

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from bench.fake_llm import _chunks, _completion, models


def _floats(name: str, default: str) -> list[float]:
    return [float(x) for x in os.environ.get(name, default).split(",")]


LATENCY_MS = _floats("FAKE_LLM_LATENCY_MS", "50,250")
ERROR_RATE = _floats("FAKE_LLM_ERROR_RATE", "0.1")[0]
HANG_RATE = _floats("FAKE_LLM_HANG_RATE", "0.02")[0]
HANG_S = _floats("FAKE_LLM_HANG_S", "30")[0]
_rng = random.Random(int(os.environ.get("FAKE_LLM_SEED", "7")))
stats: Counter[str] = Counter()


async def chat_completions(request: Request) -> Response:
    body = await request.json()
    model = str(body.get("model", "fake"))
    lo, hi = LATENCY_MS[0], LATENCY_MS[-1]
    await asyncio.sleep(_rng.uniform(lo, hi) / 1000)
    roll = _rng.random()
    if roll < ERROR_RATE:
        stats["error_500"] += 1
        return JSONResponse({"error": {"message": "injected failure"}}, status_code=500)
    if roll < ERROR_RATE + HANG_RATE:
        stats["hang"] += 1
        await asyncio.sleep(HANG_S)
    stats["ok"] += 1
    if body.get("stream"):
        chunks = _chunks(model)

        async def gen():  # type: ignore[no-untyped-def]
            for c in chunks:
                yield c

        return StreamingResponse(gen(), media_type="text/event-stream")
    return JSONResponse(_completion(model))


async def stats_endpoint(_request: Request) -> Response:
    return JSONResponse(dict(stats))


app = Starlette(
    routes=[
        Route("/v1/chat/completions", chat_completions, methods=["POST"]),
        Route("/v1/models", models, methods=["GET"]),
        Route("/stats", stats_endpoint, methods=["GET"]),
    ]
)
