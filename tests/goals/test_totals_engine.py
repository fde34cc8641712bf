"""The running-totals engine, driven directly (pure: no database).

Figures are read from ``engine.out`` the way the store reads them: sums and counts are the row
value, averages value / events, distinct counts the number of values still referenced.
"""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from goals.catalog.definitions import Kind
from goals.catalog.seeds import STANDARD_METRICS
from goals.totals.contributions import BUILTIN, Catalog, RowKey
from goals.totals.engine import Engine, OrgView
from goals.totals.figures import actual_of
from shared.events.activity import ActivityEvent

SOURCE = uuid.UUID("5f0c6f0e-2d7b-4c51-9a51-3a3e8f6b9d01")
TZ = "Asia/Shanghai"
CATALOG = Catalog([*BUILTIN, *STANDARD_METRICS])
CST = timezone(timedelta(hours=8))

MAR = date(2026, 3, 1)
Q1 = date(2026, 1, 1)


# -- building blocks ------------------------------------------------------------------------------


def default_org() -> OrgView:
    """p-1 and p-2 in team-a, p-3 in team-b; both teams under region-east."""
    return OrgView(
        parents={"team-a": "region-east", "team-b": "region-east", "region-east": None},
        memberships={
            "p-1": [(date(2025, 1, 1), None, "team-a")],
            "p-2": [(date(2025, 1, 1), None, "team-a")],
            "p-3": [(date(2025, 1, 1), None, "team-b")],
        },
    )


def make_engine(org: OrgView | None = None, closed: set[tuple[str, date]] | None = None) -> Engine:
    return Engine(
        timezone=TZ,
        fiscal_start_month=1,
        catalog=CATALOG,
        org=org if org is not None else default_org(),
        closed=closed if closed is not None else set(),
    )


def money(value: str) -> dict[str, str]:
    return {"value": value, "currency": "CNY"}


def body(
    type_: str,
    at: str | datetime,
    actor: str = "p-1",
    *,
    id: str | None = None,
    amount: str | None = None,
    customer: str | None = None,
    segment: str | None = None,
    credit_split: list[tuple[str, str]] | None = None,
    refers_to: str | None = None,
    recorded_at: str | datetime | None = None,
    attributes: dict[str, Any] | None = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": id or f"evt-{uuid.uuid4()}",
        "type": type_,
        "occurred_at": at,
        "actor_id": actor,
        "attributes": attributes or {},
    }
    if amount is not None:
        out["amount"] = money(amount)
    if customer is not None or segment is not None:
        out["customer"] = {"id": customer, "segment": segment}
    if credit_split is not None:
        out["credit_split"] = [{"actor_id": a, "share": s} for a, s in credit_split]
    if refers_to is not None:
        out["refers_to"] = refers_to
    if recorded_at is not None:
        out["recorded_at"] = recorded_at
    return out


def ev(type_: str, at: str | datetime, actor: str = "p-1", **kw: Any) -> ActivityEvent:
    return ActivityEvent.model_validate(body(type_, at, actor, **kw))


def update(
    refers_to: str,
    replacement: dict[str, Any],
    at: str | datetime,
    *,
    id: str | None = None,
    recorded_at: str | datetime | None = None,
) -> ActivityEvent:
    return ev(
        "record_updated",
        at,
        replacement["actor_id"],
        id=id,
        refers_to=refers_to,
        recorded_at=recorded_at,
        attributes={"replacement": replacement},
    )


def delete(refers_to: str, at: str | datetime, *, id: str | None = None) -> ActivityEvent:
    return ev("record_deleted", at, "p-1", id=id, refers_to=refers_to)


def feed(engine: Engine, *events: ActivityEvent) -> None:
    for e in events:
        engine.apply(SOURCE, uuid.uuid4(), e)


