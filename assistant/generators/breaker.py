"""A circuit breaker for the LLM: after repeated failures, stop calling it for a while.

State is per process. With `rapport serve --workers N` each worker learns the LLM's
health on its own: up to N × threshold failing turns open every worker's breaker, and
each worker sends its own half-open probe. That costs a few more failed calls than a
shared breaker would, and needs no database write on every turn."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum


class BreakerState(StrEnum):
    CLOSED = "closed"  # calls go through
    OPEN = "open"  # calls are refused until the open duration has passed
    HALF_OPEN = "half_open"  # one probe call is in flight; its outcome decides


@dataclass(frozen=True)
class BreakerStats:
    state: BreakerState
    consecutive_failures: int
    opens: int  # times the breaker has opened
    rejected: int  # calls refused while open


class CircuitBreaker:
    """Opens after `failure_threshold` consecutive failures and refuses calls for
    `open_s` seconds; then lets one probe through (half-open): a success closes it, a
    failure opens it again. `clock` is injectable so tests need not sleep."""

    def __init__(
        self,
        failure_threshold: int,
        open_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if failure_threshold < 1:
            raise ValueError("failure_threshold must be at least 1")
        self.failure_threshold = failure_threshold
        self.open_s = open_s
        self.clock = clock
        self._lock = threading.Lock()
        self._state = BreakerState.CLOSED
        self._failures = 0
        self._retry_at = 0.0
        self._opens = 0
        self._rejected = 0

    def allow(self) -> bool:
        """Whether a call may go out now. After the open duration one caller gets True
        (the probe) and the others keep getting False until the probe reports, or until
        another open duration passes (a probe that never reported)."""
        with self._lock:
            if self._state is BreakerState.CLOSED:
                return True
            now = self.clock()
            if now < self._retry_at:
                self._rejected += 1
                return False
            self._state = BreakerState.HALF_OPEN
            self._retry_at = now + self.open_s
            return True

    def record_success(self) -> None:
        with self._lock:
            self._state = BreakerState.CLOSED
            self._failures = 0

    def record_failure(self) -> None:
        with self._lock:
            self._failures += 1
            if self._state is BreakerState.HALF_OPEN or (
                self._state is BreakerState.CLOSED and self._failures >= self.failure_threshold
            ):
                self._state = BreakerState.OPEN
                self._retry_at = self.clock() + self.open_s
                self._opens += 1

    @property
    def state(self) -> BreakerState:
        with self._lock:
            return self._state

    def stats(self) -> BreakerStats:
        with self._lock:
            return BreakerStats(self._state, self._failures, self._opens, self._rejected)
