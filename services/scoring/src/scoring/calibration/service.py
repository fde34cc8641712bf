"""Period close and calibration: closing a period (goals announces it on goals.org.v1) freezes
its scorecards as final; with forced distribution on, each team's and the company's grade
distribution is checked against the quotas, moves are proposed by rank, and a calibrator approves
the final grades, with a reason for every change."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from scoring.calibration.graded import announce_grade
from scoring.grades.maths import (
    DEFAULT_BANDS,
    DEFAULT_QUOTAS,
    Band,
    Quota,
    grade_of,
    propose_moves,
)
from scoring.models import Calibration, Scorecard, ScoringSettings, org
from shared.db.uow import UnitOfWork
from shared.events.envelope import PeriodClosed


async def settings_of(session: Any, tenant_id: uuid.UUID) -> tuple[list[Band], bool, list[Quota]]:
    row = await session.scalar(
        select(ScoringSettings).where(ScoringSettings.tenant_id == tenant_id)
    )
    if row is None:
        return list(DEFAULT_BANDS), False, list(DEFAULT_QUOTAS)
    bands = [Band(b["grade"], Decimal(str(b["lower"]))) for b in row.bands]
    quotas = [
        Quota(
            tuple(q["grades"]),
            None if q.get("min_share") is None else Decimal(str(q["min_share"])),
            None if q.get("max_share") is None else Decimal(str(q["max_share"])),
        )
        for q in row.quotas
    ]
    return bands, row.forced_distribution, quotas


def report_json(report: Any) -> dict[str, Any]:
    return {
        "report_only": report.report_only,
        "violations": [
            {
                "grades": list(v.grades),
                "actual": v.actual,
                "min_people": v.min_people,
                "max_people": v.max_people,
                "message": v.message,
            }
            for v in report.violations
        ],
        "proposals": [
            {
                "person_id": p.person_id,
                "from": p.from_grade,
                "to": p.to_grade,
                "rank": p.rank,
                "total": str(p.total),
            }
            for p in report.proposals
        ],
    }


async def close_period(uow: UnitOfWork, event: PeriodClosed) -> None:
    """Freeze the period's scorecards (final) and, with forced distribution, report and propose."""
    session = uow.session
    tenant_id = event.tenant_id
    p = event.payload
    cards = list(
        await session.scalars(
            select(Scorecard)
            .where(
                Scorecard.tenant_id == tenant_id,
                Scorecard.period_kind == p.period_kind,
                Scorecard.period_start == p.period_start,
            )
            .with_for_update()
        )
    )
    if not cards:
        return
    bands, forced, quotas = await settings_of(session, tenant_id)
    for card in cards:
        card.status = "final"
        if card.complete and card.total is not None:
            card.grade = grade_of(card.total, bands)
    if not forced:
        for card in cards:
            announce_grade(uow, card, "closed")
        return
    graded = [c for c in cards if c.grade is not None and c.total is not None]
    scopes: dict[str, list[Scorecard]] = {"company": graded}
    m = org.memberships.c
    rows = await session.execute(
        select(m.person_id, m.team_id).where(
            m.tenant_id == tenant_id,
            m.valid_from <= p.period_end,
            (m.valid_to.is_(None)) | (m.valid_to >= p.period_end),
        )
    )
    team_of = {person: team for person, team in rows}
    for c in graded:
        team = team_of.get(c.person_id)
        if team is not None:
            scopes.setdefault(team, []).append(c)
    for scope, members in sorted(scopes.items()):
        if not members:
            continue
        report = propose_moves(
            {c.person_id: c.total for c in members if c.total is not None},
            {c.person_id: c.grade for c in members if c.grade is not None},
            quotas,
            bands,
        )
        session.add(
            Calibration(
                calibration_id=uuid.uuid4(),
                tenant_id=tenant_id,
                period=p.period,
                scope=scope,
                status="proposed",
                report=report_json(report),
                changes=[],
            )
        )