def figures(engine: Engine) -> dict[RowKey, Decimal]:
    """Per row: sum / count value, average value / events, or the number of distinct values."""
    distinct: Counter[RowKey] = Counter()
    for (key, _value), refs in engine.out.distinct.items():
        assert refs >= 0, (key, refs)
        if refs > 0:
            distinct[key] += 1
    out: dict[RowKey, Decimal] = {}
    for key, (value, events) in engine.out.rows.items():
        assert events >= 0, (key, events)
        if events == 0:
            # Nothing left in the row: its value must have gone back to nothing too.
            assert value == 0 and distinct[key] == 0, (key, value, distinct[key])
            continue
        metric = CATALOG.get(key[2])
        assert metric is not None
        if metric.kind is Kind.average:
            out[key] = Decimal(value) / events
        elif metric.kind is Kind.distinct_count:
            out[key] = Decimal(distinct[key])
        else:
            out[key] = Decimal(value)
    return out


def state(engine: Engine) -> tuple[dict[RowKey, tuple[Decimal, int]], dict[Any, int]]:
    """The raw stored state, without the rows and references that went back to zero."""
    rows = {k: (Decimal(v), int(n)) for k, (v, n) in engine.out.rows.items() if n != 0}
    distinct = {k: r for k, r in engine.out.distinct.items() if r != 0}
    return rows, distinct


def row(engine: Engine, key: RowKey) -> tuple[Decimal, int] | None:
    cell = engine.out.rows.get(key)
    if cell is None or cell[1] == 0:
        return None
    return Decimal(cell[0]), int(cell[1])


def person(p: str, metric: str, kind: str = "month", start: date = MAR) -> RowKey:
    return ("person", p, metric, kind, start)


def team(t: str, metric: str, kind: str = "month", start: date = MAR) -> RowKey:
    return ("team", t, metric, kind, start)


def company(metric: str, kind: str = "month", start: date = MAR) -> RowKey:
    return ("company", "company", metric, kind, start)


def at(day: int, hour: int = 10, minute: int = 0, month: int = 3) -> str:
    return datetime(2026, month, day, hour, minute, tzinfo=CST).isoformat()


# -- 1. each metric kind --------------------------------------------------------------------------


def test_count_visits() -> None:
    engine = make_engine()
    feed(
        engine,
        ev("visit", at(5), "p-1", attributes={"duration_minutes": 45}),
        ev("visit", at(6), "p-1", attributes={"duration_minutes": 10}),
        ev("visit", at(6), "p-3"),
    )
    f = figures(engine)
    assert f[person("p-1", "visits")] == 2
    assert f[person("p-3", "visits")] == 1
    assert f[team("team-a", "visits")] == 2
    assert f[team("team-b", "visits")] == 1
    assert f[team("region-east", "visits")] == 3
    assert f[company("visits")] == 3
    assert f[company("visit.count")] == 3
    assert f[company("effective_visits")] == 1  # only the one of ≥ 30 minutes
    assert person("p-2", "visits") not in f


def test_sum_subtracts_refunds() -> None:
    engine = make_engine()
    feed(
        engine,
        ev("payment_received", at(3), id="pay-1", amount="1000.00"),
        ev("payment_received", at(4), id="pay-2", amount="0.10"),
        ev("refund", at(9), id="ref-1", amount="250.50", refers_to="pay-1"),
    )
    f = figures(engine)
    assert f[person("p-1", "collected_revenue")] == Decimal("749.60")
    assert row(engine, person("p-1", "collected_revenue")) == (Decimal("749.60"), 3)
    assert f[company("collected_revenue", "year", Q1)] == Decimal("749.60")
    assert f[person("p-1", "payment_received.amount")] == Decimal("1000.10")
    assert f[person("p-1", "refund.amount")] == Decimal("250.50")
    assert f[person("p-1", "refund.count")] == 1


def test_sum_credit_split_shares_and_team_gets_one_event() -> None:
    engine = make_engine()
    feed(
        engine,
        ev(
            "payment_received",
            at(3),
            "p-1",
            amount="1000.00",
            credit_split=[("p-1", "0.6"), ("p-2", "0.4")],
        ),
    )
    f = figures(engine)
    assert f[person("p-1", "collected_revenue")] == Decimal("600.00")
    assert f[person("p-2", "collected_revenue")] == Decimal("400.00")
    assert row(engine, team("team-a", "collected_revenue")) == (Decimal("1000.00"), 1)
    assert row(engine, team("region-east", "collected_revenue")) == (Decimal("1000.00"), 1)
    assert row(engine, company("collected_revenue")) == (Decimal("1000.00"), 1)
    # Counting metrics credit the actor only.
    assert f[person("p-1", "payment_received.count")] == 1
    assert person("p-2", "payment_received.count") not in f


