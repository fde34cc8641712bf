"""`make demo`: the all-in-one server with the Northwind demo tenant and a live stream of
simulated CRM events.

    python -m allinone.demo [--port 8000] [--rate 2] [--count N | --duration S] [--seed N]
    python -m allinone.demo --url https://quotient.example.com   # seed + stream a running one

Without --url it starts the server in this process (embedded PostgreSQL unless DATABASE_URL),
seeds the tenant through http://127.0.0.1:<port>, prints the URLs and tokens, backfills a year of
history the first time, then posts events at --rate until Ctrl-C (or --count / --duration; the
server keeps running afterwards unless --exit). With --url nothing is started: tokens are minted
with QUOTIENT_JWT_SECRET, as the server would verify them. The tenant and source are remembered
in <data dir>/demo-tenant.json, so a second run reuses them (--fresh starts a new tenant).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import logging
import os
import signal
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from allinone.demo.company import TIMEZONE
from allinone.demo.seed import DemoTenant, UnknownSource, seed_demo
from allinone.demo.stream import StreamStats, history_size, stream_events
from shared.settings import BaseServiceSettings

STATE_FILE = "demo-tenant.json"


def state_key(url: str | None) -> str:
    """Which deployment a remembered tenant belongs to (a database URL is hashed: it may hold a
    password)."""
    if url:
        return url.rstrip("/")
    database = os.environ.get("DATABASE_URL")
    return (
        "local" if not database else "local:" + hashlib.sha256(database.encode()).hexdigest()[:12]
    )


def load_state(path: Path, key: str) -> dict[str, Any]:
    try:
        return dict(json.loads(path.read_text()).get(key, {}))
    except (OSError, ValueError):
        return {}


def save_state(path: Path, key: str, demo: DemoTenant) -> None:
    try:
        states = json.loads(path.read_text())
    except (OSError, ValueError):
        states = {}
    states[key] = {"tenant_id": str(demo.tenant_id), "source_id": str(demo.source_id)}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(states, indent=2) + "\n")


def banner(base: str, demo: DemoTenant) -> str:
    east = [p for p in demo.people if p.team_id == demo.teams[0].team_id]
    lines = [
        "",
        f"Quotient demo: {demo.name} ({demo.year}, Asia/Shanghai, CNY)",
        f"  dashboard (rep {demo.person(demo.rep_id).name})",
        f"                 {base}/dashboard/#token={demo.rep_token}",
        f"  dashboard (manager {demo.person(demo.manager_id).name})",
        f"                 {base}/dashboard/#token={demo.manager_token}",
        f"  REST docs      {base}/docs",
        f"  GraphQL IDE    {base}/graphql",
        "",
        f"  tenant id      {demo.tenant_id}",
        f"  webhook        {base}{demo.webhook_path}",
        f"  secret         {demo.secret}",
        f"  admin token    {demo.admin_token}",
        f"  manager token  {demo.manager_token}   ({demo.manager_id}, {demo.teams[0].name})",
        f"  rep token      {demo.rep_token}   ({demo.rep_id})",
        "",
        f"  {len(demo.people)} people in {len(demo.teams)} regions; "
        f"{demo.teams[0].name}: "
        + ", ".join(f"{p.person_id} {p.name} ({p.title})" for p in east[:4])
        + ", …",
        "  another person's token: make token TENANT=<tenant id> ROLE=rep PERSON=p-1012",
        "",
    ]
    return "\n".join(lines)


async def seed(
    client: httpx.AsyncClient,
    settings: BaseServiceSettings,
    state: dict[str, Any],
    year: int | None,
) -> tuple[DemoTenant, bool]:
    """The remembered tenant brought up to date, or a new one; and whether it is new."""
    if state.get("tenant_id") and state.get("source_id"):
        try:
            demo = await seed_demo(
                client,
                settings,
                tenant_id=uuid.UUID(state["tenant_id"]),
                source_id=uuid.UUID(state["source_id"]),
                year=year,
            )
            return demo, False
        except UnknownSource:
            print("The remembered demo tenant is gone (a new database?): seeding a new one.")
    return await seed_demo(client, settings, year=year), True


class Progress:
    """Counts answers and prints a line every few seconds."""

    def __init__(self) -> None:
        self.posted = 0
        self.refused = 0
        self.by_type: dict[str, int] = {}

    def __call__(self, event: dict[str, Any], status: str) -> None:
        self.posted += 1
        self.refused += status not in ("accepted", "duplicate")
        self.by_type[event["type"]] = self.by_type.get(event["type"], 0) + 1

    async def report(self, every: float = 10.0) -> None:
        began, last = time.monotonic(), 0
        while True:
            await asyncio.sleep(every)
            rate = (self.posted - last) / every
            last = self.posted
            top = sorted(self.by_type.items(), key=lambda kv: -kv[1])[:4]
            print(
                f"[{time.monotonic() - began:6.0f}s] {self.posted} events posted "
                f"({rate:.1f}/s, {self.refused} refused): " + ", ".join(f"{k} {v}" for k, v in top),
                flush=True,
            )


def summary(stats: StreamStats) -> str:
    return (
        f"Streamed {stats.sent} events: {stats.accepted} accepted, {stats.duplicates} duplicates, "
        f"{stats.rejected} refused; collected revenue +{stats.collected:,.2f} CNY"
        + (f"\n  first refusal: {stats.errors[0]}" if stats.errors else "")
    )


async def demo_session(
    client: httpx.AsyncClient, base: str, settings: BaseServiceSettings, args: argparse.Namespace
) -> DemoTenant:
    """Seed (the remembered tenant, or a new one), print the banner, backfill the first time,
    then stream as asked."""
    path = Path(args.state or settings.data_dir / STATE_FILE)
    key = state_key(args.url)
    state = {} if args.fresh else load_state(path, key)
    print(f"Seeding {'a new' if not state else 'the'} demo tenant through {base} …", flush=True)
    began = time.monotonic()
    demo, new = await seed(client, settings, state, args.year)
    save_state(path, key, demo)
    print(f"Seeded in {time.monotonic() - began:.1f}s.", banner(base, demo), sep="\n")
    first = history_size(datetime.now(ZoneInfo(TIMEZONE)), demo.year) if new else 0
    backfill = args.backfill if args.backfill is not None else first
    live = args.rate > 0
    if backfill:
        print(f"Backfilling {backfill} events over {demo.year} so far …", flush=True)
    if not backfill and not live:
        return demo
    progress = Progress()
    reporter = asyncio.create_task(progress.report())
    try:
        stats = await stream_events(
            client,
            demo.source_id,
            demo.secret,
            demo.people,
            rate=args.rate,
            count=args.count if live else 0,
            duration=args.duration,
            seed=args.seed,
            backfill=backfill,
            spread=False,
            year=demo.year,
            on_event=progress,
        )
        print(summary(stats), flush=True)
    finally:
        reporter.cancel()
        if progress.posted:
            print(f"{progress.posted} events posted, {progress.refused} refused.", flush=True)
    return demo


async def run_with_server(args: argparse.Namespace) -> None:
    import uvicorn

    from allinone.app import create_app

    settings = BaseServiceSettings()
    app = create_app(settings)
    server = uvicorn.Server(
        uvicorn.Config(app, host=args.host, port=args.port, log_level="warning", lifespan="on")
    )
    base = f"http://{'127.0.0.1' if args.host in ('0.0.0.0', '') else args.host}:{args.port}"
    serving = asyncio.create_task(server.serve())
    print("Starting Quotient (goals + scoring + incentives, one process) …", flush=True)
    while not server.started:
        if serving.done():
            await serving  # it failed to start: say why
            return
        await asyncio.sleep(0.1)
    stop = True  # unless the demo ran to its end and the server is to keep serving
    try:
        async with httpx.AsyncClient(base_url=base, timeout=120) as client:
            session = asyncio.create_task(demo_session(client, base, settings, args))
            done, _ = await asyncio.wait({serving, session}, return_when=asyncio.FIRST_COMPLETED)
            if session in done:
                session.result()  # a failed seed stops the server too
                stop = args.exit
                if not stop:
                    print("Nothing more to stream; the server keeps running. Ctrl-C to stop.")
            else:
                session.cancel()
    finally:
        # Stopping through uvicorn runs the app's shutdown (workers, the embedded PostgreSQL).
        server.should_exit = server.should_exit or stop
        await serving


async def run_against(args: argparse.Namespace) -> None:
    settings = BaseServiceSettings()
    async with httpx.AsyncClient(base_url=args.url, timeout=120) as client:
        await demo_session(client, args.url.rstrip("/"), settings, args)


def main() -> None:
    parser = argparse.ArgumentParser(
        description="Quotient with a realistic demo tenant and a live stream of CRM events."
    )
    parser.add_argument("--host", default=os.environ.get("QUOTIENT_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("QUOTIENT_PORT", "8000")))
    parser.add_argument("--url", help="seed and stream an already running deployment instead")
    parser.add_argument("--rate", type=float, default=2.0, help="events per second (0: none)")
    parser.add_argument("--count", type=int, help="stop after this many streamed events")
    parser.add_argument("--duration", type=float, help="stop streaming after this many seconds")
    parser.add_argument("--seed", type=int, help="make the events reproducible")
    parser.add_argument(
        "--backfill",
        type=int,
        help="events of history to post first (default: the year so far at the business's pace "
        "for a new tenant, about 2,000 by December; else 0)",
    )
    parser.add_argument("--year", type=int, help="the year to seed and simulate (default: this)")
    parser.add_argument("--fresh", action="store_true", help="a new tenant, not the remembered one")
    parser.add_argument("--state", help=f"where to remember the tenant (<data dir>/{STATE_FILE})")
    parser.add_argument("--exit", action="store_true", help="stop the server when the stream ends")
    args = parser.parse_args()
    logging.basicConfig(level=os.environ.get("QUOTIENT_LOG_LEVEL", "WARNING"))
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        asyncio.run(run_against(args) if args.url else run_with_server(args))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
