from __future__ import annotations

import numpy as np
import pytest

from retrieval.store import ChromaIndex


def unit(*values: float) -> np.ndarray:
    v = np.array(values, dtype=np.float32)
    return v / np.linalg.norm(v)


def fill(index: ChromaIndex) -> None:
    index.upsert(
        "items",
        ids=["x", "y", "z"],
        embeddings=np.stack([unit(1, 0, 0), unit(1, 1, 0), unit(0, 0, 1)]),
        documents=["doc x", "doc y", "doc z"],
        metadatas=[{"group": "a"}, {"group": "a"}, {"group": "b"}],
    )


def test_query_returns_cosine_similarity_nearest_first(index: ChromaIndex) -> None:
    fill(index)

    hits = index.query("items", unit(1, 0, 0), k=10)

    assert [h.id for h in hits] == ["x", "y", "z"]
    assert hits[0].similarity == pytest.approx(1.0, abs=1e-5)
    assert hits[1].similarity == pytest.approx(np.sqrt(0.5), abs=1e-4)
    assert hits[2].similarity == pytest.approx(0.0, abs=1e-5)
    assert hits[0].document == "doc x" and hits[0].metadata == {"group": "a"}


def test_get_keeps_the_asked_order_and_skips_unknown_ids(index: ChromaIndex) -> None:
    fill(index)

    items = index.get("items", ids=["z", "nope", "x"], include_embeddings=True)

    assert [i.id for i in items] == ["z", "x"]
    assert items[0].embedding is not None
    np.testing.assert_allclose(items[0].embedding, unit(0, 0, 1), atol=1e-6)
    assert index.get("items", ids=["x"])[0].embedding is None
    assert index.get("items", ids=[]) == []
    assert sorted(i.id for i in index.get("items", where={"group": "a"})) == ["x", "y"]


def test_upsert_replaces_and_delete_removes(index: ChromaIndex) -> None:
    fill(index)
    index.upsert("items", ["x"], np.stack([unit(0, 1, 0)]), ["new x"], [{"group": "c"}])

    assert index.count("items") == 3
    assert index.get("items", ids=["x"])[0].document == "new x"

    index.delete("items", ids=["x"])
    index.delete("items", ids=[])
    assert index.count("items") == 2
    index.delete("items", where={"group": "b"})
    assert [i.id for i in index.get("items")] == ["y"]


def test_upsert_batches_past_the_client_limit(index: ChromaIndex) -> None:
    index._max_batch = 7  # force several batches without writing thousands of rows
    n = 20
    vectors = np.random.default_rng(0).normal(size=(n, 4)).astype(np.float32)

    index.upsert(
        "many", [f"i{j}" for j in range(n)], vectors, ["d"] * n, [{"j": j} for j in range(n)]
    )

    assert index.count("many") == n


def test_drop_forgets_the_collection(index: ChromaIndex) -> None:
    fill(index)

    index.drop("items")
    index.drop("items")  # dropping twice is fine

    assert index.count("items") == 0
    assert index.query("items", unit(1, 0, 0), k=3) == []


def test_server_url_must_be_http() -> None:
    with pytest.raises(ValueError, match="http://host:port"):
        ChromaIndex.server("localhost:8000")
