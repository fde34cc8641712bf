"""Scorecards over REST: templates, scorecards for people or a whole team, manual items, 360°
review requests and ratings."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from scoring.models import (
    Rating,
    ReviewRequest,
    Scorecard,
    ScorecardItem,
    Template,
    audit_log,
    messaging,
    org,
)
from scoring.reviews.maths import DEFAULT_GROUP_WEIGHTS
from scoring.scorecards import service
from shared.auth.access import may_see_owner, principal, requires
from shared.auth.tokens import Principal
from shared.db import audit
from shared.db.uow import tenant_session, unit_of_work
from shared.http.problems import Problem, invalid_field
from shared.periods import parse_period
from shared.role_templates import ROLE_TEMPLATES
from shared.runtime import Runtime
from shared.service import runtime_of

router = APIRouter(tags=["scorecards"])
EDITORS = ("admin", "hr")
GROUPS = ("manager", "customer", "peer", "self")


class TemplateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    items: list[dict[str, Any]] = Field(min_length=1)
    group_weights: dict[Literal["manager", "customer", "peer", "self"], Decimal] = Field(
        default_factory=lambda: dict(DEFAULT_GROUP_WEIGHTS)
    )


def template_out(
    key: str, name: str, items: list[dict[str, Any]], weights: dict[str, Any], origin: str
) -> dict[str, Any]:
    share = sum((Decimal(i["weight"]) for i in items if i["kind"] != "qualitative"), Decimal(0))
    return {
        "key": key,
        "name": name,
        "origin": origin,
        "quantitative_share": str(share),
        "items": items,
        "group_weights": {k: str(v) for k, v in weights.items()},
    }


@router.get("/v1/scorecard-templates")
async def list_templates(
    who: Annotated[Principal, Depends(principal)],
    rt: Annotated[Runtime, Depends(runtime_of)],
) -> list[dict[str, Any]]:
    """The role templates of the spec and the tenant's own, with their quantitative share."""
    weights = {k: str(v) for k, v in DEFAULT_GROUP_WEIGHTS.items()}
    out = [
        template_out(k, t["name"], service.normalise_items(t["items"]), weights, "standard")
        for k, t in ROLE_TEMPLATES.items()
    ]
    async with tenant_session(rt.sessions, who.tenant_id) as session:
        for t in await session.scalars(
            select(Template).where(Template.tenant_id == who.tenant_id).order_by(Template.key)
        ):
            out.append(template_out(t.key, t.name, t.items, t.group_weights, "tenant"))
    return out


@router.put("/v1/scorecard-templates/{key}")
async def put_template(
    key: str,
    body: TemplateIn,
    who: Annotated[Principal, Depends(requires(*EDITORS))],
    rt: Annotated[Runtime, Depends(runtime_of)],
) -> dict[str, Any]:
    """A tenant's template: items (quantitative bound to a goals metric, qualitative 360°, or
    manual), weights adding up to 100, rater group weights."""
    items = service.normalise_items(body.items)
    weights = {k: str(v) for k, v in body.group_weights.items()}
    async with unit_of_work(rt.sessions, messaging) as uow:
        await uow.set_tenant(who.tenant_id)
        values = {
            "name": body.name,
            "items": items,
            "group_weights": weights,
            "updated_by": who.subject,
        }
        stmt = pg_insert(Template).values(tenant_id=who.tenant_id, key=key, **values)
        await uow.session.execute(
            stmt.on_conflict_do_update(
                index_elements=[Template.tenant_id, Template.key], set_=values
            )
        )
        await audit.record(
            uow.session,
            audit_log,
            tenant_id=who.tenant_id,
            actor=who.subject,
            action="template.set",
            target_type="template",
            target_key=key,
            before=None,
            after={"items": items},
        )
    return template_out(key, body.name, items, weights, "tenant")


class ScorecardsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    template: str = Field(min_length=1)
    period: str = Field(examples=["2026-Q1", "2026-03"])
    person_ids: list[str] | None = None
    team_id: str | None = Field(default=None, description="everyone in the team during the period")
    fiscal_year_start_month: int = Field(default=1, ge=1, le=12)


@router.post("/v1/scorecards", status_code=201)
async def create_scorecards(
    body: ScorecardsIn,
    who: Annotated[Principal, Depends(requires(*EDITORS, "manager"))],
    rt: Annotated[Runtime, Depends(runtime_of)],
) -> list[dict[str, Any]]:
    """Scorecards for people, or for a whole team in one call (existing ones are kept)."""
    try:
        period = parse_period(body.period, body.fiscal_year_start_month)
    except ValueError as exc:
        raise invalid_field("period", str(exc)) from exc
    async with unit_of_work(rt.sessions, messaging, rt.settings.topic_prefix) as uow:
        await uow.set_tenant(who.tenant_id)
        session = uow.session
        name, items, weights = await service.template(session, who.tenant_id, body.template)
        people = list(body.person_ids or [])
        if body.team_id:
            m = org.memberships.c
            people += list(
                await session.scalars(
                    select(m.person_id)
                    .where(
                        m.tenant_id == who.tenant_id,
                        m.team_id == body.team_id,
                        m.valid_from <= period.end,
                        (m.valid_to.is_(None)) | (m.valid_to >= period.start),
                    )
                    .distinct()
                )
            )
        if not people:
            raise invalid_field(
                "person_ids", "give person_ids or a team_id with members in the period"
            )
        out = []
        for person in sorted(set(people)):
            if (
                who.has("manager")
                and not who.has(*EDITORS)
                and not await may_see_owner(rt, who, "person", person, period.start, period.end)
            ):
                raise Problem(403, "Forbidden", f"{person} is not in your teams")
            card_id = uuid.uuid4()
            stmt = (
                pg_insert(Scorecard)
                .values(
                    scorecard_id=card_id,
                    tenant_id=who.tenant_id,
                    person_id=person,
                    period=period.label,
                    period_kind=period.kind.value,
                    period_start=period.start,
                    period_end=period.end,
                    template_key=body.template,
                    items=items,
                    group_weights=weights,
                    status="provisional",
                    complete=False,
                    created_by=who.subject,
                )
                .on_conflict_do_nothing()
                .returning(Scorecard.scorecard_id)
            )
            created = (await session.execute(stmt)).scalar_one_or_none()
            out.append(
                {
                    "scorecard_id": str(created) if created else None,
                    "person_id": person,
                    "period": period.label,
                    "template": name,
                    "created": created is not None,
                }
            )
        return out


async def card_out(session: Any, card: Scorecard, *, full: bool) -> dict[str, Any]:
    rows = {
        r.item_key: r
        for r in await session.scalars(
            select(ScorecardItem).where(ScorecardItem.scorecard_id == card.scorecard_id)
        )
    }
    items = []
    for item in card.items:
        r = rows.get(item["key"])
        items.append(
            item
            | {
                "status": "waiting" if r is None else r.status,
                "target": None if r is None or r.target is None else str(r.target),
                "actual": None if r is None or r.actual is None else str(r.actual),
                "ratio": None if r is None or r.ratio is None else str(r.ratio),
                "score": None if r is None or r.score is None else str(r.score),
                "explanation": {} if r is None else r.explanation,
            }
        )
    return {
        "scorecard_id": str(card.scorecard_id),
        "person_id": card.person_id,
        "period": card.period,
        "template": card.template_key,
        "status": card.status,
        "total": None if card.total is None else str(card.total),
        "grade": card.grade,
        "complete": card.complete,
        "items": items,
    }


