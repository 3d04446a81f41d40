"""Prometheus metrics, one registry per running Herald (never the process-global one)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

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

        self.stored = StoredFigures()
        self.registry.register(self.stored)

    def render(self) -> bytes:
        return generate_latest(self.registry)


@dataclass
class Figures:
    """What the database knows that every process adds to, read once per scrape."""

    ignored: dict[str, int] = field(default_factory=dict)  # webhook items ignored, by reason
    quarantined: int = 0  # webhook bodies set aside
    backlog: int = 0  # webhook bodies waiting to be applied
    held: dict[str, int] = field(default_factory=dict)  # ledger rows waiting by rule, by reason
    messaging_limit: int | None = None  # unique users a rolling 24 h; None: unlimited or not known
    reached: int = 0  # unique users templates reached in the last 24 h


class StoredFigures(Collector):
    """Counts kept in the database (the server, the scheduler and the workers add to them),
    rendered as of the last scrape's read."""

    def __init__(self) -> None:
        self.figures = Figures()

    def collect(self) -> Iterator[Metric]:
        ignored = CounterMetricFamily(
            "herald_webhook_items_ignored",
            "Webhook items Herald did not act on, by reason (the rest of their body was applied)",
            labels=["reason"],
        )
        for reason, count in sorted(self.figures.ignored.items()):
            ignored.add_metric([reason], count)
        yield ignored
        yield GaugeMetricFamily(
            "herald_webhook_quarantined",
            "Webhook bodies set aside after failing to apply five times",
            value=self.figures.quarantined,
        )
        yield GaugeMetricFamily(
            "herald_webhook_inbox_backlog",
            "Webhook bodies stored and not applied yet",
            value=self.figures.backlog,
        )
        held = GaugeMetricFamily(
            "herald_held_rows",
            "Send-ledger rows waiting for a later time by rule, by reason",
            labels=["reason"],
        )
        for reason, count in sorted(self.figures.held.items()):
            held.add_metric([reason], count)
        yield held
        if self.figures.messaging_limit is not None:
            yield GaugeMetricFamily(
                "herald_messaging_limit",
                "Unique users templates may reach in a rolling 24 hours (absent: unlimited or not known)",
                value=self.figures.messaging_limit,
            )
        yield GaugeMetricFamily(
            "herald_messaging_limit_used",
            "Unique users templates reached in the last 24 hours",
            value=self.figures.reached,
        )
