"""`make bench`: N signed webhook events through the real pipeline (Kafka, separate processes).

Prints the webhook accept rate, the end-to-end throughput (first post → every total final) and the
end-to-end latency p50/p95/p99 (webhook accepted → the goals worker committed the total; read from
the inbox row written in that transaction). Provisions PostgreSQL and Kafka like the tests do
unless DATABASE_URL (a superuser URL) / KAFKA_BOOTSTRAP_SERVERS are given.

    python -m tests.bench.pipeline --events 20000 --people 100 --concurrency 32 --batch 1
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import sys
import tempfile
import time
import uuid
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "deploy" / "local"))

from allinone.app import SERVICES  # noqa: E402
from kafka_broker import LocalKafka, free_port  # noqa: E402
from shared.db.bootstrap import ensure_database  # noqa: E402
from shared.db.embedded import EmbeddedPostgres  # noqa: E402
from shared.service import migrate  # noqa: E402
from tests.e2e.processes import Fleet  # noqa: E402
from tests.e2e.slice import configure  # noqa: E402
from tests.helpers import activity, make_settings, signed  # noqa: E402


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def bench(args: argparse.Namespace, admin_url: str, kafka: str, work: Path) -> None:
    urls = await ensure_database(admin_url, f"bench_{uuid.uuid4().hex[:8]}")
    settings = make_settings(
        urls, kafka=kafka, kafka_partitions=args.partitions, database_pool_size=args.pool_size
    )
    await migrate(settings, SERVICES)
    fleet = Fleet(settings, work / "logs")
    fleet.start_all()
    engine = create_async_engine(urls.admin_url)
    try:
        limits = httpx.Limits(
            max_connections=args.concurrency, max_keepalive_connections=args.concurrency
        )
        clients = {
            s: httpx.AsyncClient(base_url=fleet.url(s), timeout=60, limits=limits)
            for s in ("goals", "scoring", "incentives")
        }
        _tenant, source = await configure(clients, settings)
        rng = random.Random(1)
        events = [
            activity(
                f"b-{i}",
                actor=f"p-{rng.randrange(args.people)}",
                amount=str(Decimal(rng.randrange(100, 100000)) / 100),
            )
            for i in range(args.events)
        ]
        deliveries = [events[i : i + args.batch] for i in range(0, len(events), args.batch)]
        accepted_at: dict[str, float] = {}
        queue: asyncio.Queue[list[dict[str, object]]] = asyncio.Queue()
        for d in deliveries:
            queue.put_nowait(d)
        url = f"/v1/webhooks/{source['source_id']}"
        request_latency: list[float] = []
        retries: list[int] = []

        async def sender() -> None:
            while not queue.empty():
                delivery = queue.get_nowait()
                payload = delivery[0] if args.batch == 1 else delivery
                body, headers = signed(source["secret"], payload)
                t0 = time.time()
                for attempt in range(5):  # as a CRM would: retry a dropped connection
                    try:
                        r = await clients["goals"].post(url, content=body, headers=headers)
                        break
                    except httpx.TransportError:
                        retries.append(1)
                        if attempt == 4:
                            raise
                t1 = time.time()
                request_latency.append(t1 - t0)
                if r.status_code == 202:
                    accepted_at[r.json()["event_id"]] = t1
                elif r.status_code == 207:
                    for o in r.json()["results"]:
                        accepted_at[o["event_id"]] = t1
                else:
                    raise RuntimeError(f"{r.status_code} {r.text}")

        start = time.time()
        await asyncio.gather(*(sender() for _ in range(args.concurrency)))
        posted = time.time()
        print(f"posted {len(accepted_at)} events in {posted - start:.2f}s", flush=True)

        deadline = time.time() + args.timeout
        while True:
            async with engine.connect() as conn:
                done = (
                    await conn.execute(
                        text(
                            "SELECT count(*) FROM goals.inbox"
                            " WHERE consumer_group NOT LIKE '%goals-alerts'"
                        )
                    )
                ).scalar_one()
            if done >= args.events or time.time() > deadline:
                break
            await asyncio.sleep(0.05)
        final = time.time()
        async with engine.connect() as conn:
            rows = (
                await conn.execute(
                    text(
                        "SELECT event_id, consumed_at FROM goals.inbox"
                        " WHERE consumer_group NOT LIKE '%goals-alerts'"
                    )
                )
            ).all()
            total = (
                await conn.execute(
                    text(
                        "SELECT coalesce(sum(value), 0) FROM goals.totals WHERE metric = 'collected_revenue'"
                        " AND owner_kind = 'person' AND period_kind = 'month'"
                    )
                )
            ).scalar_one()
        expected = sum(Decimal(e["amount"]["value"]) for e in events)  # type: ignore[index]
        latencies = [
            max(0.0, consumed.timestamp() - accepted_at[str(eid)])
            for eid, consumed in rows
            if str(eid) in accepted_at and isinstance(consumed, datetime)
        ]
        n = len(accepted_at)
        print()
        print(
            f"events                 {n} over {args.people} people, {args.batch} per request, {args.concurrency} concurrent senders"
        )
        print(
            f"webhook accept rate    {n / (posted - start):,.0f} events/s  ({len(deliveries) / (posted - start):,.0f} requests/s)"
        )
        print(
            f"webhook request time   p50 {pct(request_latency, 50) * 1000:.1f} ms  p95 {pct(request_latency, 95) * 1000:.1f} ms  p99 {pct(request_latency, 99) * 1000:.1f} ms"
        )
        print(
            f"end-to-end throughput  {n / (final - start):,.0f} events/s  (all {len(rows)} totals final after {final - start:.2f}s)"
        )
        if latencies:
            print(
                f"end-to-end latency     p50 {pct(latencies, 50) * 1000:.0f} ms  p95 {pct(latencies, 95) * 1000:.0f} ms  p99 {pct(latencies, 99) * 1000:.0f} ms  (accepted → total committed)"
            )
        print(
            f"totals check           {'OK' if total == expected else 'MISMATCH'}: {total} == {expected}"
        )
        for c in clients.values():
            await c.aclose()
    except BaseException:
        for name in fleet.procs:
            print(f"--- {name}\n{fleet.log(name)}")
        raise
    finally:
        fleet.stop_all()
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--people", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--batch", type=int, default=1, help="events per webhook request (1..500)")
    parser.add_argument("--partitions", type=int, default=6)
    parser.add_argument(
        "--pool-size", type=int, default=20, help="database connections per process"
    )
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()
    work = Path(
        tempfile.mkdtemp(
            prefix="bench-", dir=REPO / ".cache" if (REPO / ".cache").exists() else None
        )
    )
    work.chmod(0o755)
    pg = kafka = None
    try:
        admin_url = os.environ.get("DATABASE_URL")
        if not admin_url:
            pg = EmbeddedPostgres(work / "postgres", free_port())
            admin_url = pg.start()
        bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
        if not bootstrap:
            kafka = LocalKafka(work / "kafka")
            bootstrap = kafka.start()
        asyncio.run(bench(args, admin_url, bootstrap, work))
    finally:
        if kafka:
            kafka.stop()
        if pg:
            pg.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