@router.get("/v1/scorecards")
async def get_scorecard(
    who: Annotated[Principal, Depends(principal)],
    rt: Annotated[Runtime, Depends(runtime_of)],
    person_id: Annotated[str, Query(min_length=1)],
    period: Annotated[str, Query(examples=["2026-Q1"])],
    fiscal_year_start_month: Annotated[int, Query(ge=1, le=12)] = 1,
) -> dict[str, Any]:
    """A person's scorecard: each item's target, actual, ratio, score and why; total and grade."""
    try:
        p = parse_period(period, fiscal_year_start_month)
    except ValueError as exc:
        raise invalid_field("period", str(exc)) from exc
    if not await may_see_owner(rt, who, "person", person_id, p.start, p.end):
        raise Problem(403, "Forbidden", "you may only see your own scorecard, or your teams'")
    async with tenant_session(rt.sessions, who.tenant_id) as session:
        card = await session.scalar(
            select(Scorecard).where(
                Scorecard.tenant_id == who.tenant_id,
                Scorecard.person_id == person_id,
                Scorecard.period_kind == p.kind.value,
                Scorecard.period_start == p.start,
            )
        )
        if card is None:
            raise Problem(404, "Not found", f"no scorecard for {person_id} in {p.label}")
        return await card_out(session, card, full=True)


class ManualIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    actual: Decimal
    target: Decimal = Field(gt=0)
    reason: str | None = None


async def _card(session: Any, tenant_id: uuid.UUID, scorecard_id: uuid.UUID) -> Scorecard:
    card = await session.scalar(
        select(Scorecard)
        .where(Scorecard.tenant_id == tenant_id, Scorecard.scorecard_id == scorecard_id)
        .with_for_update()
    )
    if card is None:
        raise Problem(404, "Not found", "no such scorecard")
    if card.status != "provisional":
        raise Problem(
            409,
            "Scorecard final",
            "a final scorecard changes only through an appeal",
            kind="conflict",
        )
    return card


@router.put("/v1/scorecards/{scorecard_id}/items/{item_key}")
async def put_manual_item(
    scorecard_id: uuid.UUID,
    item_key: str,
    body: ManualIn,
    who: Annotated[Principal, Depends(requires(*EDITORS))],
    rt: Annotated[Runtime, Depends(runtime_of)],
) -> dict[str, Any]:
    """The actual and target of a manual item (market share, revenue per head...)."""
    async with unit_of_work(rt.sessions, messaging) as uow:
        await uow.set_tenant(who.tenant_id)
        card = await _card(uow.session, who.tenant_id, scorecard_id)
        item = next((i for i in card.items if i["key"] == item_key), None)
        if item is None or item["kind"] != "manual":
            raise invalid_field("item_key", f"no manual item {item_key!r} on this scorecard")
        result = service.quantitative(item, body.actual, body.target)
        result["explanation"]["entered_by"] = who.subject
        await service.save_item(uow.session, card, item, result)
        await uow.session.flush()
        await service.refresh_total(uow.session, card)
        await audit.record(
            uow.session,
            audit_log,
            tenant_id=who.tenant_id,
            actor=who.subject,
            action="scorecard_item.entered",
            target_type="scorecard",
            target_key=f"{card.person_id}/{scorecard_id}/{item_key}",
            before=None,
            after={"actual": str(body.actual), "target": str(body.target), "reason": body.reason},
        )
        return await card_out(uow.session, card, full=True)


class RaterIn(BaseModel):
    rater_id: str = Field(min_length=1)
    group: Literal["manager", "customer", "peer", "self"]


class ReviewsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    raters: list[RaterIn] = Field(min_length=1)


