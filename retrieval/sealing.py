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
  items exactly as before), while the stored numbers say nothing without the key. Since
  v2 the rotation is three rounds of a keyed shuffle, keyed signs and keyed random
  rotations of 64-wide blocks (each output mixes every input after two rounds): drawing
  it takes about 3 ms, where a dense 384 × 384 rotation (v1, still read) took 17 ms,
  paid on every customer's first turn after their seal left the cache;
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

PREFIX = "sealed:v2:"  # what is sealed now
V1 = "sealed:v1:"  # sealed before: the same text sealing, its vector turned by a dense rotation
BLOCK = 64  # the width of the blocks a v2 round rotates
ROUNDS = 3
_Round = tuple[np.ndarray, np.ndarray, np.ndarray]  # a shuffle, signs, block rotations
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
        self._mixing_seed = hashlib.sha256(b"rapport mixing\0" + key).digest()
        self.tag = hmac.new(key, b"rapport tag", hashlib.sha256).hexdigest()[:32]
        self._rotations: dict[int, np.ndarray] = {}
        self._mixings: dict[int, list[_Round]] = {}

    def seal_text(self, item_id: str, text: str) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, text.encode("utf-8"), item_id.encode("utf-8"))
        return PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")

    def open_text(self, item_id: str, stored: str) -> str | None:
        """The text, or None when it was not sealed with this key for this item."""
        version = sealed_as(stored)
        if version is None:
            return None
        try:
            raw = base64.urlsafe_b64decode(stored[len(version) :])
            plain = self._aead.decrypt(
                raw[:NONCE_BYTES], raw[NONCE_BYTES:], item_id.encode("utf-8")
            )
        except (InvalidTag, ValueError):
            return None
        return plain.decode("utf-8")

    def turn(self, vectors: np.ndarray) -> np.ndarray:
        """The vectors as stored now: rotated by the key's rotation (rows are vectors)."""
        v = np.asarray(vectors, dtype=np.float32)
        rounds = self._mixing(v.shape[-1])
        if rounds is None:
            return (v @ self._rotation(v.shape[-1]).T).astype(np.float32)
        n, dim = v.shape
        for perm, signs, blocks in rounds:
            v = (v[:, perm] * signs).reshape(n, -1, BLOCK)
            v = np.einsum("nbi,bji->nbj", v, blocks).reshape(n, dim)
        return v.astype(np.float32)

    def unturn(self, vectors: np.ndarray, stored_as: str = PREFIX) -> np.ndarray:
        """The stored vectors back as the embedder made them; `stored_as`, the version
        their items were sealed with (`sealed_as`)."""
        v = np.asarray(vectors, dtype=np.float32)
        rounds = self._mixing(v.shape[-1]) if stored_as == PREFIX else None
        if rounds is None:
            return (v @ self._rotation(v.shape[-1])).astype(np.float32)
        n, dim = v.shape
        for perm, signs, blocks in reversed(rounds):
            v = np.einsum("nbj,bji->nbi", v.reshape(n, -1, BLOCK), blocks).reshape(n, dim)
            back = np.empty_like(v)
            back[:, perm] = v * signs
            v = back
        return v.astype(np.float32)

    def _mixing(self, dim: int) -> list[_Round] | None:
        """The v2 rotation's rounds, or None for a width not made of whole blocks (the
        dense rotation serves it)."""
        if dim % BLOCK:
            return None
        rounds = self._mixings.get(dim)
        if rounds is None:
            rng = np.random.default_rng(np.frombuffer(self._mixing_seed, dtype=np.uint32))
            rounds = []
            for _ in range(ROUNDS):
                perm = rng.permutation(dim)
                signs = rng.choice(np.array([-1.0, 1.0], dtype=np.float32), dim)
                q, r = np.linalg.qr(rng.standard_normal((dim // BLOCK, BLOCK, BLOCK)))
                q = q * np.sign(np.diagonal(r, axis1=-2, axis2=-1))[:, None, :]
                rounds.append((perm, signs, q.astype(np.float32)))
            self._mixings[dim] = rounds
        return rounds

    def _rotation(self, dim: int) -> np.ndarray:
        q = self._rotations.get(dim)
        if q is None:
            rng = np.random.default_rng(np.frombuffer(self._rotation_seed, dtype=np.uint32))
            q, r = np.linalg.qr(rng.standard_normal((dim, dim)))
            q = (q * np.sign(np.diag(r))).astype(np.float32)  # uniform over rotations
            self._rotations[dim] = q
        return q


def sealed_as(document: str) -> str | None:
    """The version a stored document was sealed with (PREFIX or V1), None if plain."""
    return next((v for v in (PREFIX, V1) if document.startswith(v)), None)


def is_sealed(document: str) -> bool:
    return sealed_as(document) is not None


class KeyStore(Protocol):
    """Where customers' seal keys live (SQL, beside the rest of their records)."""

    def get(self, customer_id: str) -> bytes | None: ...

    def get_or_create(self, customer_id: str, key: bytes) -> bytes: ...


class Seals:
    """Customers' seals over a key store, the most recently used kept ready (a v2 rotation
    holds 18 blocks of 64 × 64: 300 KB at 384 dimensions, about 3 ms to draw)."""

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
