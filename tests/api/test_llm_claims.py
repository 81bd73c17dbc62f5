"""The check stage against an LLM that misbehaves, through POST /v1/chat: one that relays
its whole prompt and one that states a wrong status. Neither reaches the customer; the
offline composer's grounded reply does, flagged in the staff detail."""

from __future__ import annotations

import json

import httpx

from tests.api.conftest import AGENT_KEY, identity
from tests.assistant.test_openai_generator import completion

LLM = "http://llm.test/v1/chat/completions"
OLIVIA = "olivia_ito_3591"


def _llm_client(make_client):
    return make_client(openai_base_url="http://llm.test/v1", llm_model="m", llm_max_retries=0)


def _ask(client, message: str) -> dict:
    r = client.post(
        "/v1/chat",
        json={**identity(OLIVIA), "message": message},
        headers={"X-API-Key": AGENT_KEY},  # staff see the detail (the trace) too
    )
    assert r.status_code == 200, r.text
    return r.json()


def test_an_llm_that_relays_its_prompt_is_replaced(make_client, llm_guard) -> None:
    seen: list[str] = []

    def echo(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        prompt = "\n".join(m["content"] for m in body["messages"])
        seen.append(prompt)
        return httpx.Response(200, json=completion(prompt))

    llm_guard.post(LLM).mock(side_effect=echo)
    client = _llm_client(make_client)
    out = _ask(client, "Can I cancel my order #W5442520?")
    assert seen, "the LLM was called"
    system = seen[0].split("\n")
    long_lines = [line for line in system if len(line.split()) >= 12]
    assert long_lines and not any(line in out["answer"] for line in long_lines)
    assert "#W5442520" in out["answer"] and out["degraded"] is True
    rules = [h["rule"] for h in out["detail"]["decision_trace"]]
    assert "check.relayed_prompt_replaced" in rules


def test_an_llm_that_states_a_wrong_status_is_replaced(make_client, llm_guard) -> None:
    llm_guard.post(LLM).mock(
        return_value=httpx.Response(
            200,
            json=completion("Good news: your order #W5442520 has been delivered [1]."),
        )
    )
    client = _llm_client(make_client)
    out = _ask(client, "Where is my order #W5442520?")
    assert "delivered" not in out["answer"] and "pending" in out["answer"]
    rules = [h["rule"] for h in out["detail"]["decision_trace"]]
    assert "check.wrong_claim_replaced" in rules


def test_a_true_llm_reply_goes_through(make_client, llm_guard) -> None:
    text = "Your order #W5442520 hasn't shipped yet, so you can still cancel it [1]."
    llm_guard.post(LLM).mock(return_value=httpx.Response(200, json=completion(text)))
    out = _ask(_llm_client(make_client), "Can I cancel my order #W5442520?")
    assert out["generator"] != "offline" and out["answer"].startswith("Your order #W5442520")
