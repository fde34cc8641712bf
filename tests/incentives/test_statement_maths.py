"""Statement lines from a plan (pure): top-N with ties, target bonus by scorecard total, grade
coefficients, draws (recoverable or not), segment rates, caps, and the 120 % boundary."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from incentives.plan.components import PlanIn
from incentives.statements.maths import Credit, compute

D = Decimal


def plan(*components: dict[str, Any], **extra: Any) -> PlanIn:
    return PlanIn.model_validate(
        {"name": "p", "effective_from": "2026-01-01", "components": list(components), **extra}
    )


def amounts(st: Any) -> dict[str, str | None]:
    return {line["component"]: line["amount"] for line in st.lines}


def test_top_n_pays_everyone_ranked_within_n_including_ties() -> None:
    p = plan({"type": "top_n", "n": 2, "amount": "5000", "name": "top"})
    peers = {
        x: {"new_customer_revenue": D(v), "collected_revenue": D(v)}
        for x, v in (("a", 100), ("b", 90), ("c", 90), ("d", 80))
    }
    paid = {x: amounts(compute(p, [], None, person_id=x, peers=peers))["top"] for x in peers}
    assert paid == {"a": "5000.00", "b": "5000.00", "c": "5000.00", "d": "0.00"}  # ranks 1, 2, 2, 4


def test_target_bonus_follows_the_scorecard_total_and_the_grade() -> None:
    p = plan({"type": "target_bonus", "amount": "10000", "name": "target"})
    assert amounts(compute(p, [], None))["target"] is None  # no final total yet
    assert amounts(compute(p, [], None, score_total=D("85")))["target"] == "8500.00"
    adjusted = plan(
        {"type": "target_bonus", "amount": "10000", "name": "target", "grade_adjusted": True}
    )
    assert amounts(compute(adjusted, [], None, "A", score_total=D("85")))["target"] == "10200.00"
    assert amounts(compute(adjusted, [], None, "D", score_total=D("55")))["target"] == "0.00"


def test_draws_top_up_and_recoverable_draws_are_paid_back() -> None:
    flat = {"type": "flat", "rate": "0.03", "name": "commission"}
    guarantee = plan(flat, {"type": "draw", "amount": "5000", "name": "draw"})
    st = compute(guarantee, [Credit("p1", "payment_received", D(100000))], None)
    assert (amounts(st)["draw"], st.total) == ("2000.00", D("5000.00"))
    recoverable = plan(
        flat, {"type": "draw", "amount": "5000", "recoverable": True, "name": "draw"}
    )
    st = compute(
        recoverable,
        [Credit("p2", "payment_received", D(300000))],
        None,
        recoverable_balance=D(2000),
    )
    assert (amounts(st)["draw"], st.total) == (
        "-2000.00",
        D("7000.00"),
    )  # 9,000 earned, 2,000 paid back


def test_segment_rates_caps_and_the_statement_cap() -> None:
    credits = [
        Credit("n", "payment_received", D(100000), "new"),
        Credit("e", "payment_received", D(100000), "existing"),
    ]
    p = plan({"type": "segment", "rates": {"new": "0.04", "existing": "0.02"}, "name": "segment"})
    assert amounts(compute(p, credits, None))["segment"] == "6000.00"
    capped = plan(
        {
            "type": "segment",
            "rates": {"new": "0.04", "existing": "0.02"},
            "name": "segment",
            "cap": "5000",
        }
    )
    assert amounts(compute(capped, credits, None))["segment"] == "5000.00"
    whole = plan(
        {"type": "segment", "rates": {"new": "0.04", "existing": "0.02"}, "name": "segment"},
        statement_cap="4500",
    )
    st = compute(whole, credits, None)
    assert (amounts(st)["statement cap"], st.total) == ("-1500.00", D("4500"))


def test_over_achievement_jumps_only_strictly_above_120_percent() -> None:
    p = plan({"type": "over_achievement", "name": "over"})
    at = compute(p, [Credit("x", "payment_received", D(1200000))], D(1000000))
    above = compute(p, [Credit("x", "payment_received", D("1200000.01"))], D(1000000))
    assert amounts(at)["over"] == "0.00"
    assert amounts(above)["over"] == "2000.00"  # 1 % of 200,000.01, to the cent


def test_commission_is_never_grade_adjusted() -> None:
    try:
        plan({"type": "tiered", "tiers": [{"from": "0", "rate": "0.03"}], "grade_adjusted": True})
    except ValueError as exc:
        assert "never grade-adjusted" in str(exc)
    else:
        raise AssertionError("a grade-adjusted commission was accepted")


def test_a_gate_pays_no_commission_below_its_attainment() -> None:
    p = plan(
        {"type": "flat", "rate": "0.03", "name": "commission"},
        {"type": "gate", "min_attainment": "0.5"},
        {"type": "fixed_bonus", "amount": "100", "name": "bonus"},
    )
    below = compute(p, [Credit("x", "payment_received", D("499999.99"))], D(1000000))
    at = compute(p, [Credit("x", "payment_received", D(500000))], D(1000000))
    assert (amounts(below)["commission"], amounts(below)["bonus"]) == ("0.00", "100.00")
    assert amounts(at)["commission"] == "15000.00"  # the gate includes its bound