def test_distinct_count_new_customers() -> None:
    engine = make_engine()
    won_1 = ev("deal_won", at(3), "p-1", id="won-1", customer="c-1", segment="new")
    won_2 = ev("deal_won", at(8), "p-1", id="won-2", customer="c-1", segment="new")
    existing = ev("deal_won", at(9), "p-1", id="won-3", customer="c-9", segment="existing")
    feed(engine, won_1, won_2, existing)
    f = figures(engine)
    assert f[person("p-1", "new_customers")] == 1
    assert f[team("team-a", "new_customers")] == 1
    assert f[company("new_customers", "quarter", Q1)] == 1
    assert f[person("p-1", "deals_won")] == 3

    feed(engine, delete("won-1", at(20)))
    f = figures(engine)
    assert f[person("p-1", "new_customers")] == 1
    assert f[person("p-1", "deals_won")] == 2

    feed(engine, delete("won-2", at(21)))
    f = figures(engine)
    assert person("p-1", "new_customers") not in f  # 0: no row left
    assert f[person("p-1", "deals_won")] == 1


def test_average_order_value() -> None:
    engine = make_engine()
    feed(
        engine,
        ev("order_booked", at(2), "p-1", amount="100.00"),
        ev("order_booked", at(3), "p-1", amount="250.00"),
        ev("order_booked", at(4), "p-2", amount="60.00"),
        ev("order_booked", at(5), "p-2"),  # no amount: not part of the average
    )
    f = figures(engine)
    assert f[person("p-1", "average_order_value")] == Decimal("175")
    assert f[person("p-2", "average_order_value")] == Decimal("60")
    assert f[team("team-a", "average_order_value")] == Decimal("410.00") / 3
    assert row(engine, team("team-a", "average_order_value")) == (Decimal("410.00"), 3)
    assert f[team("team-a", "booked_revenue")] == Decimal("410.00")
    assert f[team("team-a", "order_booked.count")] == 4


def test_ratio_new_customer_conversion() -> None:
    engine = make_engine()
    feed(
        engine,
        *(ev("visit", at(1 + i), "p-1") for i in range(8)),
        ev("deal_won", at(10), "p-1", customer="c-1", segment="new"),
        ev("deal_won", at(11), "p-1", customer="c-2", segment="new"),
        ev("deal_won", at(12), "p-1", customer="c-2", segment="new"),
    )
    f = figures(engine)

    def row_of(owner: tuple[str, str]) -> Any:
        def lookup(metric: str) -> tuple[Decimal, int] | None:
            key = (*owner, metric, "month", MAR)
            cell = engine.out.rows.get(key)
            if cell is None or cell[1] == 0:
                return None
            kind = CATALOG.get(metric).kind  # type: ignore[union-attr]
            value = f[key] if kind is Kind.distinct_count else Decimal(cell[0])
            return value, int(cell[1])

        return lookup

    conversion = CATALOG.get("new_customer_conversion")
    assert conversion is not None
    assert actual_of(conversion, row_of(("person", "p-1")), CATALOG.get) == Decimal("0.25")
    assert actual_of(conversion, row_of(("company", "company")), CATALOG.get) == Decimal("0.25")
    # No visits: undefined.
    assert actual_of(conversion, row_of(("person", "p-2")), CATALOG.get) is None


# -- 2. corrections -------------------------------------------------------------------------------


def test_update_changes_amount_by_the_difference() -> None:
    engine = make_engine()
    original = body("payment_received", at(5), id="pay-1", amount="1000.00")
    feed(
        engine,
        ActivityEvent.model_validate(original),
        ev("payment_received", at(6), id="pay-2", amount="0.01"),
    )
    before = figures(engine)
    feed(engine, update("pay-1", {**original, "amount": money("1234.56")}, at(7)))
    after = figures(engine)
    for key in (
        person("p-1", "collected_revenue"),
        team("team-a", "collected_revenue"),
        company("collected_revenue", "year", Q1),
        company("payment_received.amount", "week", date(2026, 3, 2)),
    ):
        assert after[key] - before[key] == Decimal("234.56"), key
    assert row(engine, person("p-1", "collected_revenue")) == (Decimal("1234.57"), 2)
    assert after[person("p-1", "payment_received.count")] == 2


