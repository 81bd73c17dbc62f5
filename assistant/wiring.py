"""The one place that builds Rapport's collaborators from settings and hands them down."""

from __future__ import annotations

import os
import threading
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
from profiles.workspaces import DEFAULT, Registry, Workspace, digest, matches
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
    """One workspace's collaborators, built lazily, each at most once per process.

    `settings` are the workspace's own (see `Workspaces.settings_for`): its data folder,
    database schema, Chroma database, rule files and widget secret."""

    settings: Settings
    shared_embedder: Embedder | None = None  # a model already loaded (tests, eval runs)
    workspace: Workspace | None = None  # None: the deployment's `default`, as configured
    embedder_from: Callable[[], Embedder] | None = None  # another workspace's, loaded once

    @property
    def name(self) -> str:
        """The workspace's name."""
        return self.workspace.name if self.workspace else DEFAULT

    @cached_property
    def agent_digests(self) -> frozenset[str]:
        """SHA-256 digests of the keys that open this workspace's agent endpoints (admin
        keys do too)."""
        own = self.workspace.config.agent_keys_sha256 if self.workspace else []
        return frozenset([*own, *map(digest, self.settings.agent_key_list)]) | self.admin_digests

    @cached_property
    def admin_digests(self) -> frozenset[str]:
        """SHA-256 digests of this workspace's admin keys."""
        own = self.workspace.config.admin_keys_sha256 if self.workspace else []
        return frozenset([*own, *map(digest, self.settings.admin_key_list)])

    def has_data(self) -> bool:
        """Whether demo or imported data exist for it (always, on a database server)."""
        return (
            self.settings.database_url is not None
            or (self.settings.data_dir / "rapport.db").is_file()
        )

    def require_data(self) -> None:
        """Raise DataDirMissing unless demo or imported data exist for the embedded defaults."""
        if not self.has_data():
            raise DataDirMissing(
                f"no data in {self.settings.data_dir}: run 'rapport import tau-retail DIR' "
                "or 'rapport demo' first, or set RAPPORT_DATA_DIR"
            )

    @cached_property
    def engine(self) -> Engine:
        engine = make_engine(self.settings.sqlalchemy_url, self.settings.database_schema)
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
        if self.embedder_from is not None:
            return self.embedder_from()
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


class Workspaces:
    """Every workspace's Container, built on first use. One embedding model and one LLM
    circuit breaker serve them all (the model is the same; the LLM endpoint too)."""

    def __init__(self, default: Container) -> None:
        self.default = default
        self.settings = default.settings
        self.registry = Registry(self.settings.data_dir)
        self._built: dict[str, Container] = {DEFAULT: default}
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings, embedder: Embedder | None = None) -> Workspaces:
        """Every workspace under `settings.data_dir`; `default` with its optional file."""
        workspace = Registry(settings.data_dir).get(DEFAULT)
        return cls(Container(settings_for(settings, workspace), embedder, workspace=workspace))

    def get(self, name: str) -> Container:
        """The Container of workspace `name`; UnknownWorkspace if there is none."""
        if name in self._built:
            return self._built[name]
        with self._lock:
            if name not in self._built:
                workspace = self.registry.get(name)
                self._built[name] = Container(
                    settings_for(self.settings, workspace),
                    workspace=workspace,
                    embedder_from=lambda: self.default.embedder,
                )
                self._built[name].__dict__["breaker"] = self.default.breaker
            return self._built[name]

    def require_data(self) -> None:
        """Raise DataDirMissing unless some workspace holds demo or imported data: a
        business onboarded into its own workspace is served without the store's."""
        if self.default.has_data() or any(self.get(w.name).has_data() for w in self.registry):
            return
        raise DataDirMissing(
            f"no data in {self.settings.data_dir}: import a business first ('rapport import "
            "files -w NAME --mapping FILE …' or 'rapport import tau-retail DIR'), or run "
            "'rapport demo', or set RAPPORT_DATA_DIR"
        )

    def built(self) -> list[Container]:
        """The Containers built so far (what shutdown has to drain)."""
        return list(self._built.values())

    def for_key(self, key: str, *, admin: bool) -> Container | None:
        """The workspace whose agent (or, with `admin`, admin) keys include `key`, or None.
        Every digest of every workspace is compared, so timing says nothing of which."""
        given = digest(key)
        found: Container | None = None
        for name in self.registry.names():
            c = self.get(name)
            if matches(given, c.admin_digests if admin else c.agent_digests) and found is None:
                found = c
        return found


def settings_for(base: Settings, workspace: Workspace) -> Settings:
    """The settings workspace `workspace` runs with: the deployment's, with its own data
    folder, PostgreSQL schema, Chroma database, rule files and widget secret. `default`
    keeps the deployment's as configured (its keys come from the environment)."""
    config = workspace.config
    update: dict[str, object] = {}
    if workspace.name != DEFAULT:
        update |= {
            "data_dir": workspace.folder,
            "database_schema": workspace.schema,
            "chroma_database": workspace.chroma_database(base.chroma_database),
            "widget_secret": config.widget_secret,
            "agent_keys": "",
            "admin_keys": "",
            "policy_file": workspace.path(config.policy_file),
            "segments_file": workspace.path(config.segments_file),
            "experiments_file": workspace.path(config.experiments_file),
        }
    else:  # the environment first, then the file
        update |= {
            "widget_secret": base.widget_secret or config.widget_secret,
            "policy_file": base.policy_file or workspace.path(config.policy_file),
            "segments_file": base.segments_file or workspace.path(config.segments_file),
            "experiments_file": base.experiments_file or workspace.path(config.experiments_file),
        }
    update["brand"] = config.brand or (base.brand if workspace.name == DEFAULT else "")
    update["urgent_help"] = config.urgent_help or (
        base.urgent_help if workspace.name == DEFAULT else {}
    )
    if config.intents is not None:
        update["intents"] = ",".join(config.intents)
    if config.demo_customers:
        update["demo_customers"] = ",".join(config.demo_customers)
    return base.model_copy(update=update)


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
