"""The handoff loop over HTTP: states, the queue, agents replying in the conversation,
no double take, and live events with replay, in one process and across two workers
through Redis."""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
import uvicorn
from sqlmodel import Session, col, select

from assistant.api import create_app
from assistant.api import events as events_api
from assistant.wiring import Container
from profiles.models import AgentReply, ConversationEvent
from tests.api.conftest import ADMIN_KEY, AGENT_KEY, SETTINGS, _free_port, identity
from tests.conftest import rapport_cli

CUSTOMER = "olivia_ito_3591"
OTHER = "omar_lopez_3107"


def agent(name: str) -> dict[str, str]:
    return {"X-API-Key": AGENT_KEY, "X-Agent-Name": name}


def say(client, text: str, conversation_id: str | None = None, customer: str = CUSTOMER):
    body = {**identity(customer), "message": text}
    if conversation_id:
        body["conversation_id"] = conversation_id
    r = client.post("/v1/chat", json=body)
    assert r.status_code == 200, r.text
    return r.json()


def messages(client, conversation_id: str, customer: str = CUSTOMER) -> list[dict]:
    ident = identity(customer)
    r = client.get(
        f"/v1/conversations/{conversation_id}",
        headers={"X-Customer-Id": customer, "X-User-Hash": ident["user_hash"]},
    )
    assert r.status_code == 200, r.text
    return r.json()["messages"]


def test_a_handoff_waits_for_an_agent_who_takes_answers_and_hands_back(client) -> None:
    first = say(client, "I want to talk to a real person please")
    conv = first["conversation_id"]
    assert first["handoff"] is True and first["state"] == "waiting"

    # an older bot conversation of another customer stays below the waiting one
    say(client, "what is your return policy?", customer=OTHER)
    queue = client.get("/v1/agent/inbox", headers=agent("ana")).json()
    assert queue[0]["conversation_id"] == conv and queue[0]["state"] == "waiting"
    assert queue[0]["last_customer_message"] == "I want to talk to a real person please"
    assert queue[0]["waiting_since"] is not None
    waiting = client.get("/v1/agent/inbox?view=waiting", headers=agent("ana")).json()
    assert [q["conversation_id"] for q in waiting] == [conv]

    # while it waits, the bot still answers what it can, and it stays in the queue
    meanwhile = say(client, "what is your return policy?", conv)
    assert meanwhile["answer"] and meanwhile["state"] == "waiting"

    taken = client.post(f"/v1/agent/conversations/{conv}/assign", headers=agent("ana"))
    assert taken.status_code == 200 and taken.json()["assignee"] == "ana"
    # no double take
    double = client.post(f"/v1/agent/conversations/{conv}/assign", headers=agent("ben"))
    assert double.status_code == 409 and "error" in double.json()
    assert (
        client.post(
            f"/v1/agent/conversations/{conv}/messages", headers=agent("ben"), json={"text": "hi"}
        ).status_code
        == 409
    )
    mine = client.get("/v1/agent/inbox?view=mine", headers=agent("ana")).json()
    assert [q["conversation_id"] for q in mine] == [conv]

    # the customer writes to the agent, not the bot
    to_agent = say(client, "my order never came", conv)
    assert to_agent["answer"] == "" and to_agent["state"] == "agent" and to_agent["agent"] == "ana"
    # a card number typed to the agent is taken out before it is kept, as for a turn
    say(client, "charge my card 4111 1111 1111 1111 then", conv)
    shown = [m["text"] for m in messages(client, conv)][-1]
    assert "4111 1111" not in shown and "card number removed, ending 1111" in shown
    draft = "Hi Olivia, I'm sorry about that. Let me check your order now."
    sent = client.post(
        f"/v1/agent/conversations/{conv}/messages",
        headers=agent("ana"),
        json={
            "text": "Hi Olivia, so sorry about that! Let me check your order now.",
            "draft": {"index": 0, "text": draft, "intent": "where_is_order"},
        },
    )
    assert sent.status_code == 201, sent.text
    roles = [m["role"] for m in messages(client, conv)]
    assert roles == [
        "customer",
        "assistant",
        "customer",
        "assistant",
        "customer",
        "customer",
        "agent",
    ]

    # hand back: the bot answers again
    back = client.post(f"/v1/agent/conversations/{conv}/release", headers=agent("ana"))
    assert back.status_code == 200 and back.json()["state"] == "bot"
    again = say(client, "thanks, what is your return policy?", conv)
    assert again["answer"] and again["state"] == "bot"

    resolved = client.post(f"/v1/agent/conversations/{conv}/resolve", headers=agent("ana"))
    assert resolved.json()["state"] == "resolved"
    reopened = say(client, "one more thing: how long do refunds take?", conv)
    assert reopened["answer"] and reopened["state"] == "bot"

    engine = client.app.state.services.container.engine
    with Session(engine) as s:
        reply = s.exec(select(AgentReply)).one()
        assert reply.agent == "ana" and reply.draft_index == 0 and reply.intent == "where_is_order"
        assert 0 < (reply.edit_distance or 0) < len(draft) and 0.5 < (reply.similarity or 0) < 1
        states = [
            (e.state, e.actor)
            for e in s.exec(select(ConversationEvent).where(ConversationEvent.kind == "state"))
        ]
    assert states == [
        ("waiting", "bot"),
        ("agent", "agent:ana"),
        ("bot", "agent:ana"),
        ("resolved", "agent:ana"),
        ("bot", "customer"),
    ]
    # every message is an event, in the order written, by who wrote it
    with Session(engine) as s:
        said = s.exec(
            select(ConversationEvent)
            .where(ConversationEvent.kind == "message", ConversationEvent.conversation_id == conv)
            .order_by(col(ConversationEvent.id))
        ).all()
    assert [e.actor for e in said] == [
        *("customer", "bot", "customer", "bot", "customer", "customer", "agent:ana"),
        *("customer", "bot", "customer", "bot"),
    ]
    ids = [e.message_id for e in said]
    assert all(i is not None for i in ids) and ids == sorted(ids) and len(set(ids)) == len(ids)


