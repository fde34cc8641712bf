"""Topic names (without the deployment's prefix)."""

from enum import StrEnum


class Topic(StrEnum):
    activities = "crm.activities.v1"
    progress = "goals.progress.v1"
    alerts = "goals.alerts.v1"
    org = "goals.org.v1"
    scores = "scoring.scores.v1"
    payouts = "incentives.payouts.v1"


def dead_letter_topic(group: str) -> str:
    """Each consumer group has its own dead-letter topic."""
    return f"dlq.{group}.v1"
