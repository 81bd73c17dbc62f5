"""Erasure leaves no byte behind (issue 16.3): after `DELETE /v1/admin/customers/{id}`,
no file of the data directory, nor of the vector store's persist directory, holds the
customer's texts, names, email, order address or the vectors of their messages.

The files are read as raw bytes, while the server's stores are still open and again
after they are closed. Run with the embedded defaults (SQLite and Chroma in the data
directory) and, in the services pass, with a `chroma run` server and PostgreSQL (whose
own files are not Rapport's data directory; its rows are checked by the API tests)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from assistant.api import create_app
from assistant.settings import Settings
from assistant.wiring import Container
from tests.api.conftest import ADMIN_KEY, SETTINGS, identity
from tests.conftest import SERVICES, free_port, scratch_postgres, start_chroma

ADMIN = {"X-API-Key": ADMIN_KEY}


def _files(*roots: Path) -> Iterator[Path]:
    for root in roots:
        yield from (p for p in root.rglob("*") if p.is_file())


def _found(needles: dict[str, bytes], *roots: Path) -> dict[str, list[str]]:
    """Which needles occur in which files (as raw bytes, and lower-cased for text)."""
    hits: dict[str, list[str]] = {}
    for path in _files(*roots):
        data = path.read_bytes()
        lowered = data.lower()
        for name, needle in needles.items():
            if needle in data or (not name.startswith("vector") and needle.lower() in lowered):
                hits.setdefault(name, []).append(str(path))
    return hits


@pytest.fixture
def deployment(tmp_path: Path, embedder) -> Iterator[tuple[Container, list[Path]]]:
    """A fresh deployment: its container and the directories that hold its files."""
    data_dir = tmp_path / "var"
    if not SERVICES:
        c = Container(Settings(data_dir=data_dir, **SETTINGS), shared_embedder=embedder)
        yield c, [data_dir]
        c.engine.dispose()
        return
    persist = tmp_path / "chroma"
    port = free_port()
    proc = start_chroma(persist, port)
    try:
        with scratch_postgres() as url:
            settings = Settings(
                data_dir=data_dir,
                database_url=url,
                chroma_url=f"http://127.0.0.1:{port}",
                **SETTINGS,
            )
            c = Container(settings, shared_embedder=embedder)
            yield c, [data_dir, persist]
            c.engine.dispose()
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def test_an_erased_customer_leaves_no_byte_in_any_file(deployment):
    c, roots = deployment
    client = TestClient(create_app(c), raise_server_exceptions=False)
    u = uuid.uuid4().hex[:10]
    cid = f"zephyrine_quill_{u}"
    person: dict[str, Any] = {
        "first_name": f"Zephyrine{u}",
        "last_name": f"Quillfeather{u}",
        "email": f"zq.{u}@example.org",
        "city": f"Ottersby{u}",
        "consents": {"history": True, "personalization": True},
    }
    assert client.put(f"/v1/admin/customers/{cid}", json=person, headers=ADMIN).status_code in (
        200,
        201,
    )
    order = {
        "customer_id": cid,
        "status": "delivered",
        "fields": {
            "items": [{"item_id": "i1", "product_id": "p1", "name": "Lamp", "price": 20}],
            "address": {"address1": f"{u} Marigold Crescent", "zip": "40404"},
        },
        "text": f"Order #W{u[:7]} (Lamp): delivered, to {u} Marigold Crescent",
    }
    r = client.put(f"/v1/admin/records/order/%23W{u[:7]}", json=order, headers=ADMIN)
    assert r.status_code in (200, 201), r.text
    messages = [
        f"My hedgehog Bartholomew{u} chewed the lamp cable",
        f"Please send the new cable to {u} Marigold Crescent, Ottersby{u}",
    ]
    conv = None
    for n, text in enumerate(messages):
        body = {**identity(cid), "message": text, **({"conversation_id": conv} if conv else {})}
        r = client.post("/v1/chat", json=body, headers={"Idempotency-Key": f"k{n}-{u}"})
        assert r.status_code == 200, r.text
        conv = r.json()["conversation_id"]
    turn = r.json()["turn_id"]
    comment = f"Bartholomew{u} thanks you"
    fb = {**identity(cid), "turn_id": turn, "rating": 5, "comment": comment}
    assert client.post("/v1/feedback", json=fb).status_code == 201
    c.assistant.drain()  # the history vectors are written

    vectors = c.embedder.embed(messages)
    needles: dict[str, bytes] = {
        "customer id": cid.encode(),
        "first name": person["first_name"].encode(),
        "last name": person["last_name"].encode(),
        "email": person["email"].encode(),
        "city": person["city"].encode(),
        "street": f"{u} Marigold Crescent".encode(),
        "message": f"hedgehog Bartholomew{u}".encode(),
        "comment": comment.encode(),
    }
    for n, v in enumerate(np.asarray(vectors, dtype=np.float32)):
        needles[f"vector {n}"] = v[:8].tobytes()
        needles[f"vector {n} normalized"] = (v / np.linalg.norm(v))[:8].astype(np.float32).tobytes()
    if not SERVICES:  # the scan sees what the files hold: SQLite has the rows by now
        before = _found(needles, *roots)
        assert {"customer id", "email", "street", "message", "comment"} <= before.keys()

    r = client.delete(f"/v1/admin/customers/{cid}", headers=ADMIN)
    assert r.status_code == 200 and r.json()["status"] == "erased", r.text
    assert r.json()["vectors_deleted"] == 2

    assert _found(needles, *roots) == {}  # with the stores still open
    client.close()
    c.engine.dispose()
    assert _found(needles, *roots) == {}  # and once they are closed

    # The erasure is still on record, by a digest of the id.
    again = TestClient(create_app(c)).delete(f"/v1/admin/customers/{cid}", headers=ADMIN)
    assert again.json()["status"] == "already_erased"
