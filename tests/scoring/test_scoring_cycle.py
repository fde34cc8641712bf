"""The end of a scoring period through the public API: closing the period freezes scorecards;
forced distribution on a 20-person team reports violations and proposes moves by rank; the
calibrator approves with a reason per change; appeals and the interview follow their state
machines (every illegal step refused); results are applied."""

from __future__ import annotations

from decimal import Decimal
from itertools import pairwise
from typing import Any

import httpx

from allinone.app import create_app
from shared.db.bootstrap import DatabaseUrls
from tests.helpers import auth, eventually, make_settings, running

MANUAL = {
    "name": "Manual only",
    "items": [{"key": "result", "name": "Result", "source": "manual", "weight": 100}],
}


async def scorecards_with_totals(
    client: httpx.AsyncClient, hr: dict[str, str], totals: dict[str, int], period: str
) -> dict[str, str]:
    r = await client.post(
        "/v1/scorecards",
        json={"template": "manual_only", "period": period, "person_ids": sorted(totals)},
        headers=hr,
    )
    assert r.status_code == 201, r.text
    ids = {c["person_id"]: c["scorecard_id"] for c in r.json()}
    for person, total in totals.items():
        # actual / target × 100 points, capped at 100: the total is the actual
        r = await client.put(
            f"/v1/scorecards/{ids[person]}/items/result",
            json={"actual": str(total), "target": "100"},
            headers=hr,
        )
        assert r.status_code == 200, r.text
    return ids


