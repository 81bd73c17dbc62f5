"""Agent assist, admin and operations endpoints through the real app."""

from tests.api.conftest import ADMIN_KEY, AGENT_KEY, identity

OLIVIA = "olivia_ito_3591"
AGENT = {"X-API-Key": AGENT_KEY}
ADMIN = {"X-API-Key": ADMIN_KEY}


def test_assist_needs_an_agent_key(client):
    body = {"customer_id": OLIVIA, "message": "Can I cancel #W5442520?"}
    assert client.post("/v1/assist", json=body).status_code == 401
    assert client.post("/v1/assist", json=body, headers={"X-API-Key": "nope"}).status_code == 403
    r = client.post("/v1/assist", json=body, headers={"Authorization": f"Bearer {AGENT_KEY}"})
    assert r.status_code == 200


def test_assist_for_a_conversation(client):
    conv = client.post(
        "/v1/chat", json={**identity(OLIVIA), "message": "Can I cancel my order #W5442520?"}
    ).json()["conversation_id"]
    r = client.post("/v1/assist", json={"conversation_id": conv}, headers=AGENT)
    assert r.status_code == 200, r.text
    a = r.json()
    assert a["customer"]["id"] == OLIVIA and a["customer"]["consents"]["history"] is True
    assert any(r["id"] == "#W5442520" for r in a["overview"]["records"])
    assert a["message"] == "Can I cancel my order #W5442520?"
    assert "Olivia Ito has" in a["summary"] and "1 conversation" in a["summary"]
    assert len(a["suggested_replies"]) >= 2 and "#W5442520" in a["suggested_replies"][0]
    assert a["articles"] and all(x["id"] for x in a["articles"])
    top = a["next_best_actions"][0]
    assert (top["action"], top["target"]) == ("cancel", "#W5442520")
    assert "pending" in top["reason"]
    assert isinstance(a["risk_flags"], list) and a["decision_trace"]


def test_assist_reads_the_last_message_as_following_its_conversation(client):
    """ "ok cancel it then" is the order the conversation is about, for the agent as for
    the bot: the draft, the offer and the next best action name it, and no draft asks
    which order; "gracias!" at the end of an English conversation is answered in
    English, as the bot did."""

    def chat(message: str, conv: str | None = None) -> dict:
        body = {**identity(OLIVIA), "message": message, "conversation_id": conv}
        return client.post("/v1/chat", json=body).json()

    conv = chat("where is my order #W5442520?")["conversation_id"]
    chat("ok cancel it then", conv)
    a = client.post("/v1/assist", json={"conversation_id": conv}, headers=AGENT).json()
    assert a["message"] == "ok cancel it then"
    drafts = a["suggested_replies"]
    assert "#W5442520" in drafts[0] and "#W3657213" not in drafts[0], drafts
    assert "I can help you cancel your order #W5442520" in drafts[1], drafts
    assert not any("which order" in d for d in drafts)
    top = a["next_best_actions"][0]
    assert (top["action"], top["target"]) == ("cancel", "#W5442520")
    bot = chat("gracias!", conv)["answer"]
    a = client.post("/v1/assist", json={"conversation_id": conv}, headers=AGENT).json()
    assert a["suggested_replies"][0] == bot and not bot.startswith("Hola"), (bot, a)
    assert a["articles"] == []  # a thanks needs none
    # the agent's own message for that conversation reads on from all of it
    body = {"conversation_id": conv, "message": "and can I return it instead?"}
    a = client.post("/v1/assist", json=body, headers=AGENT).json()
    assert "#W5442520" in a["suggested_replies"][0], a["suggested_replies"]


