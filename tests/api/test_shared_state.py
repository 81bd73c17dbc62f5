"""Shared state across API workers through Redis: one rate limit and one LLM breaker for
every worker, and a safe fallback when Redis is away."""

from __future__ import annotations

import logging
import uuid

import httpx
import pytest

from assistant.api.ratelimit import RateLimiter, RedisRateLimiter
from assistant.generators.breaker import BreakerState
from assistant.shared_state import RedisCircuitBreaker
from assistant.wiring import Container
from tests.api.conftest import SETTINGS, identity
from tests.api.test_inbox import REDIS_URL, serve

redis = pytest.importorskip("redis")
DOWN = "redis://127.0.0.1:1/0"  # nothing listens there


@pytest.fixture(autouse=True)
def clean_redis():
    client = redis.Redis.from_url(REDIS_URL)
    client.ping()  # Redis runs on these machines (127.0.0.1:6379); CI starts it
    for key in client.scan_iter("rapport:*"):
        client.delete(key)
    yield
    for key in client.scan_iter("rapport:*"):
        client.delete(key)


def test_two_workers_enforce_one_rate_limit_over_http(make_container, embedder) -> None:
    settings = {**SETTINGS, "rate_limit_per_minute": 3, "redis_url": REDIS_URL}
    first = make_container(**settings)
    second = Container(first.settings, shared_embedder=embedder)
    body = {**identity("olivia_ito_3591"), "message": "what is your return policy?"}
    with serve(first) as a, serve(second) as b:
        codes = [
            httpx.post(f"{url}/v1/chat", json=body, timeout=60).status_code for url in (a, b, a, b)
        ]
        other = httpx.post(
            f"{b}/v1/chat", json={**identity("omar_lopez_3107"), "message": "hi"}, timeout=60
        )
    assert codes == [200, 200, 200, 429]  # one window for both workers
    assert other.status_code == 200  # per customer


def test_the_shared_window_slides() -> None:
    a = RedisRateLimiter(REDIS_URL, per_minute=2, window_s=0.5)
    b = RedisRateLimiter(REDIS_URL, per_minute=2, window_s=0.5)
    key = uuid.uuid4().hex
    assert a.check(key) == 0 and b.check(key) == 0
    wait = a.check(key)
    assert 0 < wait <= 0.5
    import time

    time.sleep(wait + 0.05)
    assert b.check(key) == 0


def test_one_breaker_opens_for_every_worker() -> None:
    a = RedisCircuitBreaker(REDIS_URL, failure_threshold=3, open_s=0.4, name="t")
    b = RedisCircuitBreaker(REDIS_URL, failure_threshold=3, open_s=0.4, name="t")
    a.record_failure()
    b.record_failure()
    assert a.allow() and b.allow()
    a.record_failure()  # the third failure, seen by another worker
    assert b.state is BreakerState.OPEN and not b.allow() and not a.allow()
    assert b.stats().opens == 1 and a.stats().rejected == 2
    import time

    time.sleep(0.45)
    assert b.allow()  # one probe
    assert not a.allow()  # the other worker waits for its outcome
    b.record_success()
    assert a.allow() and a.state is BreakerState.CLOSED


def test_without_redis_each_falls_back_to_its_own_limit(caplog) -> None:
    caplog.set_level(logging.WARNING, logger="rapport.shared")
    limiter = RedisRateLimiter(DOWN, per_minute=1)
    assert limiter.check("c") == 0
    assert limiter.check("c") > 0  # still limited, in process
    breaker = RedisCircuitBreaker(DOWN, failure_threshold=1, open_s=30)
    breaker.record_failure()
    assert not breaker.allow()
    assert "Redis unavailable" in caplog.text
    assert isinstance(limiter, RateLimiter)
