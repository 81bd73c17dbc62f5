"""Reference retrievers the suites compare Rapport against, on the same cases.

`dense` is what a default LangChain + Chroma setup does: one MiniLM vector per whole
document or turn (the model truncates at 256 word pieces), cosine top-k. `bm25` is the
same BM25 Rapport uses, over whole documents or turns."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from retrieval.embedder import Embedder
from retrieval.lexical import Bm25

BASELINES = ("dense", "bm25")


class DenseRanker:
    """Whole texts embedded one vector each; embeddings cached on disk by content hash."""

    def __init__(
        self, embedder: Embedder, ids: Sequence[str], texts: Sequence[str], cache: Path | None
    ) -> None:
        self.ids = list(ids)
        self.matrix = _cached_embeddings(embedder, texts, cache)
        self.embedder = embedder

    def rank(self, query: str, k: int, within: Sequence[int] | None = None) -> list[str]:
        """The k ids most similar to query, optionally only among the rows `within`."""
        rows = np.arange(len(self.ids)) if within is None else np.asarray(within)
        if len(rows) == 0:
            return []
        sims = self.matrix[rows] @ self.embedder.embed_query(query)
        order = np.argsort(-sims, kind="stable")[:k]
        return [self.ids[int(rows[i])] for i in order]


class Bm25Ranker:
    """BM25 over whole texts."""

    def __init__(self, ids: Sequence[str], texts: Sequence[str]) -> None:
        self.bm25 = Bm25()
        self.bm25.build(ids, texts)

    def rank(self, query: str, k: int) -> list[str]:
        return [i for i, _ in self.bm25.search(query, k)]


def _cached_embeddings(embedder: Embedder, texts: Sequence[str], cache: Path | None) -> np.ndarray:
    key = hashlib.sha256("\x1e".join(texts).encode()).hexdigest()[:16]
    path = cache / f"dense-{key}.npy" if cache else None
    if path is not None and path.is_file():
        return np.load(path)
    matrix = embedder.embed(list(texts))
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, matrix)
    return matrix