def test_update_moves_occurred_at_into_another_month() -> None:
    engine = make_engine()
    original = body("payment_received", at(31, 9), id="pay-1", amount="500.00")
    feed(engine, ActivityEvent.model_validate(original))
    assert figures(engine)[person("p-1", "collected_revenue")] == Decimal("500.00")

    moved = {**original, "occurred_at": at(2, 9, month=4)}
    feed(engine, update("pay-1", moved, at(3, month=4)))
    f = figures(engine)
    apr = date(2026, 4, 1)
    assert person("p-1", "collected_revenue") not in f
    assert person("p-1", "collected_revenue", "quarter", Q1) not in f
    assert f[person("p-1", "collected_revenue", "month", apr)] == Decimal("500.00")
    assert f[person("p-1", "collected_revenue", "quarter", apr)] == Decimal("500.00")
    assert f[person("p-1", "collected_revenue", "year", Q1)] == Decimal("500.00")
    assert row(engine, person("p-1", "collected_revenue", "year", Q1)) == (Decimal("500.00"), 1)


def test_delete_removes_the_contribution() -> None:
    engine = make_engine()
    feed(
        engine,
        ev("payment_received", at(5), id="pay-1", amount="500.00"),
        ev("payment_received", at(6), id="pay-2", amount="20.00"),
        delete("pay-1", at(7)),
    )
    f = figures(engine)
    assert row(engine, person("p-1", "collected_revenue")) == (Decimal("20.00"), 1)
    assert f[company("payment_received.count")] == 1
    # A second delete (a redelivery) changes nothing.
    feed(engine, delete("pay-1", at(8)))
    assert figures(engine) == f


def test_latest_correction_wins_whatever_the_arrival_order() -> None:
    original = body("payment_received", at(5), id="pay-1", amount="1000.00")
    # Ids run against the order in time, so that only occurred_at / recorded_at can decide.
    earlier = update("pay-1", {**original, "amount": money("1500.00")}, at(6, 10), id="c-3")
    later = update("pay-1", {**original, "amount": money("2000.00")}, at(6, 11), id="c-2")
    # Same moment as `later`, written in UTC, but recorded later still: it wins the tie.
    tie = update(
        "pay-1",
        {**original, "amount": money("2500.00")},
        "2026-03-06T03:00:00Z",
        id="c-1",
        recorded_at=at(6, 12),
    )
    for order in ([earlier, later], [later, earlier]):
        engine = make_engine()
        feed(engine, ActivityEvent.model_validate(original), *order)
        assert row(engine, person("p-1", "collected_revenue")) == (Decimal("2000.00"), 1)
    for order in ([earlier, later, tie], [tie, later, earlier], [later, tie, earlier]):
        engine = make_engine()
        feed(engine, *order, ActivityEvent.model_validate(original))
        assert row(engine, person("p-1", "collected_revenue")) == (Decimal("2500.00"), 1)


def test_correction_before_its_original() -> None:
    original = body("payment_received", at(5), id="pay-1", amount="1000.00")
    engine = make_engine()
    feed(engine, update("pay-1", {**original, "amount": money("800.00"), "actor_id": "p-3"}, at(6)))
    assert figures(engine) == {}
    feed(engine, ActivityEvent.model_validate(original))
    f = figures(engine)
    assert f[person("p-3", "collected_revenue")] == Decimal("800.00")
    assert f[team("team-b", "collected_revenue")] == Decimal("800.00")
    assert person("p-1", "collected_revenue") not in f
    assert row(engine, company("collected_revenue")) == (Decimal("800.00"), 1)

    engine = make_engine()
    feed(engine, delete("pay-2", at(6)))
    feed(engine, ev("payment_received", at(5), id="pay-2", amount="1000.00"))
    assert figures(engine) == {}
    assert engine.out.rows == {} and engine.out.distinct == {}


