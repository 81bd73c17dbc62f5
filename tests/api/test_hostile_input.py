"""Hostile requests at the HTTP boundary (issue 16, findings 1, 2 and 9): each is refused
with a small {"error": ...} that names what is wrong, never echoes what was sent, never
logs it, and never stalls the server for other requests."""

from __future__ import annotations

import json
import logging
import threading
import time

import httpx
import pytest
from sqlmodel import Session, select

from profiles.models import Customer, Message
from tests.api.conftest import ADMIN_KEY, AGENT_KEY, identity

OLIVIA = "olivia_ito_3591"
ADMIN = {"X-API-Key": ADMIN_KEY}
JSON = {"Content-Type": "application/json"}
MARKER = "Zebulon Quartermaine, 4417 Larkspur Lane"  # appears in no fixture


def _raw(body: dict[str, object], lone: str) -> bytes:
    """`body` as JSON with the string value at key `lone` ending in a `\\ud800` escape
    (which json.dumps cannot produce from a str)."""
    text = json.dumps({**body, lone: "LONE"})
    return text.replace('"LONE"', json.dumps(f"{MARKER} ")[:-1] + '\\ud800"').encode()


@pytest.mark.parametrize("field", ["customer_id", "user_hash", "message", "conversation_id"])
def test_a_lone_surrogate_is_a_422_naming_the_field(client, caplog, field):
    caplog.set_level(logging.DEBUG)
    body = {**identity(OLIVIA), "message": "hi"}
    r = client.post("/v1/chat", content=_raw(body, field), headers=JSON)
    assert r.status_code == 422, r.text
    assert r.json()["fields"][0]["field"] == f"body.{field}"
    assert MARKER not in r.text and "input" not in r.json()
    assert MARKER not in caplog.text


def test_a_lone_surrogate_in_the_client_context_is_a_422(client):
    body = {**identity(OLIVIA), "message": "hi", "context": {"locale": "LONE"}}
    raw = json.dumps(body).replace('"LONE"', '"en\\ud800"').encode()
    r = client.post("/v1/chat", content=raw, headers=JSON)
    assert r.status_code == 422 and "body.context.locale" in r.json()["error"]


