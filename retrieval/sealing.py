"""Sealed history: what the vector store holds of a customer is readable only with their key.

A vector store cannot forget. Chroma deletes an item from its index and tables, but the
bytes stay where it put them: its write-ahead log (`embeddings_queue`) keeps the text,
the metadata and the vector until every segment has caught up, and HNSW only marks a
deleted vector, it does not overwrite it. So each customer's history items are sealed
with a key of their own, kept in SQL, and erasure deletes the key (crypto-shredding):

- the text is encrypted (AES-GCM, the item's id as associated data, so a sealed text
  cannot be moved to another item);
- the vector is turned by a random rotation drawn from the key. A rotation keeps every
  cosine between the customer's own vectors (a query turned by the same key ranks their
  items exactly as before), while the stored numbers say nothing without the key;
- the metadata names a tag drawn from the key instead of the customer id.

Once the key is gone, what is left in the store's files is noise."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections import OrderedDict
from threading import Lock
from typing import Protocol

import numpy as np
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PREFIX = "sealed:v1:"
KEY_BYTES = 32
NONCE_BYTES = 12


def new_key() -> bytes:
    return os.urandom(KEY_BYTES)


class Seal:
    """One customer's key, and what it does to their texts and vectors."""

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise ValueError(f"a seal key has {KEY_BYTES} bytes")
        self.key = key
        self._aead = AESGCM(hashlib.sha256(b"rapport text\0" + key).digest())
        self._rotation_seed = hashlib.sha256(b"rapport rotation\0" + key).digest()
        self.tag = hmac.new(key, b"rapport tag", hashlib.sha256).hexdigest()[:32]
        self._rotations: dict[int, np.ndarray] = {}

    def seal_text(self, item_id: str, text: str) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, text.encode("utf-8"), item_id.encode("utf-8"))
        return PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")

    def open_text(self, item_id: str, stored: str) -> str | None:
        """The text, or None when it was not sealed with this key for this item."""
        if not stored.startswith(PREFIX):
            return None
        try:
            raw = base64.urlsafe_b64decode(stored[len(PREFIX) :])
            plain = self._aead.decrypt(
                raw[:NONCE_BYTES], raw[NONCE_BYTES:], item_id.encode("utf-8")
            )
        except (InvalidTag, ValueError):
            return None
        return plain.decode("utf-8")

    def turn(self, vectors: np.ndarray) -> np.ndarray:
        """The vectors as stored: rotated by the key's rotation (rows are vectors)."""
        v = np.asarray(vectors, dtype=np.float32)
        return (v @ self._rotation(v.shape[-1]).T).astype(np.float32)

    def unturn(self, vectors: np.ndarray) -> np.ndarray:
        """The stored vectors back as the embedder made them."""
        v = np.asarray(vectors, dtype=np.float32)
        return (v @ self._rotation(v.shape[-1])).astype(np.float32)

    def _rotation(self, dim: int) -> np.ndarray:
        q = self._rotations.get(dim)
        if q is None:
            rng = np.random.default_rng(np.frombuffer(self._rotation_seed, dtype=np.uint32))
            q, r = np.linalg.qr(rng.standard_normal((dim, dim)))
            q = (q * np.sign(np.diag(r))).astype(np.float32)  # uniform over rotations
            self._rotations[dim] = q
        return q


def is_sealed(document: str) -> bool:
    return document.startswith(PREFIX)


class KeyStore(Protocol):
    """Where customers' seal keys live (SQL, beside the rest of their records)."""

    def get(self, customer_id: str) -> bytes | None: ...

    def get_or_create(self, customer_id: str, key: bytes) -> bytes: ...


class Seals:
    """Customers' seals over a key store, the most recently used kept ready (a rotation is
    a dim × dim matrix: 590 KB at 384 dimensions, 12 ms to draw)."""

    def __init__(self, keys: KeyStore, cache_size: int = 32) -> None:
        self.keys = keys
        self.cache_size = cache_size
        self._cache: OrderedDict[str, Seal] = OrderedDict()
        self._lock = Lock()

    def for_writing(self, customer_id: str) -> Seal:
        """The customer's seal, made (and its key stored) on their first item."""
        return self._seal(customer_id, self.keys.get_or_create(customer_id, new_key()))

    def for_reading(self, customer_id: str) -> Seal | None:
        """The customer's seal, or None when they have no key (never stored, or erased).

        The key is read from SQL every time (one primary-key read): another process may
        have erased the customer, or made them a new key since."""
        key = self.keys.get(customer_id)
        return self._seal(customer_id, key) if key is not None else None

    def forget(self, customer_id: str) -> None:
        """Drop the cached seal (its key is being deleted)."""
        with self._lock:
            self._cache.pop(customer_id, None)

    def _seal(self, customer_id: str, key: bytes) -> Seal:
        seal = self._cached(customer_id)
        if seal is None or seal.key != key:
            seal = self._keep(customer_id, Seal(key))
        return seal

    def _cached(self, customer_id: str) -> Seal | None:
        with self._lock:
            seal = self._cache.get(customer_id)
            if seal is not None:
                self._cache.move_to_end(customer_id)
            return seal

    def _keep(self, customer_id: str, seal: Seal) -> Seal:
        with self._lock:
            self._cache[customer_id] = seal
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        return seal
