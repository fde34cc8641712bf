"""A statement from a plan (pure): every line with its explanation — which credits, which band,
which rate, which coefficient. Money is Decimal; each line is rounded half-up to the cent."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from incentives.plan.components import (
    Draw,
    FixedBonus,
    Flat,
    Gate,
    NpsBonus,
    OverAchievement,
    PlanIn,
    Segment,
    TargetBonus,
    Tiered,
    TopN,
)
from incentives.plan.maths import (
    GRADE_COEFFICIENTS,
    marginal_commission,
    nps,
    over_achievement_bonus,
    retroactive_commission,
    tier_reached,
    to_cents,
    top_n,
)


@dataclass(frozen=True)
class Credit:
    activity_id: str
    type: str  # payment_received, refund
    base: Decimal  # the person's share; negative for refunds
    segment: str | None = None
    day: date | None = None  # the day it counts on (a clawback: its payment's)


@dataclass
class Statement:
    currency: str
    base: Decimal
    quota: Decimal | None
    attainment: Decimal | None
    lines: list[dict[str, Any]] = field(default_factory=list)
    total: Decimal = Decimal(0)
    conversions: list[dict[str, Any]] = field(default_factory=list)

    def add_line(
        self, component: str, kind: str, amount: Decimal, explanation: dict[str, Any]
    ) -> None:
        """A line beside the plan's components (team pool, appeal correction, adjustment)."""
        self.lines.append(
            {
                "component": component,
                "type": kind,
                "amount": str(to_cents(amount)),
                "explanation": explanation,
            }
        )
        self.total += to_cents(amount)