# -- 3. moving team mid-quarter -------------------------------------------------------------------


def test_person_moving_team_mid_quarter() -> None:
    org = OrgView(
        parents={"team-a": "region-east", "team-b": "region-west"},
        memberships={
            "p-1": [
                (date(2026, 1, 1), date(2026, 2, 14), "team-a"),
                (date(2026, 2, 15), None, "team-b"),
            ]
        },
    )
    engine = make_engine(org)
    feed(
        engine,
        ev("payment_received", at(10, month=2), "p-1", amount="100.00"),
        ev("payment_received", at(20, month=2), "p-1", amount="200.00"),
    )
    f = figures(engine)
    feb = date(2026, 2, 1)
    rev = "collected_revenue"
    assert f[team("team-a", rev, "month", feb)] == Decimal("100.00")
    assert f[team("team-b", rev, "month", feb)] == Decimal("200.00")
    assert f[team("team-a", rev, "quarter", Q1)] == Decimal("100.00")
    assert f[team("team-b", rev, "quarter", Q1)] == Decimal("200.00")
    assert f[team("region-east", rev, "quarter", Q1)] == Decimal("100.00")
    assert f[team("region-west", rev, "quarter", Q1)] == Decimal("200.00")
    assert row(engine, person("p-1", rev, "quarter", Q1)) == (Decimal("300.00"), 2)
    assert row(engine, company(rev, "quarter", Q1)) == (Decimal("300.00"), 2)
    assert row(engine, company(rev, "year", Q1)) == (Decimal("300.00"), 2)


# -- 4. period boundaries in the tenant's time zone -----------------------------------------------


@pytest.mark.parametrize(
    ("moment", "month", "quarter", "week"),
    [
        ("2026-03-31T23:30:00+08:00", MAR, Q1, date(2026, 3, 30)),
        ("2026-03-31T15:30:00Z", MAR, Q1, date(2026, 3, 30)),
        ("2026-03-31T16:30:00Z", date(2026, 4, 1), date(2026, 4, 1), date(2026, 3, 30)),
        ("2026-02-28T16:00:00-00:00", MAR, Q1, date(2026, 2, 23)),  # Sun 1 Mar 00:00 local
    ],
)
def test_period_boundaries_in_shanghai(moment: str, month: date, quarter: date, week: date) -> None:
    engine = make_engine()
    feed(engine, ev("payment_received", moment, "p-1", amount="500.00"))
    assert date.fromisocalendar(2026, 14, 1) == date(2026, 3, 30)
    mine = ("person", "p-1", "collected_revenue")
    periods = {(k[3], k[4]): v for k, v in figures(engine).items() if k[:3] == mine}
    assert periods == {
        ("year", Q1): Decimal("500.00"),
        ("half", Q1): Decimal("500.00"),
        ("quarter", quarter): Decimal("500.00"),
        ("month", month): Decimal("500.00"),
        ("week", week): Decimal("500.00"),
    }


# -- 5. closed periods ----------------------------------------------------------------------------


def test_closed_month_records_the_event_as_late() -> None:
    engine = make_engine(closed={("month", MAR)})
    event_id = uuid.uuid4()
    engine.apply(SOURCE, event_id, ev("payment_received", at(10), id="pay-1", amount="500.00"))
    f = figures(engine)
    assert not [k for k in engine.out.rows if k[3] == "month"]
    assert f[person("p-1", "collected_revenue", "quarter", Q1)] == Decimal("500.00")
    assert f[person("p-1", "collected_revenue", "half", Q1)] == Decimal("500.00")
    assert f[person("p-1", "collected_revenue", "year", Q1)] == Decimal("500.00")
    assert f[person("p-1", "collected_revenue", "week", date(2026, 3, 9))] == Decimal("500.00")
    assert engine.late == {(event_id, "month", MAR, "pay-1")}

    # Deleting it later: taken back from the open periods, late again for the closed one.
    deleted_by = uuid.uuid4()
    engine.apply(SOURCE, deleted_by, delete("pay-1", at(12)))
    assert figures(engine) == {}
    assert engine.late == {(event_id, "month", MAR, "pay-1"), (deleted_by, "month", MAR, "pay-1")}


