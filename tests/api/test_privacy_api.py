"""Privacy over real HTTP: export, erasure, purge and audit endpoints, and consent changes
made through the admin API taking effect on the very next turn."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

from sqlmodel import Session, func, select

from assistant.api.schemas import ChatResponse
from assistant.types import Citation, ContextInfo, TurnResult
from profiles.db import session_scope
from profiles.models import Conversation, HistoryItem, Message, utcnow
from tests.api.conftest import ADMIN_KEY, AGENT_KEY, identity
from tests.stores import stored_items, tag_of

OLIVIA, OMAR = "olivia_ito_3591", "omar_lopez_3107"
ADMIN = {"X-API-Key": ADMIN_KEY}
PARROT = "My parrot Captain Feathers chewed the charger cable of my order"
RECALL = "What happened with Captain Feathers and the charger?"


def chat(client, message, customer=OLIVIA, conversation=None):
    """A turn as staff see it, with its detail (the context the reply was made from)."""
    body = {**identity(customer), "message": message}
    if conversation:
        body["conversation_id"] = conversation
    r = client.post("/v1/chat", json=body, headers={"X-API-Key": AGENT_KEY})
    assert r.status_code == 200, r.text
    return r.json()


def container_of(client):
    return client.app.state.services.container


def test_export_then_erase_end_to_end(client):
    first = chat(client, PARROT)
    chat(client, "Can I cancel #W5442520?", conversation=first["conversation_id"])
    chat(client, "Where is my parcel?", customer=OMAR)
    url = f"/v1/admin/customers/{OLIVIA}"

    assert client.get(f"{url}/export").status_code == 401
    assert client.get(f"{url}/export", headers={"X-API-Key": AGENT_KEY}).status_code == 403
    r = client.get(f"{url}/export", headers=ADMIN)
    assert r.status_code == 200, r.text
    doc = r.json()
    messages = [m["text"] for c in doc["conversations"] for m in c["messages"]]
    assert PARROT in messages and "Can I cancel #W5442520?" in messages
    assert {v["text"] for v in doc["vector_store"]} == {PARROT, "Can I cancel #W5442520?"}
    assert doc["customer"]["first_name"] == "Olivia" and doc["records"]
    vector_ids = [v["id"] for v in doc["vector_store"]]
    tag = tag_of(container_of(client), OLIVIA)

    r = client.delete(url, headers=ADMIN)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "erased" and r.json()["vectors_deleted"] == 2
    c = container_of(client)
    with Session(c.engine) as s:  # the real SQL store
        assert (
            s.exec(
                select(func.count()).select_from(Message).where(Message.customer_id == OLIVIA)
            ).one()
            == 0
        )
        assert s.get(Conversation, first["conversation_id"]) is None
    assert c.index.get("history", ids=vector_ids) == []  # the real vector store
    assert stored_items(c, OLIVIA, tag) == []

    again = client.delete(url, headers=ADMIN)
    assert again.status_code == 200 and again.json()["status"] == "already_erased"
    missing = client.delete("/v1/admin/customers/nobody_0000", headers=ADMIN)
    assert missing.status_code == 404 and missing.json()["error"] == "unknown customer"
    assert client.get(f"{url}/export", headers=ADMIN).status_code == 404
    gone = client.post("/v1/chat", json={**identity(OLIVIA), "message": "hello"})
    assert gone.status_code == 404

    later = chat(client, "Can I return my order?", customer=OMAR)
    assert later["answer"] and later["detail"]["context"]["customer_id"] == OMAR

    r = client.get("/v1/admin/audit", params={"customer_id": OLIVIA}, headers=ADMIN)
    assert r.status_code == 200
    rows = [x for x in r.json() if x["actor"] != "import"]  # not the demo import's consents
    assert [(x["action"], x["outcome"]) for x in rows] == [
        ("export", "not_found"),
        ("erase", "already_erased"),
        ("erase", "erased"),
        ("export", "exported"),
    ]
    fingerprint = hashlib.sha256(ADMIN_KEY.encode()).hexdigest()[:12]
    assert {x["actor"] for x in rows} == {f"admin:{fingerprint}"}
    assert ADMIN_KEY not in r.text and "Olivia" not in r.text and "Feathers" not in r.text
    assert client.get("/v1/admin/audit", headers={"X-API-Key": AGENT_KEY}).status_code == 403


def _age(engine, conversation_id: str, days: int) -> None:
    when = utcnow() - timedelta(days=days)
    with session_scope(engine) as s:
        conv = s.get(Conversation, conversation_id)
        conv.created_at = when
        s.add(conv)
        for m in s.exec(select(Message).where(Message.conversation_id == conversation_id)):
            m.created_at = when
            s.add(m)


def test_the_export_holds_retried_requests_and_the_replies_they_replay(client):
    body = {**identity(OLIVIA), "message": PARROT}
    r = client.post("/v1/chat", json=body, headers={"Idempotency-Key": "retry-1"})
    assert r.status_code == 200, r.text
    doc = client.get(f"/v1/admin/customers/{OLIVIA}/export", headers=ADMIN).json()
    (key,) = doc["idempotency_keys"]
    assert key["key"] == "retry-1" and key["turn_id"] == r.json()["turn_id"]
    assert PARROT in key["response"] or r.json()["answer"][:40] in key["response"]


def test_purge_endpoint(client):
    old = chat(client, "Where is my parcel?", customer=OMAR)
    chat(client, "Can I cancel #W5442520?")
    c = container_of(client)
    c.assistant.drain()
    _age(c.engine, old["conversation_id"], 400)

    r = client.post("/v1/admin/privacy/purge", json={"dry_run": True}, headers=ADMIN)
    assert r.status_code == 200, r.text
    assert (r.json()["older_than_days"], r.json()["conversations"]) == (365, 1)
    assert r.json()["dry_run"] is True
    r = client.post("/v1/admin/privacy/purge", json={}, headers=ADMIN)
    assert (r.json()["conversations"], r.json()["messages"], r.json()["history_items"]) == (1, 2, 1)
    assert stored_items(c, OMAR) == []
    assert len(stored_items(c, OLIVIA)) == 1
    bad = client.post("/v1/admin/privacy/purge", json={"older_than_days": -1}, headers=ADMIN)
    assert bad.status_code == 422 and "older_than_days" in bad.json()["error"]
    huge = client.post("/v1/admin/privacy/purge", json={"older_than_days": 10**9}, headers=ADMIN)
    assert huge.status_code == 422
    long_id = client.delete("/v1/admin/customers/" + "x" * 300, headers=ADMIN)
    assert long_id.status_code == 422 and "path.customer_id" in long_id.json()["error"]
    assert client.post("/v1/admin/privacy/purge", json={}).status_code == 401
    audit = client.get("/v1/admin/audit", headers=ADMIN).json()
    assert [(x["action"], x["outcome"]) for x in audit[:2]] == [
        ("purge", "purged"),
        ("purge", "dry_run"),
    ]


def _consents(client, **granted: bool) -> None:
    body = {"first_name": "Olivia", "last_name": "Ito", "consents": granted}
    r = client.put(f"/v1/admin/customers/{OLIVIA}", json=body, headers=ADMIN)
    assert r.status_code == 200, r.text


def _history_items(client) -> int:
    with Session(container_of(client).engine) as s:
        return s.exec(
            select(func.count()).select_from(HistoryItem).where(HistoryItem.customer_id == OLIVIA)
        ).one()


def test_revoking_history_takes_effect_on_the_next_turn(client):
    chat(client, PARROT)  # each turn below is a new conversation: only history recalls it
    before = chat(client, RECALL)["detail"]["context"]
    assert before["history_ids"] and "chewed" in before["text"]

    _consents(client, history=False)
    items = _history_items(client)
    revoked = chat(client, RECALL)["detail"]["context"]
    assert revoked["history_ids"] == [] and "chewed" not in revoked["text"]
    assert _history_items(client) == items  # the revoked turn is not remembered either
    assert revoked["fact_ids"]  # personalization still granted

    _consents(client, history=True)
    restored = chat(client, RECALL)["detail"]["context"]
    assert restored["history_ids"] and "chewed" in restored["text"]


def test_revoking_personalization_takes_effect_on_the_next_turn(client):
    question = "What is the status of my order #W5442520?"
    before = chat(client, question)["detail"]["context"]
    assert (
        f"profile:{OLIVIA}" in before["fact_ids"] and "record:order:#W5442520" in before["fact_ids"]
    )
    assert "Olivia" in before["text"]

    _consents(client, personalization=False)
    revoked = chat(client, question)["detail"]["context"]
    assert revoked["fact_ids"] == []
    assert "Olivia" not in revoked["text"]

    _consents(client, personalization=True)
    restored = chat(client, question)["detail"]["context"]
    assert f"profile:{OLIVIA}" in restored["fact_ids"] and "Olivia" in restored["text"]
    audit = client.get("/v1/admin/audit", params={"customer_id": OLIVIA}, headers=ADMIN).json()
    audit = [x for x in audit if x["actor"] != "import"]  # not the demo import's consents
    assert [(x["action"], x["outcome"], x["detail"]) for x in audit] == [
        ("consent", "granted", {"purpose": "personalization"}),
        ("consent", "revoked", {"purpose": "personalization"}),
    ]


def test_customers_see_history_citations_under_ids_that_count_nothing():
    # msg:N is the N-th message of all customers together; customers get an opaque id
    row = Citation(n=1, id="msg:41", kind="history", text="My parrot chewed it")
    order = Citation(
        n=2,
        id="order:#W5442520",
        kind="order",
        text="Order #W5442520, status pending. Payment via credit_card_9753331.",
        customer_text="Order #W5442520: pending\nPaid $663.85 with Visa ending 9182",
    )
    result = TurnResult(
        answer="a [1] [2]",
        citations=[row, order],
        context=ContextInfo(
            text="", tokens=0, customer_id=OLIVIA, passage_ids=[], history_ids=[], fact_ids=[]
        ),
        handoff=False,
        generator="offline",
        degraded=False,
        timings_ms={},
    )
    staff = ChatResponse.of(result, staff=True)
    assert [c.id for c in staff.citations] == ["msg:41", "order:#W5442520"]
    assert "credit_card_9753331" in staff.citations[1].text  # staff read the ids
    widget = ChatResponse.of(result)
    first, second = widget.citations
    # a keyed digest, not the number (random hex may hold "41" by chance: not checked)
    assert re.fullmatch(r"history:[0-9a-f]{16}", first.id) and first.id != "history:41"
    assert first.text == row.text and second.text == order.customer_text
    assert ChatResponse.of(result).citations[0].id == first.id  # stable within a process


def test_a_customer_reads_their_order_citation_without_internal_ids(client):
    body = {**identity(OLIVIA), "message": "Can I cancel my order #W5442520?"}
    out = client.post("/v1/chat", json=body).json()
    (cited,) = [c for c in out["citations"] if c["id"] == "record:order:#W5442520"]
    assert cited["text"].startswith("Order #W5442520 (Gaming Mouse")
    assert "Visa ending 9182" in cited["text"] and "Gaming Mouse" in cited["text"]
    assert "credit_card_" not in cited["text"] and "product " not in cited["text"]
    assert cited.get("customer_text") is None
