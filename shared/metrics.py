"""Prometheus metrics every service exports on `/metrics`, labelled by service."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

HTTP_REQUESTS = Counter("cb_http_requests_total", "HTTP requests served", ["service", "method", "route", "status"])
HTTP_LATENCY = Histogram("cb_http_request_seconds", "HTTP request latency", ["service", "method", "route"])

OUTBOX_PUBLISHED = Counter("cb_outbox_published_total", "Events published from the outbox", ["service"])
OUTBOX_FAILURES = Counter("cb_outbox_publish_failures_total", "Failed outbox publish attempts", ["service"])
OUTBOX_PENDING = Gauge("cb_outbox_pending", "Events waiting in the outbox at the last relay pass", ["service"])
OUTBOX_PARKED_TOTAL = Counter(
    "cb_outbox_parked_total", "Outbox events parked after the broker kept refusing them", ["service", "topic"]
)
OUTBOX_BACKLOG = Gauge("cb_outbox_backlog", "Unpublished outbox events, parked ones excluded", ["service"])
OUTBOX_OLDEST_UNSENT_AGE = Gauge(
    "cb_outbox_oldest_unsent_age_seconds", "Age of the oldest unpublished, unparked outbox event (0 if none)",
    ["service"],
)
OUTBOX_PARKED = Gauge("cb_outbox_parked_events", "Outbox events parked now, waiting for `channelbridge outbox retry`",
                      ["service"])
MESSAGING_PRUNED = Counter("cb_messaging_pruned_total", "Outbox and inbox rows deleted after their retention",
                           ["service", "table"])

EVENTS_CONSUMED = Counter(
    "cb_events_consumed_total", "Events handled by consumers", ["service", "topic", "outcome"]
)
EVENTS_DEAD_LETTERED = Counter(
    "cb_events_dead_lettered_total", "Events sent to a DLQ; cause is invalid (unparseable) or handler (kept failing)",
    ["service", "topic", "cause"],
)
CONSUMER_TRANSIENT_FAILURES = Counter(
    "cb_consumer_transient_failures_total", "Fetches or events stopped by a transient failure and retried later",
    ["service"],
)
CONSUMER_PAUSED_PARTITIONS = Gauge(
    "cb_consumer_paused_partitions", "Partitions waiting out a transient failure before retrying", ["service"]
)
