"""Prometheus metrics every service exports on `/metrics`, labelled by service."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

HTTP_REQUESTS = Counter("cb_http_requests_total", "HTTP requests served", ["service", "method", "route", "status"])
HTTP_LATENCY = Histogram("cb_http_request_seconds", "HTTP request latency", ["service", "method", "route"])

OUTBOX_PUBLISHED = Counter("cb_outbox_published_total", "Events published from the outbox", ["service"])
OUTBOX_FAILURES = Counter("cb_outbox_publish_failures_total", "Failed outbox publish attempts", ["service"])
OUTBOX_PENDING = Gauge("cb_outbox_pending", "Events waiting in the outbox at the last relay pass", ["service"])

EVENTS_CONSUMED = Counter(
    "cb_events_consumed_total", "Events handled by consumers", ["service", "topic", "outcome"]
)
EVENTS_DEAD_LETTERED = Counter("cb_events_dead_lettered_total", "Events sent to a DLQ", ["service", "topic"])