def test_an_urgent_handoff_goes_first_in_the_queue_until_resolved(client) -> None:
    """A lost card (the policy's security rule is urgent) waits ahead of a customer who
    asked for a person earlier; the customer never reads the flag. Resolved, it is an
    ordinary conversation again."""
    calm = say(client, "I want to talk to a real person please", customer=OTHER)
    lost = say(client, "i lost my card!! someone could use it")
    assert calm["state"] == lost["state"] == "waiting"
    assert "urgent" not in json.dumps(lost)  # the customer's view carries no staff flag
    queue = client.get("/v1/agent/inbox?view=waiting", headers=agent("ana")).json()
    assert [(q["conversation_id"], q["urgent"]) for q in queue] == [
        (lost["conversation_id"], True),
        (calm["conversation_id"], False),
    ]
    conv = lost["conversation_id"]
    conv_staff = {**identity(CUSTOMER), "message": "my card was stolen", "conversation_id": conv}
    staff = client.post("/v1/chat", json=conv_staff, headers={"X-API-Key": AGENT_KEY}).json()
    assert staff["detail"]["handoff_urgent"] is True  # staff see it in the turn's detail
    client.post(f"/v1/agent/conversations/{conv}/assign", headers=agent("ana"))
    mine = client.get("/v1/agent/inbox?view=mine", headers=agent("ana")).json()
    assert [q["urgent"] for q in mine] == [True]  # still urgent while she handles it
    client.post(f"/v1/agent/conversations/{conv}/resolve", headers=agent("ana"))
    everyone = client.get("/v1/agent/inbox?view=all", headers=agent("ana")).json()
    assert {q["conversation_id"]: q["urgent"] for q in everyone}[conv] is False


def test_inbox_needs_an_agent_key_and_checks_names(client) -> None:
    assert client.get("/v1/agent/inbox").status_code == 401
    assert client.get("/v1/agent/inbox", headers={"X-API-Key": "nope"}).status_code == 403
    bad = client.get("/v1/agent/inbox", headers={"X-API-Key": AGENT_KEY, "X-Agent-Name": "<b>"})
    assert bad.status_code == 422 and "<b>" not in bad.text
    assert client.post("/v1/agent/conversations/nope/assign", headers=agent("a")).status_code == 404


def test_the_bot_keeps_quiet_only_for_its_own_customer(client) -> None:
    conv = say(client, "talk to a human")["conversation_id"]
    # another customer naming this conversation is told it does not exist
    body = {**identity(OTHER), "message": "hi", "conversation_id": conv}
    assert client.post("/v1/chat", json=body).status_code == 404


# -- live events --------------------------------------------------------------------------


@contextmanager
def serve(container: Container) -> Iterator[str]:
    app = create_app(container)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        server.force_exit = True  # open event streams (a live page) need not finish
        thread.join(timeout=10)


