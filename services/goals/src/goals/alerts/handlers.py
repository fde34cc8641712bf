"""Early warnings evaluated as events arrive (crm.activities.v1, goals.progress.v1), and a
time-driven sweep for what no event announces (pace of someone who records nothing, deals that
stall, last month's revenue change)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, text

from goals.alerts import rules
from goals.alerts.service import clear, raise_alert, resolve_outlived, thresholds_of
from goals.catalog.service import tenant_catalog
from goals.models import Goal, Tenant, messaging
from goals.targets.endpoints import goal_figures
from goals.totals.progress import goal_metric_key, period_from
from goals.totals.store import closed_periods, tenant_calendar
from shared.bus.consumer import Handler
from shared.db.uow import UnitOfWork, unit_of_work
from shared.events.envelope import ActivityRecorded, Event, ProgressUpdated
from shared.periods import PeriodKind, local_date, period_of, previous
from shared.runtime import Runtime
from shared.tasks import Periodic

FOLLOW_UPS = ("visit", "call", "first_contact")
STAGES = ("lead_created", "first_contact", "quote_sent", "opportunity_stage_changed")
CLOSED = ("deal_won", "deal_lost")
REVENUE = "collected_revenue"


def day_bounds(first: date, last: date, timezone: str) -> tuple[datetime, datetime]:
    zone = ZoneInfo(timezone)
    start = datetime.combine(first, datetime.min.time(), zone)
    end = datetime.combine(last + timedelta(days=1), datetime.min.time(), zone)
    return start, end


async def on_activities(
    uow: UnitOfWork, tenant_id: uuid.UUID, events: list[ActivityRecorded]
) -> None:
    session = uow.session
    th = await thresholds_of(session, tenant_id)
    timezone, _ = await tenant_calendar(session, tenant_id)
    live = [e for e in events if not e.payload.backfill]
    days: set[tuple[str, date]] = set()
    follow_ups: set[tuple[str, str, date]] = set()
    for e in live:
        a = e.payload.activity
        day = local_date(a.occurred_at, timezone)
        if a.recorded_at is not None:
            finding = rules.late_entry(a.occurred_at, a.recorded_at, False, th, activity_id=a.id)
            if finding is not None:
                await raise_alert(
                    uow, tenant_id, finding, person_id=a.actor_id, period=day.strftime("%Y-%m")
                )
        days.add((a.actor_id, day))
        if a.type.value in FOLLOW_UPS and a.customer is not None and a.customer.id:
            follow_ups.add((a.actor_id, a.customer.id, day))
        if a.deal_id and a.type.value in (*STAGES, *CLOSED):
            await clear(uow, tenant_id, "stalled_deal", a.deal_id)
    if days:
        await bursts(uow, tenant_id, timezone, th, days)
    if follow_ups:
        await repeated(uow, tenant_id, timezone, th, follow_ups)


async def bursts(
    uow: UnitOfWork,
    tenant_id: uuid.UUID,
    timezone: str,
    th: rules.Thresholds,
    days: set[tuple[str, date]],
) -> None:
    """One query for the batch: each person's events per local day over the trailing window."""
    window = th.burst_window_days
    first = min(d for _, d in days) - timedelta(days=window)
    start, end = day_bounds(first, max(d for _, d in days), timezone)
    rows = await uow.session.execute(
        text(
            """
            SELECT actor_id, (occurred_at AT TIME ZONE :tz)::date AS day, count(*) AS n
            FROM goals.activities
            WHERE tenant_id = :tenant AND actor_id = ANY(:actors)
              AND occurred_at >= :start AND occurred_at < :end AND NOT backfill
            GROUP BY 1, 2
            """
        ),
        {
            "tz": timezone,
            "tenant": tenant_id,
            "actors": sorted({p for p, _ in days}),
            "start": start,
            "end": end,
        },
    )
    counts = {(r.actor_id, r.day): r.n for r in rows}
    for person, day in sorted(days):
        trailing = [counts.get((person, day - timedelta(days=k)), 0) for k in range(1, window + 1)]
        finding = rules.burst(counts.get((person, day), 0), trailing, th, person=person, day=day)
        if finding is not None:
            await raise_alert(
                uow, tenant_id, finding, person_id=person, period=day.strftime("%Y-%m")
            )