async def test_close_calibrate_appeal_interview_and_results(database: DatabaseUrls) -> None:
    settings = make_settings(database)
    async with running(create_app(settings)) as client:
        r = await client.post(
            "/v1/tenants",
            json={"name": "Acme", "timezone": "UTC"},
            headers=auth(settings, __import__("uuid").uuid4(), "platform_admin"),
        )
        tenant = r.json()["tenant_id"]
        import uuid as _uuid

        tenant = _uuid.UUID(tenant)
        hr = auth(settings, tenant, "hr")
        admin = auth(settings, tenant, "admin")
        assert (
            await client.put("/v1/scorecard-templates/manual_only", json=MANUAL, headers=hr)
        ).status_code == 200
        r = await client.put(
            "/v1/grading",
            json={
                "bands": [
                    {"grade": "S", "lower": "90"},
                    {"grade": "A", "lower": "80"},
                    {"grade": "B", "lower": "70"},
                    {"grade": "C", "lower": "60"},
                    {"grade": "D", "lower": "0"},
                ],
                "forced_distribution": True,
            },
            headers=hr,
        )
        assert r.status_code == 200, r.text
        # a 20-person team, skewed: 8 S, 6 A, 5 B, 1 C
        totals = {
            f"p-{i:02d}": t
            for i, t in enumerate(
                [99, 98, 97, 96, 95, 94, 93, 91, 89, 88, 87, 86, 85, 84, 79, 78, 77, 76, 75, 65]
            )
        }
        await client.put(
            "/v1/org/teams/t-1", json={"name": "Team", "manager_id": "m-1"}, headers=hr
        )
        for person in totals:
            body = {"person_id": person, "team_id": "t-1", "valid_from": "2020-01-01"}
            assert (
                await client.put("/v1/org/memberships", json=body, headers=hr)
            ).status_code == 204
        ids = await scorecards_with_totals(client, hr, totals, "2026-03")
        # the previous month: p-19 already scored C
        await scorecards_with_totals(client, hr, {"p-19": 62}, "2026-02")
        card = (
            await client.get(
                "/v1/scorecards", params={"person_id": "p-00", "period": "2026-03"}, headers=hr
            )
        ).json()
        assert (card["status"], card["grade"]) == ("provisional", "S")

        # an appeal of a provisional score is refused; closing the periods (in goals) freezes them
        rep = auth(settings, tenant, "rep", subject="p-19")
        r = await client.post(
            "/v1/appeals",
            json={"scorecard_id": ids["p-19"], "item_key": "result", "reason": "x"},
            headers=rep,
        )
        assert r.status_code == 409
        for label in ("2026-02", "2026-03"):
            assert (
                await client.post(f"/v1/periods/{label}/close", headers=admin)
            ).status_code == 200

        async def calibrated() -> list[dict[str, Any]]:
            r = await client.get("/v1/calibrations", params={"period": "2026-03"}, headers=hr)
            assert {c["scope"] for c in r.json()} == {"company", "t-1"}, r.json()
            return r.json()

        team = next(c for c in await eventually(calibrated) if c["scope"] == "t-1")
        report = team["report"]
        assert not report["report_only"]
        violated = {tuple(v["grades"]) for v in report["violations"]}
        assert ("S",) in violated and ("B",) in violated  # 8 S > 3; 5 B < 8
        moves = report["proposals"]
        assert sorted(m["person_id"] for m in moves if m["from"] == "S") == [
            "p-03",
            "p-04",
            "p-05",
            "p-06",
            "p-07",
        ]
        # proposals follow rank: nobody is moved below someone with a lower total
        final = {
            p: ("S" if t >= 90 else "A" if t >= 80 else "B" if t >= 70 else "C")
            for p, t in totals.items()
        }
        final.update({m["person_id"]: m["to"] for m in moves})
        order = sorted(totals, key=lambda p: -totals[p])
        rank = "SABCD"
        assert all(rank.index(final[a]) <= rank.index(final[b]) for a, b in pairwise(order))
        # the calibrator approves: every change needs a reason
        r = await client.post(
            f"/v1/calibrations/{team['calibration_id']}/approve", json={"grades": final}, headers=hr
        )
        assert r.status_code == 422 and r.json()["errors"][0]["field"].startswith("reasons.")
        reasons = {m["person_id"]: f"quota, rank {m['rank']}" for m in moves}
        r = await client.post(
            f"/v1/calibrations/{team['calibration_id']}/approve",
            json={"grades": final, "reasons": reasons},
            headers=hr,
        )
        assert r.status_code == 200 and len(r.json()["changes"]) == len(moves), r.text
        r = await client.post(
            f"/v1/calibrations/{team['calibration_id']}/approve",
            json={"grades": final, "reasons": reasons},
            headers=hr,
        )
        assert r.status_code == 409
        card = (
            await client.get(
                "/v1/scorecards", params={"person_id": "p-07", "period": "2026-03"}, headers=hr
            )
        ).json()
        assert (card["status"], card["grade"]) == ("final", final["p-07"])

        # ranks within the team (1, 2, ...) and the grade distribution after calibration
        r = await client.get(
            "/v1/scorecards/ranking", params={"period": "2026-03", "team_id": "t-1"}, headers=hr
        )
        board = r.json()
        assert [e["person_id"] for e in board["ranking"][:3]] == ["p-00", "p-01", "p-02"]
        assert board["ranking"][0]["rank"] == 1 and board["ranking"][-1]["rank"] == 20
        assert board["distribution"] == {"S": 3, "A": 6, "B": 10, "C": 1}
        query = '{ teamRanking(period: "2026-03", teamId: "t-1") }'
        data = (
            await client.post(
                "/graphql",
                json={"query": query},
                headers=auth(settings, tenant, "manager", subject="m-1"),
            )
        ).json()
        assert data["data"]["teamRanking"]["distribution"] == board["distribution"], data

        # appeals: the person appeals, a committee member who is not their manager decides
        r = await client.post(
            "/v1/appeals",
            json={"scorecard_id": ids["p-19"], "item_key": "result", "reason": "a deal was missed"},
            headers=rep,
        )
        assert r.status_code == 201, r.text
        appeal = r.json()["appeal_id"]
        r = await client.post(
            "/v1/appeals",
            json={"scorecard_id": ids["p-19"], "item_key": "result", "reason": "again"},
            headers=rep,
        )
        assert r.status_code == 409
        r = await client.post(
            f"/v1/appeals/{appeal}/decide",
            json={"accept": True, "reason": "x", "corrected_value": "72"},
            headers=auth(settings, tenant, "committee", subject="m-1"),
        )
        assert r.status_code == 403  # their manager
        committee = auth(settings, tenant, "committee", subject="c-1")
        r = await client.post(
            f"/v1/appeals/{appeal}/decide",
            json={"accept": True, "reason": "missed deal counted"},
            headers=committee,
        )
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "corrected_value"
        r = await client.post(
            f"/v1/appeals/{appeal}/decide",
            json={"accept": True, "reason": "missed deal counted", "corrected_value": "72"},
            headers=committee,
        )
        assert r.status_code == 200, r.text
        assert r.json()["effect"]["before"]["grade"] == "C" and r.json()["effect"]["after"] == {
            "score": "72.00",
            "total": "72.00",
            "grade": "B",
        }
        r = await client.post(
            f"/v1/appeals/{appeal}/decide",
            json={"accept": False, "reason": "no"},
            headers=committee,
        )
        assert r.status_code == 409

        # report ≥ 3 days before the interview; signed by both; then locked
        r = await client.post(
            f"/v1/scorecards/{ids['p-00']}/report",
            json={"manager_id": "m-1", "delivered_on": "2026-04-01"},
            headers=hr,
        )
        assert r.status_code == 201 and r.json()["report"]["strengths"] == ["result"], r.text
        manager = auth(settings, tenant, "manager", subject="m-1")
        person = auth(settings, tenant, "rep", subject="p-00")
        assert (
            await client.post(f"/v1/scorecards/{ids['p-00']}/interview/sign", headers=person)
        ).status_code == 409
        interview = {
            "interview_on": "2026-04-03",
            "self_review": "good",
            "feedback": "keep going",
            "actions": [
                {
                    "action": "mentor a newcomer",
                    "owner": "p-00",
                    "due": "2026-06-30",
                    "measure": "one newcomer onboarded",
                }
            ],
        }
        r = await client.put(
            f"/v1/scorecards/{ids['p-00']}/interview", json=interview, headers=manager
        )
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "interview_on"
        r = await client.put(
            f"/v1/scorecards/{ids['p-00']}/interview",
            json=interview | {"interview_on": "2026-04-04"},
            headers=manager,
        )
        assert r.status_code == 200 and r.json()["status"] == "recorded"
        assert (
            await client.put(
                f"/v1/scorecards/{ids['p-00']}/interview",
                json=interview | {"interview_on": "2026-04-04"},
                headers=person,
            )
        ).status_code == 403
        r = await client.post(f"/v1/scorecards/{ids['p-00']}/interview/sign", headers=person)
        assert r.json()["status"] == "signed_by_person"
        assert (
            await client.post(f"/v1/scorecards/{ids['p-00']}/interview/sign", headers=person)
        ).status_code == 409
        r = await client.post(f"/v1/scorecards/{ids['p-00']}/interview/sign", headers=manager)
        assert r.json()["status"] == "locked"
        r = await client.put(
            f"/v1/scorecards/{ids['p-00']}/interview",
            json=interview | {"interview_on": "2026-04-05"},
            headers=manager,
        )
        assert r.status_code == 409

        # results applied
        r = await client.get("/v1/results", params={"period": "2026-03"}, headers=hr)
        got = {x["person_id"]: x for x in r.json()}
        assert got["p-00"]["actions"] == ["talent_pool"]
        assert (
            got["p-19"]["grade"] == "B" and got["p-19"]["consecutive_low"] is False
        )  # after the appeal
        assert Decimal(got["p-19"]["total"]) == 72