class Listener:
    """Reads a conversation's SSE stream in a thread, collecting events."""

    def __init__(self, url: str, headers: dict[str, str]):
        self.events: list[dict] = []
        self.ids: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(url, headers), daemon=True)
        self._thread.start()

    def _run(self, url: str, headers: dict[str, str]) -> None:
        with (
            httpx.Client(timeout=httpx.Timeout(5, read=60)) as c,
            c.stream("GET", url, headers=headers) as r,
        ):
            assert r.status_code == 200
            event_id = None
            try:
                for line in r.iter_lines():
                    if self._stop.is_set():
                        return
                    if line.startswith("id:"):
                        event_id = int(line[3:].strip())
                    elif line.startswith("data:"):
                        self.events.append(json.loads(line[5:].strip()))
                        self.ids.append(event_id or 0)
            except httpx.RemoteProtocolError:
                return  # the test's server stopped under the open stream

    def wait_for(self, pred, timeout: float = 15.0) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for e in self.events:
                if pred(e):
                    return e
            time.sleep(0.05)
        raise AssertionError(f"no such event within {timeout}s; got {self.events}")

    def stop(self) -> None:
        self._stop.set()


def customer_headers(customer: str = CUSTOMER) -> dict[str, str]:
    return {"X-Customer-Id": customer, "X-User-Hash": identity(customer)["user_hash"]}


def _flow(customer_url: str, agent_url: str) -> None:
    """The customer's widget streams from one server, the agent acts through another."""
    with (
        httpx.Client(base_url=customer_url, timeout=60) as widget,
        httpx.Client(base_url=agent_url, timeout=60) as desk,
    ):
        conv = say(widget, "can I speak to a human?")["conversation_id"]
        events_url = f"{customer_url}/v1/conversations/{conv}/events"
        live = Listener(events_url, customer_headers())
        staff = Listener(f"{agent_url}/v1/conversations/{conv}/events", {"X-API-Key": AGENT_KEY})
        try:
            # the replay: the first turn and the handoff; internal reasons only for staff
            live.wait_for(lambda e: e.get("state") == "waiting")
            assert all("reason" not in e for e in live.events)
            staff.wait_for(lambda e: e.get("state") == "waiting" and e.get("reason"))
            assert (
                desk.post(
                    f"/v1/agent/conversations/{conv}/assign", headers=agent("ana")
                ).status_code
                == 200
            )
            live.wait_for(lambda e: e.get("state") == "agent" and e.get("agent") == "ana")
            assert (
                desk.post(
                    f"/v1/agent/conversations/{conv}/messages",
                    headers=agent("ana"),
                    json={"text": "Hi, Ana here. How can I help?"},
                ).status_code
                == 201
            )
            got = live.wait_for(lambda e: e.get("role") == "agent")
            assert got["text"] == "Hi, Ana here. How can I help?" and got["agent"] == "ana"
            say(widget, "my parcel is late", conv)
            staff.wait_for(
                lambda e: e.get("role") == "customer" and e["text"] == "my parcel is late"
            )
        finally:
            live.stop()
            staff.stop()
        # reconnect with Last-Event-ID: only what came after it
        mid = live.ids[1]
        replay = Listener(events_url, {**customer_headers(), "Last-Event-ID": str(mid)})
        try:
            replay.wait_for(lambda e: e.get("text") == "my parcel is late")
            # every event after the id, in order, none before it
            assert replay.ids == list(range(mid + 1, mid + 1 + len(replay.ids)))
            assert replay.events[-1]["text"] == "my parcel is late"
        finally:
            replay.stop()


@pytest.fixture
def slow_poll(monkeypatch: pytest.MonkeyPatch) -> None:
    """Streams wake only by the bus: polling alone would miss the tests' deadlines."""
    monkeypatch.setattr(events_api, "POLL_S", 60.0)


def test_live_events_in_one_process(make_container, slow_poll) -> None:
    with serve(make_container(**SETTINGS)) as url:
        _flow(url, url)