async def repeated(
    uow: UnitOfWork,
    tenant_id: uuid.UUID,
    timezone: str,
    th: rules.Thresholds,
    keys: set[tuple[str, str, date]],
) -> None:
    start, end = day_bounds(min(d for *_, d in keys), max(d for *_, d in keys), timezone)
    rows = await uow.session.execute(
        text(
            """
            SELECT actor_id, body->'customer'->>'id' AS customer,
                   (occurred_at AT TIME ZONE :tz)::date AS day, count(*) AS n
            FROM goals.activities
            WHERE tenant_id = :tenant AND type = ANY(:types) AND actor_id = ANY(:actors)
              AND occurred_at >= :start AND occurred_at < :end
            GROUP BY 1, 2, 3
            """
        ),
        {
            "tz": timezone,
            "tenant": tenant_id,
            "types": list(FOLLOW_UPS),
            "actors": sorted({p for p, _, _ in keys}),
            "start": start,
            "end": end,
        },
    )
    counts = {(r.actor_id, r.customer, r.day): r.n for r in rows}
    for person, customer, day in sorted(keys):
        finding = rules.repeated_follow_up(
            counts.get((person, customer, day), 0), th, person=person, customer=customer, day=day
        )
        if finding is not None:
            await raise_alert(
                uow, tenant_id, finding, person_id=person, period=day.strftime("%Y-%m")
            )


async def on_progress(uow: UnitOfWork, tenant_id: uuid.UUID, events: list[ProgressUpdated]) -> None:
    """Behind pace, judged on each goal's new figures; the alert clears when pace recovers."""
    latest: dict[Any, ProgressUpdated] = {}
    for e in events:
        if e.payload.goal_id is not None:
            latest[e.payload.goal_id] = e
    if not latest:
        return
    session = uow.session
    th = await thresholds_of(session, tenant_id)
    timezone, fiscal_start = await tenant_calendar(session, tenant_id)
    catalog = await tenant_catalog(session, tenant_id)
    closed = await closed_periods(session, tenant_id)
    now = datetime.now(UTC)
    for e in latest.values():
        p = e.payload
        definition = catalog.get(p.metric)
        if definition is None or not definition.additive or definition.direction != "higher":
            continue
        if p.actual is None or p.target is None or p.owner_kind == "company":
            continue
        if (p.period_kind, p.period_start) in closed:
            continue  # a closed period's figures are final: no pace to judge
        period = period_from(p.period_kind, p.period_start, p.period_end, fiscal_start)
        await judge_pace(
            uow,
            tenant_id,
            th,
            p.owner_kind,
            p.person_id,
            p.metric,
            period.label,
            p.actual,
            p.target,
            period.elapsed_fraction(now, timezone),
        )


async def judge_pace(
    uow: UnitOfWork,
    tenant_id: uuid.UUID,
    th: rules.Thresholds,
    owner_kind: str,
    owner_id: str,
    metric: str,
    period: str,
    actual: Decimal,
    target: Decimal,
    elapsed: Decimal,
) -> None:
    owner = owner_id if owner_kind == "person" else f"team:{owner_id}"
    finding = rules.behind_pace(
        actual, target, elapsed, th, person=owner, metric=metric, period=period
    )
    if finding is not None:
        await raise_alert(
            uow,
            tenant_id,
            finding,
            person_id=owner_id if owner_kind == "person" else None,
            team_id=owner_id if owner_kind == "team" else None,
            metric=metric,
            period=period,
        )
    elif rules.pace_recovered(actual, target, elapsed, th):
        subject = f"{owner}|{metric}|{period}"
        await clear(
            uow, tenant_id, "behind_pace", subject, {"actual": str(actual), "target": str(target)}
        )


async def evaluate(uow: UnitOfWork, events: Sequence[Event]) -> None:
    if not events:
        return
    tenant_id = events[0].tenant_id
    recorded = [e for e in events if isinstance(e, ActivityRecorded)]
    progress = [e for e in events if isinstance(e, ProgressUpdated)]
    if recorded:
        await on_activities(uow, tenant_id, recorded)
    if progress:
        await on_progress(uow, tenant_id, progress)


def alerts_handler(_rt: Runtime) -> Handler:
    return evaluate


# -- the time-driven sweep ----------------------------------------------------------------------


