"""Shared fixtures: real data sets, real databases, and a guard against real LLM calls."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import respx
from sqlalchemy.engine import Engine

from profiles.db import create_schema, make_engine
from profiles.importers import import_tau_retail

ROOT = Path(__file__).resolve().parent.parent
DATASETS = Path(os.environ.get("RAPPORT_DATASETS_DIR", ROOT.parent / "shared" / "datasets"))
RETAIL = DATASETS / "tau-retail"
BANK_DOCS = DATASETS / "tau-banking-knowledge" / "documents"
POSTGRES_URL = os.environ.get(
    "RAPPORT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
_ISOLATED_ENV = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "DATABASE_URL", "CHROMA_URL")


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test sees the developer's LLM, database or Rapport settings."""
    for name in list(os.environ):
        if name in _ISOLATED_ENV or name.startswith("RAPPORT_") and name != "RAPPORT_DATASETS_DIR":
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


@pytest.fixture(autouse=True)
def llm_guard() -> Iterator[respx.MockRouter]:
    """Every HTTP request through httpx must be to loopback or mocked: an unmocked LLM
    request fails the test. Tests add their LLM routes to this router."""
    with respx.mock(assert_all_called=False) as router:
        router.route(host__regex=r"^(127\.0\.0\.1|localhost|testserver|\[::1\])$").pass_through()
        yield router


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    """A fresh SQLite database with the schema."""
    e = make_engine(f"sqlite:///{tmp_path / 'test.db'}")
    create_schema(e)
    return e


@pytest.fixture(scope="session")
def retail_engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    """SQLite with the real tau-retail data imported, shared read-only by the session."""
    e = make_engine(f"sqlite:///{tmp_path_factory.mktemp('retail') / 'retail.db'}")
    create_schema(e)
    import_tau_retail(e, RETAIL)
    return e


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A scratch database on the real PostgreSQL server, dropped afterwards."""
    admin = POSTGRES_URL.replace("postgresql+psycopg://", "postgresql://")
    name = f"rapport_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = POSTGRES_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def embedder():
    """The packaged MiniLM model, loaded once for the whole run."""
    from retrieval.embedder import MiniLMEmbedder

    return MiniLMEmbedder()


DEMO_BANK_DOCS = 40  # a slice of the banking KB keeps the session fixture quick


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory: pytest.TempPathFactory, embedder) -> Path:
    """A data dir with the real tau-retail data, its policy and part of the banking KB."""
    from assistant.settings import Settings
    from assistant.wiring import Container

    data_dir = tmp_path_factory.mktemp("demo") / "var"
    c = Container(Settings(data_dir=data_dir), shared_embedder=embedder)
    import_tau_retail(c.engine, RETAIL)
    docs = sorted(BANK_DOCS.glob("*.json"))[:DEMO_BANK_DOCS]
    c.kb.ingest(c.kb.load_documents([RETAIL / "policy.md", *docs]))
    c.engine.dispose()
    return data_dir


@pytest.fixture
def make_container(demo_dir: Path, tmp_path: Path, embedder):
    """A container on a private copy of the demo data dir, with optional settings."""
    import shutil

    from assistant.settings import Settings
    from assistant.wiring import Container

    def build(**overrides):
        data_dir = tmp_path / "var"
        if not data_dir.exists():
            shutil.copytree(demo_dir, data_dir)
        return Container(Settings(data_dir=data_dir, **overrides), shared_embedder=embedder)

    return build


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`chroma run` on a loopback port for the session; its URL."""
    import shutil
    import subprocess
    import sys
    import time

    import httpx

    exe = shutil.which("chroma") or str(Path(sys.executable).parent / "chroma")
    port = free_port()
    path = tmp_path_factory.mktemp("chroma-server")
    proc = subprocess.Popen(
        [exe, "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{url}/api/v2/heartbeat", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError("chroma run did not start")
        time.sleep(0.2)
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=15)
