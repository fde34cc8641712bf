from __future__ import annotations

from decimal import Decimal

from incentives.commission.maths import credit_lines, flat_commission
from shared.events.activity import ActivityEvent


def event(**fields: object) -> ActivityEvent:
    base = {"id": "e", "occurred_at": "2026-03-05T10:00:00+08:00", "actor_id": "p-12"}
    return ActivityEvent.model_validate(base | fields)


def test_payment_split_60_40_credits_both_reps() -> None:
    lines = credit_lines(
        event(
            type="payment_received",
            amount={"value": "120000.00", "currency": "CNY"},
            credit_split=[
                {"actor_id": "p-12", "share": "0.6"},
                {"actor_id": "p-13", "share": "0.4"},
            ],
        )
    )
    assert [(ln.person_id, ln.base) for ln in lines] == [
        ("p-12", Decimal("72000.000")),
        ("p-13", Decimal("48000.000")),
    ]


def test_refund_is_a_negative_base_and_booked_orders_never_count() -> None:
    (refund,) = credit_lines(
        event(type="refund", refers_to="e0", amount={"value": "500.00", "currency": "CNY"})
    )
    assert refund.base == Decimal("-500.00")
    assert (
        credit_lines(event(type="order_booked", amount={"value": "9.00", "currency": "CNY"})) == []
    )
    assert (
        credit_lines(event(type="invoice_issued", amount={"value": "9.00", "currency": "CNY"}))
        == []
    )


def test_flat_commission_is_exact() -> None:
    assert flat_commission(Decimal("1200000"), Decimal("0.03")) == Decimal("36000.00")
