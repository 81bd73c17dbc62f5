from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from fastapi.testclient import TestClient

from assistant.api import create_app
from assistant.api.security import user_hash

SECRET = "test-widget-secret"
AGENT_KEY = "agent-test-key"
ADMIN_KEY = "admin-test-key"
SETTINGS = dict(
    widget_secret=SECRET,
    agent_keys=AGENT_KEY,
    admin_keys=ADMIN_KEY,
    rate_limit_per_minute=20,
    demo=True,
    max_message_chars=500,
    # Tests read /metrics without a key; tests/api/test_boundary_config.py checks the
    # default (a key needed).
    metrics_public=True,
)


def identity(customer_id: str) -> dict[str, str]:
    return {"customer_id": customer_id, "user_hash": user_hash(SECRET, customer_id)}


@pytest.fixture
def make_client(make_container):
    def build(**overrides) -> TestClient:
        container = make_container(**{**SETTINGS, **overrides})
        return TestClient(create_app(container), raise_server_exceptions=False)

    return build


@pytest.fixture
def client(make_client) -> TestClient:
    return make_client()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def live_server(make_container) -> Iterator[str]:
    """The app served by uvicorn on a loopback port: real HTTP for browsers and clients."""
    app = create_app(make_container(**SETTINGS))
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        server.force_exit = True  # open event streams (a live page) need not finish
        thread.join(timeout=10)
