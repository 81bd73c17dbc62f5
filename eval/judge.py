"""LLM-as-judge: correctness against the gold answer and groundedness in the context."""

from __future__ import annotations

import json
import re

import httpx
import openai
from langchain_openai import ChatOpenAI
from pydantic import BaseModel, ValidationError

from assistant.errors import GenerationFailed
from assistant.settings import Settings
from prompts.loader import PromptTemplate, load_prompt

_JSON = re.compile(r"\{.*\}", re.DOTALL)
_FAILURES = (openai.OpenAIError, httpx.HTTPError, TimeoutError, ConnectionError)


class Verdict(BaseModel):
    correct: float
    grounded: float
    reason: str = ""


class Judge:
    """Grades answers with the configured OpenAI-compatible model and prompts/judge.v1."""

    def __init__(self, settings: Settings, prompt: PromptTemplate | None = None) -> None:
        if not settings.llm_model:
            raise ValueError("the judge needs an LLM: set RAPPORT_LLM_MODEL (and OPENAI_BASE_URL)")
        self.prompt = prompt or load_prompt("judge.v1")
        self.name = f"openai:{settings.llm_model}"
        self._chat = ChatOpenAI(
            model=settings.llm_model,
            base_url=settings.openai_base_url,
            api_key=settings.openai_api_key or "not-needed",  # type: ignore[arg-type]
            timeout=settings.llm_timeout_s,
            max_retries=settings.llm_max_retries,
            temperature=0.0,
        )

    def grade(self, question: str, gold: str, answer: str, context: str) -> Verdict:
        """The verdict; GenerationFailed if the model fails or replies without the JSON."""
        messages = self.prompt.render(question=question, gold=gold, answer=answer, context=context)
        try:
            reply = str(self._chat.invoke(messages).text)
        except _FAILURES as exc:
            raise GenerationFailed(f"judge {self.name}: {type(exc).__name__}: {exc}") from exc
        match = _JSON.search(reply)
        try:
            verdict = Verdict.model_validate(json.loads(match.group(0) if match else reply))
        except (json.JSONDecodeError, ValidationError) as exc:
            raise GenerationFailed(f"judge {self.name}: unreadable verdict {reply[:80]!r}") from exc
        return Verdict(
            correct=float(verdict.correct > 0.5),
            grounded=float(verdict.grounded > 0.5),
            reason=verdict.reason,
        )
