"""Prometheus metrics of the service: requests, latencies per stage, fallbacks."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

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
