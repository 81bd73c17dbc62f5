"""Every knob Rapport has, in one typed object read from the environment."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Rapport's configuration. Every field works offline with its default."""

    model_config = SettingsConfigDict(env_prefix="RAPPORT_", extra="ignore", populate_by_name=True)

    data_dir: Path = Field(Path("var"), description="Where the SQLite file and Chroma live.")
    database_url: str | None = Field(
        None,
        validation_alias="DATABASE_URL",
        description="SQLAlchemy URL; overrides the SQLite file under data_dir.",
    )
    chroma_url: str | None = Field(
        None,
        validation_alias="CHROMA_URL",
        description="http://host:port of a Chroma server; embedded Chroma under data_dir if unset.",
    )
    redis_url: str | None = Field(
        None,
        validation_alias="REDIS_URL",
        description="redis://host:port/db; live conversation events travel between workers "
        "through it. Unset: in process (one worker).",
    )
    database_schema: str | None = Field(
        None,
        description="PostgreSQL schema of the tables (created if missing); the database's "
        "default if unset. Each workspace but `default` gets its own (ws_NAME).",
    )
    workspace: str = Field(
        "default", description="The workspace (business) a command acts on unless told."
    )
    chroma_database: str | None = Field(
        None, description="Database on the Chroma server (created if missing); default if unset."
    )
    openai_api_key: str | None = Field(
        None,
        validation_alias="OPENAI_API_KEY",
        description="Key of the OpenAI endpoint.",
    )
    openai_base_url: str | None = Field(
        None,
        validation_alias="OPENAI_BASE_URL",
        description="Base URL of an OpenAI-compatible endpoint (vLLM, Ollama, llama.cpp, OpenAI).",
    )
    llm_model: str | None = Field(
        None, description="Chat model name; generation uses the LLM only when this is set."
    )
    llm_timeout_s: float = Field(20.0, description="Seconds before an LLM call is abandoned.")
    llm_max_retries: int = Field(
        2, ge=0, description="Retries of a failed LLM attempt (timeout, 429, 5xx) before fallback."
    )
    llm_backoff_s: float = Field(
        0.5, ge=0, description="First retry's backoff in seconds; doubles each retry, jittered."
    )
    llm_backoff_max_s: float = Field(4.0, ge=0, description="Longest backoff between retries.")
    llm_breaker_failures: int = Field(
        5, ge=1, description="Consecutive failed turns that open the LLM circuit breaker."
    )
    llm_breaker_open_s: float = Field(
        30.0,
        gt=0,
        description="Seconds the open breaker answers offline before one probe call.",
    )
    llm_temperature: float = Field(0.2, description="Sampling temperature of the chat model.")
    redact_remote: bool = Field(
        True,
        description="Replace emails, phones, cards, IBANs and addresses by placeholders in "
        "prompts sent to the LLM; the reply gets the real values back.",
    )
    embed_backend: Literal["onnx", "torch"] = Field(
        "onnx",
        description="Embedding runtime: onnx (ONNX Runtime over an export of the packaged "
        "model, made once and cached) or torch (sentence-transformers).",
    )
    embed_threads: int | None = Field(
        None,
        ge=1,
        description="Threads per embedding call (unset: one per core). 1 costs less CPU per "
        "request under high concurrency, more latency when idle.",
    )
    model_cache_dir: Path | None = Field(
        None,
        description="Where the ONNX export of the embedding model is cached (unset: "
        "$RAPPORT_MODEL_CACHE or ~/.cache/rapport/models).",
    )
    embed_overlap: bool = Field(
        True,
        description="Compute the query embedding in a thread beside the turn's SQL reads "
        "(off: one after the other).",
    )
    history_write_delay_s: float = Field(
        0.5,
        ge=0,
        description="Longest a turn's message waits before it is written to the history "
        "vector store, batched with others (a customer's next turn writes it at once).",
    )
    context_tokens: int = Field(
        2000, ge=200, description="Token budget of the prompt around the customer's message."
    )
    kb_top_k: int = Field(6, ge=1, description="Knowledge-base passages retrieved per turn.")
    history_top_k: int = Field(5, ge=0, description="History items retrieved per turn.")
    kb_recheck_s: float = Field(
        1.0, ge=0, description="Seconds between checks for KB changes made by another process."
    )
    datasets_dir: Path = Field(
        Path("../shared/datasets"), description="Where the demo data sets are read from."
    )
    prompt_version: str = Field("chat_reply.v3", description="Name of the chat-reply template.")
    brand: str = Field(
        "", description="The business's name in the prompt (a workspace's own brand first)."
    )
    urgent_help: dict[str, dict[str, str]] = Field(
        default_factory=dict,
        description="By handoff rule (security, legal …) and language, what the customer can "
        "do at once while the team takes over (a workspace's `urgent_help`).",
    )
    policy_file: Path | None = Field(
        None, description="Decision policy YAML (rules, topics, hours); the packaged one if unset."
    )
    segments_file: Path | None = Field(
        None, description="Customer segments YAML; the packaged profiles/segments.yaml if unset."
    )
    experiments_file: Path | None = Field(
        None, description="Experiments YAML (variants, weights); the packaged one if unset."
    )
    intents: str = Field(
        "",
        description="Comma-separated intents of the packaged lexicon this business uses "
        "(empty: all); a business without orders keeps greeting, thanks, goodbye, human, "
        "recall.",
    )
    max_message_chars: int = Field(4000, ge=1, description="Longest customer message accepted.")

    retention_days: int = Field(
        365,
        ge=0,
        le=36_500,
        description="Conversations idle this many days are deleted by `rapport privacy purge`; "
        "0 keeps them forever.",
    )

    widget_secret: str | None = Field(
        None, description="Secret of the widget identity hash: HMAC-SHA256(secret, customer_id)."
    )
    agent_keys: str = Field("", description="Comma-separated API keys of the agent sidebar.")
    admin_keys: str = Field("", description="Comma-separated API keys of the admin endpoints.")
    rate_limit_per_minute: int = Field(
        30, ge=1, description="Chat turns a customer may start per minute (per worker)."
    )
    cors_origins: str = Field(
        "", description="Comma-separated origins allowed to call the widget API cross-site."
    )
    idempotency_ttl_s: int = Field(
        86400, ge=60, description="Seconds a chat Idempotency-Key and its stored result are kept."
    )
    idempotency_lease_s: int = Field(
        300,
        ge=1,
        description="Seconds a turn holds its Idempotency-Key before a retry may take it over "
        "(a worker that died mid-turn).",
    )
    db_retry_after_s: int = Field(
        5, ge=1, description="Retry-After seconds of the 503 answered while the database is down."
    )
    demo_customers: str = Field(
        "olivia_ito_3591,omar_lopez_3107,isabella_brown_3584,james_kim_7213,raj_santos_9079",
        description="Customers offered first by the demo page's picker.",
    )
    demo: bool = Field(
        False, description="Serve the demo helpers (identity hash for the picker, agent key)."
    )
    max_body_bytes: int = Field(
        1_048_576,
        ge=1024,
        description="Largest request body accepted (413 before it is read or parsed).",
    )
    docs_enabled: bool | None = Field(
        None,
        description="Serve /docs, /redoc and /openapi.json; unset: only with RAPPORT_DEMO "
        "(`rapport serve --demo`, `make run`).",
    )
    metrics_key: str | None = Field(
        None, description="Key a Prometheus scraper sends to read /metrics (admin keys work too)."
    )
    metrics_public: bool = Field(
        False, description="Serve /metrics without a key (only behind a private network)."
    )

    @model_validator(mode="after")
    def _llm_consistent(self) -> Settings:
        if self.openai_base_url and not self.llm_model:
            raise ValueError("OPENAI_BASE_URL is set but RAPPORT_LLM_MODEL is not: name the model")
        return self

    @staticmethod
    def _split(value: str) -> list[str]:
        return [v.strip() for v in value.split(",") if v.strip()]

    @property
    def agent_key_list(self) -> list[str]:
        return self._split(self.agent_keys)

    @property
    def admin_key_list(self) -> list[str]:
        return self._split(self.admin_keys)

    @property
    def intent_list(self) -> list[str]:
        return self._split(self.intents)

    @property
    def cors_origin_list(self) -> list[str]:
        return self._split(self.cors_origins)

    @property
    def sqlalchemy_url(self) -> str:
        """The database URL in force: DATABASE_URL, or the SQLite file under data_dir."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'rapport.db').resolve()}"

    @property
    def chroma_dir(self) -> Path:
        """Directory of the embedded Chroma store."""
        return self.data_dir / "chroma"

    @property
    def docs_on(self) -> bool:
        """Whether the API docs and the OpenAPI schema are served."""
        return self.demo if self.docs_enabled is None else self.docs_enabled

    @property
    def llm_enabled(self) -> bool:
        """Whether generation goes to an OpenAI-compatible endpoint."""
        return bool(self.llm_model)
