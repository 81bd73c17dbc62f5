"""Through the real API, no customer ever gets at another customer's conversation,
for random pairs of real tau-retail customers (property-based)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.api.conftest import AGENT_KEY, identity
from tests.assistant.test_isolation import IDS, QUESTIONS, _question, who


def _headers(customer: str) -> dict[str, str]:
    return {"X-Customer-Id": customer, "X-User-Hash": identity(customer)["user_hash"]}


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    pair=st.lists(st.sampled_from(IDS), min_size=2, max_size=2, unique=True),
    template=st.sampled_from(QUESTIONS),
    i=st.integers(0, 5),
)
def test_another_customers_conversation_is_never_returned(client, pair, template, i):
    me, them = who(pair[0]), who(pair[1])
    # `them` talks first, naming their own orders and email.
    their_message = _question(template, them, me, i)
    r = client.post("/v1/chat", json={**identity(them.id), "message": their_message})
    assert r.status_code == 200, r.text
    theirs = r.json()["conversation_id"]

    # `me` cannot read it, post into it, or pass as `them` with their own hash.
    read = client.get(f"/v1/conversations/{theirs}", headers=_headers(me.id))
    assert read.status_code == 404 and their_message not in read.text
    post = client.post(
        "/v1/chat",
        json={**identity(me.id), "message": "what did we discuss?", "conversation_id": theirs},
    )
    assert post.status_code == 404 and their_message not in post.text
    forged = client.get(
        f"/v1/conversations/{theirs}",
        headers={"X-Customer-Id": them.id, "X-User-Hash": identity(me.id)["user_hash"]},
    )
    assert forged.status_code == 401

    # `me` asking about `them` gets nothing of theirs back: no fact of theirs is in the
    # context the reply was made from (the turn's detail, which staff see).
    mine = client.post(
        "/v1/chat",
        json={**identity(me.id), "message": _question(template, me, them, i)},
        headers={"X-API-Key": AGENT_KEY},
    )
    assert mine.status_code == 200, mine.text
    body = mine.json()
    assert body["conversation_id"] != theirs
    assert body["detail"]["context"]["customer_id"] == me.id
    for fact_id in body["detail"]["context"]["fact_ids"]:
        assert not any(o in fact_id for o in them.orders)

    # The owner still reads their own conversation.
    own = client.get(f"/v1/conversations/{theirs}", headers=_headers(them.id))
    assert own.status_code == 200 and own.json()["messages"][0]["text"] == their_message


def test_conversation_ids_are_issued_by_the_server(client) -> None:
    """A client cannot name a new conversation: an unused id answers like another
    customer's, and nothing is created under it."""
    from tests.api.conftest import identity as ident

    mine = client.post("/v1/chat", json={**ident("olivia_ito_3591"), "message": "hi"}).json()
    theirs = client.post("/v1/chat", json={**ident("omar_lopez_3107"), "message": "hi"}).json()
    issued = mine["conversation_id"]
    assert len(issued) == 32 and int(issued, 16) >= 0  # 128 random bits, hex
    answers = []
    for chosen in ("my-chosen-conv-id", "../../x", theirs["conversation_id"]):
        body = {**ident("olivia_ito_3591"), "message": "hello", "conversation_id": chosen}
        r = client.post("/v1/chat", json=body)
        answers.append((r.status_code, r.json()))
        h = {
            "X-Customer-Id": "olivia_ito_3591",
            "X-User-Hash": ident("olivia_ito_3591")["user_hash"],
        }
        assert client.get(f"/v1/conversations/{chosen}", headers=h).status_code == 404
    assert all(a == answers[0] for a in answers) and answers[0][0] == 404
    engine = client.app.state.services.container.engine
    from sqlmodel import Session, select

    from profiles.models import Conversation

    with Session(engine) as s:
        ids = set(s.exec(select(Conversation.id)))
    assert "my-chosen-conv-id" not in ids and "../../x" not in ids
