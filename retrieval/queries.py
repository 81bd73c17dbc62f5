"""Query decomposition: a long message becomes the sentences that each ask for something."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from retrieval.embedder import Embedder

# Sentence ends, line breaks, and list markers ("- Start by…", "2. Ask for…") inside a
# flattened message: each starts a new request.
_BREAK = re.compile(r"(?<=[.!?])\s+|\n+|\s[-*•]\s|\s\d+[.)]\s")
_MARKER = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+")
MIN_PART_WORDS = 3
# Decompose only a message of several requests: each part costs an embedding, and a
# chat turn of two or three sentences is served well by its one query embedding
# (measured: decomposing them cost ~20 ms a turn and a second embedder call).
MIN_PARTS = 4
MAX_PARTS = 32


def sub_queries(text: str, max_parts: int = MAX_PARTS) -> list[str]:
    """The sentences or list items of text with at least MIN_PART_WORDS words, in order.

    Returns [] when text has fewer than MIN_PARTS such parts (the whole text is the only
    query).
    A message with more than max_parts parts keeps its first max_parts: customers state
    what they want first, and each part costs one embedding.
    """
    parts = [_MARKER.sub("", p).strip() for p in _BREAK.split(text)]
    parts = [p for p in parts if len(p.split()) >= MIN_PART_WORDS]
    return parts[:max_parts] if len(parts) >= MIN_PARTS else []


@dataclass(frozen=True)
class QueryVectors:
    """A message's embedding and its sub-queries' embeddings, from one embedder call."""

    vector: np.ndarray  # (dim,)
    parts: list[str]
    part_vectors: np.ndarray  # (len(parts), dim)


def embed_message(embedder: Embedder, text: str, vector: np.ndarray | None = None) -> QueryVectors:
    """Embed text and, when it holds several requests, its sub-queries, in one batch call:
    the turn embeds once, whatever the length of the message. Given text's own `vector`,
    only the sub-queries are embedded (none when there are none)."""
    texts = message_texts(text)
    if vector is None:
        return query_vectors(texts, embedder.embed(texts))
    parts = texts[1:]
    none = np.zeros((0, len(vector)), dtype=np.float32)
    return QueryVectors(vector, parts, embedder.embed(parts) if parts else none)


def message_texts(text: str) -> list[str]:
    """What a message's embedding call embeds: the message, then its sub-queries."""
    return [text, *sub_queries(text)]


def query_vectors(texts: list[str], vectors: np.ndarray) -> QueryVectors:
    """The QueryVectors of message_texts(...) and their embeddings."""
    return QueryVectors(vectors[0], texts[1:], vectors[1:])
