"""KPI definitions over activity events (pure: no database).

A metric is one of
- ``count``: how many matching events (credited to the actor);
- ``sum``: the sum of a numeric field (``amount.value`` by default; money is split by credit shares);
- ``distinct_count``: how many distinct values of a field (``customer.id`` by default);
- ``average``: the mean of a numeric field over matching events (credited to the actor);
- ``ratio`` / ``rate``: one metric divided by another (``complement`` gives 1 − n / d, e.g. data-entry
  accuracy = 1 − errors / records); a rate is a ratio whose numerator is part of its denominator.

Filters narrow the events (type, customer segment, product line, region, any attribute), and
``subtract_types`` count against the metric (a refund takes collected revenue back).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.events.activity import ActivityEvent, ActivityType


class Kind(StrEnum):
    count = "count"
    sum = "sum"
    distinct_count = "distinct_count"
    average = "average"
    ratio = "ratio"
    rate = "rate"


STORED_KINDS = frozenset({Kind.count, Kind.sum, Kind.distinct_count, Kind.average})
DERIVED_KINDS = frozenset({Kind.ratio, Kind.rate})
ADDITIVE_KINDS = frozenset({Kind.count, Kind.sum})

# Fields a filter or a metric may read: the canonical event's own, or any attribute.
EVENT_FIELDS = frozenset(
    {
        "type",
        "actor_id",
        "deal_id",
        "product_line",
        "customer.id",
        "customer.segment",
        "customer.region",
        "amount.value",
        "amount.currency",
        "response_hours",
    }
)
# Dimensions a goal may be split along (a goal on a dimension value filters its metric by it).
DIMENSIONS = {
    "product_line": "product_line",
    "region": "customer.region",
    "customer_type": "customer.segment",
    "segment": "customer.segment",
}

Op = Literal["eq", "ne", "in", "not_in", "gt", "gte", "lt", "lte", "exists"]


def _valid_field(path: str) -> bool:
    return path in EVENT_FIELDS or (path.startswith("attributes.") and len(path) > 11)


class Filter(BaseModel):
    model_config = ConfigDict(extra="forbid")

    field: str = Field(examples=["customer.segment", "attributes.duration_minutes"])
    op: Op = "eq"
    value: Any = None

    @model_validator(mode="after")
    def _check(self) -> Filter:
        if not _valid_field(self.field):
            raise ValueError(
                f"unknown field {self.field!r}: use one of {sorted(EVENT_FIELDS)} or attributes.<name>"
            )
        if self.op in ("in", "not_in") and not isinstance(self.value, list):
            raise ValueError(f"{self.op} needs a list value")
        if self.op in ("gt", "gte", "lt", "lte") and _number(self.value) is None:
            raise ValueError(f"{self.op} needs a numeric value")
        return self

    def matches(self, activity: ActivityEvent) -> bool:
        actual = field_value(activity, self.field)
        if self.op == "exists":
            return actual is not None
        if self.op == "eq":
            return _same(actual, self.value)
        if self.op == "ne":
            return not _same(actual, self.value)
        if self.op == "in":
            return any(_same(actual, v) for v in self.value)
        if self.op == "not_in":
            return not any(_same(actual, v) for v in self.value)
        left, right = _number(actual), _number(self.value)
        if left is None or right is None:
            return False
        return {
            "gt": left > right,
            "gte": left >= right,
            "lt": left < right,
            "lte": left <= right,
        }[self.op]


class MetricDefinition(BaseModel):
    """One KPI of a tenant's catalog."""

    model_config = ConfigDict(extra="forbid")

    key: str = Field(pattern=r"^[a-z][a-z0-9_.]{0,79}$", examples=["new_customer_revenue"])
    name: str = Field(min_length=1, max_length=200)
    kind: Kind
    event_types: list[ActivityType] = Field(default_factory=list)
    subtract_types: list[ActivityType] = Field(default_factory=list)
    filters: list[Filter] = Field(default_factory=list)
    field: str | None = Field(
        default=None,
        description="sum / average: a numeric field (default amount.value); "
        "distinct_count: the field whose values are counted (default customer.id)",
    )
    numerator: str | None = None
    denominator: str | None = None
    complement: bool = False
    direction: Literal["higher", "lower"] = "higher"
    unit: str | None = Field(default=None, examples=["currency", "count", "hours", "ratio"])
    description: str | None = None

    @model_validator(mode="after")
    def _check(self) -> MetricDefinition:
        if self.kind in DERIVED_KINDS:
            if not self.numerator or not self.denominator:
                raise ValueError(f"a {self.kind.value} needs numerator and denominator metrics")
            if self.event_types or self.subtract_types or self.filters or self.field:
                raise ValueError(
                    f"a {self.kind.value} is made of two metrics: put event types and filters on them"
                )
            return self
        if self.numerator or self.denominator or self.complement:
            raise ValueError("numerator, denominator and complement are for ratio and rate metrics")
        if not self.event_types:
            raise ValueError(f"a {self.kind.value} metric needs at least one event type")
        corrections = {ActivityType.record_updated, ActivityType.record_deleted}
        if corrections & (set(self.event_types) | set(self.subtract_types)):
            raise ValueError("corrections change earlier events; they are not counted themselves")
        if self.field is not None and not _valid_field(self.field):
            raise ValueError(f"unknown field {self.field!r}")
        if self.kind is Kind.distinct_count and self.subtract_types:
            raise ValueError("a distinct_count cannot subtract")
        return self

    @property
    def additive(self) -> bool:
        """Children's targets must add up to their parent's."""
        return self.kind in ADDITIVE_KINDS

    @property
    def stored(self) -> bool:
        return self.kind in STORED_KINDS

    def value_field(self) -> str | None:
        if self.kind in (Kind.sum, Kind.average):
            return self.field or "amount.value"
        if self.kind is Kind.distinct_count:
            return self.field or "customer.id"
        return None

    def sign(self, activity: ActivityEvent) -> int:
        """+1 when the event counts for the metric, -1 when it counts against it, 0 otherwise."""
        if activity.type in self.event_types:
            sign = 1
        elif activity.type in self.subtract_types:
            sign = -1
        else:
            return 0
        if not all(f.matches(activity) for f in self.filters):
            return 0
        return sign

    def with_filter(self, key: str, extra: Filter) -> MetricDefinition:
        """The same metric narrowed to one value of a dimension (a goal split by product line...)."""
        if self.kind in DERIVED_KINDS:
            raise ValueError("split the numerator and denominator metrics instead")
        return self.model_copy(update={"key": key, "filters": [*self.filters, extra]})


