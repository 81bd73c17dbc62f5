"""Timeouts, retries with backoff and the circuit breaker, over the real OpenAI client code
against respx-faked HTTP."""

from __future__ import annotations

import httpx
import pytest

from assistant.errors import GenerationFailed
from assistant.generators.breaker import BreakerState, CircuitBreaker
from assistant.generators.openai_chat import BreakerOpen, OpenAIChatGenerator
from tests.assistant.test_openai_generator import completion, sse

BASE = "http://llm.test/v1"
URL = f"{BASE}/chat/completions"


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def make_gen(clock, sleeps):
    def build(retries: int = 2, threshold: int = 3, open_s: float = 30.0) -> OpenAIChatGenerator:
        return OpenAIChatGenerator(
            "m",
            base_url=BASE,
            api_key="k",
            timeout_s=2,
            max_retries=retries,
            backoff_s=0.5,
            backoff_max_s=4.0,
            breaker=CircuitBreaker(threshold, open_s, clock=clock),
            sleep=sleeps.append,
        )

    return build


def test_server_error_then_success_is_retried_with_backoff(
    make_gen, llm_guard, make_composed, sleeps
):
    route = llm_guard.post(URL).mock(
        side_effect=[
            httpx.Response(500, json={"error": {"message": "boom"}}),
            httpx.Response(503, json={}),
            httpx.Response(200, json=completion("It is pending [1].")),
        ]
    )
    g = make_gen(retries=2).generate(make_composed())
    assert g.text == "It is pending [1]."
    assert route.call_count == 3
    # Exponential with jitter: the second wait starts from twice the first's base.
    assert len(sleeps) == 2 and 0.5 <= sleeps[0] <= 1.5 and 1.0 <= sleeps[1] <= 2.0


def test_the_openai_client_does_not_retry_on_its_own(make_gen, llm_guard, make_composed):
    route = llm_guard.post(URL).mock(return_value=httpx.Response(500, json={}))
    with pytest.raises(GenerationFailed, match="500"):
        make_gen(retries=0).generate(make_composed())
    assert route.call_count == 1


def test_timeouts_and_connection_errors_are_retried(make_gen, llm_guard, make_composed):
    route = llm_guard.post(URL).mock(
        side_effect=[
            httpx.ReadTimeout("slow"),
            httpx.ConnectError("refused"),
            httpx.Response(200, json=completion("ok [1]")),
        ]
    )
    assert make_gen(retries=2).generate(make_composed()).text == "ok [1]"
    assert route.call_count == 3


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
def test_client_errors_are_not_retried(make_gen, llm_guard, make_composed, status, sleeps):
    route = llm_guard.post(URL).mock(
        return_value=httpx.Response(status, json={"error": {"message": "no"}})
    )
    with pytest.raises(GenerationFailed, match=str(status)):
        make_gen(retries=3).generate(make_composed())
    assert route.call_count == 1 and sleeps == []


def test_bad_requests_do_not_open_the_breaker(make_gen, llm_guard, make_composed):
    llm_guard.post(URL).mock(return_value=httpx.Response(400, json={"error": {"message": "long"}}))
    gen = make_gen(retries=0, threshold=2)
    for _ in range(4):
        with pytest.raises(GenerationFailed):
            gen.generate(make_composed())
    assert gen.breaker.state is BreakerState.CLOSED


def test_auth_failures_open_the_breaker(make_gen, llm_guard, make_composed):
    route = llm_guard.post(URL).mock(return_value=httpx.Response(401, json={}))
    gen = make_gen(retries=0, threshold=2)
    for _ in range(2):
        with pytest.raises(GenerationFailed):
            gen.generate(make_composed())
    with pytest.raises(BreakerOpen):
        gen.generate(make_composed())
    assert route.call_count == 2


