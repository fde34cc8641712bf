"""Corrections of CRM records (``record_updated`` / ``record_deleted``): every service that keeps
figures from activities applies them by the same rule — the latest correction, ordered by when it
happened in the CRM, decides a record's effective version; one that arrives before its original
waits for it."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from shared.events.activity import ActivityEvent, ActivityType

CORRECTIONS = (ActivityType.record_updated, ActivityType.record_deleted)


def order_key(activity: ActivityEvent) -> str:
    """Corrections are ordered by when they happened in the CRM (then recorded, then id)."""
    occurred = activity.occurred_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")
    recorded = (activity.recorded_at or activity.occurred_at).astimezone(UTC)
    return f"{occurred}|{recorded.strftime('%Y-%m-%dT%H:%M:%S.%f')}|{activity.id}"


def replacement_of(activity: ActivityEvent) -> dict[str, Any] | None:
    """The full corrected record a ``record_updated`` carries (None for a deletion)."""
    replacement = activity.attributes.get("replacement")
    return replacement if isinstance(replacement, dict) else None


def corrected(
    original_id: str, kind: str, replacement: dict[str, Any] | None
) -> ActivityEvent | None:
    """The effective version a correction gives: None when deleted."""
    if kind == ActivityType.record_deleted.value or replacement is None:
        return None
    return ActivityEvent.model_validate({**replacement, "id": original_id})
