"""Reliability through the real app: the LLM circuit breaker, idempotent chat retries,
and a database outage answered 503 with Retry-After, never a half-written turn."""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path

import httpx
import psycopg
from sqlmodel import Session, col, func, select

from profiles.models import IdempotencyKey, Message, Turn
from tests.api.conftest import ADMIN_KEY, AGENT_KEY, identity
from tests.api.test_chat import _sse_events
from tests.assistant.test_llm_resilience import Clock
from tests.assistant.test_openai_generator import completion
from tests.conftest import _ADMIN_PG, SERVICES

OLIVIA = "olivia_ito_3591"
LLM = "http://llm.test/v1"
URL = f"{LLM}/chat/completions"
LLM_SETTINGS = dict(
    openai_base_url=LLM,
    llm_model="m",
    llm_max_retries=1,
    llm_backoff_s=0,
    llm_backoff_max_s=0,
    llm_breaker_failures=3,
    llm_breaker_open_s=30,
)


def chat(client, message, customer=OLIVIA, key=None, **extra):
    headers = {"Idempotency-Key": key} if key else {}
    body = {**identity(customer), "message": message, **extra}
    return client.post("/v1/chat", json=body, headers=headers)


def _count(engine, model, *where) -> int:
    with Session(engine) as s:
        return s.exec(select(func.count()).select_from(model).where(*where)).one()


def _messages(engine, text: str) -> list[Message]:
    with Session(engine) as s:
        return list(s.exec(select(Message).where(Message.text == text)))


# -- circuit breaker ------------------------------------------------------------------


def test_breaker_opens_after_failed_turns_and_closes_after_a_good_probe(make_client, llm_guard):
    route = llm_guard.post(URL).mock(return_value=httpx.Response(500, json={}))
    client = make_client(**LLM_SETTINGS)
    container = client.app.state.services.container
    clock = Clock()
    container.breaker.clock = clock
    for i in range(3):
        r = chat(client, f"Can I cancel #W5442520? ({i})")
        assert r.status_code == 200 and r.json()["degraded"] is True
    assert route.call_count == 6  # each failed turn tried twice
    metrics = client.get("/metrics").text
    assert 'rapport_llm_breaker_state{state="open"} 1.0' in metrics
    assert "rapport_llm_breaker_opens_total 1.0" in metrics

    # Open: turns are answered by the offline composer without any HTTP call.
    for i in range(4):
        r = chat(client, f"Where is my order #W5442520? ({i})")
        body = r.json()
        assert r.status_code == 200 and body["degraded"] is True
        assert body["generator"] == "offline" and "#W5442520" in body["answer"]
    assert route.call_count == 6
    metrics = client.get("/metrics").text
    assert "rapport_llm_breaker_rejected_total 4.0" in metrics
    assert "rapport_fallbacks_total 7.0" in metrics

    # After the open duration, one probe; the LLM is back, so the breaker closes.
    route.mock(return_value=httpx.Response(200, json=completion("Your order is pending [1].")))
    clock.t += 31
    r = chat(client, "status of #W5442520?")
    assert r.json()["degraded"] is False and r.json()["generator"] == "openai:m"
    assert route.call_count == 7
    assert 'rapport_llm_breaker_state{state="closed"} 1.0' in client.get("/metrics").text
    r = chat(client, "and the other one?")
    assert r.json()["degraded"] is False and route.call_count == 8


def test_streamed_turns_are_degraded_while_the_breaker_is_open(make_client, llm_guard):
    route = llm_guard.post(URL).mock(return_value=httpx.Response(503, json={}))
    client = make_client(**{**LLM_SETTINGS, "llm_breaker_failures": 1, "llm_max_retries": 0})
    chat(client, "first")
    assert route.call_count == 1
    with client.stream(
        "POST",
        "/v1/chat",
        json={**identity(OLIVIA), "message": "Can I cancel #W5442520?"},
        headers={"Accept": "text/event-stream"},
    ) as r:
        events = _sse_events(r.read().decode())
    done = json.loads(events[-1][1])
    assert events[-1][0] == "done" and done["degraded"] is True
    assert route.call_count == 1


def test_failed_llm_turn_keeps_the_message_and_stores_a_whole_turn(make_client, llm_guard):
    llm_guard.post(URL).mock(side_effect=httpx.ConnectError("refused"))
    client = make_client(**LLM_SETTINGS)
    r = chat(client, "Is my order #W5442520 still pending?")
    assert r.status_code == 200 and r.json()["degraded"] is True
    engine = client.app.state.services.container.engine
    [msg] = _messages(engine, "Is my order #W5442520 still pending?")
    with Session(engine) as s:
        turn = s.get(Turn, r.json()["turn_id"])
        assert turn is not None and turn.degraded and turn.message_id == msg.id
        reply = s.get(Message, turn.reply_message_id)
        assert reply is not None and reply.text == r.json()["answer"]


# -- idempotency keys -----------------------------------------------------------------


