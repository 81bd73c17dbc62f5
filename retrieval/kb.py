"""The knowledge base: idempotent ingestion of chunked documents and hybrid search."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from retrieval.chunking import Chunk, chunk_markdown, content_hash
from retrieval.documents import Document, load_documents
from retrieval.embedder import Embedder
from retrieval.hybrid import rrf
from retrieval.lexical import Bm25
from retrieval.queries import QueryVectors, embed_message
from retrieval.store import Metadata, MetadataValue, VectorIndex
from retrieval.types import Passage

log = logging.getLogger("rapport.kb")

# How often a search asks the store whether another process changed the KB; in between,
# searches use the copy in memory (asking costs more than a BM25 search of it).
RECHECK_S = 1.0
# One item per KB collection whose document is the KB's version, a new one after every
# change, so other processes see an edit that kept the number of chunks the same.
VERSIONS = "kb_versions"


@dataclass
class IngestReport:
    """What one ingest call did. Documents are counted once each."""

    added: int = 0  # new documents
    updated: int = 0  # documents whose content changed
    unchanged: int = 0  # documents skipped without embedding
    empty: int = 0  # documents with no text to index (any old chunks are removed)
    chunks_written: int = 0
    chunks_deleted: int = 0


@dataclass
class _Stored:
    hashes: set[str] = field(default_factory=set)
    ids: set[str] = field(default_factory=set)


@dataclass
class _LexicalCache:
    """The KB held in memory: chunk texts for BM25 and, for a KB up to
    `in_memory_max` chunks, the vectors too, so a dense search is one matrix product
    instead of a round trip to the vector store."""

    count: int
    version: str
    bm25: Bm25
    items: dict[str, tuple[str, dict[str, MetadataValue]]]
    ids: list[str] = field(default_factory=list)  # sorted
    vectors: np.ndarray | None = None  # (n, dim), unit rows, in `ids` order


@dataclass
class PendingSearch:
    """A KB search whose BM25 rankings are done; `finish` adds the dense ones."""

    kb: KnowledgeBase
    query: str
    k: int
    depth: int
    lexical: list[list[str]]  # the query's BM25 ranking, then its sub-queries' (if any)
    held: Sequence[str] = ()  # what the customer holds by name: its articles come first

    def finish(self, parts: QueryVectors) -> list[Passage]:
        """The k best chunks, given the query's vector and its sub-queries' vectors; the
        ones about what the customer holds first (`own_first`)."""
        if self.k <= 0:
            return []
        kb, depth = self.kb, self.depth
        cosine = {p.id: p.score for p in kb.dense_search(self.query, depth, parts.vector)}
        rankings = [list(cosine), self.lexical[0]]
        if parts.parts:
            rankings.append(kb._dense_best(parts.part_vectors, depth))
        rankings.extend(self.lexical[1:])  # the sub-queries' BM25, given to start_search
        # The KB may have been reloaded since `start_search` (another process ingested):
        # a chunk it no longer holds is left out.
        items = kb._lexical_cache().items
        ranked = [(i, score) for i, score in rrf(rankings) if i in items]
        passages = [
            _passage(i, *items[i], score=score).model_copy(update={"similarity": cosine.get(i)})
            for i, score in _for_both(ranked, items, self.k)
        ]
        return own_first(passages, self.held)


def _for_both(
    ranked: list[tuple[str, float]], items: dict[str, tuple[str, dict[str, MetadataValue]]], k: int
) -> list[tuple[str, float]]:
    """The best k customer-facing chunks, and the internal ones (written for staff) ranked
    among them, at most k: the agent reads both, a customer's reply only the first.
    Taking the k best of both left a customer with none when the staff's procedures
    ranked first ("close my checking account" found only "Internal: Closing Personal
    Checking Accounts")."""
    out: list[tuple[str, float]] = []
    customer = internal = 0
    for i, score in ranked:
        if customer >= k:
            break
        if items[i][1].get("audience") == "internal":
            if internal >= k:
                continue
            internal += 1
        else:
            customer += 1
        out.append((i, score))
    return out


class KnowledgeBase:
    """Knowledge-base chunks in one vector-index collection, searched densely and by BM25."""

    def __init__(
        self,
        index: VectorIndex,
        embedder: Embedder,
        collection: str = "kb_chunks",
        max_words: int = 180,
        overlap_words: int = 30,
        batch_size: int = 256,
        in_memory_max: int = 200_000,
        recheck_s: float = RECHECK_S,
    ) -> None:
        # Chroma needs 3+ characters in a collection name, hence not "kb".
        self.index = index
        self.embedder = embedder
        self.collection = collection
        self.max_words = max_words
        self.overlap_words = overlap_words
        self.batch_size = batch_size
        self.in_memory_max = in_memory_max  # 200k × 384 float32 ≈ 300 MB
        self.recheck_s = recheck_s
        self._lexical: _LexicalCache | None = None
        self._checked_at = float("-inf")  # time.monotonic() of the last count
        # (KB version, chunk count, held names) → the chunks whose heading names them
        self._held_chunks: dict[tuple[str, int, tuple[str, ...]], set[str]] = {}

    @staticmethod
    def load_documents(paths: Sequence[Path]) -> list[Document]:
        """Read documents from files and folders; see retrieval.documents.load_documents."""
        return load_documents(paths)

    def ingest(
        self, docs: Sequence[Document], on_progress: Callable[[int], None] | None = None
    ) -> IngestReport:
        """Chunk, embed and store documents, skipping those stored with the same content.

        A changed document's chunks are rewritten and its chunks that no longer exist are
        deleted. on_progress is called with the number of documents processed so far.
        Raises ValueError if two documents share an id.
        """
        ids = [d.id for d in docs]
        if len(set(ids)) != len(ids):
            dupes = sorted({i for i in ids if ids.count(i) > 1})
            raise ValueError(f"duplicate document ids: {', '.join(dupes)}")
        stored = self._stored()
        report = IngestReport()
        pending: list[tuple[Chunk, str, Document]] = []
        stale: list[str] = []
        for done, doc in enumerate(docs, start=1):
            doc_hash = self._hash(doc)
            before = stored.get(doc.id, _Stored())
            if before.hashes == {doc_hash}:
                report.unchanged += 1
            else:
                chunks = chunk_markdown(
                    doc.id, doc.title, doc.text, self.max_words, self.overlap_words
                )
                if not chunks:
                    report.empty += 1
                elif before.ids:
                    report.updated += 1
                else:
                    report.added += 1
                pending.extend((c, doc_hash, doc) for c in chunks)
                stale.extend(sorted(before.ids - {c.id for c in chunks}))
                if len(pending) >= self.batch_size:
                    report.chunks_written += self._write(pending)
                    pending = []
            if on_progress is not None:
                on_progress(done)
        report.chunks_written += self._write(pending)
        # Stale chunks go last, so an interrupted ingest leaves old text rather than none.
        self.index.delete(self.collection, ids=stale)
        report.chunks_deleted = len(stale)
        if report.chunks_written or report.chunks_deleted:
            self._changed()
        return report

    def delete_document(self, doc_id: str) -> int:
        """Remove a document's chunks; return how many were removed (0 if it was not stored)."""
        ids = [item.id for item in self.index.get(self.collection, where={"doc_id": doc_id})]
        self.index.delete(self.collection, ids=ids)
        if ids:
            self._changed()
        return len(ids)

    def documents(self) -> list[str]:
        """Return the ids of the stored documents, sorted."""
        return sorted(self._stored())

    def refresh(self) -> None:
        """Forget the in-process BM25 index; the next search rebuilds it from the store."""
        self._lexical = None

    def search(
        self,
        query: str,
        k: int = 6,
        query_embedding: np.ndarray | None = None,
        parts: QueryVectors | None = None,
    ) -> list[Passage]:
        """Return the k best chunks by dense and BM25 rankings fused with RRF.

        A query of several sentences (retrieval.queries.sub_queries) is also searched by
        its sentences, embedded in one batch: each chunk scores its best cosine and its
        best BM25 over them, two more rankings, so each request in a long message finds
        its documents where the whole message's embedding and words blur them.

        score is the fused RRF score; similarity is the chunk's cosine to the whole query
        when the dense half found it. A caller that has embedded the query already passes
        query_embedding, or `parts` (retrieval.queries.embed_message: the query's vector
        and its sub-queries' vectors, from one embedder call).
        """
        if parts is None:
            parts = embed_message(self.embedder, query, query_embedding)
        return self.start_search(query, k, parts.parts).finish(parts)

    def start_search(
        self, query: str, k: int, part_texts: Sequence[str] = (), held: Sequence[str] = ()
    ) -> PendingSearch:
        """The BM25 half of `search` (the query's words, and its sub-queries' when there
        are any), which needs no embedding: a turn runs it while its query is embedded
        and then calls `finish` with the vectors.

        `held`, the names of what the customer holds ("Green Account"), adds one more
        ranking: the query's BM25 over the chunks whose heading names one of them, so the
        article about their own account is found among many alike (every account has
        its overdraft FAQ); `finish` puts those first."""
        depth = max(4 * k, 30)
        cache = self._lexical_cache()
        bm25 = cache.bm25
        lexical = [[i for i, _ in bm25.search(query, depth)]] if k > 0 else []
        if k > 0 and part_texts:
            lexical.append([i for i, _ in bm25.search_best(list(part_texts), depth)])
        if k > 0 and held:
            about = self._about(cache, tuple(held))
            if about:
                ranked = bm25.search(query, len(cache.items))
                lexical.append([i for i, _ in ranked if i in about][:depth])
        return PendingSearch(self, query, k, depth, lexical, held)

    def _about(self, cache: _LexicalCache, held: tuple[str, ...]) -> set[str]:
        """The chunks whose heading names one of `held`, kept for the KB's version: a
        customer's next turns ask again (a plain substring test first, 3,500 headings by
        regex took 50 ms)."""
        key = (cache.version, cache.count, held)
        if key not in self._held_chunks:
            known = {n.lower() for n in held}
            about = set()
            for i, (_, meta) in cache.items.items():
                heading = str(meta.get("heading") or meta.get("title", ""))
                lowered = heading.lower()
                if any(n in lowered for n in known) and any(
                    _names(heading, n, known) for n in held
                ):
                    about.add(i)
            if len(self._held_chunks) >= HELD_CACHED:
                self._held_chunks.pop(next(iter(self._held_chunks)))
            self._held_chunks[key] = about
        return self._held_chunks[key]

    def dense_search(
        self, query: str, k: int = 6, query_embedding: np.ndarray | None = None
    ) -> list[Passage]:
        """Return the k chunks nearest to the query embedding; score is cosine similarity."""
        if k <= 0:
            return []
        vector = self.embedder.embed_query(query) if query_embedding is None else query_embedding
        cache = self._lexical_cache()
        if cache.vectors is not None:
            # Exact cosine over the in-memory matrix: the same ranking HNSW approximates.
            sims = cache.vectors @ np.asarray(vector, dtype=np.float32)
            return [
                _passage(cache.ids[i], *cache.items[cache.ids[i]], score=float(sims[i]))
                for i in _top(sims, k)
            ]
        hits = self.index.query(self.collection, vector, k)
        return [_passage(h.id, h.document, h.metadata, h.similarity) for h in hits]

    def _dense_best(self, vectors: np.ndarray, k: int) -> list[str]:
        """The ids of the k chunks with the best cosine to any of vectors, best first."""
        cache = self._lexical_cache()
        if cache.vectors is not None:
            sims = (cache.vectors @ np.asarray(vectors, dtype=np.float32).T).max(axis=1)
            return [cache.ids[i] for i in _top(sims, k)]
        best: dict[str, float] = {}
        for vector in vectors:
            for hit in self.index.query(self.collection, vector, k):
                best[hit.id] = max(best.get(hit.id, -1.0), hit.similarity)
        return [i for i, _ in sorted(best.items(), key=lambda p: (-p[1], p[0]))[:k]]

    def lexical_search(self, query: str, k: int = 6) -> list[Passage]:
        """Return the k best chunks by BM25 over title, heading path and text; score is BM25."""
        cache = self._lexical_cache()
        return [
            _passage(i, *cache.items[i], score=score) for i, score in cache.bm25.search(query, k)
        ]

    def _hash(self, doc: Document) -> str:
        # Chunking settings are part of the hash so changing them re-chunks on next ingest.
        # The audience is too: a document marked internal later is rewritten as such.
        audience = "" if doc.audience == "customer" else f"{doc.audience}\n"
        return content_hash(
            f"{self.max_words}/{self.overlap_words}\n{audience}{doc.title}\n{doc.text}"
        )

    def _stored(self) -> dict[str, _Stored]:
        stored: dict[str, _Stored] = {}
        for item in self.index.get(self.collection):
            record = stored.setdefault(str(item.metadata.get("doc_id", "")), _Stored())
            record.hashes.add(str(item.metadata.get("doc_hash", "")))
            record.ids.add(item.id)
        return stored

    def _write(self, pending: Sequence[tuple[Chunk, str, Document]]) -> int:
        if not pending:
            return 0
        embeddings = self.embedder.embed([c.embed_text for c, _, _ in pending])
        metadatas: list[Metadata] = [
            {
                "doc_id": c.doc_id,
                "title": c.title,
                "heading": c.heading_path,
                "n": c.n,
                "doc_hash": doc_hash,
                "source": doc.source,
                "audience": doc.audience,
            }
            for c, doc_hash, doc in pending
        ]
        self.index.upsert(
            self.collection,
            ids=[c.id for c, _, _ in pending],
            embeddings=embeddings,
            documents=[c.text for c, _, _ in pending],
            metadatas=metadatas,
        )
        return len(pending)

    def _changed(self) -> None:
        """Forget the copy in memory and give the KB a new version, for other processes."""
        self._lexical = None
        self.index.upsert(
            VERSIONS,
            ids=[self.collection],
            embeddings=np.zeros((1, 1), dtype=np.float32),  # the store wants one
            documents=[uuid.uuid4().hex],
            metadatas=[{"collection": self.collection}],
        )

    def _version(self) -> str:
        found = self.index.get(VERSIONS, ids=[self.collection])
        return found[0].document if found else ""

    def _lexical_cache(self) -> _LexicalCache:
        # Another process may have changed the KB since the cache was built: its chunk
        # count or its version (see VERSIONS) tells, asked for at most every recheck_s
        # seconds (a search asks up to three times).
        now = time.monotonic()
        if self._lexical is not None and now - self._checked_at < self.recheck_s:
            return self._lexical
        self._checked_at = now
        try:
            count = self.index.count(self.collection)
            version = self._version()
        except Exception as exc:
            if self._lexical is None:
                raise
            # The store is unreachable (a Chroma server restarting): the copy in memory
            # is what it held a moment ago, so searches go on from it.
            log.warning("vector store unavailable, searching the in-memory KB: %s", exc)
            return self._lexical
        if (
            self._lexical is None
            or self._lexical.count != count
            or self._lexical.version != version
        ):
            in_memory = count <= self.in_memory_max
            stored = self.index.get(self.collection, include_embeddings=in_memory)
            items = {i.id: (i.document, i.metadata) for i in stored}
            ids = sorted(items)
            bm25 = Bm25()
            bm25.build(ids, [f"{items[i][1].get('heading', '')}\n\n{items[i][0]}" for i in ids])
            vectors = None
            if in_memory and stored and all(i.embedding is not None for i in stored):
                by_id = {i.id: i.embedding for i in stored}
                vectors = np.stack([np.asarray(by_id[i], dtype=np.float32) for i in ids])
                vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
            self._lexical = _LexicalCache(count, version, bm25, items, ids, vectors)
        return self._lexical


def _top(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k highest scores, best first, ties by index: the cache's `ids` are
    sorted, so that is by id."""
    k = min(k, len(scores))
    top = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
    return top[np.lexsort((top, -scores[top]))]


def _passage(
    chunk_id: str, document: str, metadata: dict[str, MetadataValue], score: float
) -> Passage:
    return Passage(
        id=chunk_id,
        doc_id=str(metadata.get("doc_id", "")),
        title=str(metadata.get("heading") or metadata.get("title", "")),
        text=document,
        score=score,
        source=str(metadata.get("source", "")),
        audience=str(metadata.get("audience") or "customer"),
    )


HELD_CACHED = 1024  # customers' held names whose chunks are remembered


def own_first(passages: list[Passage], names: Sequence[str]) -> list[Passage]:
    """`passages` with the ones whose title names something the customer holds first (and
    marked `held`), in their order: "FAQ: Green Account (checking)" for a Green Account
    holder, before the Blue Account's answer to the same question. A name inside a longer
    one does not count: "Green Account" is not the "Light Green Account", "Gold Rewards
    Card" not the "Business Gold Rewards Card"."""
    if not names:
        return passages
    known = {n.lower() for n in names}
    own = [p for p in passages if any(_names(p.title, n, known) for n in names)]
    if not own:
        return passages
    return [p.model_copy(update={"held": True}) for p in own] + [
        p for p in passages if p not in own
    ]


def _names(title: str, name: str, known: set[str]) -> bool:
    """Whether `title` names `name` itself: not inside a longer name, and not qualified
    as another one ("Green Account (savings)" for the holder of "Green Account
    (checking)": `known` holds the qualified names the customer holds)."""
    for m in re.finditer(rf"(?<!\w){re.escape(name)}(?!\w)", title, re.IGNORECASE):
        qualified = re.match(r"\s*\(([^)]{1,30})\)", title[m.end() :])
        if qualified and f"{name} ({qualified.group(1)})".lower() not in known:
            continue
        before = title[: m.start()].split()
        word = before[-1] if before else ""
        # "Light Green Account": a capitalised word right before makes it another name
        # ("The Gold Rewards Card", "FAQ: Green Account" do not)
        if not (word[:1].isupper() and word.isalpha() and len(word) >= 4) or word in _LEADS:
            return True
    return False


_LEADS = frozenset({"Your", "With", "About", "From", "Using", "Tout", "Unser", "Ihre", "Votre"})
