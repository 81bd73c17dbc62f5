"""Two businesses in one deployment, over real HTTP: the store (the demo data, workspace
`default`) and a bank (workspace `bank`: τ-knowledge's customers by a mapping file, a few
of its documents, and a customer whose id is also a store customer's). Nothing crosses:
not a customer, an order, a passage, a history item, a conversation, a key or an erasure."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from assistant.api import create_app
from assistant.api.security import user_hash
from profiles.admin import CustomerIn, upsert_customer
from profiles.mapping import import_files, load_mapping
from profiles.workspaces import Registry
from retrieval.documents import Document
from tests.api.conftest import ADMIN_KEY, AGENT_KEY, SETTINGS, identity

ROOT = Path(__file__).resolve().parents[2]
BANK_DB = ROOT.parent / "shared" / "datasets" / "tau-banking-knowledge" / "db.json"
SHARED = "olivia_ito_3591"  # a store customer; the bank has a different person by this id
BANK_ONLY = "123"  # Mia Smith, a bank customer
BANK_FACT = "A Zephyr debit card replacement costs 17 dollars and arrives in 4 business days."
MEMORY = "my parrot is called Captain Pickles"


@dataclass
class Two:
    client: TestClient
    bank_secret: str
    bank_agent: str
    bank_admin: str

    def bank(self, customer_id: str) -> dict[str, str]:
        return {"customer_id": customer_id, "user_hash": user_hash(self.bank_secret, customer_id)}


BANK = {"X-Rapport-Workspace": "bank"}


@pytest.fixture
def two(make_container) -> Two:
    store = make_container(**SETTINGS)
    made = Registry(store.settings.data_dir).create("bank", brand="Rapport Bank")
    assert made is not None
    client = TestClient(create_app(store), raise_server_exceptions=False)
    bank = client.app.state.services.workspaces.get("bank")  # type: ignore[attr-defined]
    import_files(bank.engine, load_mapping(ROOT / "profiles/mappings/tau_banking.yaml"), [BANK_DB])
    consents = {"personalization": True, "history": True}
    upsert_customer(
        bank.engine,
        SHARED,
        CustomerIn(first_name="Oksana", last_name="Berg", consents=consents),
    )
    bank.kb.ingest([Document(id="bank-cards", title="Replacing a debit card", text=BANK_FACT)])
    secret = made.workspace.config.widget_secret
    assert secret
    return Two(client, secret, made.agent_key, made.admin_key)


def _chat(client: TestClient, body: dict[str, str], message: str, headers=None, **extra):
    r = client.post("/v1/chat", json={**body, "message": message, **extra}, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


def test_each_business_answers_its_own_customer_from_its_own_kb(two: Two):
    store = _chat(two.client, identity(SHARED), "how much is a debit card replacement?")
    bank = _chat(two.client, two.bank(SHARED), "how much is a debit card replacement?", BANK)

    assert "Zephyr" not in store["answer"] and "17 dollars" not in store["answer"]
    assert all(c["id"].split("#")[0] != "bank-cards" for c in store["citations"])
    assert "17 dollars" in bank["answer"]
    assert {c["id"].split("#")[0] for c in bank["citations"] if c["kind"] == "kb"} == {"bank-cards"}
    # The same id is two people: the bank greets its own customer and knows no store order.
    assert "Oksana" in bank["answer"] and "Olivia" not in bank["answer"]
    assert "#W" not in bank["answer"]
    assert not [c for c in bank["citations"] if c["kind"] == "order"]


def test_a_widget_is_verified_with_its_own_workspaces_secret(two: Two):
    # The store's identity hash does not open the bank, nor the bank's the store.
    r = two.client.post("/v1/chat", json={**identity(SHARED), "message": "hi"}, headers=BANK)
    assert r.status_code == 401
    r = two.client.post("/v1/chat", json={**two.bank(SHARED), "message": "hi"})
    assert r.status_code == 401
    # A customer only one business has is unknown to the other.
    r = two.client.post("/v1/chat", json={**identity(BANK_ONLY), "message": "hi"})
    assert r.status_code == 404
    # A workspace that does not exist: 404, its name not echoed.
    r = two.client.post(
        "/v1/chat",
        json={**identity(SHARED), "message": "hi"},
        headers={"X-Rapport-Workspace": "nosuchbank"},
    )
    assert r.status_code == 404 and "nosuchbank" not in r.text
    assert r.json()["error"] == "unknown workspace"


def test_history_stays_in_its_business(two: Two):
    _chat(two.client, identity(SHARED), f"by the way, {MEMORY}")
    bank = _chat(
        two.client,
        two.bank(SHARED),
        "what did I tell you my parrot is called?",
        headers={**BANK, "X-API-Key": two.bank_agent},
    )
    assert "Pickles" not in bank["answer"]
    assert "Pickles" not in bank["detail"]["context"]["text"]
    assert not [c for c in bank["citations"] if c["kind"] == "history"]
    # while the store, asked the same, remembers it
    store = _chat(
        two.client,
        identity(SHARED),
        "what did I tell you my parrot is called?",
        headers={"X-API-Key": AGENT_KEY},
    )
    assert "Pickles" in store["detail"]["context"]["text"]


def test_keys_open_only_their_own_workspace(two: Two):
    store_turn = _chat(two.client, identity(SHARED), "where is my order?")
    bank_turn = _chat(two.client, two.bank(BANK_ONLY), "my card is lost", BANK)
    queue = "/v1/agent/conversations"

    bank_queue = two.client.get(queue, headers={"X-API-Key": two.bank_agent}).json()
    store_queue = two.client.get(queue, headers={"X-API-Key": AGENT_KEY}).json()
    assert [q["conversation_id"] for q in bank_queue] == [bank_turn["conversation_id"]]
    assert store_turn["conversation_id"] in [q["conversation_id"] for q in store_queue]
    assert bank_turn["conversation_id"] not in [q["conversation_id"] for q in store_queue]

    # A conversation of the other business is unknown, for its agents and its customers.
    url = f"/v1/agent/conversations/{store_turn['conversation_id']}"
    assert two.client.get(url, headers={"X-API-Key": two.bank_agent}).status_code == 404
    r = two.client.get(
        f"/v1/conversations/{store_turn['conversation_id']}",
        headers={**BANK, "X-Customer-Id": SHARED, "X-User-Hash": two.bank(SHARED)["user_hash"]},
    )
    assert r.status_code == 404
    # A key used with another workspace's name is refused, not silently rerouted.
    r = two.client.get(queue, headers={"X-API-Key": AGENT_KEY, **BANK})
    assert r.status_code == 403
    assert r.json()["error"] == "this agent key belongs to another workspace"
    # An agent key is not an admin key, in its own workspace or another.
    export = f"/v1/admin/customers/{SHARED}/export"
    assert two.client.get(export, headers={"X-API-Key": two.bank_agent}).status_code == 403


def test_export_and_erase_act_in_one_workspace(two: Two):
    _chat(two.client, identity(SHARED), f"by the way, {MEMORY}")
    _chat(two.client, two.bank(SHARED), "I want a new debit card", BANK)
    export = f"/v1/admin/customers/{SHARED}/export"

    bank_doc = two.client.get(export, headers={"X-API-Key": two.bank_admin}).json()
    assert bank_doc["customer"]["first_name"] == "Oksana"
    assert not any(r["kind"].startswith("order") for r in bank_doc["records"])  # the store's
    texts = [m["text"] for c in bank_doc["conversations"] for m in c["messages"]]
    assert "I want a new debit card" in texts and not any(MEMORY in t for t in texts)

    r = two.client.delete(f"/v1/admin/customers/{SHARED}", headers={"X-API-Key": two.bank_admin})
    assert r.status_code == 200 and r.json()["status"] == "erased"
    # The bank's Oksana is gone; the store's Olivia, her orders and history are not.
    assert two.client.get(export, headers={"X-API-Key": two.bank_admin}).status_code == 404
    store_doc = two.client.get(export, headers={"X-API-Key": ADMIN_KEY}).json()
    assert store_doc["customer"]["first_name"] == "Olivia" and store_doc["records"]
    assert any(MEMORY in v["text"] for v in store_doc["vector_store"])
    assert _chat(two.client, identity(SHARED), "hi again")["answer"]


def test_kb_admin_writes_go_to_the_keys_workspace(two: Two):
    doc = {"id": "store-gift-wrap", "title": "Gift wrap", "content": "Wrapping costs 4 dollars."}
    r = two.client.post(
        "/v1/admin/kb/documents", json={"documents": [doc]}, headers={"X-API-Key": ADMIN_KEY}
    )
    assert r.status_code == 200, r.text
    bank = two.client.app.state.services.workspaces.get("bank")  # type: ignore[attr-defined]
    store = two.client.app.state.services.workspaces.get("default")  # type: ignore[attr-defined]
    assert not bank.index.get(bank.kb.collection, where={"doc_id": "store-gift-wrap"})
    assert store.index.get(store.kb.collection, where={"doc_id": "store-gift-wrap"})


def test_a_bank_customer_reads_their_own_records_and_erasure_takes_them(two: Two):
    liang = "lj82d4f1a9"  # two debit cards, a credit card and two accounts in db.json
    turn = _chat(two.client, two.bank(liang), "is my debit card still active?", BANK)
    assert "Debit card dbc_lj82d4f1a9_bluest ending 4821" in turn["answer"]
    assert ": active" in turn["answer"]  # its status in words, not the code "ACTIVE"
    assert "Silver Rewards Card" not in turn["answer"]  # a credit card is not what was asked
    cited = [c for c in turn["citations"] if c["kind"] == "record"]
    assert {c["id"] for c in cited} >= {"record:debit_card:dbc_lj82d4f1a9_bluest"}
    assert "739" not in turn["answer"] and "739" not in str(turn["citations"])

    admin = {"X-API-Key": two.bank_admin}
    doc = two.client.get(f"/v1/admin/customers/{liang}/export", headers=admin).json()
    kinds = sorted({r["kind"] for r in doc["records"]})
    # the card's CVV was never stored: the mapping names it sensitive
    assert all("cvv" not in r["fields"] for r in doc["records"])
    assert kinds == ["account", "bank_transaction", "credit_card", "debit_card"]
    erased = two.client.delete(f"/v1/admin/customers/{liang}", headers=admin).json()
    assert erased["rows_deleted"]["records"] == len(doc["records"])
    bank = two.client.app.state.services.workspaces.get("bank")  # type: ignore[attr-defined]
    from sqlmodel import Session, select

    from profiles.models import CustomerRecord

    with Session(bank.engine) as s:
        assert s.exec(select(CustomerRecord).where(CustomerRecord.customer_id == liang)).all() == []


def test_the_bank_agent_sees_the_customers_records_in_the_sidebar(two: Two):
    liang = "lj82d4f1a9"
    r = two.client.post(
        "/v1/assist",
        json={"customer_id": liang, "message": "is my debit card active?"},
        headers={"X-API-Key": two.bank_agent},
    )
    assert r.status_code == 200, r.text
    a = r.json()
    assert a["overview"]["record_counts"] == {
        "account": 2,
        "bank_transaction": 58,  # owned through its account: the source names no customer
        "credit_card": 1,
        "debit_card": 2,
    }
    texts = [x["text"] for x in a["overview"]["records"]]
    assert any(t.startswith("Debit card dbc_lj82d4f1a9_bluest ending 4821") for t in texts)
    assert a["summary"].startswith(
        "Liang Jinhai has 2 accounts, 58 bank transactions, 1 credit card, 2 debit cards"
    )
    # no draft asks a bank customer which order they mean
    assert not any("order" in d for d in a["suggested_replies"])
    # The store's agent cannot ask about the bank's customer.
    r = two.client.post(
        "/v1/assist",
        json={"customer_id": liang, "message": "hi"},
        headers={"X-API-Key": AGENT_KEY},
    )
    assert r.status_code == 404


def test_each_business_speaks_as_its_own_brand(two: Two):
    from assistant.types import TurnRequest

    services = two.client.app.state.services.workspaces  # type: ignore[attr-defined]
    bank = services.get("bank").assistant.prepare(TurnRequest(customer_id=SHARED, message="hi"))
    assert "the support assistant of Rapport Bank." in bank.composed.text
    store = services.get("default").assistant.prepare(TurnRequest(customer_id=SHARED, message="hi"))
    assert "Rapport Bank" not in store.composed.text
    assert "the support assistant of Acme Outdoor & Home." in store.composed.text


def test_readiness_checks_every_business(two: Two):
    checks = two.client.get("/readyz").json()["checks"]
    assert checks == {
        "database": "ok",
        "vector_store": "ok",
        "database (bank)": "ok",
        "vector_store (bank)": "ok",
        "embedder": "ok",
    }
    bank = two.client.app.state.services.workspaces.get("bank")  # type: ignore[attr-defined]
    from sqlalchemy import create_engine

    working = bank.engine
    bank.__dict__["engine"] = create_engine("sqlite:////dev/null/gone.db")  # no such folder
    try:  # the bank's database cannot be opened: not ready, and it says which
        r = two.client.get("/readyz")
        assert r.status_code == 503
        assert r.json()["checks"]["database (bank)"].startswith("error")
        assert r.json()["checks"]["database"] == "ok"
    finally:
        bank.__dict__["engine"] = working
    assert two.client.get("/readyz").status_code == 200
