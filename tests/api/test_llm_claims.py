"""The check stage against an LLM that misbehaves, through POST /v1/chat: one that relays
its whole prompt and one that states a wrong status. Neither reaches the customer; the
offline composer's grounded reply does, flagged in the staff detail."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.api.conftest import ADMIN_KEY, AGENT_KEY, identity
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


@pytest.mark.parametrize(
    "said",
    [
        "Good news: your order #W5442520 has been delivered [1].",
        # the store's words for a status beside its code: it is pending, not shipped
        "Good news: your order #W5442520 has shipped [1].",
        "Your order #W5442520 is on its way and should reach you soon [1].",
    ],
)
def test_an_llm_that_states_a_wrong_status_is_replaced(make_client, llm_guard, said) -> None:
    llm_guard.post(LLM).mock(return_value=httpx.Response(200, json=completion(said)))
    client = _llm_client(make_client)
    out = _ask(client, "Where is my order #W5442520?")
    assert said not in out["answer"] and "pending" in out["answer"]
    rules = [h["rule"] for h in out["detail"]["decision_trace"]]
    assert "check.wrong_claim_replaced" in rules


def test_a_true_llm_reply_goes_through(make_client, llm_guard) -> None:
    text = "Your order #W5442520 hasn't shipped yet, so you can still cancel it [1]."
    llm_guard.post(LLM).mock(return_value=httpx.Response(200, json=completion(text)))
    out = _ask(_llm_client(make_client), "Can I cancel my order #W5442520?")
    assert out["generator"] != "offline" and out["answer"].startswith("Your order #W5442520")


def test_a_wrong_status_of_a_record_of_any_kind_is_replaced(make_client, llm_guard) -> None:
    """A record a business pushed (a booking), not a typed order: the model's "cancelled"
    of a confirmed booking never reaches the customer; its true "confirmed" does, and a
    conditional clause ("if it were cancelled") states nothing."""
    client = _llm_client(make_client)
    admin = {"X-API-Key": ADMIN_KEY}
    for key, status in (("BK1", "CONFIRMED"), ("BK2", "CANCELLED")):
        record = {"customer_id": OLIVIA, "status": status, "words": ["booking"], "open": True}
        assert client.put(f"/v1/admin/records/booking/{key}", json=record, headers=admin).is_success
    said = iter(
        [
            "Sorry: your booking BK1 was cancelled [1].",
            "Your booking BK1 is confirmed [1]. If it were cancelled you would get a refund.",
        ]
    )
    llm_guard.post(LLM).mock(
        side_effect=lambda _request: httpx.Response(200, json=completion(next(said)))
    )
    out = _ask(client, "is my booking BK1 still on?")
    rules = [h["rule"] for h in out["detail"]["decision_trace"]]
    assert "check.wrong_claim_replaced" in rules and out["degraded"] is True
    assert "cancelled" not in out["answer"].lower() and "BK1" in out["answer"]
    out = _ask(client, "is my booking BK1 still on?")
    assert out["generator"] != "offline" and out["answer"].startswith("Your booking BK1")
