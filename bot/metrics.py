"""Prometheus metrics, one registry per running Herald (never the process-global one)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "herald_http_requests",
            "HTTP requests answered",
            ("route", "method", "status"),
            registry=self.registry,
        )
        self.latency = Histogram(
            "herald_http_request_seconds",
            "HTTP request latency",
            ("route",),
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.up = Gauge(
            "herald_component_up",
            "1 when a component answers",
            ("component",),
            registry=self.registry,
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)
