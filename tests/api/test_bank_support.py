"""The support suite's bank slice in CI: the bank's customers ask as they write, through
POST /v1/chat to the bank's workspace (its mapping, the documents its tasks need, the
generic intents, its brand), with the offline composer. What they read must state their
own card, balance or charge, in their language, without the store's text, staff wording
or internal labels."""

from __future__ import annotations

import json
import re

import pytest
from fastapi.testclient import TestClient

from assistant.api import create_app
from assistant.api.security import user_hash
from assistant.cli import BANK_URGENT
from eval import bank_support as bs
from eval.report import build_report
from eval.support_suite import totals
from profiles.mapping import PACKAGED_MAPPINGS, import_files, load_mapping
from profiles.workspaces import GENERIC_INTENTS, Registry
from tests.api.conftest import SETTINGS
from tests.conftest import BANK_DOCS, DATASETS

BANK = DATASETS / "tau-banking-knowledge"
PER_INTENT = 3
SEED = 20261204  # another draw than the dev runs; the CLI's --seed gives others


CARD_CLOSING = "doc_credit_cards_credit_card_account_logistics_001"


@pytest.fixture
def bank_client(make_container) -> tuple[TestClient, str]:
    store = make_container(**SETTINGS)
    made = Registry(store.settings.data_dir).create(
        "bank", brand="Rapport Bank", intents=list(GENERIC_INTENTS), urgent_help=BANK_URGENT
    )
    assert made is not None and made.workspace.config.widget_secret
    client = TestClient(create_app(store), raise_server_exceptions=False)
    bank = client.app.state.services.workspaces.get("bank")  # type: ignore[attr-defined]
    import_files(
        bank.engine, load_mapping(PACKAGED_MAPPINGS / "tau_banking.yaml"), [BANK / "db.json"]
    )
    tasks = json.loads((BANK / "tasks.json").read_text(encoding="utf-8"))
    # the documents the tasks need, and the customer article on closing a credit card
    # (the tasks need only the staff procedure)
    wanted = sorted({d for t in tasks for d in t["required_documents"]} | {CARD_CLOSING})
    bank.kb.ingest(bank.kb.load_documents([BANK_DOCS / f"{d}.json" for d in wanted]))
    return client, made.workspace.config.widget_secret


def test_bank_slice_meets_its_floors(bank_client: tuple[TestClient, str]) -> None:
    client, secret = bank_client
    bank = bs.read_bank(BANK / "db.json")
    cases = bs.build_cases(bank, per_intent=PER_INTENT, seed=SEED)

    def send(body: dict) -> dict:
        r = client.post("/v1/chat", json=body, headers={"X-Rapport-Workspace": "bank"})
        assert r.status_code == 200, r.text
        return r.json()

    scorer = bs.http_scorer(send, bank, lambda cid: user_hash(secret, cid))
    per_case = [scorer(c) for c in cases]
    report = build_report(bs.SUITE, "rapport", {}, per_case, totals(per_case))
    failed = {
        c.id: {k: v for k, v in c.detail.items() if k not in ("customer", "handoff")}
        for c in per_case
        if not c.metrics["pass"]
    }
    m = report.metrics
    print("BANK SUPPORT", {k: round(v, 3) for k, v in m.items()})

    assert m["false_statements_total"] == 0, failed
    assert m["staff_voice_total"] == 0, failed
    assert m["internal_labels_total"] == 0, failed
    assert m["other_business_total"] == 0, failed
    assert m["pass"] >= PASS_FLOOR, (m["pass"], failed)
    assert m["min_intent_pass"] >= INTENT_FLOOR, (report.by_category, failed)
    assert m["handoff_recall"] == 1.0 and m["handoff_precision"] >= 0.75, failed


PASS_FLOOR = 0.95  # 1.00 on this slice (2026-12-05): one case may fail, not two
INTENT_FLOOR = 0.66