REDIS_URL = os.environ.get("RAPPORT_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def test_live_events_across_two_workers_through_redis(make_container, embedder, slow_poll) -> None:
    redis = pytest.importorskip("redis")
    redis.Redis.from_url(REDIS_URL).ping()  # Redis runs on these machines; CI starts it
    first = make_container(**SETTINGS, redis_url=REDIS_URL)
    second = Container(first.settings, shared_embedder=embedder)
    with serve(first) as a, serve(second) as b:
        _flow(a, b)


def test_events_are_the_customers_own(client) -> None:
    conv = say(client, "hello")["conversation_id"]
    r = client.get(f"/v1/conversations/{conv}/events", headers=customer_headers(OTHER))
    assert r.status_code == 404
    r = client.get(f"/v1/conversations/{uuid.uuid4().hex}/events", headers=customer_headers())
    assert r.status_code == 404
    r = client.get(f"/v1/conversations/{conv}/events", headers={"X-Customer-Id": CUSTOMER})
    assert r.status_code == 401
    assert ADMIN_KEY


def test_export_holds_the_handoff_and_erase_leaves_none_of_it(client) -> None:
    conv = say(client, "I need a human")["conversation_id"]
    client.post(f"/v1/agent/conversations/{conv}/assign", headers=agent("ana"))
    client.post(
        f"/v1/agent/conversations/{conv}/messages",
        headers=agent("ana"),
        json={"text": "Hello from Ana", "draft": {"index": 1, "text": "Hello"}},
    )
    admin = {"X-API-Key": ADMIN_KEY}
    export = client.get(f"/v1/admin/customers/{CUSTOMER}/export", headers=admin).json()
    (held,) = [c for c in export["conversations"] if c["conversation"]["id"] == conv]
    assert [e["state"] for e in held["events"] if e["kind"] == "state"] == ["waiting", "agent"]
    assert held["agent_replies"][0]["draft_index"] == 1
    assert client.delete(f"/v1/admin/customers/{CUSTOMER}", headers=admin).status_code == 200
    engine = client.app.state.services.container.engine
    with Session(engine) as s:
        assert s.exec(select(ConversationEvent)).all() == []
        assert s.exec(select(AgentReply)).all() == []


def test_eval_drafts_reports_acceptance_and_edits_per_variant_and_intent(make_client) -> None:
    client = make_client()
    container = client.app.state.services.container
    for text, draft in (
        ("Your order ships tomorrow.", {"index": 0, "text": "Your order ships tomorrow."}),
        ("Sorry! It ships tomorrow.", {"index": 0, "text": "Your order ships tomorrow."}),
        ("Let me look into it.", None),
    ):
        conv = say(client, "I want a human")["conversation_id"]
        client.post(f"/v1/agent/conversations/{conv}/assign", headers=agent("ana"))
        body: dict = {"text": text}
        if draft:
            body["draft"] = {**draft, "variant": "reply_prompt=control", "intent": "where_is_order"}
        assert (
            client.post(
                f"/v1/agent/conversations/{conv}/messages", headers=agent("ana"), json=body
            ).status_code
            == 201
        )
    done = rapport_cli(container, "eval", "drafts", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["overall"]["replies"] == 3 and report["overall"]["from_draft"] == 2
    assert report["overall"]["acceptance"] == round(2 / 3, 4)
    assert report["overall"]["sent_as_is"] == 0.5
    control = report["by_variant"]["reply_prompt=control"]
    assert control["from_draft"] == 2 and control["mean_edit_distance"] > 0
    assert set(report["by_intent"]) == {"where_is_order", "(none)"}


def test_the_experiment_report_shows_how_agents_used_each_variants_drafts(
    make_client, tmp_path
) -> None:
    spec = tmp_path / "experiments.yaml"
    spec.write_text(
        "experiments:\n  - id: depth\n    variants:\n"
        "      - {name: control, weight: 1}\n      - {name: kb3, weight: 1, kb_top_k: 3}\n"
    )
    client = make_client(experiments_file=spec)
    used: dict[str, int] = {}
    for customer in (CUSTOMER, OTHER, "isabella_brown_3584", "james_kim_7213"):
        conv = say(client, "I want to speak to a person", customer=customer)["conversation_id"]
        offered = client.post(
            "/v1/assist", headers=agent("ana"), json={"conversation_id": conv}
        ).json()
        draft = offered["suggested_replies"][0]
        variant = offered["variant"]
        assert offered["plan"]["intents"][0]["name"] == "human"  # the page sends it as intent
        client.post(f"/v1/agent/conversations/{conv}/assign", headers=agent("ana"))
        sent = client.post(
            f"/v1/agent/conversations/{conv}/messages",
            headers=agent("ana"),
            json={
                "text": draft + " Anything else?",
                "draft": {"index": 0, "text": draft, "variant": variant},
            },
        )
        assert sent.status_code == 201, sent.text
        name = variant.split("depth=")[1].split(";")[0]
        used[name] = used.get(name, 0) + 1
    report = client.get("/v1/admin/experiments/depth/report", headers={"X-API-Key": ADMIN_KEY})
    drafts = report.json()["drafts"]
    assert {k: v["from_draft"] for k, v in drafts.items()} == used
    assert all(v["mean_edit_distance"] == len(" Anything else?") for v in drafts.values())
