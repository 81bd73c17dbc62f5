"""`rapport serve --workers 2`: stateless workers sharing PostgreSQL and a Chroma server."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from assistant.settings import Settings
from assistant.wiring import Container
from profiles.mapping import import_retail
from tests.api.conftest import AGENT_KEY, SECRET, _free_port, identity
from tests.conftest import RETAIL

pytestmark = pytest.mark.postgres
OLIVIA = "olivia_ito_3591"


@pytest.fixture
def two_workers(tmp_path, postgres_url, chroma_server, embedder):
    """Two workers on the scale-out topology: PostgreSQL and a Chroma server."""
    settings = Settings(
        data_dir=tmp_path,
        database_url=postgres_url,
        chroma_url=chroma_server,
        chroma_database="workers_test",
    )
    c = Container(settings, shared_embedder=embedder)
    import_retail(c.engine, RETAIL)
    c.kb.ingest(c.kb.load_documents([RETAIL / "policy.md"]))
    c.engine.dispose()
    port = _free_port()
    env = {
        **os.environ,
        "RAPPORT_DATA_DIR": str(tmp_path),
        "DATABASE_URL": postgres_url,
        "CHROMA_URL": chroma_server,
        "RAPPORT_CHROMA_DATABASE": "workers_test",
        "RAPPORT_WIDGET_SECRET": SECRET,
        "RAPPORT_AGENT_KEYS": AGENT_KEY,
        "RAPPORT_RATE_LIMIT_PER_MINUTE": "1000",
        "HF_HUB_OFFLINE": "1",
    }
    cmd = [sys.executable, "-m", "assistant.cli", "serve", "--port", str(port), "--workers", "2"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        # Ready when both workers have answered /readyz on fresh connections.
        deadline = time.monotonic() + 120
        ready: set[str] = set()
        while len(ready) < 2:
            if proc.poll() is not None:
                raise RuntimeError(proc.stdout.read().decode() if proc.stdout else "exited")
            try:
                r = httpx.get(f"{base}/readyz", timeout=5, headers={"Connection": "close"})
                if r.status_code == 200:
                    ready.add(r.headers["X-Rapport-Worker"])
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"workers not ready: {len(ready)} of 2 answered")
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_two_workers_share_conversations(two_workers):
    base = two_workers
    # A fresh connection per request lets the kernel hand each one to either worker.
    with httpx.Client(base_url=base, timeout=60, headers={"Connection": "close"}) as client:
        first = client.post("/v1/chat", json={**identity(OLIVIA), "message": "Hi, about #W5442520"})
        conv = first.json()["conversation_id"]

        def turn(i: int) -> httpx.Response:
            return client.post(
                "/v1/chat",
                json={**identity(OLIVIA), "conversation_id": conv, "message": f"question {i}"},
            )

        with ThreadPoolExecutor(max_workers=8) as pool:
            responses = list(pool.map(turn, range(16)))
        assert all(r.status_code == 200 for r in responses), [r.text for r in responses]
        pids = {r.headers["X-Rapport-Worker"] for r in responses}
        assert len(pids) == 2, "both workers should have served turns"
        # Whichever worker serves it, a turn sees the conversation so far (state is in SQL).
        client.post(
            "/v1/chat",
            json={**identity(OLIVIA), "conversation_id": conv, "message": "my parrot is blue"},
        )
        last = client.post(  # as staff: the reply's detail holds the prompt's context
            "/v1/chat",
            json={**identity(OLIVIA), "conversation_id": conv, "message": "thanks"},
            headers={"X-API-Key": AGENT_KEY},
        ).json()
        convo = (
            last["detail"]["context"]["text"].split("<conversation>")[1].split("</conversation>")[0]
        )
        assert "Customer: my parrot is blue" in convo, convo
        history = client.get(
            f"/v1/conversations/{conv}",
            headers={"X-Customer-Id": OLIVIA, "X-User-Hash": identity(OLIVIA)["user_hash"]},
        ).json()["messages"]
        assert len(history) == 2 * (len(responses) + 3)