async def sweep_tenant(uow: UnitOfWork, tenant_id: uuid.UUID, now: datetime) -> None:
    session = uow.session
    th = await thresholds_of(session, tenant_id)
    timezone, fiscal_start = await tenant_calendar(session, tenant_id)
    today = local_date(now, timezone)
    # Alerts about a period that is over or closed resolve first, with the reason.
    await resolve_outlived(uow, tenant_id, today, fiscal_start)
    # Pace of every current goal (someone who records nothing gets warned too).
    goals = list(
        await session.scalars(
            select(Goal).where(
                Goal.tenant_id == tenant_id,
                Goal.period_start <= today,
                Goal.period_end >= today,
                Goal.owner_kind.in_(("person", "team")),
                Goal.dimension == "",
            )
        )
    )
    catalog = await tenant_catalog(session, tenant_id)
    closed = await closed_periods(session, tenant_id)
    goals = [
        g
        for g in goals
        if (d := catalog.get(goal_metric_key(g))) is not None
        and d.additive
        and d.direction == "higher"
        and (g.period_kind, g.period_start) not in closed
    ]
    for g, f in zip(goals, await goal_figures(session, tenant_id, goals, now), strict=True):
        await judge_pace(
            uow,
            tenant_id,
            th,
            g.owner_kind,
            g.owner_id,
            g.metric,
            f.period,
            f.actual or Decimal(0),
            f.effective_target,
            f.elapsed,
        )
    # Stalled deals: open deals whose last stage change is older than the threshold.
    cutoff = now - timedelta(days=float(th.stalled_days))
    rows = await session.execute(
        text(
            """
            SELECT deal_id, max(occurred_at) AS last, (array_agg(actor_id ORDER BY occurred_at DESC))[1] AS actor
            FROM goals.facts
            WHERE tenant_id = :tenant AND deal_id IS NOT NULL AND body IS NOT NULL
              AND type = ANY(:stages)
              AND deal_id NOT IN (
                  SELECT deal_id FROM goals.facts WHERE tenant_id = :tenant
                  AND deal_id IS NOT NULL AND body IS NOT NULL AND type = ANY(:closed))
            GROUP BY deal_id
            HAVING max(occurred_at) <= :cutoff
            """
        ),
        {"tenant": tenant_id, "stages": list(STAGES), "closed": list(CLOSED), "cutoff": cutoff},
    )
    for r in rows:
        finding = rules.stalled(r.last, now, th, deal_id=r.deal_id)
        if finding is not None:
            await raise_alert(uow, tenant_id, finding, person_id=r.actor)
    # Spike / drop: last completed month against the month before, per person.
    last_month = previous(period_of(PeriodKind.MONTH, today))
    before = previous(last_month)
    totals = await session.execute(
        text(
            """
            SELECT owner_id, period_start, value FROM goals.totals
            WHERE tenant_id = :tenant AND owner_kind = 'person' AND metric = :metric
              AND period_kind = 'month' AND period_start = ANY(:starts)
            """
        ),
        {"tenant": tenant_id, "metric": REVENUE, "starts": [last_month.start, before.start]},
    )
    by_person: dict[str, dict[date, Decimal]] = {}
    for r in totals:
        by_person.setdefault(r.owner_id, {})[r.period_start] = r.value
    for person, values in sorted(by_person.items()):
        finding = rules.spike_drop(
            values.get(last_month.start, Decimal(0)),
            values.get(before.start, Decimal(0)),
            th,
            owner=person,
            metric=REVENUE,
            period=last_month.label,
        )
        if finding is not None:
            await raise_alert(
                uow, tenant_id, finding, person_id=person, metric=REVENUE, period=last_month.label
            )


async def sweep(rt: Runtime) -> None:
    async with unit_of_work(rt.sessions, messaging, rt.settings.topic_prefix) as uow:
        locked = await uow.session.scalar(
            text("SELECT pg_try_advisory_xact_lock(hashtext('goals.alerts.sweep'))")
        )
        if not locked:
            return  # another worker sweeps
        await uow.system()
        tenants = list(await uow.session.scalars(select(Tenant.tenant_id)))
    now = datetime.now(UTC)
    for tenant_id in tenants:
        async with unit_of_work(rt.sessions, messaging, rt.settings.topic_prefix) as uow:
            await uow.set_tenant(tenant_id)
            await sweep_tenant(uow, tenant_id, now)


def sweeper(rt: Runtime) -> Periodic:
    return Periodic("alerts sweep", rt.settings.alert_sweep_seconds, lambda: sweep(rt))