def test_a_megabyte_of_address_text_does_not_stall_the_server(live_server, caplog):
    """Before: 29 s for the request and 55 s for a /healthz sent meanwhile (the request's
    text masked for the log, twice, on the event loop)."""
    caplog.set_level(logging.DEBUG)
    address = f"{MARKER}, Springfield, IL 62704, call 555-123-4567, mail z.q@example.com. "
    message = (address * (900_000 // len(address)))[:900_000]
    raw = _raw({**identity(OLIVIA), "message": message}, "message")
    took: dict[str, float] = {}

    def big() -> None:
        t0 = time.perf_counter()
        r = httpx.post(f"{live_server}/v1/chat", content=raw, headers=JSON, timeout=120)
        took["big"] = time.perf_counter() - t0
        took["status"] = r.status_code
        took["size"] = len(r.content)

    thread = threading.Thread(target=big)
    thread.start()
    time.sleep(0.05)
    t0 = time.perf_counter()
    assert httpx.get(f"{live_server}/healthz", timeout=120).status_code == 200
    health = time.perf_counter() - t0
    thread.join(timeout=120)
    assert took["status"] == 422 and took["size"] < 1000
    assert took["big"] < 5 and health < 3, (took, health)
    assert MARKER not in caplog.text and "Springfield" not in caplog.text


def test_a_422_does_not_echo_a_huge_field(client):
    big_id = MARKER * 5000  # 200 KB
    r = client.post(
        "/v1/chat",
        json={"customer_id": big_id, "user_hash": f"{MARKER} hash", "message": "hi"},
    )
    assert r.status_code == 422 and "body.customer_id" in r.json()["error"]
    assert len(r.content) < 1000 and MARKER not in r.text and "detail" not in r.json()


def test_not_found_answers_do_not_echo_the_id(client):
    hdr = {"X-Customer-Id": OLIVIA, "X-User-Hash": identity(OLIVIA)["user_hash"]}
    r = client.get("/v1/conversations/zebulon-conv-1", headers=hdr)
    assert r.status_code == 404 and r.json() == {"error": "unknown conversation"}
    r = client.get("/v1/admin/customers/zebulon_0001/export", headers=ADMIN)
    assert r.status_code == 404 and r.json() == {"error": "unknown customer"}
    order = {"customer_id": "zebulon_0001", "status": "pending"}
    r = client.put("/v1/admin/orders/%23W1", json=order, headers=ADMIN)
    assert r.status_code == 404 and "zebulon" not in r.text
    r = client.get("/v1/admin/experiments/zebulon-exp/report", headers=ADMIN)
    assert r.status_code == 404 and "zebulon" not in r.text


def test_an_oversized_body_is_413_before_it_is_parsed(make_client):
    client = make_client(max_body_bytes=10_000)
    # Malformed JSON over the limit: a 413, so it was never parsed (a 422 if it had been).
    r = client.post("/v1/chat", content=b"{" + b"x" * 20_000, headers=JSON)
    assert r.status_code == 413 and "10000 bytes" in r.json()["error"]
    ok = {**identity(OLIVIA), "message": "hi"}
    assert client.post("/v1/chat", json=ok).status_code == 200


def test_a_streamed_body_is_cut_off_at_the_limit(make_container):
    """A chunked body (no Content-Length) is refused once it passes the limit: the app
    reads no more of it (before: all 12.8 MB read and parsed before the 413)."""
    import uvicorn

    from assistant.api import create_app
    from tests.api.conftest import SETTINGS
    from tests.conftest import free_port

    app = create_app(make_container(**{**SETTINGS, "max_body_bytes": 100_000}))
    received = 0

    async def counting(scope, receive, send):  # type: ignore[no-untyped-def]
        async def counted():  # type: ignore[no-untyped-def]
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            return message

        await app(scope, counted, send)

    port = free_port()
    config = uvicorn.Config(counting, host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)

    def chunks():  # type: ignore[no-untyped-def]
        yield b'{"customer_id": "x", "user_hash": "y", "message": "'
        for _ in range(200):  # 200 × 64 KB = 12.8 MB
            yield b"a" * 65_536
        yield b'"}'

    try:
        r = httpx.post(f"http://127.0.0.1:{port}/v1/chat", content=chunks(), headers=JSON)
        assert r.status_code == 413 and r.json()["error"].startswith("request body is larger")
    except httpx.TransportError:
        pass  # the server may close the connection while the client still writes
    finally:
        server.should_exit = True
        server.force_exit = True  # open event streams (a live page) need not finish
        thread.join(timeout=10)
    assert received < 300_000, f"the app read {received} bytes"


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b"customer_id=x&user_hash=y&message=hi", "application/x-www-form-urlencoded"),
        (b'{"customer_id": "x", "user_hash": "y", "message": "hi"}', "text/plain"),
        (b'{"customer_id": "x", "user_hash": "y", "message": "hi"}', None),
    ],
)
def test_a_body_that_is_not_json_is_415(client, content, content_type):
    headers = {"Content-Type": content_type} if content_type else {}
    r = client.post("/v1/chat", content=content, headers=headers)
    assert r.status_code == 415 and r.json() == {"error": "Content-Type must be application/json"}


def test_unknown_routes_and_methods_answer_error_json(client):
    r = client.get("/v1/chat")
    assert r.status_code == 405 and r.json() == {"error": "method not allowed"}
    assert "POST" in r.headers["allow"]
    r = client.get("/v1/no-such-thing")
    assert r.status_code == 404 and r.json() == {"error": "not found"}


def test_malformed_json_is_named_without_a_position(client):
    r = client.post("/v1/chat", content=b'{"customer_id": "x", "message": "hi"', headers=JSON)
    assert r.status_code == 422
    error = r.json()["error"]
    assert error.startswith("malformed JSON body") and not any(ch.isdigit() for ch in error)
    assert "fields" not in r.json()


def test_a_missing_user_hash_is_401(client):
    r = client.post("/v1/chat", json={"customer_id": OLIVIA, "message": "hi"})
    assert r.status_code == 401 and "missing user_hash" in r.json()["error"]
    r = client.post("/v1/feedback", json={"customer_id": OLIVIA, "turn_id": "t", "rating": 5})
    assert r.status_code == 401 and "missing user_hash" in r.json()["error"]
    r = client.get("/v1/conversations/c1", headers={"X-Customer-Id": OLIVIA})
    assert r.status_code == 401 and "missing user_hash" in r.json()["error"]