def test_after_a_go_ahead_the_first_draft_does_it(client):
    """ "yes go ahead" to cancelling: the agent's first draft says the cancellation is
    under way (it repeated the bot's offer, then asked the customer to confirm again), in
    the customer's language; the offer to confirm is no draft then."""

    def chat(message: str, conv: str | None = None) -> dict:
        body = {**identity(OLIVIA), "message": message, "conversation_id": conv}
        return client.post("/v1/chat", json=body).json()

    for ask, yes, done in (
        ("can i cancel my order #W7941031?", "yes go ahead", "I'll cancel your order #W7941031"),
        (
            "¿puedo cancelar mi pedido #W7941031?",
            "sí, adelante",
            "Voy a cancelar tu pedido #W7941031",
        ),
    ):
        conv = chat(ask)["conversation_id"]
        assert chat(yes, conv)["handoff"]
        a = client.post("/v1/assist", json={"conversation_id": conv}, headers=AGENT).json()
        drafts = a["suggested_replies"]
        assert done in drafts[0], drafts
        assert not any("confirm that" in d or "Me confirmas" in d for d in drafts), drafts


def test_after_a_no_no_draft_offers_it_again(client):
    """ "ok wait, don't cancel": the agent's drafts say nothing is changed and none offers
    the cancellation again."""
    body = {**identity(OLIVIA), "message": "can i cancel my order #W7941031?"}
    conv = client.post("/v1/chat", json=body).json()["conversation_id"]
    no = {**identity(OLIVIA), "message": "ok wait, don't cancel", "conversation_id": conv}
    assert not client.post("/v1/chat", json=no).json()["handoff"]
    a = client.post("/v1/assist", json={"conversation_id": conv}, headers=AGENT).json()
    drafts = a["suggested_replies"]
    assert "nothing has been changed" in drafts[0], drafts
    assert not any("help you cancel" in d for d in drafts), drafts
    assert not any(n["action"] == "cancel" for n in a["next_best_actions"])


def test_drafts_are_in_the_language_the_customer_writes(client):
    body = {"customer_id": OLIVIA, "message": "¿Puedo cancelar mi pedido #W5442520, por favor?"}
    drafts = client.post("/v1/assist", json=body, headers=AGENT).json()["suggested_replies"]
    assert drafts[0].startswith("Hola Olivia:") and "#W5442520" in drafts[0]
    assert "Puedo ayudarte a cancelar tu pedido #W5442520" in drafts[1]
    assert drafts[2].startswith("Hola Olivia: para asegurarme")
    assert not any("thanks" in d or "make sure" in d for d in drafts)


def test_assist_flags_handoff_and_escalates(client):
    r = client.post(
        "/v1/assist",
        json={"customer_id": OLIVIA, "message": "I want a human, this is unacceptable"},
        headers=AGENT,
    )
    a = r.json()
    assert a["next_best_actions"][0]["action"] == "escalate"
    assert any(f.startswith("handoff") for f in a["risk_flags"])
    assert "customer seems upset" in a["risk_flags"]


def test_assist_errors(client):
    assert client.post("/v1/assist", json={}, headers=AGENT).status_code == 422
    r = client.post("/v1/assist", json={"conversation_id": "nope"}, headers=AGENT)
    assert r.status_code == 404


def test_agent_queue_lists_recent_conversations(client):
    client.post("/v1/chat", json={**identity(OLIVIA), "message": "I need a human please"})
    r = client.get("/v1/agent/conversations", headers=AGENT)
    assert r.status_code == 200
    first = r.json()[0]
    assert first["customer_id"] == OLIVIA and first["handoff"] is True
    assert client.get("/v1/agent/conversations").status_code == 401


