"""The vector store behind a small protocol, with a Chroma implementation (embedded or server)."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlparse

import numpy as np

MetadataValue = str | int | float | bool
Metadata = Mapping[str, MetadataValue]


@dataclass(frozen=True)
class VectorHit:
    """A nearest-neighbour result; similarity is 1 - cosine distance (1.0 = same direction)."""

    id: str
    document: str
    metadata: dict[str, MetadataValue]
    similarity: float


@dataclass(frozen=True)
class StoredItem:
    """An item as stored; embedding is None unless it was asked for."""

    id: str
    document: str
    metadata: dict[str, MetadataValue]
    embedding: np.ndarray | None = None


class VectorIndex(Protocol):
    """Named collections of (id, embedding, document, metadata) with cosine search."""

    def upsert(
        self,
        collection: str,
        ids: Sequence[str],
        embeddings: np.ndarray,
        documents: Sequence[str],
        metadatas: Sequence[Metadata],
    ) -> None:
        """Insert or replace these items."""
        ...

    def query(self, collection: str, embedding: np.ndarray, k: int) -> list[VectorHit]:
        """Return up to k items nearest to embedding, most similar first."""
        ...

    def get(
        self,
        collection: str,
        ids: Sequence[str] | None = None,
        where: Mapping[str, Any] | None = None,
        include_embeddings: bool = False,
    ) -> list[StoredItem]:
        """Return the items with these ids (missing ids are left out) or matching where;
        all items when neither is given."""
        ...

    def delete(
        self,
        collection: str,
        ids: Sequence[str] | None = None,
        where: Mapping[str, Any] | None = None,
    ) -> None:
        """Delete the items with these ids or matching where (nothing when neither is given)."""
        ...

    def count(self, collection: str) -> int:
        """Return the number of items in the collection (0 if it does not exist yet)."""
        ...

    def drop(self, collection: str) -> None:
        """Delete the collection and everything in it; no error if it does not exist."""
        ...


class ChromaIndex:
    """VectorIndex over a chromadb client; collections are created on first use, cosine space."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self._collections: dict[str, Any] = {}
        self._max_batch = int(client.get_max_batch_size())

    @classmethod
    def embedded(cls, path: Path) -> ChromaIndex:
        """An index persisted in a local directory (created if needed)."""
        import chromadb
        from chromadb.config import Settings

        path.mkdir(parents=True, exist_ok=True)
        client = chromadb.PersistentClient(
            path=str(path), settings=Settings(anonymized_telemetry=False)
        )
        return cls(client)

    @classmethod
    def server(cls, url: str, database: str | None = None) -> ChromaIndex:
        """An index on a Chroma server, e.g. "http://127.0.0.1:8000"; `database` (created
        if missing) keeps one deployment's collections apart from another's."""
        import chromadb
        from chromadb.config import Settings

        parsed = urlparse(url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise ValueError(f"Chroma URL must look like http://host:port, got {url!r}")
        ssl = parsed.scheme == "https"
        host, port = parsed.hostname, parsed.port or (443 if ssl else 8000)
        settings = Settings(anonymized_telemetry=False)
        if database:
            admin = chromadb.AdminClient(
                Settings(
                    chroma_api_impl="chromadb.api.fastapi.FastAPI",
                    chroma_server_host=host,
                    chroma_server_http_port=port,
                    chroma_server_ssl_enabled=ssl,
                    anonymized_telemetry=False,
                )
            )
            try:
                admin.get_database(database)
            except Exception:  # noqa: BLE001 — chromadb raises a generic error for "missing"
                admin.create_database(database)
        client = chromadb.HttpClient(
            host=host,
            port=port,
            ssl=ssl,
            database=database or chromadb.DEFAULT_DATABASE,
            settings=settings,
        )
        return cls(client)

    def _collection(self, name: str) -> Any:
        handle = self._collections.get(name)
        if handle is None:
            # embedding_function=None: Chroma's default one downloads a model at first use.
            handle = self._client.get_or_create_collection(
                name, embedding_function=None, configuration={"hnsw": {"space": "cosine"}}
            )
            self._collections[name] = handle
        return handle

    def upsert(
        self,
        collection: str,
        ids: Sequence[str],
        embeddings: np.ndarray,
        documents: Sequence[str],
        metadatas: Sequence[Metadata],
    ) -> None:
        """Insert or replace these items, in batches no larger than the client accepts."""
        if not (len(ids) == len(embeddings) == len(documents) == len(metadatas)):
            raise ValueError("ids, embeddings, documents and metadatas differ in length")
        col = self._collection(collection)
        vectors = np.asarray(embeddings, dtype=np.float32)
        for start in range(0, len(ids), self._max_batch):
            end = start + self._max_batch
            col.upsert(
                ids=list(ids[start:end]),
                embeddings=vectors[start:end],
                documents=list(documents[start:end]),
                metadatas=[dict(m) for m in metadatas[start:end]],
            )

    def query(self, collection: str, embedding: np.ndarray, k: int) -> list[VectorHit]:
        """Return up to k items nearest to embedding, most similar first."""
        if k <= 0:
            return []
        result = self._collection(collection).query(
            query_embeddings=[np.asarray(embedding, dtype=np.float32)],
            n_results=k,
            include=["documents", "metadatas", "distances"],
        )
        ids = result["ids"][0]
        documents = result["documents"][0]
        metadatas = result["metadatas"][0]
        distances = result["distances"][0]
        return [
            VectorHit(i, doc or "", dict(meta or {}), 1.0 - float(dist))
            for i, doc, meta, dist in zip(ids, documents, metadatas, distances, strict=True)
        ]

    def get(
        self,
        collection: str,
        ids: Sequence[str] | None = None,
        where: Mapping[str, Any] | None = None,
        include_embeddings: bool = False,
    ) -> list[StoredItem]:
        """Return the items with these ids (in that order, missing ones left out) or matching
        where; all items when neither is given."""
        if ids is not None and len(ids) == 0:
            return []  # Chroma rejects an empty id list
        include = ["documents", "metadatas"] + (["embeddings"] if include_embeddings else [])
        result = self._collection(collection).get(
            ids=list(ids) if ids is not None else None,
            where=dict(where) if where else None,
            include=include,
        )
        embeddings = result.get("embeddings") if include_embeddings else None
        items = [
            StoredItem(
                id=item_id,
                document=result["documents"][i] or "",
                metadata=dict(result["metadatas"][i] or {}),
                embedding=(
                    np.asarray(embeddings[i], dtype=np.float32) if embeddings is not None else None
                ),
            )
            for i, item_id in enumerate(result["ids"])
        ]
        if ids is not None:
            # Chroma does not promise to return ids in the order asked.
            order = {item_id: n for n, item_id in enumerate(ids)}
            items.sort(key=lambda item: order[item.id])
        return items

    def delete(
        self,
        collection: str,
        ids: Sequence[str] | None = None,
        where: Mapping[str, Any] | None = None,
    ) -> None:
        """Delete the items with these ids or matching where (nothing when neither is given)."""
        col = self._collection(collection)
        if ids is not None:
            for start in range(0, len(ids), self._max_batch):
                batch = list(ids[start : start + self._max_batch])
                col.delete(ids=batch, where=dict(where) if where else None)
        elif where:
            col.delete(where=dict(where))

    def count(self, collection: str) -> int:
        """Return the number of items in the collection (creating it empty if needed)."""
        return int(self._collection(collection).count())

    def drop(self, collection: str) -> None:
        """Delete the collection and everything in it; no error if it does not exist."""
        from chromadb.errors import NotFoundError

        # A cached handle to a dropped collection fails on every call, so forget it first.
        self._collections.pop(collection, None)
        with contextlib.suppress(NotFoundError):
            self._client.delete_collection(collection)
