"""Prometheus metrics of the service: requests, latencies per stage, fallbacks."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from assistant.generators.breaker import BreakerState, BreakerStats
from assistant.types import TurnResult

_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


class Metrics:
    """One registry per app, so tests and several apps in one process do not collide."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "rapport_http_requests_total",
            "HTTP requests by route and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "rapport_http_request_seconds",
            "HTTP request latency by route.",
            ["route"],
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self.stage = Histogram(
            "rapport_stage_seconds",
            "Support-turn stage latency.",
            ["stage"],
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self.turns = Counter(
            "rapport_turns_total",
            "Support turns by generator and outcome.",
            ["generator", "degraded", "handoff"],
            registry=self.registry,
        )
        self.fallbacks = Counter(
            "rapport_fallbacks_total",
            "Turns answered by the offline composer because the LLM failed.",
            registry=self.registry,
        )

    def watch_breaker(self, stats: Callable[[], BreakerStats]) -> None:
        """Export the LLM circuit breaker's state and counts (read at scrape time)."""
        self.registry.register(_BreakerCollector(stats))

    def observe_turn(self, result: TurnResult) -> None:
        for stage, ms in result.timings_ms.items():
            self.stage.labels(stage).observe(ms / 1000)
        self.turns.labels(
            result.generator, str(result.degraded).lower(), str(result.handoff).lower()
        ).inc()
        if result.degraded:
            self.fallbacks.inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)


class _BreakerCollector(Collector):
    def __init__(self, stats: Callable[[], BreakerStats]) -> None:
        self._stats = stats

    def collect(self) -> Iterator[Metric]:
        s = self._stats()
        state = GaugeMetricFamily(
            "rapport_llm_breaker_state",
            "LLM circuit breaker state of this worker (1 for the current state).",
            labels=["state"],
        )
        for value in BreakerState:
            state.add_metric([value.value], 1.0 if s.state is value else 0.0)
        yield state
        yield CounterMetricFamily(
            "rapport_llm_breaker_opens",
            "Times this worker's LLM circuit breaker opened.",
            value=s.opens,
        )
        yield CounterMetricFamily(
            "rapport_llm_breaker_rejected",
            "LLM calls refused by the open breaker (those turns answered offline, degraded).",
            value=s.rejected,
        )