def test_bank_cases_state_the_bank_data_not_rapports_rendering() -> None:
    bank = bs.read_bank(BANK / "db.json")
    cases = bs.build_cases(bank, per_intent=4, seed=1)
    assert {c.category for c in cases} >= set(bs.INTENTS) | {"non_english"}
    assert len({c.turns[0] for c in cases}) > 0.8 * len(cases)  # varied phrasings
    liang = bank["lj82d4f1a9"]
    assert liang.last4 == {"4821", "7293"} and "chk_538bfb9cba" in liang.owned
    # a transaction that names only its account belongs to the account's owner
    assert any(k.startswith("btxn_") for k in liang.owned)
    import re

    assert re.search(bs._money("$1,038.52"), "balance 1038.52")
    assert not re.search(bs._money("3500.00"), "holdings 13500.00")
    assert re.search(bs._money("0"), "holdings $0.00, opened") and not re.search(
        bs._money("0"), "holdings $0.50"
    )


def test_a_spanish_reply_names_its_sources_in_spanish(bank_client: tuple[TestClient, str]) -> None:
    """The widget's labels of a reply's sources and the record a customer opens are in
    the reply's language; staff still read the record as the model did."""
    reply = _ask(
        bank_client, "01f21c9970", "Hola, ¿cuál es el saldo de mi tarjeta Gold Rewards Card?"
    )
    assert reply["answer"].startswith("Hola"), reply["answer"]
    records = [c for c in reply["citations"] if c["kind"] == "record"]
    assert records, reply
    card = next(c for c in records if "cc_01f21c9970_gold" in c["id"])
    assert card["label"] == "Gold Rewards Card"  # its name, as the bank shows the card
    assert "saldo" in card["text"] and "balance" not in card["text"]
    # its dates as Spanish writes them: "01/05/2026" reads as the first of May there
    assert re.search(r"abierta el \d{1,2} [a-z]{3} \d{4}", card["text"]), card["text"]
    assert all(c["label"] for c in reply["citations"])
    assert not any(c["label"] in ("Your account", "Help article") for c in reply["citations"])


def test_the_article_about_the_customers_own_account_answers(
    bank_client: tuple[TestClient, str],
) -> None:
    """Each checking account has its own FAQ; a Blue Account holder asking how long a
    transfer takes reads the Blue Account's answer, a Green Account holder the Green's,
    and neither reads the other's (2 against 3 business days)."""
    faqs = [
        "doc_checking_accounts_blue_account_010",
        "doc_checking_accounts_green_account_(checking)_010",
    ]
    _ingest(bank_client, faqs)
    message = "how long does a transfer to another bank take?"
    replies = {
        account: _ask(bank_client, customer, message)
        for customer, account in (("c7d8e9f0a1", "blue"), ("224959b99e", "green"))
    }
    blue, green = replies["blue"], replies["green"]
    assert "2 business days" in blue["answer"] and "3 business days" not in blue["answer"], blue
    assert "3 business days" in green["answer"] and "2 business days" not in green["answer"], green
    cited = {a: [c["id"] for c in r["citations"] if c["kind"] == "kb"] for a, r in replies.items()}
    assert cited["blue"] and all(i.startswith(faqs[0]) for i in cited["blue"]), cited
    assert cited["green"] and all(i.startswith(faqs[1]) for i in cited["green"]), cited


def test_a_question_the_account_does_not_hold_reads_its_own_articles_answer(
    bank_client: tuple[TestClient, str],
) -> None:
    """ "Is there a monthly fee on my checking account?" from a Green Account holder: the
    account (the record does not hold its fees) and the row of the Green Account's own fee
    table, not the Blue Account's fees."""
    docs = [
        "doc_checking_accounts_green_account_(checking)_001",
        "doc_checking_accounts_blue_account_001",
    ]
    _ingest(bank_client, docs)
    reply = _ask(bank_client, "224959b99e", "is there a monthly fee on my checking account?")
    assert "Green Account" in reply["answer"], reply["answer"]
    assert "Monthly maintenance fee: $22.50" in reply["answer"], reply["answer"]
    kb = [c["id"] for c in reply["citations"] if c["kind"] == "kb"]
    assert not any("blue_account" in i for i in kb), kb


