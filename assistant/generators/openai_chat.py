"""Generation through any OpenAI-compatible chat endpoint, via LangChain's ChatOpenAI.

Resilience is layered here, once: a per-attempt timeout (the client's), retries with
exponential backoff and jitter (tenacity; the OpenAI client's own retries are off so
there is one retry layer), and a circuit breaker that stops calling a failing endpoint."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import TypeVar

import httpx
import openai
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_openai import ChatOpenAI
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

from assistant.errors import GenerationFailed
from assistant.generators.base import cited_numbers
from assistant.generators.breaker import CircuitBreaker
from assistant.types import Composed, Generation

log = logging.getLogger("rapport.llm")

_FAILURES = (openai.OpenAIError, httpx.HTTPError, TimeoutError, ConnectionError)
# The request itself is wrong (too long, malformed): retrying or opening the breaker
# would not help, and the endpoint is healthy.
_REQUEST_ERRORS = (openai.BadRequestError, openai.UnprocessableEntityError)
T = TypeVar("T")


class BreakerOpen(GenerationFailed):
    """The circuit breaker is open: the LLM was not called."""


def retryable(exc: BaseException) -> bool:
    """Timeouts, connection failures, 408, 429 and 5xx may pass; 4xx (auth, bad request,
    unknown model) will not, so they are not retried."""
    if isinstance(exc, openai.APIConnectionError | httpx.TransportError | TimeoutError):
        return True
    if isinstance(exc, openai.APIStatusError):
        return exc.status_code in (408, 429) or exc.status_code >= 500
    return isinstance(exc, ConnectionError)


def reason(exc: BaseException) -> str:
    """Why a call failed, for errors and logs: the error type and the HTTP status, and the
    endpoint's error code when it gives one. Never the error's text, which quotes the
    endpoint's response body, and a 400's body may echo the prompt (the customer's name,
    their orders)."""
    text = type(exc).__name__
    if isinstance(exc, openai.APIStatusError):
        text += f" (HTTP {exc.status_code}"
        code = exc.code if isinstance(exc.code, str) and exc.code.isidentifier() else None
        text += f", {code[:64]})" if code else ")"
    return text


def _log_retry(state: RetryCallState) -> None:
    exc = state.outcome.exception() if state.outcome else None
    log.info("LLM attempt %d failed, retrying: %s", state.attempt_number, exc and reason(exc))


def _to_messages(composed: Composed) -> list[BaseMessage]:
    kinds = {"system": SystemMessage, "human": HumanMessage, "ai": AIMessage}
    return [kinds[role](content=content) for role, content in composed.messages]


class OpenAIChatGenerator:
    """Replies from an OpenAI-compatible model; every failure surfaces as GenerationFailed
    (BreakerOpen when the breaker refused the call without making it).

    The connection (base URL, key) is the provider's; the model name and sampling are
    the call's. A failed attempt is retried `max_retries` times with backoff; a turn
    whose attempts all fail counts one failure towards the breaker."""

    def __init__(
        self,
        model: str,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout_s: float = 20.0,
        max_retries: int = 1,
        backoff_s: float = 0.5,
        backoff_max_s: float = 4.0,
        temperature: float = 0.2,
        breaker: CircuitBreaker | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.model = model
        self.name = f"openai:{model}"
        self.max_retries = max_retries
        self.backoff_s = backoff_s
        self.backoff_max_s = backoff_max_s
        self.breaker = breaker or CircuitBreaker(failure_threshold=5, open_s=30.0)
        self._sleep = sleep
        # Local servers (vLLM, llama.cpp, Ollama) accept any key; the client insists on one.
        key = api_key or "not-needed"
        self._chat = ChatOpenAI(
            model=model,
            base_url=base_url,
            api_key=key,  # type: ignore[arg-type]
            timeout=timeout_s,
            max_retries=0,  # tenacity is the only retry layer
            temperature=temperature,
        )

    def _retrying(self) -> Retrying:
        extra = {"sleep": self._sleep} if self._sleep is not None else {}
        return Retrying(
            stop=stop_after_attempt(self.max_retries + 1),
            wait=wait_exponential_jitter(initial=self.backoff_s, max=self.backoff_max_s),
            retry=retry_if_exception(retryable),
            reraise=True,
            before_sleep=_log_retry,
            **extra,  # type: ignore[arg-type]
        )

    def _call(self, fn: Callable[[], T]) -> T:
        """`fn` under the breaker and the retry policy; failures become GenerationFailed."""
        if not self.breaker.allow():
            raise BreakerOpen(f"{self.name}: circuit breaker open, LLM not called")
        try:
            return self._retrying()(fn)
        except _FAILURES as exc:
            if isinstance(exc, _REQUEST_ERRORS):
                self.breaker.record_success()  # the endpoint answered
            else:
                self.breaker.record_failure()
            raise GenerationFailed(f"{self.name}: {reason(exc)}") from exc

    def generate(self, composed: Composed) -> Generation:
        messages = _to_messages(composed)
        reply = self._call(lambda: self._chat.invoke(messages))
        self.breaker.record_success()
        text = str(reply.text)
        if not text.strip():
            raise GenerationFailed(f"{self.name}: empty reply")
        return Generation(
            text=text, generator=self.name, cited=cited_numbers(text, len(composed.sources))
        )

    def stream(self, composed: Composed) -> Iterator[str]:
        """Pieces of the reply. Attempts are retried only until the first piece arrives:
        after that the caller has shown text, and a failure ends the stream."""
        messages = _to_messages(composed)

        def first_piece() -> tuple[str | None, Iterator[str]]:
            pieces = (str(chunk.text) for chunk in self._chat.stream(messages))
            for piece in pieces:
                if piece:
                    return piece, pieces
            return None, pieces

        first, rest = self._call(first_piece)
        if first is None:
            self.breaker.record_success()
            return
        try:
            yield first
            for piece in rest:
                if piece:
                    yield piece
        except _FAILURES as exc:
            self.breaker.record_failure()
            raise GenerationFailed(f"{self.name}: {reason(exc)}") from exc
        finally:
            # Closing this stream (the customer went away) closes the upstream response,
            # so the LLM stops generating a reply nobody will read.
            close = getattr(rest, "close", None)
            if close is not None:
                close()
        self.breaker.record_success()