def test_admin_upserts_are_idempotent(client):
    body = {"first_name": "Ana", "last_name": "Lima", "consents": {"personalization": True}}
    r1 = client.put("/v1/admin/customers/ana_lima_0001", json=body, headers=ADMIN)
    r2 = client.put("/v1/admin/customers/ana_lima_0001", json=body, headers=ADMIN)
    assert (r1.status_code, r2.status_code) == (201, 200)
    bad = client.put(
        "/v1/admin/customers/ana_lima_0001", json={"consents": {"spam": True}}, headers=ADMIN
    )
    # Named by what is wrong, not by echoing the value sent.
    assert bad.status_code == 422 and "unknown consent purpose" in bad.json()["error"]
    assert "spam" not in bad.text
    # the business's own attributes: names a rule can read, and no value echoed back
    tier = {**body, "attributes": {"tier": "gold"}}
    assert client.put("/v1/admin/customers/ana_lima_0001", json=tier, headers=ADMIN).is_success
    spaced = {**body, "attributes": {"loyalty tier!": "gold"}}
    bad = client.put("/v1/admin/customers/ana_lima_0001", json=spaced, headers=ADMIN)
    assert bad.status_code == 422 and "attributes" in bad.json()["error"], bad.text
    assert "loyalty tier!" not in bad.text
    order = {"customer_id": "ana_lima_0001", "status": "pending", "amount": 10, "open": True}
    at = "/v1/admin/records/order/%23W0000001"
    assert client.put(at, json=order, headers=ADMIN).status_code == 201
    assert client.put(at, json=order, headers=ADMIN).status_code == 200
    order["customer_id"] = "nobody_0000"
    assert client.put(at.replace("01", "02"), json=order, headers=ADMIN).status_code == 404
    # the typed orders endpoint went with the typed tables: an order is a record
    gone = client.put("/v1/admin/orders/%23W0000003", json=order, headers=ADMIN)
    assert gone.status_code in (404, 405) and "application/json" in gone.headers["content-type"]
    ev = {"key": "evt-1", "type": "page_view", "payload": {"url": "/returns"}}
    e1 = client.post("/v1/admin/customers/ana_lima_0001/events", json=ev, headers=ADMIN).json()
    e2 = client.post("/v1/admin/customers/ana_lima_0001/events", json=ev, headers=ADMIN).json()
    assert e1["id"] == e2["id"]
    assert client.put("/v1/admin/customers/x_1", json=body, headers=AGENT).status_code == 403


def test_admin_kb_ingest_and_delete(client):
    docs = {
        "documents": [
            {
                "id": "gift-wrap",
                "title": "Gift wrapping",
                "content": "# Gift wrapping\n\nWe gift wrap any order for $5. "
                "Choose gift wrap at checkout; it cannot be added after the order ships.",
            }
        ]
    }
    r1 = client.post("/v1/admin/kb/documents", json=docs, headers=ADMIN).json()
    r2 = client.post("/v1/admin/kb/documents", json=docs, headers=ADMIN).json()
    assert r1["added"] == 1 and r2["unchanged"] == 1 and r2["chunks_written"] == 0
    a = client.post(
        "/v1/assist",
        json={"customer_id": OLIVIA, "message": "Can you gift wrap my order?"},
        headers=AGENT,
    ).json()
    assert any(x["id"].startswith("gift-wrap#") for x in a["articles"])
    d = client.delete("/v1/admin/kb/documents/gift-wrap", headers=ADMIN).json()
    assert d["chunks_deleted"] >= 1
    bad = client.post(
        "/v1/admin/kb/documents",
        json={"documents": [{"id": "a b", "title": "x", "content": "y"}]},
        headers=ADMIN,
    )
    assert bad.status_code == 422 and "body.documents.0.id" in bad.json()["error"]


def test_health_readiness_and_metrics(client):
    assert client.get("/healthz").json()["status"] == "ok"
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "vector_store": "ok", "embedder": "ok"}
    client.post("/v1/chat", json={**identity(OLIVIA), "message": "hello"})
    text = client.get("/metrics").text
    assert 'rapport_http_requests_total{method="POST",route="/v1/chat",status="200"} 1.0' in text
    assert 'rapport_stage_seconds_count{stage="retrieve"} 1.0' in text
    assert "rapport_fallbacks_total 0.0" in text


def test_openapi_docs_and_pages(client):
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/v1/chat", "/v1/assist", "/v1/feedback", "/readyz"} <= paths.keys()
    for page in ("/widget", "/agent", "/static/widget.js", "/static/agent.js"):
        assert client.get(page).status_code == 200, page


def test_demo_helpers_only_in_demo_mode(make_client):
    on = make_client()
    assert on.get("/demo/identity", params={"customer_id": OLIVIA}).json() == identity(OLIVIA)
    picker = on.get("/demo/customers").json()
    assert picker[0] == {"id": OLIVIA, "name": "Olivia Ito"} and len(picker) == 12
    assert len({c["id"] for c in picker}) == 12
    off = make_client(demo=False)
    assert off.get("/demo/identity", params={"customer_id": OLIVIA}).status_code == 404
    assert off.get("/demo/agent-key").status_code == 404
    assert off.get("/demo/customers").status_code == 404