@router.post("/v1/scorecards/{scorecard_id}/reviews", status_code=201)
async def request_reviews(
    scorecard_id: uuid.UUID,
    body: ReviewsIn,
    who: Annotated[Principal, Depends(requires(*EDITORS, "manager"))],
    rt: Annotated[Runtime, Depends(runtime_of)],
) -> list[dict[str, Any]]:
    """Ask raters (manager, customers, peers, the person as self) to rate the qualitative items."""
    async with unit_of_work(rt.sessions, messaging) as uow:
        await uow.set_tenant(who.tenant_id)
        card = await _card(uow.session, who.tenant_id, scorecard_id)
        for i, r in enumerate(body.raters):
            if (r.rater_id == card.person_id) != (r.group == "self"):
                raise invalid_field(
                    f"raters.{i}.group", "a person rates themselves as self, and only as self"
                )
            stmt = pg_insert(ReviewRequest).values(
                tenant_id=who.tenant_id,
                scorecard_id=card.scorecard_id,
                rater_id=r.rater_id,
                rater_group=r.group,
                status="pending",
                requested_by=who.subject,
            )
            await uow.session.execute(stmt.on_conflict_do_nothing())
        return [
            {"rater_id": r.rater_id, "group": r.group, "status": "pending"} for r in body.raters
        ]


class RatingIn(BaseModel):
    item_key: str
    score: Decimal = Field(ge=0, le=100)
    comment: str | None = Field(default=None, max_length=2000)


class RatingsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ratings: list[RatingIn] = Field(min_length=1)


@router.post("/v1/scorecards/{scorecard_id}/ratings")
async def submit_ratings(
    scorecard_id: uuid.UUID,
    body: RatingsIn,
    who: Annotated[Principal, Depends(principal)],
    rt: Annotated[Runtime, Depends(runtime_of)],
) -> dict[str, Any]:
    """A requested rater rates the qualitative items (0–100, with a comment). Raters never see
    each other's answers: the scorecard shows group means only."""
    async with unit_of_work(rt.sessions, messaging, rt.settings.topic_prefix) as uow:
        await uow.set_tenant(who.tenant_id)
        card = await _card(uow.session, who.tenant_id, scorecard_id)
        request = await uow.session.get(ReviewRequest, (card.scorecard_id, who.subject))
        if request is None:
            raise Problem(403, "Forbidden", "you were not asked to review this scorecard")
        qualitative = {i["key"] for i in card.items if i["kind"] == "qualitative"}
        for i, r in enumerate(body.ratings):
            if r.item_key not in qualitative:
                raise invalid_field(
                    f"ratings.{i}.item_key",
                    f"{r.item_key!r} is not a qualitative item of this scorecard",
                )
            values = {
                "tenant_id": who.tenant_id,
                "scorecard_id": card.scorecard_id,
                "item_key": r.item_key,
                "rater_id": who.subject,
                "rater_group": request.rater_group,
                "score": r.score,
                "comment": r.comment,
            }
            stmt = pg_insert(Rating).values(values)
            await uow.session.execute(
                stmt.on_conflict_do_update(
                    index_elements=[Rating.scorecard_id, Rating.item_key, Rating.rater_id],
                    set_={"score": r.score, "comment": r.comment},
                )
            )
        request.status = "done"
        await uow.session.flush()
        await service.rescore_qualitative(uow.session, card)
        await uow.session.flush()
        await service.refresh_total(uow.session, card)
        return {"scorecard_id": str(card.scorecard_id), "rated": len(body.ratings)}


async def reviews_to_do_rows(
    session: Any, tenant_id: uuid.UUID, rater_id: str
) -> list[dict[str, Any]]:
    rows = await session.execute(
        select(ReviewRequest, Scorecard)
        .join(Scorecard, Scorecard.scorecard_id == ReviewRequest.scorecard_id)
        .where(
            ReviewRequest.tenant_id == tenant_id,
            ReviewRequest.rater_id == rater_id,
            ReviewRequest.status == "pending",
        )
    )
    return [
        {
            "scorecard_id": str(c.scorecard_id),
            "person_id": c.person_id,
            "period": c.period,
            "group": r.rater_group,
            "items": [i["key"] for i in c.items if i["kind"] == "qualitative"],
            "reminded_at": None if r.reminded_at is None else r.reminded_at.isoformat(),
        }
        for r, c in rows
    ]