def _ask(
    bank_client: tuple[TestClient, str],
    customer: str,
    message: str,
    conversation: str | None = None,
) -> dict:
    """The bank's reply to `message` from `customer`, through the widget's POST /v1/chat
    (in `conversation`, when given)."""
    client, secret = bank_client
    body = {"customer_id": customer, "user_hash": user_hash(secret, customer), "message": message}
    if conversation:
        body["conversation_id"] = conversation
    r = client.post("/v1/chat", json=body, headers={"X-Rapport-Workspace": "bank"})
    assert r.status_code == 200, r.text
    return r.json()


def _ingest(bank_client: tuple[TestClient, str], docs: list[str]) -> None:
    """Add the bank's documents `docs` (by id) to its KB beside the tasks' documents."""
    bank = bank_client[0].app.state.services.workspaces.get("bank")  # type: ignore[attr-defined]
    bank.kb.ingest(bank.kb.load_documents([BANK_DOCS / f"{d}.json" for d in docs]))


def test_an_action_two_cards_allow_is_asked_back_then_answered(
    bank_client: tuple[TestClient, str],
) -> None:
    """Kwame holds two credit cards, both of which can be replaced: "I want to replace my
    card" asks which one, listing both and no help article; "the business one" then answers
    for the Business Gold Rewards Card. Neither can be closed yet (the bank's mapping:
    a zero balance first), so "I want to cancel my card" asks nothing and says why, in his
    word, with what closing takes from the bank's article on closing a credit card account.
    Yuki's only debit card needs no question."""
    first = _ask(bank_client, "01f21c9970", "i want to replace my card")
    answer = first["answer"]
    assert "Which one would you like to replace?" in answer, answer
    cited = {c["id"] for c in first["citations"]}
    assert {
        "record:credit_card:cc_01f21c9970_gold",
        "record:credit_card:cc_01f21c9970_bgold",
    } <= cited
    assert not any(c["kind"] == "kb" for c in first["citations"]), first["citations"]
    then = _ask(
        bank_client, "01f21c9970", "the business one", conversation=first["conversation_id"]
    )
    assert "Business Gold Rewards Card" in then["answer"], then["answer"]
    assert "You can replace it." in then["answer"] and "Which one" not in then["answer"]
    assert "cc_01f21c9970_gold)" not in then["answer"], then["answer"]
    close = _ask(bank_client, "01f21c9970", "i want to cancel my card")["answer"]
    assert "Which one" not in close and "You can cancel" not in close, close
    assert close.count("You can't cancel it yet: its balance must be $0.00 first.") == 2, close
    assert "Here is what it takes to cancel it" in close, close
    closing = _ask(bank_client, "01f21c9970", "i want to cancel my business card")
    articles = {c["id"].partition("#")[0] for c in closing["citations"] if c["kind"] == "kb"}
    assert articles == {CARD_CLOSING}, articles
    only = _ask(bank_client, "224959b99e", "quiero cancelar mi tarjeta")
    assert "¿Cuál" not in only["answer"] and "puedes cancelar" in only["answer"], only["answer"]


def test_a_lost_card_goes_to_a_specialist_with_the_banks_24_7_line(
    bank_client: tuple[TestClient, str],
) -> None:
    """ "i lost my card!!" is a security handoff; the bank's workspace gives what the
    customer can do before an agent is back (its fraud line, from its own articles), in
    their language. The store, which set no line, says nothing of the bank's."""
    reply = _ask(bank_client, "224959b99e", "i lost my card!!")
    assert reply["handoff"], reply
    assert "1-800-RHO-BANK" in reply["answer"] and "24/7" in reply["answer"], reply["answer"]
    spanish = _ask(bank_client, "01f21c9970", "perdí mi tarjeta de crédito")
    assert spanish["handoff"] and "llámanos ya al 1-800-RHO-BANK" in spanish["answer"]
    client, _ = bank_client
    store = client.app.state.services.workspaces.get("default")  # type: ignore[attr-defined]
    assert store.settings.urgent_help == {}
