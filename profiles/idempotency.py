"""Idempotency keys of chat turns, in SQL so every worker sees every claim.

A key is scoped by customer. The first request claims it (an INSERT on the primary key:
of two racing workers exactly one wins), runs the turn and stores the result; retries
with the same key get that result back; a retry while the turn still runs is told so."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from sqlalchemy import delete, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from profiles.db import session_scope
from profiles.models import IdempotencyKey, utcnow


@dataclass(frozen=True)
class Claim:
    """The outcome of claiming a key: `new` (run the turn), `done` (replay `response`),
    `running` (another request holds it), `mismatch` (same key, different request)."""

    outcome: Literal["new", "done", "running", "mismatch"]
    response: str | None = None


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


class IdempotencyStore:
    def __init__(self, engine: Engine, ttl_s: int, lease_s: int) -> None:
        self.engine = engine
        self.ttl = timedelta(seconds=ttl_s)
        self.lease = timedelta(seconds=lease_s)

    def claim(self, customer_id: str, key: str, request_hash: str) -> Claim:
        """Claim `key` for a request whose digest is `request_hash`.

        Expired keys are deleted first. A key still running after the lease (its worker
        died mid-turn) is taken over by the retry."""
        now = utcnow()
        with session_scope(self.engine) as s:
            s.execute(delete(IdempotencyKey).where(col(IdempotencyKey.expires_at) < now))
        try:
            with session_scope(self.engine) as s:
                s.add(
                    IdempotencyKey(
                        customer_id=customer_id,
                        key=key,
                        request_hash=request_hash,
                        created_at=now,
                        expires_at=now + self.ttl,
                    )
                )
            return Claim("new")
        except IntegrityError:
            pass
        with Session(self.engine) as s:
            row = s.get(IdempotencyKey, (customer_id, key))
        if row is None:  # released between our INSERT and this read: claim it again
            return self.claim(customer_id, key, request_hash)
        if row.request_hash != request_hash:
            return Claim("mismatch")
        if row.response is not None:
            return Claim("done", row.response)
        if _aware(row.created_at) + self.lease < now:
            # Take the abandoned key over; of two retries doing this at once one matches.
            with session_scope(self.engine) as s:
                taken = s.execute(
                    update(IdempotencyKey)
                    .where(
                        col(IdempotencyKey.customer_id) == customer_id,
                        col(IdempotencyKey.key) == key,
                        col(IdempotencyKey.created_at) == row.created_at,
                        col(IdempotencyKey.response).is_(None),
                    )
                    .values(created_at=now)
                )
            if taken.rowcount == 1:  # type: ignore[attr-defined]
                return Claim("new")
        return Claim("running")

    def complete(self, customer_id: str, key: str, turn_id: str | None, response: str) -> None:
        """Store the result of the turn that holds `key`."""
        with session_scope(self.engine) as s:
            row = s.get(IdempotencyKey, (customer_id, key))
            if row is not None:
                row.turn_id = turn_id
                row.response = response
                s.add(row)

    def release(self, customer_id: str, key: str) -> None:
        """Give up a key whose turn did not complete, so a retry runs it afresh."""
        with session_scope(self.engine) as s:
            s.execute(
                delete(IdempotencyKey).where(
                    col(IdempotencyKey.customer_id) == customer_id,
                    col(IdempotencyKey.key) == key,
                    col(IdempotencyKey.response).is_(None),
                )
            )
