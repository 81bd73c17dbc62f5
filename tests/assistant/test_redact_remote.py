"""Personal data stays out of what the remote LLM receives and comes back in the reply.

Real turns on the real tau-retail data; the LLM is faked at the HTTP layer and the request
body the OpenAI client actually sent is inspected."""

from __future__ import annotations

import json
import re

import httpx

from assistant.types import TurnRequest
from tests.assistant.test_openai_generator import completion, sse
from tests.conftest import RETAIL

LLM = "http://llm.test/v1"
OLIVIA = "olivia_ito_3591"
USER = json.loads((RETAIL / "users.json").read_text())[OLIVIA]
PHONE = "+1 (646) 555-3890"
CARD = "4111 1111 1111 1111"
NEW_ADDRESS = "12 Pine Road, Salem, MA 01970"
WORK_EMAIL = "o.ito@denver-design.example"
# Not the account email: the over-personalization guard rightly rejects a reply naming it.
MESSAGE = (
    f"Hi, write to {WORK_EMAIL}. Can I cancel #W5442520? Call me on {PHONE}; refund to my "
    f"card {CARD}, and send the label to {NEW_ADDRESS}."
)
PRIVATE = [
    WORK_EMAIL,
    USER["email"],
    USER["address"]["address1"],
    "555-3890",
    "4111",
    "12 Pine Road",
]
PLACEHOLDER = re.compile(r"<(?:EMAIL|PHONE|CARD|ADDRESS)_\d+>")


def _sent(request: httpx.Request) -> tuple[str, list[str]]:
    """All message text the client sent, and the placeholders in it in order."""
    body = json.loads(request.content)
    text = "\n".join(m["content"] for m in body["messages"])
    return text, list(dict.fromkeys(PLACEHOLDER.findall(text)))


def _reply(placeholders: list[str]) -> str:
    return "Your order #W5442520 is pending [2]. On file: " + ", ".join(placeholders) + "."


def _turn(c):
    return c.assistant.turn(TurnRequest(customer_id=OLIVIA, message=MESSAGE))


def _assert_restored(answer: str) -> None:
    for value in (WORK_EMAIL, PHONE, NEW_ADDRESS, USER["address"]["address1"]):
        assert value in answer
    assert not PLACEHOLDER.search(answer)
    # A card number is a secret, not personal data to put back: it was taken out of the
    # message before anything kept it, and the reply says so (issue 16.5).
    assert CARD not in answer and "removed the card number" in answer


def test_llm_receives_placeholders_and_the_customer_the_real_values(make_container, llm_guard):
    sent: list[str] = []

    def llm(request: httpx.Request) -> httpx.Response:
        text, placeholders = _sent(request)
        sent.append(text)
        return httpx.Response(200, json=completion(_reply(placeholders)))

    llm_guard.post(f"{LLM}/chat/completions").mock(side_effect=llm)
    c = make_container(openai_base_url=LLM, llm_model="m", llm_max_retries=0)
    r = _turn(c)
    (text,) = sent
    # The profile fact (default address) and the message were both in the prompt...
    assert "Customer olivia_ito_3591" in text and "efault address <ADDRESS_" in text
    for value in PRIVATE:
        assert value not in text
    # ...and what the assistant needs to answer is still there.
    for needed in ("#W5442520", "pending", "gift_card_7794233", "paypal_8049766"):
        assert needed in text
    assert r.generator == "openai:m" and not r.degraded
    _assert_restored(r.answer)
    assert [cit.n for cit in r.citations] == [2]
    # The prompt kept for the turn is the real one: redaction is only on the way out.
    assert WORK_EMAIL in r.context.text


def test_streamed_reply_restores_placeholders_split_across_chunks(make_container, llm_guard):
    def llm(request: httpx.Request) -> httpx.Response:
        _text, placeholders = _sent(request)
        reply = _reply(placeholders)
        pieces = [reply[i : i + 3] for i in range(0, len(reply), 3)]  # splits every placeholder
        return httpx.Response(200, text=sse(pieces), headers={"content-type": "text/event-stream"})

    llm_guard.post(f"{LLM}/chat/completions").mock(side_effect=llm)
    c = make_container(openai_base_url=LLM, llm_model="m", llm_max_retries=0)
    events = list(c.assistant.stream_turn(TurnRequest(customer_id=OLIVIA, message=MESSAGE)))
    tokens = [e.text for e in events if e.type == "token"]
    result = events[-1].result
    assert result is not None and result.generator == "openai:m" and not result.degraded
    assert "reset" not in [e.type for e in events]
    assert "".join(tokens) == result.answer
    _assert_restored(result.answer)
    assert len(tokens) > 10  # still streamed, not buffered into one piece
    assert not any("<" in t for t in tokens)  # no partial placeholder reached the customer


def test_redaction_can_be_turned_off(make_container, llm_guard):
    route = llm_guard.post(f"{LLM}/chat/completions").mock(
        return_value=httpx.Response(200, json=completion("Your order #W5442520 is pending [2]."))
    )
    c = make_container(openai_base_url=LLM, llm_model="m", llm_max_retries=0, redact_remote=False)
    _turn(c)
    text, placeholders = _sent(route.calls.last.request)
    assert WORK_EMAIL in text and PHONE in text and not placeholders


DESK_PHONE = "+1 212-555-0147"
DESK = "Returns desk: call +1 212-555-0147 or ship to 570 Elm Avenue, Denver, CO 80218."


def _block(text: str, tag: str) -> str:
    return text.split(f"<{tag}>")[1].split(f"</{tag}>")[0]


def test_kb_passages_are_redacted_on_every_turn_with_that_turns_placeholders(
    make_container, llm_guard, tmp_path
):
    """Company documents can hold personal data too: replaced on every turn, with that
    turn's placeholders, so one value has one placeholder in the passages and the message."""
    sent: list[str] = []

    def llm(request: httpx.Request) -> httpx.Response:
        text, _ = _sent(request)
        sent.append(text)
        desk = re.search(r"call (<PHONE_\d+>)", _block(text, "kb_passages"))
        assert desk is not None, _block(text, "kb_passages")
        return httpx.Response(200, json=completion(f"Call the returns desk on {desk[1]}."))

    llm_guard.post(f"{LLM}/chat/completions").mock(side_effect=llm)
    c = make_container(openai_base_url=LLM, llm_model="m", llm_max_retries=0)
    doc = tmp_path / "returns-desk.md"
    doc.write_text(f"# Returns desk for parrot cages\n\n{DESK}\n")
    c.kb.ingest(c.kb.load_documents([doc]))
    asks = [
        f"Is the returns desk for parrot cages on {DESK_PHONE}?",
        f"Call me on {PHONE}. Or is the returns desk for parrot cages on {DESK_PHONE}?",
    ]
    answers = [c.assistant.turn(TurnRequest(customer_id=OLIVIA, message=m)).answer for m in asks]

    assert len(sent) == 2
    for text in sent:
        for value in ("555-0147", "570 Elm", "555-3890"):
            assert value not in text
        kb, message = _block(text, "kb_passages"), _block(text, "customer_message")
        (desk,) = {p for p in PLACEHOLDER.findall(kb) if p.startswith("<PHONE_")}
        assert message.rstrip().endswith(f"on {desk}?")  # the same value, the same placeholder
    phones = set(re.findall(r"<PHONE_\d+>", sent[1]))
    assert phones == {"<PHONE_1>", "<PHONE_2>"}
    assert answers == [f"Call the returns desk on {DESK_PHONE}."] * 2