# -- 6. response time -----------------------------------------------------------------------------


@pytest.mark.parametrize("response_first", [False, True])
def test_response_time_pairs_either_way(response_first: bool) -> None:
    request = ev("customer_request", at(5, 10), "p-1", attributes={"request_id": "r-1"})
    response = ev("customer_response", at(5, 12, 30), "p-1", attributes={"request_id": "r-1"})
    engine = make_engine()
    feed(engine, *([response, request] if response_first else [request, response]))
    f = figures(engine)
    assert f[person("p-1", "response_time")] == Decimal("2.5")
    assert row(engine, person("p-1", "response_time")) == (Decimal("2.5"), 1)
    assert f[team("team-a", "response_time", "week", date(2026, 3, 2))] == Decimal("2.5")
    assert f[person("p-1", "customer_response.count")] == 1


def test_response_time_follows_its_request() -> None:
    request = body("customer_request", at(5, 10), "p-1", id="q-1", attributes={"request_id": "r-1"})
    engine = make_engine()
    feed(
        engine,
        ActivityEvent.model_validate(request),
        ev("customer_response", at(5, 12, 30), "p-1", attributes={"request_id": "r-1"}),
        update("q-1", {**request, "occurred_at": at(5, 11, 30)}, at(6)),
    )
    assert figures(engine)[person("p-1", "response_time")] == Decimal("1")
    feed(engine, delete("q-1", at(7)))
    f = figures(engine)
    assert person("p-1", "response_time") not in f  # no request: no response time
    assert f[person("p-1", "customer_response.count")] == 1


# -- 7. any order of originals and corrections gives the figures of a replay ----------------------

PEOPLE = ("p-1", "p-2", "p-3")
ORIGINAL_TYPES = ("payment_received", "refund", "visit", "deal_won", "order_booked")
OFFSETS = (CST, UTC, timezone(timedelta(hours=-5)))
SPLITS = (("1",), ("0.6", "0.4"), ("0.5", "0.3", "0.2"))


def org_with_a_move() -> OrgView:
    """p-1, p-2 in team-a and p-3 in team-b — until p-2 moves to team-b on 2026-03-15."""
    org = default_org()
    org.memberships["p-2"] = [
        (date(2025, 1, 1), date(2026, 3, 14), "team-a"),
        (date(2026, 3, 15), None, "team-b"),
    ]
    return org


@st.composite
def amounts(draw: st.DrawFn) -> str:
    cents = draw(st.integers(min_value=0, max_value=10_000_000))
    return f"{cents // 100}.{cents % 100:02d}"


@st.composite
def original_bodies(draw: st.DrawFn, id: str) -> dict[str, Any]:
    type_ = draw(st.sampled_from(ORIGINAL_TYPES))
    day = date(2026, 2, 1) + timedelta(days=draw(st.integers(0, 58)))  # February and March
    moment = datetime(
        day.year,
        day.month,
        day.day,
        draw(st.integers(0, 23)),
        draw(st.sampled_from((0, 30))),
        tzinfo=draw(st.sampled_from(OFFSETS)),
    )
    out = body(
        type_,
        moment.isoformat(),
        draw(st.sampled_from(PEOPLE)),
        id=id,
        customer=draw(st.sampled_from((None, "c-1", "c-2", "c-3"))),
        segment=draw(st.sampled_from((None, "new", "existing"))),
    )
    if type_ in ("payment_received", "refund") or (type_ == "order_booked" and draw(st.booleans())):
        out["amount"] = money(draw(amounts()))
    if type_ in ("payment_received", "refund") and draw(st.booleans()):
        shares = draw(st.sampled_from(SPLITS))
        people = draw(st.permutations(PEOPLE))
        out["credit_split"] = [
            {"actor_id": p, "share": s} for p, s in zip(people[: len(shares)], shares, strict=True)
        ]
    if type_ == "refund":
        out["refers_to"] = draw(st.sampled_from(("o-0", "o-1", "elsewhere")))
    if type_ == "visit":
        out["attributes"] = {"duration_minutes": draw(st.integers(0, 90))}
    return out


