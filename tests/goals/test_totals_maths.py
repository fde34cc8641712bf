from __future__ import annotations

from datetime import date
from decimal import Decimal

from goals.totals.maths import metric_deltas
from shared.events.activity import ActivityEvent


def event(**fields: object) -> ActivityEvent:
    base = {"id": "e", "actor_id": "p-1"}
    return ActivityEvent.model_validate(base | fields)


def test_last_day_of_month_late_evening_local_time_belongs_to_that_month() -> None:
    e = event(type="visit", occurred_at="2026-03-31T23:30:00+08:00")
    (delta,) = metric_deltas(e, "Asia/Shanghai")
    assert (delta.period_start, delta.period_end) == (date(2026, 3, 1), date(2026, 3, 31))
    # the same instant in a UTC tenant is still March; one hour later in Shanghai is April
    later = event(type="visit", occurred_at="2026-04-01T00:30:00+08:00")
    assert metric_deltas(later, "Asia/Shanghai")[0].period_start == date(2026, 4, 1)
    assert metric_deltas(later, "UTC")[0].period_start == date(2026, 3, 1)


def test_payment_moves_count_amount_and_collected_revenue_by_credit_share() -> None:
    e = event(
        type="payment_received",
        occurred_at="2026-03-05T10:00:00+08:00",
        amount={"value": "100.00", "currency": "CNY"},
        credit_split=[{"actor_id": "p-1", "share": "0.75"}, {"actor_id": "p-2", "share": "0.25"}],
    )
    got = {(d.person_id, d.metric): d.value for d in metric_deltas(e, "Asia/Shanghai")}
    assert got == {
        ("p-1", "payment_received.count"): Decimal(1),
        ("p-1", "payment_received.amount"): Decimal("75.0000"),
        ("p-1", "collected_revenue"): Decimal("75.0000"),
        ("p-2", "payment_received.amount"): Decimal("25.0000"),
        ("p-2", "collected_revenue"): Decimal("25.0000"),
    }


def test_refund_reduces_collected_revenue() -> None:
    e = event(
        type="refund",
        refers_to="e0",
        occurred_at="2026-03-05T10:00:00+08:00",
        amount={"value": "40.00", "currency": "CNY"},
    )
    got = {d.metric: d.value for d in metric_deltas(e, "UTC")}
    assert got["collected_revenue"] == Decimal("-40.00")
