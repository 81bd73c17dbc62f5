"""Shared fixtures: real data sets, real databases, and a guard against real LLM calls."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import psycopg
import pytest
import respx
from sqlalchemy.engine import Engine

from profiles.db import create_schema, make_engine
from profiles.mapping import STORE_SEGMENTS, import_retail

ROOT = Path(__file__).resolve().parent.parent
DATASETS = Path(os.environ.get("RAPPORT_DATASETS_DIR", ROOT.parent / "shared" / "datasets"))
RETAIL = DATASETS / "tau-retail"
BANK_DOCS = DATASETS / "tau-banking-knowledge" / "documents"
POSTGRES_URL = os.environ.get(
    "RAPPORT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
_ISOLATED_ENV = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "DATABASE_URL", "CHROMA_URL")
# `make test` runs the suite twice: on the embedded defaults (SQLite, embedded Chroma) and
# with RAPPORT_TEST_BACKEND=services on PostgreSQL and a `chroma run` server.
SERVICES = os.environ.get("RAPPORT_TEST_BACKEND", "embedded") == "services"
_ADMIN_PG = POSTGRES_URL.replace("postgresql+psycopg://", "postgresql://")


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test sees the developer's LLM, database or Rapport settings."""
    for name in list(os.environ):
        if name in _ISOLATED_ENV or (
            name.startswith("RAPPORT_")
            and name not in ("RAPPORT_DATASETS_DIR", "RAPPORT_TEST_BACKEND")
        ):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


@pytest.fixture(autouse=True)
def llm_guard() -> Iterator[respx.MockRouter]:
    """Every HTTP request through httpx must be to loopback or mocked: an unmocked LLM
    request fails the test. Tests add their LLM routes to this router."""
    with respx.mock(assert_all_called=False) as router:
        router.route(host__regex=r"^(127\.0\.0\.1|localhost|testserver|\[::1\])$").pass_through()
        yield router