def test_a_retry_with_the_same_key_replays_the_first_turn(make_client, llm_guard):
    route = llm_guard.post(URL).mock(
        return_value=httpx.Response(200, json=completion("It is pending [1]."))
    )
    client = make_client(**LLM_SETTINGS)
    engine = client.app.state.services.container.engine
    first = chat(client, "status of #W5442520?", key="k-1")
    again = chat(client, "status of #W5442520?", key="k-1")
    assert first.status_code == again.status_code == 200
    assert again.json()["turn_id"] == first.json()["turn_id"]
    assert again.json() == first.json()
    assert again.headers["Idempotency-Replayed"] == "true"
    assert route.call_count == 1
    assert len(_messages(engine, "status of #W5442520?")) == 1
    # A replay is shown as its own request may see it: the detail only to staff.
    body = {**identity(OLIVIA), "message": "status of #W5442520?"}
    staff = client.post(
        "/v1/chat", json=body, headers={"Idempotency-Key": "k-1", "X-API-Key": AGENT_KEY}
    )
    assert staff.json()["turn_id"] == first.json()["turn_id"] and route.call_count == 1
    assert first.json()["detail"] is None and staff.json()["detail"]["context"]["text"]
    # A new key is a new turn.
    third = chat(client, "status of #W5442520?", key="k-2")
    assert third.json()["turn_id"] != first.json()["turn_id"] and route.call_count == 2
    assert len(_messages(engine, "status of #W5442520?")) == 2


def test_keys_are_scoped_by_customer(client):
    a = chat(client, "hello", key="shared-key")
    b = chat(client, "hello", customer="omar_lopez_3107", key="shared-key")
    assert a.status_code == b.status_code == 200
    assert a.json()["turn_id"] != b.json()["turn_id"]


def test_the_same_key_with_another_body_is_422(client):
    assert chat(client, "hello", key="k-body").status_code == 200
    r = chat(client, "something else", key="k-body")
    assert r.status_code == 422
    assert "Idempotency-Key" in r.json()["error"] and "different" in r.json()["error"]


def test_a_retry_while_the_first_runs_is_409_with_retry_after(make_client, llm_guard):
    entered, release = threading.Event(), threading.Event()

    def slow(_request):
        entered.set()
        release.wait(timeout=30)
        return httpx.Response(200, json=completion("It is pending [1]."))

    route = llm_guard.post(URL).mock(side_effect=slow)
    client = make_client(**LLM_SETTINGS)
    results: dict[str, httpx.Response] = {}
    first = threading.Thread(
        target=lambda: results.setdefault("first", chat(client, "slow one", key="k-run"))
    )
    first.start()
    try:
        assert entered.wait(timeout=60)
        r = chat(client, "slow one", key="k-run")
        assert r.status_code == 409 and int(r.headers["Retry-After"]) >= 1
        assert "still running" in r.json()["error"]
    finally:
        release.set()
        first.join(timeout=60)
    assert results["first"].status_code == 200 and route.call_count == 1
    replay = chat(client, "slow one", key="k-run")
    assert replay.json()["turn_id"] == results["first"].json()["turn_id"]


def test_a_failed_turn_releases_its_key(client):
    engine = client.app.state.services.container.engine
    r = chat(client, "hello", customer="nobody_0000", key="k-fail")
    assert r.status_code == 404
    r = chat(client, "   ", key="k-blank")  # accepted by the schema, refused by the turn
    assert r.status_code == 422 and "empty" in r.json()["error"]
    assert _count(engine, IdempotencyKey, col(IdempotencyKey.key).in_(["k-fail", "k-blank"])) == 0
    # The key is free again: a corrected request with it runs.
    assert chat(client, "now a real question", key="k-blank").status_code == 200
    assert _count(engine, IdempotencyKey, col(IdempotencyKey.key) == "k-blank") == 1


def test_streamed_retry_replays_the_result_as_one_done_event(client):
    def stream(key):
        with client.stream(
            "POST",
            "/v1/chat",
            json={**identity(OLIVIA), "message": "Can I cancel #W5442520?"},
            headers={"Accept": "text/event-stream", "Idempotency-Key": key},
        ) as r:
            return _sse_events(r.read().decode())

    first = stream("k-sse")
    again = stream("k-sse")
    assert [n for n, _ in again] == ["done"]
    assert json.loads(again[0][1])["turn_id"] == json.loads(first[-1][1])["turn_id"]
    # and a JSON retry of a streamed turn gets the same result
    r = chat(client, "Can I cancel #W5442520?", key="k-sse")
    assert r.json()["turn_id"] == json.loads(first[-1][1])["turn_id"]


def test_an_overlong_key_is_422(client):
    r = chat(client, "hello", key="k" * 129)
    assert r.status_code == 422 and "idempotency-key" in r.json()["error"].lower()


# -- database outage ------------------------------------------------------------------


