"""Keys compared in constant time, secrets never logged, CORS only for configured origins."""

from __future__ import annotations

import hmac
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from assistant.api import security
from profiles.workspaces import digest
from tests.api.conftest import ADMIN_KEY, AGENT_KEY, SECRET, identity
from tests.conftest import ROOT, backend_env, free_port

OLIVIA = "olivia_ito_3591"


@pytest.fixture
def compared(monkeypatch) -> list[tuple[bytes | str, bytes | str]]:
    """Every hmac.compare_digest call the API makes, passed through to the real one."""
    calls: list[tuple[bytes | str, bytes | str]] = []
    real = hmac.compare_digest

    def spy(a, b):  # type: ignore[no-untyped-def]
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(security.hmac, "compare_digest", spy)
    return calls


def test_widget_hash_is_compared_in_constant_time(client, compared):
    good = identity(OLIVIA)
    bad = {**good, "user_hash": "0" * 64}
    assert client.post("/v1/chat", json={**bad, "message": "hi"}).status_code == 401
    # Compared as bytes, so a non-ASCII hash is a mismatch (401), not a TypeError (500).
    assert compared == [(good["user_hash"].encode(), b"0" * 64)]
    compared.clear()
    assert client.post("/v1/chat", json={**good, "message": "hi"}).status_code == 200
    assert compared == [(good["user_hash"].encode(), good["user_hash"].encode())]


def test_api_keys_are_compared_in_constant_time_against_every_key(make_client, compared):
    client = make_client(agent_keys="agent-one-key,agent-two-key")
    url = "/v1/agent/conversations"
    assert client.get(url, headers={"X-API-Key": "agent-one-kez"}).status_code == 403
    # Agent endpoints accept agent or admin keys: each is compared (as its SHA-256, the
    # form workspaces keep keys in), none skipped.
    assert sorted(a for a, _ in compared) == sorted(
        digest(k).encode() for k in ("agent-one-key", "agent-two-key", ADMIN_KEY)
    )
    compared.clear()
    assert client.get(url, headers={"X-API-Key": "agent-one-key"}).status_code == 200
    assert len(compared) == 3  # no early exit on the first match: timing says nothing


def test_cors_preflight_allows_only_configured_origins(make_client):
    client = make_client(cors_origins="https://shop.example, https://www.shop.example")
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
    }
    ok = client.options("/v1/chat", headers={"Origin": "https://shop.example", **preflight})
    assert ok.status_code == 200
    assert ok.headers["access-control-allow-origin"] == "https://shop.example"
    assert "POST" in ok.headers["access-control-allow-methods"]
    evil = client.options("/v1/chat", headers={"Origin": "https://evil.example", **preflight})
    assert evil.status_code == 400
    assert "access-control-allow-origin" not in evil.headers
    # A simple cross-site request from elsewhere gets no CORS grant either.
    r = client.get("/healthz", headers={"Origin": "https://evil.example"})
    assert r.status_code == 200 and "access-control-allow-origin" not in r.headers
    r = client.get("/healthz", headers={"Origin": "https://www.shop.example"})
    assert r.headers["access-control-allow-origin"] == "https://www.shop.example"
    # the widget's live stream resumes with Last-Event-ID; a retried turn sends its key
    for method, path, header in (
        ("GET", "/v1/conversations/c/events", "last-event-id, x-customer-id, x-user-hash"),
        ("POST", "/v1/chat", "content-type, idempotency-key"),
    ):
        asked = {"Access-Control-Request-Method": method, "Access-Control-Request-Headers": header}
        r = client.options(path, headers={"Origin": "https://shop.example", **asked})
        assert r.status_code == 200, (path, r.text)


def test_no_cors_grant_when_no_origin_is_configured(client):
    r = client.options(
        "/v1/chat",
        headers={"Origin": "https://shop.example", "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in r.headers


OPENAI_KEY = "sk-test-4f1c9a7e2b6d8c3f5a0e"
WIDGET_SECRET = "widget-secret-7d2e91c4b8a6"
AGENT = "agent-key-3b9f0c2d7e1a"
ADMIN = "admin-key-8e4a6c1f9d2b"


class _LeakyLLM(BaseHTTPRequestHandler):
    """An OpenAI-compatible endpoint that rejects the key and echoes it, as a misconfigured
    provider or proxy might: the error text then flows into Rapport's warning."""

    def do_POST(self) -> None:  # noqa: N802 — http.server's naming
        self.rfile.read(int(self.headers.get("content-length", 0)))
        key = self.headers.get("authorization", "").removeprefix("Bearer ")
        body = json.dumps(
            {
                "error": {
                    "message": f"Incorrect API key provided: {key}. Questions: "
                    "billing@llm-provider.example or +1 212-555-0147",
                    "type": "invalid_request_error",
                }
            }
        ).encode()
        self.send_response(401)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def leaky_llm() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _LeakyLLM)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()


def test_rapport_serve_never_logs_secrets_or_personal_data(make_container, leaky_llm):
    """`rapport serve` with every secret set; a turn whose LLM call fails with an error
    that echoes the key; wrong keys and hashes tried. The process output holds the
    failure, masked, and none of the secrets."""
    settings = make_container().settings
    port = free_port()
    env = {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": str(ROOT),
        "HF_HUB_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
        "OPENBLAS_NUM_THREADS": "1",
        "OPENAI_API_KEY": OPENAI_KEY,
        "OPENAI_BASE_URL": leaky_llm,
        "RAPPORT_LLM_MODEL": "m",
        "RAPPORT_LLM_MAX_RETRIES": "0",
        "RAPPORT_WIDGET_SECRET": WIDGET_SECRET,
        "RAPPORT_AGENT_KEYS": AGENT,
        "RAPPORT_ADMIN_KEYS": ADMIN,
        "RAPPORT_CORS_ORIGINS": "https://shop.example",
        **backend_env(settings),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "assistant.cli", "serve", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None, proc.communicate()[0]
            assert time.monotonic() < deadline, "rapport serve did not start"
            time.sleep(0.3)
        from assistant.api.security import user_hash

        who = {"customer_id": OLIVIA, "user_hash": user_hash(WIDGET_SECRET, OLIVIA)}
        message = "I'm olivia.ito5204@example.com, can I cancel #W5442520? Call +1 646 555 3890"
        r = httpx.post(f"{base}/v1/chat", json={**who, "message": message}, timeout=60)
        assert r.status_code == 200 and r.json()["degraded"], r.text
        assert (
            httpx.get(f"{base}/v1/agent/conversations", headers={"X-API-Key": "nope"}).status_code
            == 403
        )
        assert (
            httpx.get(f"{base}/v1/agent/conversations", headers={"X-API-Key": AGENT}).status_code
            == 200
        )
        bad = {**who, "user_hash": user_hash("guess", OLIVIA), "message": "hi"}
        assert httpx.post(f"{base}/v1/chat", json=bad, timeout=30).status_code == 401
    finally:
        proc.terminate()
        output, _ = proc.communicate(timeout=30)
    # The failure was logged with its status (so logging is on and this test can fail)...
    assert "generation failed" in output and "HTTP 401" in output, output
    # ...and not the LLM's error body, no secret and no personal data.
    assert "Incorrect API key" not in output
    for leaked in (OPENAI_KEY, WIDGET_SECRET, AGENT, ADMIN, "billing@llm-provider", "555-0147"):
        assert leaked not in output, leaked
    assert SECRET not in output  # the shared test secret was never in this process at all
    assert AGENT_KEY not in output
