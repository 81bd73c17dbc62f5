"""A per-customer sliding-window rate limit.

In process by default (with N workers a customer may get up to N times the limit); with
`REDIS_URL`, RedisRateLimiter counts in Redis, so N workers enforce one limit."""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque

from assistant.shared_state import LIMIT_SCRIPT, PREFIX, Fallback, redis_client


class RateLimiter:
    def __init__(self, per_minute: int, window_s: float = 60.0) -> None:
        self.limit = per_minute
        self.window = window_s
        self._hits: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def check(self, key: str, now: float | None = None) -> float:
        """0 when the call is allowed (and counted), else seconds until it would be."""
        now = time.monotonic() if now is None else now
        with self._lock:
            hits = self._hits[key]
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                return max(hits[0] + self.window - now, 0.001)
            hits.append(now)
            return 0.0


class RedisRateLimiter(RateLimiter):
    """The per-customer sliding window, counted in Redis for every worker."""

    def __init__(self, url: str, per_minute: int, window_s: float = 60.0) -> None:
        super().__init__(per_minute, window_s)
        self._redis = redis_client(url)
        self._script = self._redis.register_script(LIMIT_SCRIPT)
        self._fallback = Fallback("rate limit")
        self._seq = 0

    def check(self, key: str, now: float | None = None) -> float:
        self._seq += 1
        try:
            wait_us = self._script(
                keys=[f"{PREFIX}ratelimit:{key}"],
                args=[int(self.window * 1_000_000), self.limit, f"{id(self)}-{self._seq}"],
            )
        except Exception as exc:  # noqa: BLE001 — any Redis failure: limit in process
            self._fallback.warn(exc)
            return super().check(key, now)
        return int(wait_us) / 1_000_000