@contextmanager
def scratch_postgres(template: str | None = None) -> Iterator[str]:
    """A new database on the real PostgreSQL server (optionally a copy of `template`),
    dropped afterwards; yields its SQLAlchemy URL."""
    name = f"rapport_test_{uuid.uuid4().hex[:10]}"
    copy = f' TEMPLATE "{template}"' if template else ""
    with psycopg.connect(_ADMIN_PG, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"{copy}')
    try:
        yield f"{POSTGRES_URL.rsplit('/', 1)[0]}/{name}"
    finally:
        with psycopg.connect(_ADMIN_PG, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A scratch database on the real PostgreSQL server, dropped afterwards."""
    with scratch_postgres() as url:
        yield url


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    """A fresh database with the schema: SQLite, or PostgreSQL in the services pass."""
    if SERVICES:
        with scratch_postgres() as url:
            e = make_engine(url)
            create_schema(e)
            yield e
            e.dispose()
        return
    e = make_engine(f"sqlite:///{tmp_path / 'test.db'}")
    create_schema(e)
    yield e


@pytest.fixture(scope="session")
def retail_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """The real tau-retail data imported, shared read-only by the session."""
    if SERVICES:
        with scratch_postgres() as url:
            e = make_engine(url)
            create_schema(e)
            import_retail(e, RETAIL)
            yield e
            e.dispose()
        return
    e = make_engine(f"sqlite:///{tmp_path_factory.mktemp('retail') / 'retail.db'}")
    create_schema(e)
    import_retail(e, RETAIL)
    yield e


@pytest.fixture(scope="session")
def embedder():
    """The packaged MiniLM model, loaded once for the whole run."""
    from retrieval.embedder import MiniLMEmbedder

    return MiniLMEmbedder()


STORE_BRAND = "Acme Outdoor & Home"  # as `rapport demo` names the store
DEMO_BANK_DOCS = 40  # a slice of the banking KB keeps the session fixture quick


@dataclass(frozen=True)
class Demo:
    """Where the demo data live: a data dir, and in the services pass a PostgreSQL
    template database and a Chroma server database to copy per test."""

    data_dir: Path
    pg_template: str | None = None
    chroma_url: str | None = None
    chroma_database: str | None = None


def _load_demo(container) -> None:
    from profiles.workspaces import Registry, WorkspaceConfig

    folder = container.settings.data_dir
    shutil.copyfile(STORE_SEGMENTS, folder / STORE_SEGMENTS.name)
    # the store's workspace as `rapport demo` makes it: its brand, its segments over records
    Registry(folder).save(
        WorkspaceConfig(
            name="default",
            brand=STORE_BRAND,
            description="a home and outdoor store",
            segments_file=STORE_SEGMENTS.name,
        )
    )
    import_retail(container.engine, RETAIL)
    docs = sorted(BANK_DOCS.glob("*.json"))[:DEMO_BANK_DOCS]
    container.kb.ingest(container.kb.load_documents([RETAIL / "policy.md", *docs]))
    container.engine.dispose()


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory, embedder, request) -> Iterator[Demo]:
    """The real tau-retail data, its policy and part of the banking KB, loaded once."""
    from assistant.settings import Settings
    from assistant.wiring import Container

    data_dir = tmp_path_factory.mktemp("demo") / "var"
    data_dir.mkdir()
    if not SERVICES:
        _load_demo(Container(Settings(data_dir=data_dir), shared_embedder=embedder))
        yield Demo(data_dir)
        return
    chroma_url = request.getfixturevalue("chroma_server")
    with scratch_postgres() as url:
        settings = Settings(
            data_dir=data_dir, database_url=url, chroma_url=chroma_url, chroma_database="demo"
        )
        _load_demo(Container(settings, shared_embedder=embedder))
        yield Demo(data_dir, url.rsplit("/", 1)[1], chroma_url, "demo")


@pytest.fixture
def demo_dir(demo: Demo) -> Path:
    return demo.data_dir


@pytest.fixture
def make_container(demo: Demo, tmp_path: Path, embedder) -> Iterator[Callable[..., Any]]:
    """A container on a private copy of the demo data, with optional settings."""
    import shutil

    from assistant.settings import Settings
    from assistant.wiring import Container
    from retrieval.store import ChromaIndex

    with ExitStack() as stack:
        backend: dict[str, Any] = {}

        def build(**overrides: Any) -> Container:
            data_dir = tmp_path / "var"
            if not data_dir.exists():
                shutil.copytree(demo.data_dir, data_dir)
                if SERVICES:
                    assert demo.chroma_url and demo.chroma_database
                    url = stack.enter_context(scratch_postgres(template=demo.pg_template))
                    db = f"t{uuid.uuid4().hex[:12]}"
                    source = ChromaIndex.server(demo.chroma_url, demo.chroma_database)
                    target = ChromaIndex.server(demo.chroma_url, db)
                    for collection in ("kb_chunks",):
                        items = source.get(collection, include_embeddings=True)
                        target.upsert(
                            collection,
                            [i.id for i in items],
                            np.stack([i.embedding for i in items]),
                            [i.document for i in items],
                            [i.metadata for i in items],
                        )
                    backend.update(database_url=url, chroma_url=demo.chroma_url, chroma_database=db)
            # the store's segments over its records and its brand, as its workspace file
            # names them
            store = {"segments_file": data_dir / STORE_SEGMENTS.name, "brand": STORE_BRAND}
            settings = Settings(data_dir=data_dir, **{**store, **backend, **overrides})
            c = Container(settings, shared_embedder=embedder)
            stack.callback(lambda: c.__dict__.get("engine") and c.engine.dispose())
            return c

        yield build


def backend_env(settings: Any) -> dict[str, str]:
    """The environment that points a `rapport` process at the data of `settings`: its
    data dir and, in the services pass, its PostgreSQL database and Chroma server."""
    env = {"RAPPORT_DATA_DIR": str(settings.data_dir)}
    for name, value in (
        ("DATABASE_URL", settings.database_url),
        ("CHROMA_URL", settings.chroma_url),
        ("RAPPORT_CHROMA_DATABASE", settings.chroma_database),
    ):
        if value:
            env[name] = value
    return env


def rapport_cli(container: Any, *args: str) -> subprocess.CompletedProcess[str]:
    """`rapport ARGS…` as a real process on the container's data."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", **backend_env(container.settings)}
    argv = [sys.executable, "-m", "assistant.cli", *args]
    return subprocess.run(argv, capture_output=True, text=True, env=env, timeout=120)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_chroma(path: Path, port: int, timeout_s: float = 30) -> subprocess.Popen[bytes]:
    """`chroma run` serving `path` on loopback `port`, returned once its heartbeat answers
    (killed, and RuntimeError, if it has not within timeout_s)."""
    exe = shutil.which("chroma") or str(Path(sys.executable).parent / "chroma")
    proc = subprocess.Popen(
        [exe, "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            proc.wait()
            raise RuntimeError("chroma run did not start")
        time.sleep(0.2)


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`chroma run` on a loopback port for the session; its URL."""
    port = free_port()
    proc = start_chroma(tmp_path_factory.mktemp("chroma-server"), port)
    url = f"http://127.0.0.1:{port}"
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=15)