def _s(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def compute(
    plan: PlanIn,
    credits: Sequence[Credit],
    quota: Decimal | None,
    grade: str | None = None,
    *,
    score_total: Decimal | None = None,
    person_id: str | None = None,
    peers: dict[str, dict[str, Decimal]] | None = None,
    recoverable_balance: Decimal = Decimal(0),
    nps_scores: Sequence[int] = (),
) -> Statement:
    base = sum((c.base for c in credits), Decimal(0))
    attainment = None if quota is None or quota <= 0 else base / quota
    st = Statement(plan.currency, base, quota, attainment)
    events = [c.activity_id for c in credits]
    gates = [c for c in plan.components if isinstance(c, Gate)]
    closed_gate = next(
        (g for g in gates if attainment is None or attainment < g.min_attainment), None
    )
    for index, comp in enumerate(plan.components):
        if isinstance(comp, Gate):
            continue
        name = comp.name or f"{comp.type} #{index + 1}"
        explanation: dict[str, Any] = {"component": comp.type, "base": str(base), "events": events}
        amount: Decimal | None
        if isinstance(comp, Flat):
            amount = base * comp.rate
            explanation |= {"rate": str(comp.rate), "rule": "base × rate"}
        elif isinstance(comp, Segment):
            amount = Decimal(0)
            parts = {}
            for segment, rate in comp.rates.items():
                part = sum((c.base for c in credits if c.segment == segment), Decimal(0))
                parts[segment] = {"base": str(part), "rate": str(rate), "amount": str(part * rate)}
                amount += part * rate
            explanation |= {"segments": parts, "rule": "each segment's base × its rate"}
        elif isinstance(comp, Tiered):
            if quota is None or quota <= 0:
                amount = None
                explanation |= {"waiting_for": "a quota (the goal of the plan's metric and period)"}
            elif comp.mode == "marginal":
                bands = marginal_commission(base, quota, comp.as_tiers())
                amount = sum((b.commission for b in bands), Decimal(0))
                explanation |= {
                    "quota": str(quota),
                    "attainment": str(attainment),
                    "rule": "each band's rate on the part of the base inside it",
                    "bands": [
                        {
                            "from": str(b.lower),
                            "to": _s(b.upper),
                            "base": str(b.base),
                            "rate": str(b.rate),
                            "commission": str(to_cents(b.commission)),
                        }
                        for b in bands
                    ],
                }
            else:
                tier = tier_reached(base / quota, comp.as_tiers())
                amount = retroactive_commission(base, quota, comp.as_tiers())
                explanation |= {
                    "quota": str(quota),
                    "attainment": str(attainment),
                    "rule": "the whole base at the rate of the band reached",
                    "band_from": str(tier.lower),
                    "rate": str(tier.rate),
                }
        elif isinstance(comp, OverAchievement):
            if quota is None or quota <= 0:
                amount = None
                explanation |= {"waiting_for": "a quota"}
            else:
                amount = over_achievement_bonus(base, quota, above=comp.above, rate=comp.rate)
                explanation |= {
                    "quota": str(quota),
                    "attainment": str(attainment),
                    "above": str(comp.above),
                    "rate": str(comp.rate),
                    "rule": "attainment strictly above the threshold → rate × (base − quota)",
                }
        elif isinstance(comp, TargetBonus):
            if score_total is None:
                amount = None
                explanation |= {"waiting_for": "the final scorecard total"}
            else:
                amount = comp.amount * score_total / 100
                explanation |= {
                    "target_bonus": str(comp.amount),
                    "scorecard_total": str(score_total),
                    "rule": "target bonus × scorecard total / 100",
                }
        elif isinstance(comp, TopN):
            values = {p: m.get(comp.measure, Decimal(0)) for p, m in (peers or {}).items()}
            winners = top_n(values, comp.n) if values else set()
            ranks = sorted(values.values(), reverse=True)
            mine = values.get(person_id or "", Decimal(0))
            amount = comp.amount if person_id in winners else Decimal(0)
            explanation |= {
                "measure": comp.measure,
                "value": str(mine),
                "n": comp.n,
                "rank": ranks.index(mine) + 1 if person_id in values else None,
                "rule": "competition ranking among the plan's people; everyone ranked ≤ n is paid",
            }
        elif isinstance(comp, NpsBonus):
            value = nps(list(nps_scores), minimum_responses=comp.min_responses)
            amount = comp.amount if value is not None and value >= comp.threshold else Decimal(0)
            explanation |= {
                "nps": None if value is None else str(value),
                "responses": len(nps_scores),
                "threshold": str(comp.threshold),
                "min_responses": comp.min_responses,
                "rule": "% promoters (9–10) − % detractors (0–6) ≥ threshold",
            }
        elif isinstance(comp, Draw):
            earned = st.total
            top_up = max(comp.amount - earned, Decimal(0))
            amount = top_up
            explanation |= {
                "guarantee": str(comp.amount),
                "earned": str(earned),
                "recoverable": comp.recoverable,
                "rule": "earnings below the guarantee are topped up to it",
            }
            if comp.recoverable and top_up == 0 and recoverable_balance > 0:
                recovery = min(recoverable_balance, earned - comp.amount)
                amount = -recovery
                explanation |= {
                    "recovered": str(recovery),
                    "outstanding_before": str(recoverable_balance),
                    "rule": "earnings above the guarantee pay back earlier recoverable draws",
                }
        else:
            assert isinstance(comp, FixedBonus)
            amount = comp.amount
            explanation |= {"rule": "a fixed amount for the period"}
        if amount is not None and comp.grade_adjusted:
            if grade is None:
                explanation |= {"grade": None, "note": "paid once the period's grade is final"}
                amount = None
            else:
                coefficient = GRADE_COEFFICIENTS[grade]
                explanation |= {"grade": grade, "coefficient": str(coefficient)}
                amount = amount * coefficient
        if amount is not None and comp.cap is not None and amount > comp.cap:
            explanation |= {"capped_at": str(comp.cap), "before_cap": str(to_cents(amount))}
            amount = comp.cap
        if (
            closed_gate is not None
            and isinstance(comp, Flat | Segment | Tiered)
            and amount is not None
        ):
            explanation |= {
                "gate": str(closed_gate.min_attainment),
                "attainment": None if attainment is None else str(attainment),
                "note": "below the gate: no commission",
                "before_gate": str(to_cents(amount)),
            }
            amount = Decimal(0)
        line_amount = None if amount is None else to_cents(amount)
        st.lines.append(
            {
                "component": name,
                "type": comp.type,
                "amount": _s(line_amount),
                "explanation": explanation,
            }
        )
        if line_amount is not None:
            st.total += line_amount
    if plan.statement_cap is not None and st.total > plan.statement_cap:
        excess = st.total - plan.statement_cap
        st.lines.append(
            {
                "component": "statement cap",
                "type": "cap",
                "amount": str(-excess),
                "explanation": {
                    "rule": "at most the statement cap",
                    "cap": str(plan.statement_cap),
                    "before_cap": str(st.total),
                },
            }
        )
        st.total = plan.statement_cap
    return st
