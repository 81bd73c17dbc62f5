"""Idempotency keys in SQL: one claim wins, results replay, keys expire, abandoned keys
are taken over (SQLite, and PostgreSQL in the services pass)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from sqlmodel import Session

from profiles.idempotency import IdempotencyStore
from profiles.models import IdempotencyKey, utcnow


def test_first_claim_runs_then_results_replay(engine):
    keys = IdempotencyStore(engine, ttl_s=3600, lease_s=60)
    assert keys.claim("c1", "k", "h1").outcome == "new"
    assert keys.claim("c1", "k", "h1").outcome == "running"
    assert keys.claim("c1", "k", "h2").outcome == "mismatch"
    assert keys.claim("c2", "k", "h2").outcome == "new"  # scoped by customer
    keys.complete("c1", "k", "turn-1", '{"turn_id": "turn-1"}')
    claim = keys.claim("c1", "k", "h1")
    assert claim.outcome == "done" and claim.response == '{"turn_id": "turn-1"}'
    keys.release("c1", "k")  # a completed key is kept
    assert keys.claim("c1", "k", "h1").outcome == "done"


def test_released_keys_run_again(engine):
    keys = IdempotencyStore(engine, ttl_s=3600, lease_s=60)
    assert keys.claim("c1", "k", "h").outcome == "new"
    keys.release("c1", "k")
    assert keys.claim("c1", "k", "h").outcome == "new"


def test_of_racing_claims_exactly_one_wins(engine):
    keys = IdempotencyStore(engine, ttl_s=3600, lease_s=60)
    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(lambda _: keys.claim("c1", "race", "h").outcome, range(16)))
    assert outcomes.count("new") == 1 and outcomes.count("running") == 15


def _age(engine, customer_id: str, key: str, **fields) -> None:
    with Session(engine) as s:
        row = s.get(IdempotencyKey, (customer_id, key))
        assert row is not None
        for name, value in fields.items():
            setattr(row, name, value)
        s.add(row)
        s.commit()


def test_expired_keys_are_forgotten(engine):
    keys = IdempotencyStore(engine, ttl_s=3600, lease_s=60)
    keys.claim("c1", "old", "h1")
    keys.complete("c1", "old", "t", "{}")
    _age(engine, "c1", "old", expires_at=utcnow() - timedelta(seconds=1))
    assert keys.claim("c1", "old", "h2").outcome == "new"  # a new request, not a mismatch


def test_a_key_abandoned_past_its_lease_is_taken_over_once(engine):
    keys = IdempotencyStore(engine, ttl_s=3600, lease_s=60)
    keys.claim("c1", "k", "h")
    _age(engine, "c1", "k", created_at=utcnow() - timedelta(seconds=61))
    assert keys.claim("c1", "k", "h").outcome == "new"
    assert keys.claim("c1", "k", "h").outcome == "running"