@router.get("/v1/reviews/todo")
async def reviews_to_do(
    who: Annotated[Principal, Depends(principal)],
    rt: Annotated[Runtime, Depends(runtime_of)],
) -> list[dict[str, Any]]:
    """The reviews the caller was asked for and has not given yet (with any reminder)."""
    async with tenant_session(rt.sessions, who.tenant_id) as session:
        return await reviews_to_do_rows(session, who.tenant_id, who.subject)


async def ranking(
    session: Any, tenant_id: uuid.UUID, period: str, team_id: str | None
) -> dict[str, Any]:
    """Competition ranks (1, 2, 2, 4) on the rounded totals, in a team or the company, and the
    grade distribution."""
    from scoring.grades.maths import competition_ranks

    query = select(Scorecard).where(Scorecard.tenant_id == tenant_id, Scorecard.period == period)
    cards = list(await session.scalars(query))
    if team_id is not None:
        m = org.memberships.c
        people = set(
            await session.scalars(
                select(m.person_id).where(m.tenant_id == tenant_id, m.team_id == team_id)
            )
        )
        cards = [c for c in cards if c.person_id in people]
    totals = {c.person_id: c.total for c in cards if c.total is not None}
    ranks = competition_ranks(totals)
    distribution: dict[str, int] = {}
    for c in cards:
        if c.grade:
            distribution[c.grade] = distribution.get(c.grade, 0) + 1
    entries = sorted(
        (
            {
                "rank": ranks[c.person_id],
                "person_id": c.person_id,
                "total": str(c.total),
                "grade": c.grade,
                "status": c.status,
            }
            for c in cards
            if c.person_id in ranks
        ),
        key=lambda e: (e["rank"], e["person_id"]),
    )
    return {"period": period, "team_id": team_id, "ranking": entries, "distribution": distribution}


@router.get("/v1/scorecards/ranking")
async def get_ranking(
    who: Annotated[Principal, Depends(requires(*EDITORS, "manager", "finance", "committee"))],
    rt: Annotated[Runtime, Depends(runtime_of)],
    period: Annotated[str, Query(examples=["2026-Q1"])],
    team_id: str | None = None,
) -> dict[str, Any]:
    """Ranks within a team (or the company) and the grade distribution of a period."""
    if team_id is None and not who.has(*EDITORS, "finance", "committee"):
        raise Problem(403, "Forbidden", "the company ranking is for HR, finance and the committee")
    if team_id is not None and not await may_see_owner(
        rt, who, "team", team_id, date.today(), date.today()
    ):
        raise Problem(403, "Forbidden", "you may only rank your own teams")
    async with tenant_session(rt.sessions, who.tenant_id) as session:
        return await ranking(session, who.tenant_id, period, team_id)


@router.post("/v1/scorecards/{scorecard_id}/reviews/remind")
async def remind(
    scorecard_id: uuid.UUID,
    who: Annotated[Principal, Depends(requires(*EDITORS, "manager"))],
    rt: Annotated[Runtime, Depends(runtime_of)],
) -> list[dict[str, Any]]:
    """Remind the raters who have not reviewed yet (their 'reviews to do' lists them)."""
    from datetime import UTC, datetime

    async with unit_of_work(rt.sessions, messaging) as uow:
        await uow.set_tenant(who.tenant_id)
        pending = list(
            await uow.session.scalars(
                select(ReviewRequest).where(
                    ReviewRequest.tenant_id == who.tenant_id,
                    ReviewRequest.scorecard_id == scorecard_id,
                    ReviewRequest.status == "pending",
                )
            )
        )
        now = datetime.now(UTC)
        for r in pending:
            r.reminded_at = now
        return [
            {"rater_id": r.rater_id, "group": r.rater_group, "reminded_at": now.isoformat()}
            for r in pending
        ]
