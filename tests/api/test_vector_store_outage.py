"""A `chroma run` server killed and restarted under the app: turns keep answering (KB from
memory, history skipped and the turn flagged degraded), /readyz reports it, and the
service recovers when the server is back."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from assistant.api import create_app
from assistant.settings import Settings
from assistant.wiring import Container
from profiles.mapping import import_retail
from profiles.models import Message
from tests.api.conftest import AGENT_KEY, SETTINGS, identity
from tests.conftest import RETAIL, SERVICES, free_port, start_chroma

OLIVIA = "olivia_ito_3591"


class ChromaServer:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = start_chroma(self.path, self.port, timeout_s=60)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()


@pytest.fixture
def chroma(tmp_path) -> Iterator[ChromaServer]:
    server = ChromaServer(tmp_path / "chroma-own")
    server.start()
    yield server
    server.kill()


@pytest.fixture
def client(chroma, tmp_path, embedder, request) -> Iterator[TestClient]:
    database_url = request.getfixturevalue("postgres_url") if SERVICES else None
    settings = Settings(
        data_dir=tmp_path / "var", database_url=database_url, chroma_url=chroma.url, **SETTINGS
    )
    container = Container(settings, shared_embedder=embedder)
    import_retail(container.engine, RETAIL)
    container.kb.ingest(container.kb.load_documents([RETAIL / "policy.md"]))
    yield TestClient(create_app(container), raise_server_exceptions=False)
    container.assistant.drain()
    container.engine.dispose()


def chat(client, message):
    """A turn as staff see it: with its detail (context, decision trace)."""
    return client.post(
        "/v1/chat",
        json={**identity(OLIVIA), "message": message},
        headers={"X-API-Key": AGENT_KEY},
    )


def test_turns_survive_the_vector_store_going_away_and_coming_back(client, chroma):
    first = chat(client, "My parrot chewed the charger cable of order #W5442520")
    assert first.status_code == 200 and first.json()["degraded"] is False
    client.app.state.services.container.assistant.drain()

    chroma.kill()
    r = chat(client, "Can I cancel order #W5442520?")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["degraded"] is True
    assert "retrieve.history_unavailable" in [
        hit["rule"] for hit in body["detail"]["decision_trace"]
    ]
    assert body["detail"]["context"]["passage_ids"], "the KB is searched from memory"
    assert "#W5442520" in body["answer"]
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["checks"]["vector_store"].startswith("error")
    engine = client.app.state.services.container.engine
    with Session(engine) as s:
        texts = [m.text for m in s.exec(select(Message).where(Message.customer_id == OLIVIA))]
    assert "Can I cancel order #W5442520?" in texts

    chroma.start()  # same path, same port
    assert client.get("/readyz").status_code == 200
    r = chat(client, "What happened with the parrot and my charger?")
    assert r.status_code == 200 and r.json()["degraded"] is False
    assert r.json()["detail"]["context"]["history_ids"], "history is searched again"
