"""State that several API workers share through Redis (`REDIS_URL`): the per-customer
rate limit and the LLM circuit breaker. Each is one atomic Lua script on Redis's own
clock, so N workers enforce one limit and open one breaker. When Redis cannot be
reached, each falls back to its in-process twin (the per-worker behaviour of the
embedded default) and logs a warning, rather than refusing or admitting everyone."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from assistant.generators.breaker import BreakerState, BreakerStats, CircuitBreaker

log = logging.getLogger("rapport.shared")
PREFIX = "rapport:"

# Sliding window: drop hits older than the window, count, admit and record, or say
# how long until the oldest hit leaves the window. Times are Redis's, in microseconds.
LIMIT_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local window = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= limit then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return math.max(tonumber(oldest[2]) + window - now, 1000)
end
redis.call('ZADD', KEYS[1], now, now .. '-' .. ARGV[3])
redis.call('PEXPIRE', KEYS[1], math.ceil(window / 1000))
return 0
"""

_NOW = "local t = redis.call('TIME') local now = tonumber(t[1]) + tonumber(t[2]) / 1000000 "
_ALLOW = (
    _NOW
    + """
local state = redis.call('HGET', KEYS[1], 'state') or 'closed'
if state == 'closed' then return 1 end
local retry = tonumber(redis.call('HGET', KEYS[1], 'retry_at') or '0')
if now < retry then redis.call('HINCRBY', KEYS[1], 'rejected', 1) return 0 end
redis.call('HSET', KEYS[1], 'state', 'half_open', 'retry_at', tostring(now + tonumber(ARGV[1])))
return 1
"""
)
_FAILURE = (
    _NOW
    + """
local failures = redis.call('HINCRBY', KEYS[1], 'failures', 1)
local state = redis.call('HGET', KEYS[1], 'state') or 'closed'
if state == 'half_open' or (state == 'closed' and failures >= tonumber(ARGV[2])) then
  redis.call('HSET', KEYS[1], 'state', 'open', 'retry_at', tostring(now + tonumber(ARGV[1])))
  redis.call('HINCRBY', KEYS[1], 'opens', 1)
end
return failures
"""
)


def redis_client(url: str) -> Any:
    import redis

    return redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)


class Fallback:
    """Log a Redis failure once per minute, not once per request."""

    def __init__(self, what: str) -> None:
        self.what = what
        self._last = 0.0

    def warn(self, exc: Exception) -> None:
        now = time.monotonic()
        if now - self._last > 60:
            self._last = now
            log.warning(
                "Redis unavailable for the shared %s (%s); this worker uses its own until "
                "it is back",
                self.what,
                type(exc).__name__,
            )


class RedisCircuitBreaker(CircuitBreaker):
    """One breaker for every worker: failures any worker sees count toward opening it,
    and while it is open every worker answers offline; one probe goes out when the open
    duration has passed."""

    def __init__(
        self,
        url: str,
        failure_threshold: int,
        open_s: float,
        name: str = "llm",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(failure_threshold, open_s, clock)
        self._redis = redis_client(url)
        self._key = f"{PREFIX}breaker:{name}"
        self._allow = self._redis.register_script(_ALLOW)
        self._failure = self._redis.register_script(_FAILURE)
        self._fallback = Fallback("circuit breaker")

    def allow(self) -> bool:
        try:
            return bool(self._allow(keys=[self._key], args=[self.open_s]))
        except Exception as exc:  # noqa: BLE001
            self._fallback.warn(exc)
            return super().allow()

    def record_success(self) -> None:
        try:
            self._redis.hset(self._key, mapping={"state": "closed", "failures": 0})
        except Exception as exc:  # noqa: BLE001
            self._fallback.warn(exc)
            super().record_success()

    def record_failure(self) -> None:
        try:
            self._failure(keys=[self._key], args=[self.open_s, self.failure_threshold])
        except Exception as exc:  # noqa: BLE001
            self._fallback.warn(exc)
            super().record_failure()

    @property
    def state(self) -> BreakerState:
        return self.stats().state

    def stats(self) -> BreakerStats:
        try:
            raw = self._redis.hgetall(self._key)
        except Exception as exc:  # noqa: BLE001
            self._fallback.warn(exc)
            return super().stats()
        get = {k.decode(): v.decode() for k, v in raw.items()}
        return BreakerStats(
            BreakerState(get.get("state", "closed")),
            int(get.get("failures", 0)),
            int(get.get("opens", 0)),
            int(get.get("rejected", 0)),
        )