# Few distinct instants (one written in three offsets) so that ties on occurred_at happen.
CORRECTION_TIMES = (
    "2026-04-01T09:00:00+08:00",
    "2026-04-01T01:00:00Z",
    "2026-03-31T20:00:00-05:00",
    "2026-04-01T10:00:00+08:00",
    "2026-03-20T10:00:00+08:00",
)


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[list[ActivityEvent], list[ActivityEvent]]:
    """(originals, corrections): corrections may refer to ids that never come."""
    n = draw(st.integers(1, 7))
    originals = [ActivityEvent.model_validate(draw(original_bodies(f"o-{i}"))) for i in range(n)]
    # Mostly the first two originals, so that corrections of one original meet.
    targets = ["o-0", "o-0", "o-0", f"o-{min(1, n - 1)}", f"o-{n - 1}", "ghost-1"]
    corrections = []
    for i in range(draw(st.integers(0, 9))):
        refers_to = draw(st.sampled_from(targets))
        moment = draw(st.sampled_from(CORRECTION_TIMES))
        recorded = draw(st.sampled_from((None, *CORRECTION_TIMES[:2], "2026-04-02T00:00:00Z")))
        cid = f"x-{i}"
        if draw(st.booleans()):
            replacement = draw(original_bodies(refers_to))
            corrections.append(update(refers_to, replacement, moment, id=cid, recorded_at=recorded))
        else:
            corrections.append(
                ev(
                    "record_deleted",
                    moment,
                    "p-1",
                    id=cid,
                    refers_to=refers_to,
                    recorded_at=recorded,
                )
            )
    return originals, corrections


def surviving(
    originals: list[ActivityEvent], corrections: list[ActivityEvent]
) -> list[ActivityEvent]:
    """Each original as its latest correction (by occurred_at, recorded_at, id) left it."""

    def when(c: ActivityEvent) -> tuple[datetime, datetime, str]:
        return (c.occurred_at, c.recorded_at or c.occurred_at, c.id)

    out = []
    for original in originals:
        mine = [c for c in corrections if c.refers_to == original.id]
        if not mine:
            out.append(original)
            continue
        latest = max(mine, key=when)
        if latest.type.value == "record_deleted":
            continue
        out.append(
            ActivityEvent.model_validate({**latest.attributes["replacement"], "id": original.id})
        )
    return out


def run(events: list[ActivityEvent], org: OrgView) -> Engine:
    engine = make_engine(org)
    feed(engine, *events)
    return engine


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=scenarios(), data=st.data())
def test_any_order_gives_the_figures_of_a_replay(
    scenario: tuple[list[ActivityEvent], list[ActivityEvent]], data: st.DataObject
) -> None:
    originals, corrections = scenario
    everything = [*originals, *corrections]
    # At-least-once delivery: some events come twice.
    repeats = data.draw(st.lists(st.sampled_from(everything), max_size=2), label="repeats")
    first = data.draw(st.permutations([*everything, *repeats]), label="first order")
    second = data.draw(st.permutations([*everything, *repeats]), label="second order")

    expected_engine = run(surviving(originals, corrections), org_with_a_move())
    expected = figures(expected_engine)

    one = run(first, org_with_a_move())
    two = run(second, org_with_a_move())
    assert figures(one) == expected
    assert figures(two) == expected
    assert state(one) == state(expected_engine)
    assert state(two) == state(one)
    assert one.late == set() and two.late == set()


# -- 7b. the same for response times: requests and responses in any order --------------------------


def moments() -> st.SearchStrategy[str]:
    """A moment on 2026-03-05 or 03-06 (local), in any of three offsets, on the half hour."""
    return st.builds(
        lambda day, minutes, tz: (
            (datetime(2026, 3, day, tzinfo=CST) + timedelta(minutes=30 * minutes))
            .astimezone(tz)
            .isoformat()
        ),
        st.sampled_from((5, 6)),
        st.integers(0, 47),
        st.sampled_from(OFFSETS),
    )


