"""The widget API through the real FastAPI app."""

import json

import httpx
from sqlmodel import Session, select

from profiles.models import Feedback
from tests.api.conftest import AGENT_KEY, identity

OLIVIA = "olivia_ito_3591"


def chat(client, message, customer=OLIVIA, **extra):
    return client.post("/v1/chat", json={**identity(customer), "message": message, **extra})


def test_chat_returns_a_cited_turn(client):
    r = chat(client, "What is the status of my order #W5442520?")
    assert r.status_code == 200, r.text
    body = r.json()
    assert "#W5442520" in body["answer"] and "pending" in body["answer"]
    assert body["conversation_id"] and body["turn_id"]
    assert body["generator"] == "offline" and body["degraded"] is False
    assert {"answer", "citations", "handoff", "timings_ms"} <= body.keys()
    assert any(c["id"] == "record:order:#W5442520" for c in body["citations"])
    # The customer's widget never gets the prompt's context, segments or rule trace.
    assert body["detail"] is None
    assert not {"context", "decision_trace", "segments", "handoff_reason"} & body.keys()


def test_staff_get_the_turns_detail_and_a_wrong_key_is_refused(client):
    question = {**identity(OLIVIA), "message": "What is the status of my order #W5442520?"}

    staff = client.post("/v1/chat", json=question, headers={"X-API-Key": AGENT_KEY})
    wrong = client.post("/v1/chat", json=question, headers={"X-API-Key": "not-a-key"})

    assert staff.status_code == 200, staff.text
    detail = staff.json()["detail"]
    assert detail["context"]["customer_id"] == OLIVIA and "#W5442520" in detail["context"]["text"]
    assert "record:order:#W5442520" in detail["context"]["fact_ids"]
    assert isinstance(detail["decision_trace"], list) and "segments" in detail
    # The answer plan's intent, and the rules that kept the context to the order named
    assert detail["plan"]["intents"][0]["name"] == "where_is_order"
    assert any(h["rule"] == "plan" for h in detail["decision_trace"])
    (guard,) = [h for h in detail["decision_trace"] if h["rule"] == "guard.named_records_only"]
    assert guard["inputs"]["named_records"][0] == "order:#W5442520"
    assert "plan" not in staff.json() or staff.json().get("plan") is None
    assert wrong.status_code == 403 and wrong.json() == {"error": "not a valid agent API key"}


def _sse_events(text: str) -> list[tuple[str, str]]:
    events = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        name, data = "message", ""
        for line in block.splitlines():
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                data += line[5:].strip()
        if data:
            events.append((name, data))
    return events


def test_chat_streams_server_sent_events(client):
    with client.stream(
        "POST",
        "/v1/chat",
        json={**identity(OLIVIA), "message": "Can I cancel #W5442520?"},
        headers={"Accept": "text/event-stream"},
    ) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        events = _sse_events(r.read().decode())
    tokens = [json.loads(d)["text"] for n, d in events if n == "token"]
    done = [json.loads(d) for n, d in events if n == "done"]
    assert len(tokens) > 3 and len(done) == 1
    assert "".join(tokens) == done[0]["answer"]
    assert done[0]["citations"] and "timings_ms" in done[0]


def test_identity_is_required_and_checked(client):
    r = client.post("/v1/chat", json={"customer_id": OLIVIA, "message": "hi"})
    assert r.status_code == 401 and "missing user_hash" in r.json()["error"]
    r = client.post(
        "/v1/chat", json={**identity("someone_else_1"), "customer_id": OLIVIA, "message": "hi"}
    )
    assert r.status_code == 401 and "user_hash" in r.json()["error"]


def test_validation_names_the_field(client):
    r = client.post("/v1/chat", json={**identity(OLIVIA), "message": ""})
    assert r.status_code == 422
    assert [f["field"] for f in r.json()["fields"]] == ["body.message"]
    r = client.post("/v1/chat", json={**identity(OLIVIA), "message": "hi", "channel": "fax"})
    assert r.status_code == 422 and "body.channel" in r.json()["error"]
    r = client.post("/v1/chat", content=b"not json", headers={"content-type": "application/json"})
    assert r.status_code == 422 and "Traceback" not in r.text