def test_a_customer_may_not_choose_the_agent_channel(client):
    body = {**identity(OLIVIA), "message": "Where is my order?", "channel": "agent"}
    r = client.post("/v1/chat", json=body)
    assert r.status_code == 403 and "agent" in r.json()["error"]
    engine = client.app.state.services.container.engine
    with Session(engine) as s:
        stored = s.exec(select(Message).where(Message.text == "Where is my order?")).all()
    assert stored == [], "a refused turn stores nothing"
    staff = client.post("/v1/chat", json=body, headers={"X-API-Key": AGENT_KEY})
    assert staff.status_code == 200
    assert client.post("/v1/chat", json={**body, "channel": "widget"}).status_code == 200


@pytest.mark.parametrize(
    ("context", "field"),
    [
        ({"locale": "en\x00US"}, "body.context.locale"),
        ({"timezone": "UTC\x00"}, "body.context.timezone"),
        ({"timezone": "Europe/Paris\x1b[2J"}, "body.context.timezone"),
        ({"page_url": "https://shop.example/\x07"}, "body.context.page_url"),
    ],
)
def test_control_characters_in_short_fields_are_422(client, context, field):
    r = client.post("/v1/chat", json={**identity(OLIVIA), "message": "hi", "context": context})
    assert r.status_code == 422 and field in r.json()["error"]


def test_control_characters_in_ids_are_422_on_every_database(client):
    engine = client.app.state.services.container.engine
    r = client.put("/v1/admin/customers/evil%00id", json={"first_name": "E"}, headers=ADMIN)
    assert r.status_code == 422 and "path.customer_id" in r.json()["error"]
    r = client.put("/v1/admin/customers/evil%0Aid", json={"first_name": "E"}, headers=ADMIN)
    assert r.status_code == 422 and "path.customer_id" in r.json()["error"]
    r = client.put(
        "/v1/admin/customers/evil_0001", json={"locale": "en\x00", "timezone": "U"}, headers=ADMIN
    )
    assert r.status_code == 422 and "body.locale" in r.json()["error"]
    with Session(engine) as s:
        assert s.exec(select(Customer).where(Customer.id.like("evil%"))).all() == []  # type: ignore[attr-defined]
    r = client.delete("/v1/admin/kb/documents/a%00b", headers=ADMIN)
    assert r.status_code == 422 and "path.doc_id" in r.json()["error"]
    r = client.get("/v1/agent/conversations/a%00b", headers={"X-API-Key": AGENT_KEY})
    assert r.status_code == 422 and "path.conversation_id" in r.json()["error"]
    r = client.post(
        "/v1/chat", json={**identity(OLIVIA), "message": "hi", "conversation_id": "c\x00"}
    )
    assert r.status_code == 422 and "body.conversation_id" in r.json()["error"]


def test_an_llm_error_body_that_echoes_the_prompt_is_not_logged(make_client, llm_guard, caplog):
    """The endpoint's 400 quotes the prompt (name, order details): the log gets the
    status and the reason, not the body."""
    echoed = f"This model's maximum context length is exceeded. Prompt: {MARKER}, order #W5442520"
    llm_guard.post("http://llm.test/v1/chat/completions").mock(
        return_value=httpx.Response(
            400,
            json={"error": {"message": echoed, "type": "invalid_request_error", "code": "ctx"}},
        )
    )
    client = make_client(openai_base_url="http://llm.test/v1", llm_model="m", llm_max_retries=0)
    caplog.set_level(logging.INFO)  # the OpenAI client logs whole requests at DEBUG
    r = client.post("/v1/chat", json={**identity(OLIVIA), "message": f"I am {MARKER}"})
    assert r.status_code == 200 and r.json()["degraded"] is True
    failed = [rec.getMessage() for rec in caplog.records if "generation failed" in rec.getMessage()]
    assert failed and "HTTP 400" in failed[0] and "ctx" in failed[0]
    assert "Zebulon" not in caplog.text and "maximum context length" not in caplog.text


def test_an_unexpected_error_is_logged_without_its_text(client, monkeypatch, caplog):
    assistant = client.app.state.services.container.assistant

    def boom(_request):
        raise RuntimeError(f"internals holding {MARKER}")

    monkeypatch.setattr(assistant, "turn", boom)
    caplog.set_level(logging.DEBUG)
    r = client.post("/v1/chat", json={**identity(OLIVIA), "message": "hello"})
    assert r.status_code == 500 and r.json() == {"error": "internal error"}
    logged = [rec for rec in caplog.records if rec.name == "rapport.api"]
    assert len(logged) == 1 and "RuntimeError" in logged[0].getMessage()
    assert "/v1/chat" in logged[0].getMessage()
    assert MARKER not in caplog.text