def test_internal_documents_guide_agents_and_never_reach_customers(client, llm_guard):
    internal = "Agents may waive the gift wrap fee with override code GW-7731 for VIP customers."
    docs = {
        "documents": [
            {
                "id": "gift-wrap",
                "title": "Gift wrapping",
                "content": "# Gift wrapping\n\nWe gift wrap any order for $5 at checkout.",
            },
            {  # marks itself internal in its title, as the bank's documents do
                "id": "gift-wrap-waiver",
                "title": "Internal: Gift wrap fee waivers",
                "content": f"# Gift wrap fee waivers\n\n{internal}",
            },
            {  # or is declared so by whoever ingests it
                "id": "gift-wrap-override",
                "title": "Gift wrap overrides",
                "content": "# Gift wrap overrides\n\nOverride code GW-7731 waives the fee.",
                "audience": "internal",
            },
        ]
    }
    assert client.post("/v1/admin/kb/documents", json=docs, headers=ADMIN).status_code == 200
    question = "can you waive the gift wrap fee for me? is there an override code?"
    for body, headers in (
        ({**identity(OLIVIA), "message": question}, {}),
        ({**identity(OLIVIA), "message": question}, AGENT),  # staff detail: same reply
    ):
        out = client.post("/v1/chat", json=body, headers=headers).json()
        assert "GW-7731" not in out["answer"] and "override code" not in out["answer"].lower()
        assert not any("GW-7731" in c["text"] for c in out["citations"])
        assert not any(c["id"].startswith("gift-wrap-") for c in out["citations"])
    a = client.post(
        "/v1/assist", json={"customer_id": OLIVIA, "message": question}, headers=AGENT
    ).json()
    audiences = {x["id"].split("#")[0]: x["audience"] for x in a["articles"]}
    assert audiences.get("gift-wrap-waiver") == "internal"  # the agent sees it, labelled
    assert audiences.get("gift-wrap-override") == "internal"
    assert not any("GW-7731" in d for d in a["suggested_replies"])


