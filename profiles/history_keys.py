"""Customers' history seal keys in SQL (see retrieval.sealing): one row per customer,
made on their first history item, deleted when their erasure finishes (after its last
sweep of the vector store, which finds their sealed items by the key's tag)."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from profiles.db import session_scope
from profiles.models import HistoryKey


class SqlKeyStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def get(self, customer_id: str) -> bytes | None:
        with Session(self.engine) as s:
            row = s.get(HistoryKey, customer_id)
            return bytes.fromhex(row.key) if row is not None else None

    def get_or_create(self, customer_id: str, key: bytes) -> bytes:
        """The customer's key; `key` becomes it when they have none (of two workers racing
        on a first item, one INSERT wins and both use its key)."""
        found = self.get(customer_id)
        if found is not None:
            return found
        try:
            with session_scope(self.engine) as s:
                s.add(HistoryKey(customer_id=customer_id, key=key.hex()))
        except IntegrityError:
            found = self.get(customer_id)
            if found is None:  # the customer does not exist (or was erased meanwhile)
                raise
            return found
        return key
