"""The real OpenAI client code against respx-faked HTTP."""

import json

import httpx
import pytest

from assistant.errors import GenerationFailed
from assistant.generators.openai_chat import OpenAIChatGenerator

BASE = "http://llm.test/v1"


def completion(text: str) -> dict:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1,
        "model": "test-model",
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
        ],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
    }


def sse(pieces: list[str]) -> str:
    events = []
    for i, p in enumerate(pieces):
        chunk = {
            "id": "c",
            "object": "chat.completion.chunk",
            "created": 1,
            "model": "test-model",
            "choices": [{"index": 0, "delta": {"content": p}, "finish_reason": None}],
        }
        if i == 0:
            chunk["choices"][0]["delta"]["role"] = "assistant"
        events.append(f"data: {json.dumps(chunk)}\n\n")
    return "".join(events) + "data: [DONE]\n\n"


@pytest.fixture
def gen():
    return OpenAIChatGenerator("test-model", base_url=BASE, api_key="k", timeout_s=2, max_retries=0)


def test_reply_sends_the_composed_messages_and_reads_citations(gen, llm_guard, make_composed):
    route = llm_guard.post(f"{BASE}/chat/completions").mock(
        return_value=httpx.Response(200, json=completion("It is pending [2], see [3] and [99]."))
    )
    c = make_composed()
    g = gen.generate(c)
    assert g.text.startswith("It is pending") and g.generator == "openai:test-model"
    assert g.cited == [2, 3]  # [99] does not exist
    body = json.loads(route.calls.last.request.content)
    assert body["model"] == "test-model"
    assert [m["role"] for m in body["messages"]] == ["system", "user"]
    assert "#W1111111" in body["messages"][1]["content"]
    assert route.calls.last.request.headers["authorization"] == "Bearer k"


def test_streamed_reply_arrives_in_pieces(gen, llm_guard, make_composed):
    llm_guard.post(f"{BASE}/chat/completions").mock(
        return_value=httpx.Response(
            200,
            text=sse(["Your ", "order ", "is pending [2]."]),
            headers={"content-type": "text/event-stream"},
        )
    )
    pieces = list(gen.stream(make_composed()))
    assert pieces == ["Your ", "order ", "is pending [2]."]


def test_server_error_and_timeout_raise_generation_failed(gen, llm_guard, make_composed):
    route = llm_guard.post(f"{BASE}/chat/completions")
    route.mock(return_value=httpx.Response(500, json={"error": {"message": "boom"}}))
    with pytest.raises(GenerationFailed, match="500"):
        gen.generate(make_composed())
    route.mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(GenerationFailed, match="(?i)time ?out|timed out"):
        gen.generate(make_composed())


def test_retries_once_then_succeeds(llm_guard, make_composed):
    gen = OpenAIChatGenerator("m", base_url=BASE, api_key="k", timeout_s=2, max_retries=1)
    route = llm_guard.post(f"{BASE}/chat/completions").mock(
        side_effect=[httpx.Response(503, json={}), httpx.Response(200, json=completion("ok [1]"))]
    )
    assert gen.generate(make_composed()).text == "ok [1]"
    assert route.call_count == 2
