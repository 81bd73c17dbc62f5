"""A fake OpenAI-compatible chat endpoint that answers instantly, for load tests on loopback.

    python -m uvicorn bench.fake_llm:app --port 8765

Both callers (Rapport's ChatOpenAI generator and the LangChain baseline) get the same
fixed reply, streamed or not, so the benchmark measures everything except the model."""

from __future__ import annotations

import json
import time

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

# Cites passage [1] and names no identifier, so Rapport's leakage check keeps it.
REPLY = "Thanks for reaching out. Here is what our policy says about your question [1]."


def _completion(model: str) -> dict[str, object]:
    return {
        "id": "chatcmpl-bench",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": REPLY},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


def _chunks(model: str) -> list[bytes]:
    base = {"id": "chatcmpl-bench", "object": "chat.completion.chunk", "created": 0, "model": model}
    pieces = [{"role": "assistant", "content": ""}]
    pieces += [{"content": w + " "} for w in REPLY.split(" ")]
    out = [{**base, "choices": [{"index": 0, "delta": d, "finish_reason": None}]} for d in pieces]
    out.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    return [f"data: {json.dumps(c)}\n\n".encode() for c in out] + [b"data: [DONE]\n\n"]


async def chat_completions(request: Request) -> Response:
    body = await request.json()
    model = str(body.get("model", "bench"))
    if body.get("stream"):
        chunks = _chunks(model)

        async def gen():  # type: ignore[no-untyped-def]
            for c in chunks:
                yield c

        return StreamingResponse(gen(), media_type="text/event-stream")
    return JSONResponse(_completion(model))


async def models(_request: Request) -> Response:
    return JSONResponse({"object": "list", "data": [{"id": "bench", "object": "model"}]})


app = Starlette(
    routes=[
        Route("/v1/chat/completions", chat_completions, methods=["POST"]),
        Route("/v1/models", models, methods=["GET"]),
    ]
)
