"""Commission maths (pure, no database)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from shared.events.activity import ActivityEvent, ActivityType


@dataclass(frozen=True)
class CreditLine:
    person_id: str
    base: Decimal
    currency: str
    share: Decimal


def credit_lines(activity: ActivityEvent) -> list[CreditLine]:
    """The commission base an activity credits: collected revenue (payments minus refunds),
    split by credit shares. Booked-but-unpaid orders never count."""
    if activity.amount is None:
        return []
    if activity.type is ActivityType.payment_received:
        sign = Decimal(1)
    elif activity.type is ActivityType.refund:
        sign = Decimal(-1)
    else:
        return []
    return [
        CreditLine(person, sign * activity.amount.value * share, activity.amount.currency, share)
        for person, share in activity.credited_shares()
    ]


def flat_commission(base: Decimal, rate: Decimal) -> Decimal:
    """Unrounded: money is rounded half-up to the cent only on statement lines."""
    return base * rate