def test_breaker_opens_refuses_without_calling_then_probes_and_closes(
    make_gen, llm_guard, make_composed, clock
):
    route = llm_guard.post(URL).mock(return_value=httpx.Response(500, json={}))
    gen = make_gen(retries=1, threshold=3, open_s=30)
    for _ in range(3):
        with pytest.raises(GenerationFailed):
            gen.generate(make_composed())
    assert route.call_count == 6  # 3 turns × (1 try + 1 retry)
    assert gen.breaker.state is BreakerState.OPEN
    for _ in range(5):
        with pytest.raises(BreakerOpen):
            gen.generate(make_composed())
    assert route.call_count == 6  # refused turns make no HTTP call
    clock.t += 29.9
    with pytest.raises(BreakerOpen):
        gen.generate(make_composed())
    # After the open duration one probe goes out; it fails, and the breaker opens again.
    clock.t += 0.2
    with pytest.raises(GenerationFailed) as failed:
        gen.generate(make_composed())
    assert not isinstance(failed.value, BreakerOpen)
    assert route.call_count == 8 and gen.breaker.state is BreakerState.OPEN
    with pytest.raises(BreakerOpen):
        gen.generate(make_composed())
    # The LLM recovers: the next probe succeeds and closes the breaker.
    route.mock(return_value=httpx.Response(200, json=completion("back [1]")))
    clock.t += 30.1
    assert gen.generate(make_composed()).text == "back [1]"
    assert gen.breaker.state is BreakerState.CLOSED
    assert gen.breaker.stats().opens == 2 and gen.breaker.stats().rejected == 7


def test_half_open_lets_exactly_one_probe_through(clock):
    breaker = CircuitBreaker(1, 10, clock=clock)
    breaker.record_failure()
    assert breaker.state is BreakerState.OPEN and not breaker.allow()
    clock.t += 10
    assert breaker.allow()  # the probe
    assert breaker.state is BreakerState.HALF_OPEN
    assert not breaker.allow() and not breaker.allow()  # the others wait for it
    clock.t += 10  # a probe that never reported does not hold the breaker forever
    assert breaker.allow()
    breaker.record_success()
    assert breaker.state is BreakerState.CLOSED and breaker.allow()


def test_a_success_resets_the_consecutive_failures(clock):
    breaker = CircuitBreaker(3, 10, clock=clock)
    for _ in range(2):
        breaker.record_failure()
    breaker.record_success()
    for _ in range(2):
        breaker.record_failure()
    assert breaker.state is BreakerState.CLOSED
    breaker.record_failure()
    assert breaker.state is BreakerState.OPEN


def _stream_response(pieces: list[str]) -> httpx.Response:
    return httpx.Response(200, text=sse(pieces), headers={"content-type": "text/event-stream"})


def test_stream_is_retried_before_the_first_token(make_gen, llm_guard, make_composed):
    route = llm_guard.post(URL).mock(
        side_effect=[httpx.Response(502, json={}), _stream_response(["Your ", "order [1]."])]
    )
    assert list(make_gen(retries=1).stream(make_composed())) == ["Your ", "order [1]."]
    assert route.call_count == 2


class _BreaksAfterFirstChunk(httpx.SyncByteStream):
    def __init__(self, first: bytes) -> None:
        self.first = first

    def __iter__(self):  # type: ignore[no-untyped-def]
        yield self.first
        raise httpx.ReadError("connection reset mid-reply")


def test_stream_is_not_retried_after_the_first_token(make_gen, llm_guard, make_composed):
    first_event = sse(["Your order "]).split("data: [DONE]")[0].encode()
    route = llm_guard.post(URL).mock(
        return_value=httpx.Response(
            200,
            stream=_BreaksAfterFirstChunk(first_event),
            headers={"content-type": "text/event-stream"},
        )
    )
    gen = make_gen(retries=3, threshold=1)
    got: list[str] = []
    with pytest.raises(GenerationFailed, match="ReadError|reset|peer"):
        for piece in gen.stream(make_composed()):
            got.append(piece)
    assert got == ["Your order "] and route.call_count == 1
    assert gen.breaker.state is BreakerState.OPEN  # a reply cut short is a failure


def test_stream_refused_while_the_breaker_is_open(make_gen, llm_guard, make_composed):
    route = llm_guard.post(URL).mock(return_value=httpx.Response(500, json={}))
    gen = make_gen(retries=0, threshold=1)
    with pytest.raises(GenerationFailed):
        list(gen.stream(make_composed()))
    with pytest.raises(BreakerOpen):
        list(gen.stream(make_composed()))
    assert route.call_count == 1
