"""Secrets typed into the chat (issue 16.5): a card number, its security code and a
password are taken out before the message is stored (SQL messages and history, the
vector store) or sent to the LLM, and the reply tells the customer so."""

from __future__ import annotations

import json

import httpx
import pytest
from sqlmodel import Session, select

from assistant.secrets_screen import screen
from profiles.models import HistoryItem, Message
from tests.api.conftest import identity
from tests.assistant.test_openai_generator import completion
from tests.stores import stored_texts

LLM = "http://llm.test/v1/chat/completions"
OLIVIA = "olivia_ito_3591"
SECRETS = ("4111.1111.1111.1111", "4111", "cvv 123", "Hunter2!")
MESSAGE = (
    "My card 4111.1111.1111.1111 was charged twice for #W5442520, cvv 123, "
    "and my password is Hunter2! if you need to log in"
)


@pytest.mark.parametrize(
    ("text", "kinds", "kept"),
    [
        ("my card is 4111 1111 1111 1111 exp 12/27", ["card"], "exp 12/27"),
        ("card 5555-5555-5555-4444, CVC: 456", ["card", "cvv"], "CVC: "),
        ("security code is 987", ["cvv"], "security code is"),
        ("password: hunter", ["password"], "password:"),
        ("my password Tr0ub4dor&3 stopped working", ["password"], "stopped working"),
        ("mi contraseña es Gato2024", ["password"], "mi contraseña es"),
        ("mon mot de passe est Soleil!9", ["password"], "mot de passe"),
        ("PIN 4821 for the gift card", ["pin"], "for the gift card"),
        # not secrets: kept exactly
        ("I forgot my password.", [], "I forgot my password."),
        ("my password doesn't work", [], "my password doesn't work"),
        ("My password is wrong", [], "My password is wrong"),
        ("Where is #W5442520? tracking 162835301015", [], "tracking 162835301015"),
        ("call me at +1 415 555 0100", [], "+1 415 555 0100"),
        ("item 4111111111111112 is broken", [], "4111111111111112"),  # fails Luhn
    ],
)
def test_the_screen_takes_out_secrets_and_nothing_else(text, kinds, kept):
    out = screen(text)
    assert out.removed == kinds and kept in out.text
    if kinds:
        assert out.text != text and "removed" in out.text


def test_secrets_are_kept_nowhere_and_sent_to_no_llm(make_client, llm_guard) -> None:
    prompts: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        prompts.append("\n".join(m["content"] for m in body["messages"]))
        return httpx.Response(200, json=completion("I'm looking into the double charge."))

    llm_guard.post(LLM).mock(side_effect=answer)
    client = make_client(openai_base_url="http://llm.test/v1", llm_model="m", llm_max_retries=0)
    r = client.post("/v1/chat", json={**identity(OLIVIA), "message": MESSAGE})
    assert r.status_code == 200, r.text
    out = r.json()
    assert prompts and not any(s in p for s in SECRETS if s != "4111" for p in prompts)
    assert "ending 1111" in prompts[0]  # the agent and the LLM can still tell which card
    assert out["secrets_removed"] == ["card", "cvv", "password"]
    kept = out["message_kept"]
    assert "[card number removed, ending 1111]" in kept and "#W5442520" in kept
    assert not any(s in kept for s in ("4111.1111", "cvv 123", "Hunter2!"))
    assert out["answer"].startswith("I'm looking into the double charge.")
    assert "card number, security code and password" in out["answer"]
    assert "never send card numbers" in out["answer"]

    # streamed (offline composer, same data): the notice arrives as the last piece
    offline = make_client()
    body = {
        **identity(OLIVIA),
        "message": "cvv 321 is on the back",
        "conversation_id": out["conversation_id"],
    }
    headers = {"Accept": "text/event-stream"}
    with offline.stream("POST", "/v1/chat", json=body, headers=headers) as s:
        lines = list(s.iter_lines())
    events = [line for line in lines if line.startswith("event:")]
    assert "event: reset" not in events and events[-1] == "event: done"
    done = json.loads(lines[[i for i, x in enumerate(lines) if x == "event: done"][0] + 1][5:])
    assert done["secrets_removed"] == ["cvv"] and "security code" in done["answer"]

    c = client.app.state.services.container
    c.assistant.drain()
    with Session(c.engine) as s:
        texts = [m.text for m in s.exec(select(Message).where(Message.customer_id == OLIVIA))]
        history = [
            h.text for h in s.exec(select(HistoryItem).where(HistoryItem.customer_id == OLIVIA))
        ]
    stored = texts + history + stored_texts(c, OLIVIA)
    assert any("[card number removed, ending 1111]" in t for t in stored)
    for secret in ("4111.1111.1111.1111", "cvv 123", "cvv 321", "Hunter2!"):
        assert not any(secret in t for t in stored), secret