class Outage:
    """Makes the app's database unreachable and brings it back: on PostgreSQL new
    connections are refused and open ones terminated; on SQLite the file's path turns
    into a directory (so no connection can open it) and the pool is emptied."""

    def __init__(self, container) -> None:
        self.container = container
        self.url = container.settings.sqlalchemy_url

    def begin(self) -> None:
        if SERVICES:
            name = self.url.rsplit("/", 1)[1]
            with psycopg.connect(_ADMIN_PG, autocommit=True) as conn:
                conn.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
                conn.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                    (name,),
                )
            return
        # An open SQLite handle keeps an unlinked file alive: the outage is what the next
        # connection sees, so the pool's connections are closed first.
        self.container.engine.dispose()
        db = Path(self.url.removeprefix("sqlite:///"))
        db.rename(db.with_suffix(".away"))
        db.mkdir()

    def end(self) -> None:
        if SERVICES:
            name = self.url.rsplit("/", 1)[1]
            with psycopg.connect(_ADMIN_PG, autocommit=True) as conn:
                conn.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
            return
        db = Path(self.url.removeprefix("sqlite:///"))
        shutil.rmtree(db)
        db.with_suffix(".away").rename(db)
        self.container.engine.dispose()


def test_database_outage_is_503_with_retry_after_and_readyz_says_so(client):
    container = client.app.state.services.container
    assert chat(client, "before the outage").status_code == 200
    outage = Outage(container)
    outage.begin()
    try:
        r = chat(client, "during the outage", key="k-outage")
        assert r.status_code == 503, r.text
        assert r.headers["Retry-After"] == "5"
        assert r.json()["error"] == "database unavailable; retry later"
        assert "Traceback" not in r.text
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["checks"]["database"].startswith("error")
        r = client.get(
            "/v1/conversations/x",
            headers={"X-Customer-Id": OLIVIA, "X-User-Hash": identity(OLIVIA)["user_hash"]},
        )
        assert r.status_code == 503 and "Retry-After" in r.headers
    finally:
        outage.end()
    assert client.get("/readyz").status_code == 200
    r = chat(client, "during the outage", key="k-outage")  # the client's retry
    assert r.status_code == 200
    assert len(_messages(container.engine, "during the outage")) == 1


def test_database_lost_mid_turn_leaves_the_message_and_no_half_turn(make_client, llm_guard):
    client = make_client(**LLM_SETTINGS)
    container = client.app.state.services.container
    outage = Outage(container)

    def generate_while_the_database_goes(_request):
        outage.begin()
        return httpx.Response(200, json=completion("Your order is pending [1]."))

    llm_guard.post(URL).mock(side_effect=generate_while_the_database_goes)
    try:
        r = chat(client, "Is #W5442520 pending?")
        assert r.status_code == 503 and r.headers["Retry-After"] == "5"
    finally:
        outage.end()
    [msg] = _messages(container.engine, "Is #W5442520 pending?")
    # The customer's message was committed before generation; no reply or turn record
    # of that turn was half-written.
    with Session(container.engine) as s:
        later = s.exec(
            select(Message).where(
                Message.conversation_id == msg.conversation_id, col(Message.id) > msg.id
            )
        ).all()
        assert later == []
        assert s.exec(select(Turn).where(Turn.message_id == msg.id)).all() == []


def test_database_outage_during_a_stream_ends_it_with_an_error_event(make_client, llm_guard):
    from tests.assistant.test_openai_generator import sse

    client = make_client(**LLM_SETTINGS)
    outage = Outage(client.app.state.services.container)

    def stream_while_the_database_goes(_request):
        outage.begin()
        return httpx.Response(
            200,
            text=sse(["Your order ", "is pending [1]."]),
            headers={"content-type": "text/event-stream"},
        )

    llm_guard.post(URL).mock(side_effect=stream_while_the_database_goes)
    try:
        with client.stream(
            "POST",
            "/v1/chat",
            json={**identity(OLIVIA), "message": "Is #W5442520 pending?"},
            headers={"Accept": "text/event-stream"},
        ) as r:
            events = _sse_events(r.read().decode())
    finally:
        outage.end()
    name, data = events[-1]
    assert name == "error" and json.loads(data)["retry_after"] == 5
    assert "done" not in [n for n, _ in events]


# -- inputs schemathesis found 5xx on -------------------------------------------------


def test_nul_characters_are_422_naming_the_field_on_every_database(client):
    r = chat(client, "hi\x00there")
    assert r.status_code == 422 and r.json()["fields"][0]["field"] == "body.message"
    engine = client.app.state.services.container.engine
    assert _count(engine, Message, col(Message.text).like("hi%there")) == 0
    r = client.get(
        "/v1/conversations/a%00b",
        headers={"X-Customer-Id": OLIVIA, "X-User-Hash": identity(OLIVIA)["user_hash"]},
    )
    # Refused before any database sees it, the same on SQLite and PostgreSQL.
    assert r.status_code == 422 and "path.conversation_id" in r.json()["error"]
    r = client.put(
        "/v1/admin/customers/nul_customer_1",
        json={"first_name": "A\x00B"},
        headers={"X-API-Key": ADMIN_KEY},
    )
    assert r.status_code == 422 and "body.first_name" in r.json()["error"]


def test_a_non_ascii_user_hash_is_401_not_500(client):
    r = client.post(
        "/v1/chat", json={"customer_id": OLIVIA, "user_hash": "é" * 64, "message": "hi"}
    )
    assert r.status_code == 401 and "user_hash" in r.json()["error"]