def test_admin_upserts_records_of_any_kind_and_reference_data(client):
    """A business without a mapping file pushes its records over HTTP; the customer's
    context reads them at once, and a mistake is named without echoing what was sent."""
    body = {"first_name": "Ana", "last_name": "Lima", "consents": {"personalization": True}}
    assert client.put("/v1/admin/customers/ana_lima_0001", json=body, headers=ADMIN).is_success
    plan = {"fields": {"title": "Swim+", "price": 39}, "text": "Swim+ plan: pool and sauna"}
    r = client.put("/v1/admin/reference/plan/swim-plus", json=plan, headers=ADMIN)
    assert (r.status_code, r.json()) == (201, {"id": "swim-plus", "created": True})
    # a plan's add-on is part of it, and one that is not sold now is kept, never offered
    addon = {"text": "add-on A-1: towel service, $5", "part_of": "plan:swim-plus"}
    r = client.put("/v1/admin/reference/addon/A-1", json=addon, headers=ADMIN)
    assert r.status_code == 201
    gone = {**addon, "offered": False}
    assert client.put("/v1/admin/reference/addon/A-1", json=gone, headers=ADMIN).status_code == 200
    bad = {**addon, "part_of": "Swim Plus!"}
    r = client.put("/v1/admin/reference/addon/A-2", json=bad, headers=ADMIN)
    assert r.status_code == 422 and "Swim Plus" not in r.text and "part_of" in r.text
    record = {
        "customer_id": "ana_lima_0001",
        "status": "paused",
        "at": "2026-03-01T00:00:00Z",
        "fields": {"plan": "Swim+"},
        "links": {"plan": "swim-plus"},
        "text": "Swim+ membership M-77: paused since 1 March",
        "words": ["membership", "subscription"],
        "instead": {"cancel": "pause"},  # a cancellation its status does not allow: a pause
        "outcomes": {"pause": {"en": "Your plan waits for you."}},
        "statuses": {"ACTIVE": ["active"], "PAUSED": ["paused", "on hold"]},
    }
    url = "/v1/admin/records/membership/M-77"
    assert client.put(url, json=record, headers=ADMIN).status_code == 201
    record["status"] = "active"
    record["text"] = "Swim+ membership M-77: active"
    assert client.put(url, json=record, headers=ADMIN).status_code == 200  # replaced, not added
    export = client.get("/v1/admin/customers/ana_lima_0001/export", headers=ADMIN).json()
    (stored,) = export["records"]
    assert (stored["key"], stored["status"], stored["links"], stored["instead"]) == (
        "M-77",
        "active",
        {"plan": "swim-plus"},
        {"cancel": "pause"},
    )
    assert stored["outcomes"] == {"pause": {"en": "Your plan waits for you."}}
    assert stored["statuses"]["PAUSED"] == ["paused", "on hold"]

    reply = client.post(
        "/v1/chat",
        json={**identity("ana_lima_0001"), "message": "is my membership still on hold?"},
    ).json()
    assert "M-77" in reply["answer"] and "active" in reply["answer"], reply["answer"]

    # What its status allows next, by the business's own rules and words, in the
    # customer's language; a status that does not allow it says so.
    rules = {"allows": ["pause", "cancel"], "actions": {"cancel": {"es": "cancelarla"}}}
    assert client.put(url, json={**record, **rules}, headers=ADMIN).status_code == 200
    ended = {**record, "status": "ended", "text": "Yoga membership M-78: ended"}
    ended |= {"actions": {"cancel": {"es": "cancelarla"}}}
    assert client.put("/v1/admin/records/membership/M-78", json=ended, headers=ADMIN).is_success

    def ask(message: str) -> str:
        body = {**identity("ana_lima_0001"), "message": message}
        return client.post("/v1/chat", json=body).json()["answer"]

    assert "It is active, so you can still cancel it." in ask("can I cancel M-77?")
    assert "todavía puedes cancelarla" in ask("¿puedo cancelarla? es la M-77, gracias")
    assert "It is ended, so you can't cancel it now." in ask("can I cancel M-78 please")
    assert "can still" not in ask("what is the status of M-77?")  # no action asked
    # what an action also needs of the record, with the business's reason
    owing = {**record, **rules, "amount": 12.5}
    owing["requires"] = {"cancel": [{"when": "amount == 0", "why": "the last fee is unpaid"}]}
    assert client.put(url, json=owing, headers=ADMIN).status_code == 200
    assert "You can't cancel it yet: the last fee is unpaid." in ask("can I cancel M-77?")
    broken = {**owing, "requires": {"cancel": [{"when": "amount ==== 0", "why": "x"}]}}
    r = client.put(url, json=broken, headers=ADMIN)
    assert r.status_code == 422 and "====" not in r.text and "condition" in r.text

    taken = client.put(  # another customer's id for the same record
        url, json={**record, "customer_id": "olivia_khan_9030"}, headers=ADMIN
    )
    assert taken.status_code == 422 and "belongs to another customer" in taken.json()["error"]
    # a pattern that is no regular expression, or an id not of the pattern's shape
    bad_shape = client.put(url, json={**record, "id_pattern": "M-[0-9"}, headers=ADMIN)
    assert bad_shape.status_code == 422 and "M-[0-9" not in bad_shape.text
    assert "regular expression" in bad_shape.text
    unlike = client.put(url, json={**record, "id_pattern": r"MB-\d+"}, headers=ADMIN)
    assert unlike.status_code == 422 and "shape" in unlike.json()["error"]
    bad_kind = client.put("/v1/admin/records/Member%20Ship/M-1", json=record, headers=ADMIN)
    assert bad_kind.status_code == 422 and "Member" not in bad_kind.text
    stranger = client.put(url, json={**record, "customer_id": "nobody_0000"}, headers=ADMIN)
    assert stranger.status_code == 404
    assert client.put(url, json=record, headers=AGENT).status_code == 403
