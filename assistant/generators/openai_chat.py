"""Generation through any OpenAI-compatible chat endpoint, via LangChain's ChatOpenAI."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import openai
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_openai import ChatOpenAI

from assistant.errors import GenerationFailed
from assistant.generators.base import cited_numbers
from assistant.types import Composed, Generation

_FAILURES = (openai.OpenAIError, httpx.HTTPError, TimeoutError, ConnectionError)


def _to_messages(composed: Composed) -> list[BaseMessage]:
    kinds = {"system": SystemMessage, "human": HumanMessage, "ai": AIMessage}
    return [kinds[role](content=content) for role, content in composed.messages]


class OpenAIChatGenerator:
    """Replies from an OpenAI-compatible model; every failure surfaces as GenerationFailed.

    The connection (base URL, key) is the provider's; the model name and sampling are
    the call's. Retries with backoff are the OpenAI client's own (max_retries)."""

    def __init__(
        self,
        model: str,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout_s: float = 20.0,
        max_retries: int = 1,
        temperature: float = 0.2,
    ) -> None:
        self.model = model
        self.name = f"openai:{model}"
        # Local servers (vLLM, llama.cpp, Ollama) accept any key; the client insists on one.
        key = api_key or "not-needed"
        self._chat = ChatOpenAI(
            model=model,
            base_url=base_url,
            api_key=key,  # type: ignore[arg-type]
            timeout=timeout_s,
            max_retries=max_retries,
            temperature=temperature,
        )

    def generate(self, composed: Composed) -> Generation:
        try:
            reply = self._chat.invoke(_to_messages(composed))
        except _FAILURES as exc:
            raise GenerationFailed(f"{self.name}: {type(exc).__name__}: {exc}") from exc
        text = str(reply.text)
        if not text.strip():
            raise GenerationFailed(f"{self.name}: empty reply")
        return Generation(
            text=text, generator=self.name, cited=cited_numbers(text, len(composed.sources))
        )

    def stream(self, composed: Composed) -> Iterator[str]:
        try:
            for chunk in self._chat.stream(_to_messages(composed)):
                piece = str(chunk.text)
                if piece:
                    yield piece
        except _FAILURES as exc:
            raise GenerationFailed(f"{self.name}: {type(exc).__name__}: {exc}") from exc
