"""Post the simulated CRM events to the real webhook (`POST /v1/webhooks/{source_id}`, signed
with the source's secret), at a chosen rate, and count what was accepted.

A backfill comes first if asked: events spread over the year up to now, sent as arrays of up to
100 (the webhook answers 207 with one outcome per event), so dashboards have history at once.
Then the paced events, one per request. Their `occurred_at` is spread over the year too when
their number is known and nothing was backfilled (a short, seeded stream then fills the year, as
a test wants); otherwise they happen now, as a live CRM's do.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from allinone.demo.company import BUSINESS_EVENTS_PER_YEAR, TIMEZONE, DemoPerson
from allinone.demo.simulate import Simulator, business_share
from shared.signing import sign_headers

log = logging.getLogger(__name__)
BATCH = 100  # events per backfill request (the webhook takes up to 500)
RETRIES = 8  # a 429 (rate limit) or a connection error is retried this often


@dataclass
class StreamStats:
    """What was posted and what the webhook said; `collected` is what the company's collected
    revenue must have grown by (payments − refunds accepted)."""

    sent: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    by_type: Counter[str] = field(default_factory=Counter)
    collected: Decimal = Decimal(0)
    collected_by_person: dict[str, Decimal] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def note(self, event: dict[str, Any], status: str) -> None:
        if status in ("accepted", "duplicate"):
            self.accepted += status == "accepted"
            self.duplicates += status == "duplicate"
            self.by_type[event["type"]] += 1
            self._count_money(event)
        else:
            self.rejected += 1

    def _count_money(self, event: dict[str, Any]) -> None:
        sign = {"payment_received": 1, "refund": -1}.get(event["type"])
        if sign is None:
            return
        amount = Decimal(event["amount"]["value"]) * sign
        self.collected += amount
        shares = event.get("credit_split") or [{"actor_id": event["actor_id"], "share": "1"}]
        for s in shares:
            person = s["actor_id"]
            self.collected_by_person[person] = self.collected_by_person.get(
                person, Decimal(0)
            ) + amount * Decimal(s["share"])


async def stream_events(
    client: httpx.AsyncClient,
    source_id: uuid.UUID | str,
    secret: str,
    people: Sequence[DemoPerson],
    *,
    rate: float = 2.0,
    count: int | None = None,
    duration: float | None = None,
    seed: int | None = None,
    backfill: int = 0,
    spread: bool | None = None,
    year: int | None = None,
    now: datetime | None = None,
    on_event: Callable[[dict[str, Any], str], Awaitable[None] | None] | None = None,
    live_rate: float | None = None,
) -> StreamStats:
    """Post simulated events for `people` through the signed webhook of `source_id`.

    rate: paced events per second (0: as fast as the server answers). count / duration: stop
    after so many paced events / seconds; neither: run until cancelled. seed: the same seed and
    `now` give the same events (and the webhook counts a repeat once). backfill: post this many
    events spread over the year first, in batches. spread: force the paced events' times over the
    year (True) or to now (False). on_event(event, status) is told of every answer. Live events
    (at now) keep the business's pace whatever the rate (`Simulator.next_live_event`); live_rate
    is the rate they stand for when it is not `rate` (a test posting an hour's stream at once).
    """
    tz = ZoneInfo(TIMEZONE)
    now = now or datetime.now(tz)
    year = year or now.year
    start = datetime(year, 1, 1, tzinfo=tz)
    # Stay clear of `now`: a recorded_at after the moment of posting would be odd.
    end = min(now - timedelta(minutes=10), datetime(year + 1, 1, 1, tzinfo=tz))
    if end <= start:
        raise ValueError(f"nothing of {year} has happened yet to simulate")
    simulator = Simulator(people, seed=seed)
    simulator.warm_start(start)
    stats = StreamStats()
    poster = _Poster(client, f"/v1/webhooks/{source_id}", secret, stats, on_event)

    if backfill > 0:
        events = [simulator.next_event(at, now) for at in _spread(simulator, start, end, backfill)]
        for i in range(0, len(events), BATCH):
            await poster.post_batch(events[i : i + BATCH])

    total = count if count is not None else None
    if total is None and duration is not None and rate > 0:
        total = int(duration * rate)
    if spread is None:
        spread = total is not None and backfill == 0
    times = iter(_spread(simulator, start, end, total)) if spread and total is not None else None
    share = business_share(live_rate if live_rate is not None else rate)
    loop = asyncio.get_running_loop()
    began = loop.time()
    sent = 0
    while (total is None or sent < total) and (duration is None or loop.time() - began < duration):
        if rate > 0:
            delay = began + sent / rate - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
        if times is not None:
            at, moment = next(times), now
            event = simulator.next_event(at, moment)
        else:
            moment = datetime.now(tz)
            at = moment - timedelta(seconds=simulator.jitter(120))
            event = simulator.next_live_event(at, moment, share)
        await poster.post_one(event)
        sent += 1
    return stats


def history_size(now: datetime, year: int | None = None) -> int:
    """How many events the year so far held at the business's pace (the first backfill)."""
    year = year or now.year
    start = datetime(year, 1, 1, tzinfo=now.tzinfo)
    end = min(now, datetime(year + 1, 1, 1, tzinfo=now.tzinfo))
    fraction = max(0.0, (end - start) / (datetime(year + 1, 1, 1, tzinfo=now.tzinfo) - start))
    return round(BUSINESS_EVENTS_PER_YEAR * fraction)


def _spread(simulator: Simulator, start: datetime, end: datetime, n: int) -> list[datetime]:
    """n moments in order over [start, end), one in each of n equal slices."""
    span = end - start
    return [start + span * ((i + simulator.jitter(1.0)) / n) for i in range(n)]


class _Poster:
    def __init__(
        self,
        client: httpx.AsyncClient,
        path: str,
        secret: str,
        stats: StreamStats,
        on_event: Callable[[dict[str, Any], str], Awaitable[None] | None] | None,
    ) -> None:
        self.client, self.path, self.secret = client, path, secret
        self.stats, self.on_event = stats, on_event

    async def _send(self, payload: Any) -> httpx.Response:
        body = json.dumps(payload).encode()
        for attempt in range(RETRIES):
            # Signed afresh each attempt: the signature's timestamp must be recent.
            headers = sign_headers(self.secret, body) | {"Content-Type": "application/json"}
            try:
                response = await self.client.post(self.path, content=body, headers=headers)
            except httpx.TransportError as exc:
                if attempt == RETRIES - 1:
                    raise
                log.warning("webhook unreachable (%s); retrying", exc)
                await asyncio.sleep(min(2**attempt * 0.25, 5))
                continue
            if response.status_code != 429:
                return response
            await asyncio.sleep(float(response.headers.get("Retry-After", "1")))
        return response

    async def _tell(self, event: dict[str, Any], status: str) -> None:
        self.stats.sent += 1
        self.stats.note(event, status)
        if self.on_event is not None:
            maybe = self.on_event(event, status)
            if maybe is not None:
                await maybe

    async def post_one(self, event: dict[str, Any]) -> None:
        response = await self._send(event)
        if response.status_code == 202:
            status = response.json()["status"]
        else:
            status = f"refused {response.status_code}"
            self.stats.errors.append(f"{event['id']}: {response.status_code} {response.text[:300]}")
        await self._tell(event, status)

    async def post_batch(self, events: list[dict[str, Any]]) -> None:
        response = await self._send(events)
        if response.status_code != 207:
            self.stats.errors.append(f"batch: {response.status_code} {response.text[:300]}")
            for event in events:
                await self._tell(event, f"refused {response.status_code}")
            return
        outcomes = {r["index"]: r for r in response.json()["results"]}
        for index, event in enumerate(events):
            outcome = outcomes.get(index, {"status": "missing"})
            if outcome["status"] not in ("accepted", "duplicate"):
                self.stats.errors.append(f"{event['id']}: {outcome}")
            await self._tell(event, outcome["status"])
