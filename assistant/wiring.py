"""The one place that builds Rapport's collaborators from settings and hands them down."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from sqlalchemy.engine import Engine

from assistant.agent.events import make_bus
from assistant.agent.inbox import Inbox
from assistant.errors import DataDirMissing
from assistant.experiments import Experiments
from assistant.generators.base import Generator
from assistant.generators.breaker import CircuitBreaker
from assistant.generators.offline import OfflineComposer
from assistant.generators.openai_chat import OpenAIChatGenerator
from assistant.generators.redacting import RedactingGenerator
from assistant.pipeline import Assistant
from assistant.policy import Policy
from assistant.privacy import Privacy
from assistant.settings import Settings
from assistant.shared_state import RedisCircuitBreaker
from assistant.tokens import TokenCounter
from profiles.context import ProfileRepository
from profiles.conversations import ConversationStore
from profiles.db import create_schema, make_engine
from profiles.history_keys import SqlKeyStore
from profiles.inbox import InboxStore
from profiles.segments import Segments
from prompts.loader import load_prompt
from retrieval.embedder import Embedder, load_embedder
from retrieval.history import HistoryIndex
from retrieval.kb import KnowledgeBase
from retrieval.sealing import Seals
from retrieval.store import ChromaIndex, VectorIndex


def make_breaker(settings: Settings) -> CircuitBreaker:
    """The LLM's circuit breaker: shared by every worker through Redis when `REDIS_URL`
    is set, else one per process (see assistant/generators/breaker.py)."""
    if settings.redis_url:
        return RedisCircuitBreaker(
            settings.redis_url, settings.llm_breaker_failures, settings.llm_breaker_open_s
        )
    return CircuitBreaker(settings.llm_breaker_failures, settings.llm_breaker_open_s)


def make_generator(settings: Settings, breaker: CircuitBreaker | None = None) -> Generator:
    """The OpenAI-compatible generator when a model is configured (retried, behind a circuit
    breaker, and behind PII redaction unless RAPPORT_REDACT_REMOTE is off), else the
    offline composer, which runs here and needs no redaction."""
    if settings.llm_model:
        llm = OpenAIChatGenerator(
            settings.llm_model,
            base_url=settings.openai_base_url,
            api_key=settings.openai_api_key,
            timeout_s=settings.llm_timeout_s,
            max_retries=settings.llm_max_retries,
            backoff_s=settings.llm_backoff_s,
            backoff_max_s=settings.llm_backoff_max_s,
            temperature=settings.llm_temperature,
            breaker=breaker or make_breaker(settings),
        )
        return RedactingGenerator(llm) if settings.redact_remote else llm
    return OfflineComposer()


@dataclass
class Container:
    """Lazily built collaborators, each built at most once per process."""

    settings: Settings
    shared_embedder: Embedder | None = None  # a model already loaded (tests, eval runs)

    def require_data(self) -> None:
        """Raise DataDirMissing unless demo or imported data exist for the embedded defaults."""
        if (
            self.settings.database_url is None
            and not (self.settings.data_dir / "rapport.db").is_file()
        ):
            raise DataDirMissing(
                f"no data in {self.settings.data_dir}: run 'rapport import tau-retail DIR' "
                "or 'rapport demo' first, or set RAPPORT_DATA_DIR"
            )

    @cached_property
    def engine(self) -> Engine:
        engine = make_engine(self.settings.sqlalchemy_url)
        create_schema(engine)
        return engine

    @cached_property
    def index(self) -> VectorIndex:
        if self.settings.chroma_url:
            return ChromaIndex.server(self.settings.chroma_url, self.settings.chroma_database)
        return ChromaIndex.embedded(self.settings.chroma_dir)

    @cached_property
    def embedder(self) -> Embedder:
        if self.shared_embedder is not None:
            return self.shared_embedder
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        s = self.settings
        return load_embedder(s.embed_backend, s.embed_threads, s.model_cache_dir)

    @cached_property
    def kb(self) -> KnowledgeBase:
        return KnowledgeBase(self.index, self.embedder, recheck_s=self.settings.kb_recheck_s)

    @cached_property
    def seals(self) -> Seals:
        return Seals(SqlKeyStore(self.engine))

    @cached_property
    def history(self) -> HistoryIndex:
        return HistoryIndex(self.index, self.embedder, seals=self.seals)

    @cached_property
    def breaker(self) -> CircuitBreaker:
        return make_breaker(self.settings)

    @cached_property
    def assistant(self) -> Assistant:
        return Assistant(
            settings=self.settings,
            profiles=ProfileRepository(
                self.engine, segments=Segments.load(self.settings.segments_file)
            ),
            conversations=ConversationStore(self.engine),
            kb=self.kb,
            history=self.history,
            embedder=self.embedder,
            generator=make_generator(self.settings, self.breaker),
            prompt=load_prompt(self.settings.prompt_version),
            tokens=TokenCounter(),
            policy=Policy.load(self.settings.policy_file),
            experiments=Experiments.load(self.settings.experiments_file),
        )

    @cached_property
    def inbox(self) -> Inbox:
        return Inbox(
            InboxStore(self.engine),
            self.assistant.conversations,
            make_bus(self.settings.redis_url),
        )

    @cached_property
    def privacy(self) -> Privacy:
        # Privacy requests never embed: a command line that only exports or erases should
        # not load the model, so the index gets it lazily.
        history = (
            self.history
            if "history" in self.__dict__
            else HistoryIndex(self.index, _LazyEmbedder(lambda: self.embedder), seals=self.seals)
        )
        return Privacy(self.engine, history, self._drain, self.settings.retention_days)

    def _drain(self, customer_id: str | None) -> None:
        """Wait for the pipeline's background history writes, if this process runs turns."""
        if "assistant" in self.__dict__:
            self.assistant.drain(customer_id)


class _LazyEmbedder:
    """An Embedder that loads its model on first use."""

    def __init__(self, load: Callable[[], Embedder]) -> None:
        self._load = load

    @property
    def dim(self) -> int:
        return self._load().dim

    @dim.setter
    def dim(self, _value: int) -> None:  # the Embedder protocol declares a plain attribute
        raise AttributeError("an embedder's dimension is fixed by its model")

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return self._load().embed(texts)

    def embed_query(self, text: str) -> np.ndarray:
        return self._load().embed_query(text)
