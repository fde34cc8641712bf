"""Prometheus metrics shared by every process."""

from prometheus_client import Counter, Gauge, Histogram

EVENTS_CONSUMED = Counter(
    "quotient_events_consumed_total", "Events applied by a consumer group", ["group", "topic"]
)
EVENTS_DUPLICATE = Counter(
    "quotient_events_duplicate_total", "Events skipped as already applied", ["group", "topic"]
)
EVENTS_DEAD_LETTERED = Counter(
    "quotient_events_dead_lettered_total",
    "Events sent to the dead-letter topic",
    ["group", "topic"],
)
EVENTS_PUBLISHED = Counter(
    "quotient_events_published_total",
    "Events relayed from an outbox to the bus",
    ["schema", "topic"],
)
OUTBOX_BACKLOG = Gauge("quotient_outbox_backlog", "Rows waiting in an outbox", ["schema"])
HTTP_LATENCY = Histogram(
    "quotient_http_request_seconds", "HTTP request latency", ["method", "route", "status"]
)
