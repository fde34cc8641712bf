"""Announce a final grade on scoring.scores.v1 (incentives applies grade coefficients with it)."""

from __future__ import annotations

from datetime import UTC, datetime

from scoring.models import Scorecard
from shared.db.uow import UnitOfWork
from shared.events.envelope import GradedPayload, ScorecardGraded, new_event, person_key


def announce_grade(uow: UnitOfWork, card: Scorecard, reason: str) -> None:
    if card.status != "final" or card.grade is None or card.total is None:
        return
    uow.emit(
        new_event(
            ScorecardGraded,
            tenant_id=card.tenant_id,
            key=person_key(card.tenant_id, card.person_id),
            occurred_at=datetime.now(UTC),
            payload=GradedPayload(
                person_id=card.person_id,
                period=card.period,
                period_kind=card.period_kind,
                period_start=card.period_start,
                grade=card.grade,
                total=card.total,
                reason=reason,
            ),
        )
    )