def test_oversized_message_is_413(client):
    r = chat(client, "x" * 501)
    assert r.status_code == 413 and "limit is 500" in r.json()["error"]


def test_unknown_customer_is_404(client):
    r = chat(client, "hello", customer="nobody_0000")
    assert r.status_code == 404 and "unknown customer" in r.json()["error"]


def test_rate_limit_is_429_with_retry_after(make_client):
    client = make_client(rate_limit_per_minute=2)
    assert chat(client, "hello").status_code == 200
    assert chat(client, "hello again").status_code == 200
    r = chat(client, "third")
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
    assert chat(client, "another customer", customer="omar_lopez_3107").status_code == 200


def test_conversations_are_private(client):
    conv = chat(client, "hello there").json()["conversation_id"]
    own = client.get(
        f"/v1/conversations/{conv}",
        headers={"X-Customer-Id": OLIVIA, "X-User-Hash": identity(OLIVIA)["user_hash"]},
    )
    assert own.status_code == 200
    assert [m["role"] for m in own.json()["messages"]] == ["customer", "assistant"]
    other = "omar_lopez_3107"
    theirs = client.get(
        f"/v1/conversations/{conv}",
        headers={"X-Customer-Id": other, "X-User-Hash": identity(other)["user_hash"]},
    )
    assert theirs.status_code == 404
    missing_hash = client.get(f"/v1/conversations/{conv}", headers={"X-Customer-Id": OLIVIA})
    assert missing_hash.status_code == 401
    wrong = client.get(
        f"/v1/conversations/{conv}", headers={"X-Customer-Id": OLIVIA, "X-User-Hash": "00"}
    )
    assert wrong.status_code == 401


def test_feedback_is_stored_for_own_turns_only(client):
    turn = chat(client, "Can I cancel #W5442520?").json()["turn_id"]
    r = client.post(
        "/v1/feedback", json={**identity(OLIVIA), "turn_id": turn, "rating": 5, "resolved": True}
    )
    assert r.status_code == 201 and r.json()["turn_id"] == turn
    r = client.post(
        "/v1/feedback", json={**identity("omar_lopez_3107"), "turn_id": turn, "rating": 1}
    )
    assert r.status_code == 404
    r = client.post("/v1/feedback", json={**identity(OLIVIA), "turn_id": turn, "rating": 7})
    assert r.status_code == 422 and "body.rating" in r.json()["error"]


def test_one_rating_per_turn_the_latest_wins_and_feedback_is_rate_limited(make_client):
    client = make_client(rate_limit_per_minute=25)
    turn = chat(client, "How do returns work?").json()["turn_id"]
    codes = []
    for i in range(60):
        body = {**identity(OLIVIA), "turn_id": turn, "rating": 1 + i % 5, "resolved": i % 2 == 0}
        r = client.post("/v1/feedback", json=body)
        codes.append(r.status_code)
        if r.status_code == 201:
            assert r.json()["replaced"] is (i > 0)
    assert codes[:25] == [201] * 25 and set(codes[25:]) == {429}  # its own window
    engine = client.app.state.services.container.engine
    with Session(engine) as s:
        rows = s.exec(select(Feedback).where(Feedback.turn_id == turn)).all()
    assert len(rows) == 1 and rows[0].rating == 1 + 24 % 5  # the last accepted one


def test_llm_failure_is_a_degraded_answer_not_a_500(make_client, llm_guard):
    llm_guard.post("http://llm.test/v1/chat/completions").mock(
        return_value=httpx.Response(500, json={})
    )
    client = make_client(openai_base_url="http://llm.test/v1", llm_model="m", llm_max_retries=0)
    r = chat(client, "Can I cancel #W5442520?")
    assert r.status_code == 200 and r.json()["degraded"] is True
    metrics = client.get("/metrics").text
    assert "rapport_fallbacks_total 1.0" in metrics


def test_unexpected_errors_are_500_without_a_trace(client, monkeypatch):
    assistant = client.app.state.services.container.assistant

    def boom(_request):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(assistant, "turn", boom)
    r = chat(client, "hello")
    assert r.status_code == 500 and r.json() == {"error": "internal error"}