def field_value(activity: ActivityEvent, path: str) -> Any:
    if path == "type":
        return activity.type.value
    if path == "response_hours":
        # Set by the CRM, or filled in from the paired customer_request (see totals).
        return activity.attributes.get("response_hours")
    if path.startswith("attributes."):
        return activity.attributes.get(path[11:])
    head, _, tail = path.partition(".")
    value: Any = getattr(activity, head, None)
    if tail and value is not None:
        value = getattr(value, tail, None)
    return value


def numeric(activity: ActivityEvent, path: str) -> Decimal | None:
    return _number(field_value(activity, path))


def _number(raw: Any) -> Decimal | None:
    if isinstance(raw, bool) or raw is None:
        return None
    if isinstance(raw, Decimal):
        return raw if raw.is_finite() else None
    if isinstance(raw, int | float | str):
        try:
            value = Decimal(str(raw).strip())
        except InvalidOperation:
            return None
        return value if value.is_finite() else None
    return None


def _same(actual: Any, expected: Any) -> bool:
    if isinstance(actual, StrEnum):
        actual = actual.value
    if actual == expected:
        return True
    left, right = _number(actual), _number(expected)
    return left is not None and right is not None and left == right


def variant_key(metric: str, dimension: str, value: str) -> str:
    """The key of a metric narrowed to a dimension value, e.g. ``revenue|product_line=saas``."""
    return f"{metric}|{dimension}={value}"


def split_variant(key: str) -> tuple[str, str | None, str | None]:
    base, sep, rest = key.partition("|")
    if not sep:
        return key, None, None
    dimension, _, value = rest.partition("=")
    return base, dimension, value
