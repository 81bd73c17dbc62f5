"""Per-customer history retrieval: the caller picks the customer's ids, this ranks them."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import cast

import numpy as np

from retrieval.embedder import Embedder
from retrieval.hybrid import rrf
from retrieval.lexical import Bm25
from retrieval.sealing import Seal, Seals, is_sealed, sealed_as
from retrieval.store import MetadataValue, StoredItem, VectorIndex
from retrieval.types import HistoryHit, HistoryKind, HistoryRecord

log = logging.getLogger(__name__)
# A customer's history is a few hundred items, most sharing words with any question: a
# smaller k than the usual 60 lets the top of each ranking count for more. Measured on
# LoCoMo (window 2): recall@10 0.729 at k=60, 0.748 at k=30.
RRF_K = 30


class HistoryIndex:
    """Customer history items in one shared collection, read only by ids chosen per customer.

    Isolation comes from the caller: it selects the candidate ids for one customer in SQL.
    A `where` filter on the shared collection would scan every row, so it is never used
    at query time.

    With `seals`, each customer's items are stored sealed with their own key (texts
    encrypted, vectors rotated, a tag instead of their id: see retrieval.sealing), so
    erasing the key erases whatever the store's files still hold of them. Items stored
    unsealed (before sealing, or without `seals`) are still read and erased.
    """

    def __init__(
        self,
        index: VectorIndex,
        embedder: Embedder,
        collection: str = "history",
        neighbour_weight: float = 0.35,
        lexical_window: int = 2,
        seals: Seals | None = None,
    ) -> None:
        self.seals = seals
        self.index = index
        self.embedder = embedder
        self.collection = collection
        # A turn's answer often sits next to the turn the question matches ("what did you
        # paint?" → the next message). Each item's cosine gains this share of its best
        # neighbour's (neighbours in candidate order, which callers give in time order).
        # Measured on LoCoMo: recall@10 0.619 → 0.631.
        self.neighbour_weight = neighbour_weight
        # The same idea for BM25: an item is indexed with the words of the items up to
        # lexical_window either side of it (its own words twice, so an exact match still
        # ranks the item itself first), so the question's words found in the exchange
        # around an answer find the answer. Measured on LoCoMo with RRF k=30:
        # recall@10 0.652 (no window) → 0.754 (window 2).
        self.lexical_window = lexical_window

    def add(self, records: Sequence[HistoryRecord], embeddings: np.ndarray | None = None) -> None:
        """Store (or replace) these records; embeds their texts unless embeddings are given."""
        if not records:
            return
        texts = [r.text for r in records]
        vectors = self.embedder.embed(texts) if embeddings is None else embeddings
        if len(vectors) != len(records):
            raise ValueError(f"got {len(vectors)} embeddings for {len(records)} records")
        stored = np.asarray(vectors, dtype=np.float32).copy()
        documents = list(texts)
        metadatas: list[dict[str, MetadataValue]] = [
            {"kind": r.kind, "created_at": r.created_at.isoformat() if r.created_at else ""}
            for r in records
        ]
        rows: dict[str, list[int]] = {}  # each customer's records, sealed together
        for n, r in enumerate(records):
            rows.setdefault(r.customer_id, []).append(n)
        for customer_id, ns in rows.items():
            if self.seals is None:
                for n in ns:
                    metadatas[n]["customer_id"] = customer_id
                continue
            seal = self.seals.for_writing(customer_id)
            stored[ns] = seal.turn(stored[ns])
            for n in ns:
                documents[n] = seal.seal_text(records[n].id, records[n].text)
                metadatas[n]["tag"] = seal.tag
        self.index.upsert(
            self.collection,
            ids=[r.id for r in records],
            embeddings=stored,
            documents=documents,
            metadatas=metadatas,
        )

    def search(
        self,
        customer_id: str,
        candidate_ids: Sequence[str],
        query: str,
        k: int,
        query_embedding: np.ndarray | None = None,
    ) -> list[HistoryHit]:
        """Return the k candidates best matching query (cosine and BM25 fused by RRF).

        candidate_ids should be in time order (either direction): an item's cosine is
        raised by a share of its best neighbour's, and its BM25 text takes in its
        neighbours' words, so a reply next to the matching turn is found too.

        Only candidate_ids are read; any of them stored for another customer is dropped
        with a warning. Unknown ids are ignored. score is the fused RRF score.
        """
        pending = self.start_search(customer_id, candidate_ids, query, k)
        if not pending.items:
            return []  # nothing to rank: the query is not embedded
        vector = self.embedder.embed_query(query) if query_embedding is None else query_embedding
        return pending.finish(vector)

    def start_search(
        self, customer_id: str, candidate_ids: Sequence[str], query: str, k: int
    ) -> PendingHistorySearch:
        """The half of `search` that needs no embedding: the customer's items are read and
        ranked by BM25. A turn runs it while its query is embedded, then calls `finish`."""
        if k <= 0 or not candidate_ids:
            return PendingHistorySearch([], [], k, self.neighbour_weight)
        items = self._owned(customer_id, list(dict.fromkeys(candidate_ids)))
        if not items:
            return PendingHistorySearch([], [], k, self.neighbour_weight)
        texts = [item.document for item in items]
        w = self.lexical_window
        bm25 = Bm25()
        bm25.build(
            [item.id for item in items],
            ["\n".join([*texts[max(0, i - w) : i + w + 1], t]) for i, t in enumerate(texts)],
        )
        lexical = [i for i, _ in bm25.search(query, len(items))]
        return PendingHistorySearch(items, lexical, k, self.neighbour_weight)

    def delete_customer(self, customer_id: str, ids: Sequence[str]) -> None:
        """Delete those of ids stored for customer_id; ids of other customers are kept."""
        owned = self._owned(customer_id, list(ids), include_embeddings=False)
        self.index.delete(self.collection, ids=[item.id for item in owned])

    def records(self, customer_id: str, ids: Sequence[str]) -> list[HistoryRecord]:
        """The stored texts of those of ids that belong to customer_id, in the order given."""
        return [
            HistoryRecord(
                id=item.id,
                customer_id=customer_id,
                kind=cast(HistoryKind, str(item.metadata.get("kind", ""))),
                text=item.document,
                created_at=_created_at(item),
            )
            for item in self._owned(customer_id, list(ids), include_embeddings=False)
        ]

    def erase(self, customer_id: str, ids: Sequence[str]) -> int:
        """Delete every vector of the customer: those of ids (chosen by customer in SQL)
        and any stored for them that SQL does not know of. Returns how many were deleted;
        a second call deletes none and is not an error. The caller deletes the customer's
        seal key after its last call (it finds the sealed strays by the key's tag).

        The strays are found by a metadata scan of the shared collection (by their tag,
        and by their id for items stored unsealed), the full scan that searches avoid: an
        erasure is rare and must leave nothing behind."""
        owned = {item.id for item in self._owned(customer_id, list(ids), include_embeddings=False)}
        strays = {
            item.id for item in self.index.get(self.collection, where={"customer_id": customer_id})
        }
        if self.seals is not None and (seal := self.seals.for_reading(customer_id)):
            strays |= {item.id for item in self.index.get(self.collection, where={"tag": seal.tag})}
            self.seals.forget(customer_id)
        gone = sorted(owned | strays)
        if gone:
            self.index.delete(self.collection, ids=gone)
        return len(gone)

    def missing(self, ids: Sequence[str]) -> list[str]:
        """Those of ids that have no stored vector, in the order given."""
        stored = {item.id for item in self.index.get(self.collection, ids=list(ids))}
        return [i for i in ids if i not in stored]

    def delete(self, ids: Sequence[str]) -> None:
        """Delete these items whoever they belong to."""
        self.index.delete(self.collection, ids=list(ids))

    def _owned(
        self, customer_id: str, ids: list[str], include_embeddings: bool = True
    ) -> list[StoredItem]:
        """Those of ids stored for customer_id, opened: plain texts and vectors."""
        items = self.index.get(self.collection, ids=ids, include_embeddings=include_embeddings)
        seal = self.seals.for_reading(customer_id) if self.seals is not None else None
        owned: list[StoredItem] = []
        # sealed vectors by the version they were sealed with, turned back below together
        turned: dict[str, dict[int, np.ndarray]] = {}
        for item in items:
            opened = _open(item, customer_id, seal)
            if opened is None:
                continue
            version = sealed_as(item.document)
            if opened.embedding is not None and version is not None:
                turned.setdefault(version, {})[len(owned)] = opened.embedding
            owned.append(opened)
        for version, these in turned.items():
            assert seal is not None  # a sealed item opened only with the customer's seal
            vectors = seal.unturn(np.stack(list(these.values())), stored_as=version)
            for n, vector in zip(these, vectors, strict=True):
                owned[n] = replace(owned[n], embedding=vector)
        if len(owned) != len(items):
            # Defence in depth: the caller's SQL should never hand over another customer's ids.
            foreign = sorted({item.id for item in items} - {item.id for item in owned})
            log.warning(
                "dropped %d history ids not owned by customer %s: %s",
                len(foreign),
                customer_id,
                ", ".join(foreign[:10]),
            )
        return owned


def _open(item: StoredItem, customer_id: str, seal: Seal | None) -> StoredItem | None:
    """The item as the embedder and the customer made it, or None when it is not theirs."""
    if not is_sealed(item.document):
        return item if item.metadata.get("customer_id") == customer_id else None
    if seal is None or item.metadata.get("tag") != seal.tag:
        return None
    text = seal.open_text(item.id, item.document)
    if text is None:
        return None
    # the vector is still turned: the caller turns them back together
    return replace(item, document=text)


@dataclass
class PendingHistorySearch:
    """A history search whose items are read and BM25-ranked; `finish` adds the cosine."""

    items: list[StoredItem]  # the customer's candidates, in the caller's (time) order
    lexical: list[str]
    k: int
    neighbour_weight: float

    def finish(self, query_embedding: np.ndarray) -> list[HistoryHit]:
        """The k best items, cosine and BM25 fused by RRF."""
        items = self.items
        if not items:
            return []
        matrix = np.stack([_vector(item) for item in items])
        similarity = matrix @ np.asarray(query_embedding, dtype=np.float32)
        if self.neighbour_weight and len(items) > 1:
            before = np.concatenate([[-1.0], similarity[:-1]])
            after = np.concatenate([similarity[1:], [-1.0]])
            similarity = similarity + self.neighbour_weight * np.maximum(before, after)
        dense = sorted(range(len(items)), key=lambda i: (-float(similarity[i]), items[i].id))
        fused = rrf([[items[i].id for i in dense], self.lexical], k=RRF_K)
        by_id = {item.id: item for item in items}
        return [_hit(by_id[i], score) for i, score in fused[: self.k]]


def _vector(item: StoredItem) -> np.ndarray:
    if item.embedding is None:
        raise ValueError(f"history item {item.id} came back without its embedding")
    return item.embedding


def _created_at(item: StoredItem) -> datetime | None:
    created = str(item.metadata.get("created_at") or "")
    return datetime.fromisoformat(created) if created else None


def _hit(item: StoredItem, score: float) -> HistoryHit:
    return HistoryHit(
        id=item.id,
        # pydantic checks the value against HistoryKind at runtime.
        kind=cast(HistoryKind, str(item.metadata.get("kind", ""))),
        text=item.document,
        created_at=_created_at(item),
        score=score,
    )
