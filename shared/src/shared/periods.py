"""Calendar periods in a tenant's time zone."""

from __future__ import annotations

import calendar
from datetime import date, datetime
from zoneinfo import ZoneInfo


def local_date(moment: datetime, timezone: str) -> date:
    """The calendar day a moment falls on in the tenant's time zone."""
    if moment.tzinfo is None:
        raise ValueError("times must be timezone-aware")
    return moment.astimezone(ZoneInfo(timezone)).date()


def month_of(moment: datetime, timezone: str) -> tuple[date, date]:
    """First and last day of the month that contains the moment, in the tenant's time zone."""
    day = local_date(moment, timezone)
    last = calendar.monthrange(day.year, day.month)[1]
    return day.replace(day=1), day.replace(day=last)


def parse_month(value: str) -> date:
    """'2026-03' or '2026-03-01' → the first day of that month."""
    parts = value.split("-")
    if len(parts) < 2:
        raise ValueError("expected YYYY-MM")
    return date(int(parts[0]), int(parts[1]), 1)
