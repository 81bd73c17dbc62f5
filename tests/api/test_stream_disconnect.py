"""A customer who closes a streamed turn stops the LLM: the upstream completion is
closed within moments, the message stays stored, the turn is marked interrupted."""

from __future__ import annotations

import threading
import time

import httpx
from sqlmodel import Session, select

from profiles.models import Message, Turn
from tests.api.conftest import SETTINGS, identity
from tests.api.test_inbox import serve
from tests.assistant.test_openai_generator import sse

LLM = "http://llm.test/v1/chat/completions"


class SlowUpstream(httpx.SyncByteStream):
    """An LLM that streams one chunk every 0.1 s for 20 s, counting what it sent."""

    def __init__(self) -> None:
        self.sent = 0
        self.closed = threading.Event()
        self.events = [e + "\n\n" for e in sse([f"w{i} " for i in range(200)]).split("\n\n") if e]

    def __iter__(self):  # type: ignore[no-untyped-def]
        for event in self.events:
            self.sent += 1
            yield event.encode()
            time.sleep(0.1)

    def close(self) -> None:
        self.closed.set()


def test_a_dropped_stream_cancels_the_llm_and_keeps_the_message(make_container, llm_guard):
    upstream = SlowUpstream()
    llm_guard.post(LLM).mock(
        return_value=httpx.Response(
            200, stream=upstream, headers={"content-type": "text/event-stream"}
        )
    )
    container = make_container(
        **SETTINGS, openai_base_url="http://llm.test/v1", llm_model="m", llm_max_retries=0
    )
    body = {**identity("olivia_ito_3591"), "message": "Tell me about returns, slowly"}
    with serve(container) as url:
        tokens = 0
        with (
            httpx.Client(timeout=30) as client,
            client.stream(
                "POST", f"{url}/v1/chat", json=body, headers={"Accept": "text/event-stream"}
            ) as r,
        ):
            assert r.status_code == 200
            for line in r.iter_lines():
                if line.startswith("event: token"):
                    tokens += 1
                if tokens >= 3:
                    break  # the customer closes the chat
        assert upstream.closed.wait(5), "the upstream stream was not closed"
        sent_at_close = upstream.sent
        time.sleep(1.0)
        assert upstream.sent == sent_at_close < 40  # nothing more pulled from the LLM
        deadline = time.monotonic() + 10
        while True:
            with Session(container.engine) as s:
                turns = s.exec(select(Turn)).all()
                messages = s.exec(select(Message)).all()
            if turns or time.monotonic() > deadline:
                break
            time.sleep(0.1)
    assert [m.text for m in messages] == ["Tell me about returns, slowly"]  # no reply stored
    assert len(turns) == 1 and turns[0].interrupted and turns[0].reply_message_id is None
