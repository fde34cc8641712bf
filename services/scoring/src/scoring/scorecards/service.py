"""Scorecards: one person × one period × one template. Quantitative items follow the person's
figures from goals.progress.v1 live (provisional until the period closes); qualitative items come
from 360° ratings; manual items are entered by HR. The total is the sum of the item scores and the
grade comes from the tenant's bands once every item is scored."""

from __future__ import annotations

import re
import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from scoring.grades.maths import grade_of, round_total
from scoring.models import Rating, Scorecard, ScorecardItem, Template
from scoring.reviews.maths import DEFAULT_GROUP_WEIGHTS, qualitative_score
from scoring.reviews.maths import Rating as RatingIn
from scoring.score.maths import Direction, quantitative_score
from shared.http.problems import invalid_field
from shared.role_templates import ROLE_TEMPLATES


def slug(name: str, index: int) -> str:
    text = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
    return text or f"item_{index + 1}"


def normalise_items(raw: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Template items as scorecards use them: key, kind (quantitative / qualitative / manual),
    metric, weight, direction, cap, floor, owner (person / team), target."""
    out = []
    seen: set[str] = set()
    for index, item in enumerate(raw):
        kind = item.get("kind") or ("quantitative" if item.get("metric") else "qualitative")
        if item.get("source") == "manual" or (kind == "quantitative" and not item.get("metric")):
            kind = "manual"
        key = item.get("key") or slug(str(item.get("name", "")), index)
        if key in seen:
            raise invalid_field(f"items.{index}.key", f"{key!r} is used twice")
        seen.add(key)
        direction = str(item.get("direction") or "higher")
        # Whose figures score the item: the person's own, or the team they manage's.
        owner = str(item.get("owner") or "person")
        if owner not in ("person", "team"):
            raise invalid_field(f"items.{index}.owner", "person or team")
        out.append(
            {
                "key": key,
                "name": str(item.get("name") or key),
                "kind": kind,
                "metric": item.get("metric"),
                "weight": str(Decimal(str(item["weight"]))),
                "direction": "lower" if direction.startswith("lower") else "higher",
                "cap": str(Decimal(str(item.get("cap", "1")))),
                "floor": str(Decimal(str(item.get("floor", "0")))),
                "owner": owner,
                "target": None
                if item.get("target") in (None, "")
                else str(Decimal(str(item["target"]))),
            }
        )
    total = sum((Decimal(i["weight"]) for i in out), Decimal(0))
    if total != 100:
        raise invalid_field("items", f"the weights add up to {total}, not 100")
    return out


async def template(
    session: AsyncSession, tenant_id: uuid.UUID, key: str
) -> tuple[str, list[dict[str, Any]], dict[str, Any]]:
    row = await session.scalar(
        select(Template).where(Template.tenant_id == tenant_id, Template.key == key)
    )
    if row is not None:
        return row.name, row.items, row.group_weights
    standard = ROLE_TEMPLATES.get(key)
    if standard is None:
        raise invalid_field("template", f"no template {key!r}")
    weights = {k: str(v) for k, v in DEFAULT_GROUP_WEIGHTS.items()}
    return standard["name"], normalise_items(standard["items"]), weights


def quantitative(
    item: dict[str, Any], actual: Decimal | None, target: Decimal | None
) -> dict[str, Any]:
    weight = Decimal(item["weight"])
    if actual is None or target is None or target <= 0:
        return {
            "status": "waiting",
            "target": target,
            "actual": actual,
            "ratio": None,
            "score": None,
            "explanation": {
                "waiting_for": "a target and an actual" if actual is not None else "an actual"
            },
        }
    result = quantitative_score(
        weight=weight,
        target=target,
        actual=actual,
        direction=Direction.lower_is_better
        if item["direction"] == "lower"
        else Direction.higher_is_better,
        cap=Decimal(item["cap"]),
        floor=Decimal(item["floor"]),
    )
    return {
        "status": "scored",
        "target": target,
        "actual": actual,
        "ratio": result.ratio,
        "score": result.score,
        "explanation": {
            "formula": "weight × min(max(ratio, 0), cap); 0 when ratio < floor; "
            "ratio = actual / target (target / actual when lower is better; cap when actual = 0)",
            "weight": item["weight"],
            "target": str(target),
            "actual": str(actual),
            "direction": item["direction"],
            "ratio": str(result.ratio),
            "cap": item["cap"],
            "floor": item["floor"],
            "capped": result.capped,
            "below_floor": result.below_floor,
        },
    }


async def save_item(
    session: AsyncSession, card: Scorecard, item: dict[str, Any], result: dict[str, Any]
) -> None:
    values = {
        "tenant_id": card.tenant_id,
        "scorecard_id": card.scorecard_id,
        "item_key": item["key"],
        "kind": item["kind"],
        "weight": Decimal(item["weight"]),
        "target": result.get("target"),
        "actual": result.get("actual"),
        "ratio": result.get("ratio"),
        "score": result.get("score"),
        "status": result["status"],
        "explanation": result["explanation"],
    }
    stmt = pg_insert(ScorecardItem).values(values)
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[ScorecardItem.scorecard_id, ScorecardItem.item_key],
            set_={
                k: stmt.excluded[k]
                for k in values
                if k not in ("tenant_id", "scorecard_id", "item_key")
            },
        )
    )


async def rescore_qualitative(session: AsyncSession, card: Scorecard) -> None:
    """Each qualitative item from its ratings: group means, weighted, re-normalised when a group
    is missing (said in the explanation); incomplete without any weighted group."""
    ratings = list(
        await session.scalars(select(Rating).where(Rating.scorecard_id == card.scorecard_id))
    )
    weights = {g: Decimal(str(w)) for g, w in card.group_weights.items()}
    for item in card.items:
        if item["kind"] != "qualitative":
            continue
        mine = [
            RatingIn(r.rater_group, r.rater_id, r.score)
            for r in ratings
            if r.item_key == item["key"]
        ]
        q = qualitative_score(Decimal(item["weight"]), mine, weights)
        explanation = {
            "formula": "weight × weighted mean of the rater groups' means / 100",
            "group_means": {g: str(v) for g, v in q.group_means.items()},
            "weights_used": {g: str(v) for g, v in q.used_weights.items()},
            "missing_groups": list(q.missing_groups),
            "renormalised": q.renormalised,
            "self": None if q.self_mean is None else str(q.self_mean),
            "ratings": len(mine),
        }
        await save_item(
            session,
            card,
            item,
            {
                "status": "incomplete" if q.incomplete else "scored",
                "actual": q.weighted_mean,
                "score": q.score,
                "explanation": explanation,
            },
        )


async def refresh_total(session: AsyncSession, card: Scorecard) -> None:
    """Total = the sum of item scores; the grade once every item is scored."""
    rows = {
        r.item_key: r
        for r in await session.scalars(
            select(ScorecardItem)
            .where(ScorecardItem.scorecard_id == card.scorecard_id)
            # Items were just upserted by statement: read them fresh, not from the session.
            .execution_options(populate_existing=True)
        )
    }
    scores = [
        rows[i["key"]].score
        for i in card.items
        if i["key"] in rows and rows[i["key"]].score is not None
    ]
    card.total = round_total(sum(scores, Decimal(0))) if scores else None
    card.complete = len(scores) == len(card.items)
    card.grade = grade_of(card.total) if card.complete and card.total is not None else None
