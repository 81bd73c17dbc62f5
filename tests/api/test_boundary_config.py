"""What the service exposes besides its API: the docs, /metrics and the worker header,
each configurable, with safe defaults (issue 16, finding 9)."""

from __future__ import annotations

import os
import re

import pytest

from tests.api.conftest import ADMIN_KEY, AGENT_KEY

DOCS = ("/docs", "/redoc", "/openapi.json")


@pytest.mark.parametrize(
    ("settings", "served"),
    [
        ({"demo": False}, False),  # the default outside demo mode: not served
        ({"demo": True}, True),  # `rapport serve --demo` / `make run`: served locally
        ({"demo": False, "docs_enabled": True}, True),
        ({"demo": True, "docs_enabled": False}, False),
    ],
)
def test_api_docs_follow_the_setting(make_client, settings, served):
    client = make_client(**settings)
    for path in DOCS:
        r = client.get(path)
        assert r.status_code == (200 if served else 404), path
        if not served:
            assert r.json() == {"error": "not found"}
    # Either way the schema can be built in process (schemathesis reads it so).
    assert "/v1/chat" in client.app.openapi()["paths"]


def test_metrics_need_a_key_by_default(make_client):
    client = make_client(metrics_public=False, metrics_key="scrape-key-0001")
    r = client.get("/metrics")
    assert r.status_code == 401 and "metrics API key" in r.json()["error"]
    assert client.get("/metrics", headers={"X-API-Key": "wrong-key-0001"}).status_code == 403
    assert client.get("/metrics", headers={"X-API-Key": AGENT_KEY}).status_code == 403
    for headers in (
        {"Authorization": "Bearer scrape-key-0001"},  # how Prometheus sends a token
        {"X-API-Key": "scrape-key-0001"},
        {"X-API-Key": ADMIN_KEY},
    ):
        r = client.get("/metrics", headers=headers)
        assert r.status_code == 200 and "rapport_http_requests_total" in r.text, headers


def test_metrics_can_be_public(make_client):
    client = make_client(metrics_public=True)
    assert client.get("/metrics").status_code == 200


def test_the_worker_header_is_an_opaque_token_not_the_process_id(make_client):
    first, second = make_client(), make_client()
    a = first.get("/healthz").headers["x-rapport-worker"]
    assert re.fullmatch(r"[0-9a-f]{16}", a) and a != str(os.getpid())
    assert first.get("/readyz").headers["x-rapport-worker"] == a  # one per process (app)
    assert second.get("/healthz").headers["x-rapport-worker"] != a
