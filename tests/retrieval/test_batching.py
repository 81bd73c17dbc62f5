"""Concurrent turns' query embeddings share embedder calls and get their own vectors."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np
import pytest

from retrieval.batching import EmbedBatcher
from retrieval.embedder import MiniLMEmbedder


class Gated:
    """The real embedder behind a gate: the first call waits until the test opens it, so
    requests pile up behind it as they do behind a running call under load."""

    def __init__(self, inner: MiniLMEmbedder) -> None:
        self.inner = inner
        self.dim = inner.dim
        self.gate = threading.Event()
        self.calls: list[int] = []

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.calls.append(len(texts))
        self.gate.wait(10)
        if "boom" in texts:
            raise RuntimeError("model failed")
        return self.inner.embed(texts)

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed([text])[0]


def test_requests_waiting_behind_a_call_share_the_next_one(embedder: MiniLMEmbedder) -> None:
    gated = Gated(embedder)
    batcher = EmbedBatcher(gated)
    first = batcher.submit(["where is my order?"])
    while not gated.calls:  # the first call runs (and waits at the gate) before the rest
        threading.Event().wait(0.01)
    texts = [["cancel it", "and refund me please"], ["exchange the keyboard"], ["hi"]]
    waiting = [batcher.submit(t) for t in texts]
    gated.gate.set()

    assert first.result(10).shape == (1, embedder.dim)
    results = [f.result(10) for f in waiting]
    assert gated.calls == [1, 4], "the three waiting requests went in one call"
    for t, vectors in zip(texts, results, strict=True):
        np.testing.assert_allclose(vectors, embedder.embed(t), atol=1e-5)


def test_a_failed_call_fails_each_of_its_requests_and_the_next_call_works(
    embedder: MiniLMEmbedder,
) -> None:
    gated = Gated(embedder)
    gated.gate.set()
    batcher = EmbedBatcher(gated)

    with pytest.raises(RuntimeError, match="model failed"):
        batcher.submit(["boom"]).result(10)
    assert batcher.submit(["still working"]).result(10).shape == (1, embedder.dim)
