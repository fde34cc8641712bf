"""Prometheus metrics shared by every process (apis serve them on /metrics, workers on the
metrics port). Names are a public contract: deploy/grafana and the alerting rules use them."""

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
CONSUMER_LAG = Gauge(
    "quotient_consumer_lag",
    "Records on the bus a consumer group has not applied yet",
    ["group", "topic", "partition"],
)
# From the moment Quotient recorded the activity (webhook accepted) to the commit of the figure
# a consumer derived from it, across every hop (goals -> scoring -> incentives).
RECALCULATION_SECONDS = Histogram(
    "quotient_recalculation_seconds",
    "Activity recorded -> figure committed, per service and consumer group",
    ["service", "group"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)
WEBHOOKS = Counter(
    "quotient_webhooks_total",
    "CRM events received through webhooks, by vendor and outcome "
    "(accepted, duplicate, quarantined, refused)",
    ["vendor", "outcome"],
)
HTTP_LATENCY = Histogram(
    "quotient_http_request_seconds", "HTTP request latency", ["method", "route", "status"]
)