@st.composite
def pairing_scenarios(draw: st.DrawFn) -> tuple[list[ActivityEvent], list[ActivityEvent]]:
    """Requests with their own request_id each (r-i), responses naming any of them (or none)."""
    requests = draw(st.integers(1, 3))
    responses = draw(st.integers(1, 4))
    rids = [f"r-{i}" for i in range(requests)]

    def request(id: str, rid: str) -> dict[str, Any]:
        actor = draw(st.sampled_from(PEOPLE))
        return body(
            "customer_request", draw(moments()), actor, id=id, attributes={"request_id": rid}
        )

    def response(id: str) -> dict[str, Any]:
        rid = draw(st.sampled_from([*rids, "r-unknown"]))
        attributes: dict[str, Any] = {"request_id": rid}
        if draw(st.integers(0, 5)) == 0:
            attributes["response_hours"] = "7"  # the CRM says how long it took
        actor = draw(st.sampled_from(PEOPLE))
        return body("customer_response", draw(moments()), actor, id=id, attributes=attributes)

    bodies = {f"q-{i}": request(f"q-{i}", rids[i]) for i in range(requests)}
    bodies |= {f"s-{j}": response(f"s-{j}") for j in range(responses)}
    originals = [ActivityEvent.model_validate(b) for b in bodies.values()]
    corrections = []
    for i in range(draw(st.integers(0, 6))):
        target = draw(st.sampled_from([*bodies, "ghost-1"]))
        moment = draw(st.sampled_from(CORRECTION_TIMES))
        cid = f"x-{i}"
        if draw(st.booleans()):
            if target.startswith("q-"):  # moved in time, keeping its own request_id
                replacement = request(target, bodies[target]["attributes"]["request_id"])
            else:
                replacement = response(target)
            corrections.append(update(target, replacement, moment, id=cid))
        else:
            corrections.append(ev("record_deleted", moment, "p-1", id=cid, refers_to=target))
    return originals, corrections


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=pairing_scenarios(), data=st.data())
def test_response_times_in_any_order_give_the_figures_of_a_replay(
    scenario: tuple[list[ActivityEvent], list[ActivityEvent]], data: st.DataObject
) -> None:
    originals, corrections = scenario
    everything = [*originals, *corrections]
    first = data.draw(st.permutations(everything), label="first order")
    second = data.draw(st.permutations(everything), label="second order")

    expected_engine = run(surviving(originals, corrections), default_org())
    one = run(first, default_org())
    two = run(second, default_org())
    assert figures(one) == figures(expected_engine)
    assert figures(two) == figures(expected_engine)
    assert state(one) == state(expected_engine)
    assert state(two) == state(expected_engine)


# -- two live requests with the same request_id: the earliest one is answered ----------------------


def test_two_requests_with_one_request_id_pair_the_same_in_any_order() -> None:
    r1 = ev("customer_request", at(5, 9), id="q-1", attributes={"request_id": "r-1"})
    r2 = ev("customer_request", at(5, 10), id="q-2", attributes={"request_id": "r-1"})
    response = ev("customer_response", at(5, 12, 30), id="s-1", attributes={"request_id": "r-1"})
    got = set()
    for order in ([r1, r2, response], [r2, r1, response]):
        engine = make_engine()
        feed(engine, *order)
        got.add(figures(engine)[person("p-1", "response_time")])
    assert got == {Decimal("3.5")}, got  # answered from q-1 (09:00), in either order


def test_deleting_one_of_two_requests_keeps_the_other_paired() -> None:
    r1 = ev("customer_request", at(5, 9), id="q-1", attributes={"request_id": "r-1"})
    r2 = ev("customer_request", at(5, 10), id="q-2", attributes={"request_id": "r-1"})
    response = ev("customer_response", at(5, 12, 30), id="s-1", attributes={"request_id": "r-1"})
    engine = make_engine()
    feed(engine, r1, r2, response, delete("q-2", at(6)))
    replay = make_engine()
    feed(replay, r1, response)
    assert figures(replay)[person("p-1", "response_time")] == Decimal("3.5")
    assert figures(engine).get(person("p-1", "response_time")) == Decimal("3.5")
