"""How a service describes itself, so it can run alone (api / worker) or all in one process."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import strawberry
import uvicorn
from fastapi import APIRouter, Depends, FastAPI, Request
from starlette.requests import HTTPConnection
from strawberry.tools import merge_types

from shared.auth.tokens import authenticate
from shared.bus.consumer import ConsumerLoop, Handler
from shared.bus.relay import OutboxRelay
from shared.db.messaging import MessagingTables
from shared.db.migrations import upgrade
from shared.graphql import AuthenticatedGraphQLRouter, make_context_getter
from shared.graphql_limits import hardening
from shared.http.health import health_router
from shared.http.problems import Problem, install_problem_handlers
from shared.http.ratelimit import RateLimiter
from shared.observability.http import ObservabilityMiddleware, telemetry_config
from shared.observability.logs import configure_logging
from shared.observability.tracing import setup_tracing, shutdown_tracing
from shared.org import OrgTables
from shared.runtime import SHARED_MIGRATIONS, Runtime, provision_embedded
from shared.settings import BaseServiceSettings, Environment
from shared.tasks import Periodic

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ConsumerSpec:
    group: str
    topics: Sequence[str]
    handler: Callable[[Runtime], Handler]


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    messaging: MessagingTables
    migrations: Path
    routers: Sequence[APIRouter]
    query: type
    subscription: type | None = None
    consumers: Sequence[ConsumerSpec] = field(default_factory=tuple)
    # The service's copy of the reporting lines (access decisions for managers).
    org: OrgTables | None = None
    on_start: Callable[[Runtime], Any] | None = None
    # Background jobs of the service's workers (time-driven checks, outbound deliveries).
    tasks: Sequence[Callable[[Runtime], Periodic]] = field(default_factory=tuple)


async def migrate(settings: BaseServiceSettings, specs: Sequence[ServiceSpec]) -> None:
    """Apply the shared (bus) tree and each service's tree, as the schema owner."""
    owner = settings.owner_url
    assert owner, "DATABASE_OWNER_URL (or DATABASE_URL) is required to migrate"
    await upgrade(SHARED_MIGRATIONS, owner, settings.database_app_role)
    for spec in specs:
        await upgrade(spec.migrations, owner, settings.database_app_role)


def graphql_schema(
    specs: Sequence[ServiceSpec], settings: BaseServiceSettings
) -> strawberry.Schema:
    queries = tuple(spec.query for spec in specs)
    query = queries[0] if len(queries) == 1 else merge_types("Query", queries)
    subs = tuple(spec.subscription for spec in specs if spec.subscription is not None)
    subscription = None
    if subs:
        subscription = subs[0] if len(subs) == 1 else merge_types("Subscription", subs)
    return strawberry.Schema(query=query, subscription=subscription, extensions=hardening(settings))


def create_app(
    settings: BaseServiceSettings,
    specs: Sequence[ServiceSpec],
    *,
    title: str,
    run_workers: bool = False,
    auto_migrate: bool = False,
    runtime: Runtime | None = None,
    on_ready: Callable[[FastAPI], Awaitable[None]] | None = None,
) -> FastAPI:
    """The FastAPI app of one service, or of several (the all-in-one process)."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        server = await provision_embedded(settings)
        if auto_migrate:
            await migrate(settings, specs)
        rt = runtime or await Runtime.open(settings, title)
        app.state.runtime = rt
        org = next((spec.org for spec in specs if spec.org is not None), None)
        if org is not None:
            rt.extras.setdefault("org", org)
        for spec in specs:
            if spec.on_start:
                await spec.on_start(rt)
        workers = Workers(rt, specs) if run_workers else None
        if workers:
            await workers.start()
        if on_ready is not None:
            await on_ready(app)
        try:
            yield
        finally:
            if workers:
                await workers.stop()
            if runtime is None:
                await rt.close()
            if server is not None:
                server.stop()

    service = specs[0].name if len(specs) == 1 else "allinone"
    provider = setup_tracing(f"quotient-{service}")
    app = FastAPI(
        title=title, lifespan=lifespan, version="0.1.0", telemetry=telemetry_config(provider)
    )
    install_problem_handlers(app)
    app.add_middleware(ObservabilityMiddleware)

    async def check_db() -> None:
        await app.state.runtime.check_database()

    async def check_bus() -> None:
        await app.state.runtime.bus.ping()

    app.include_router(health_router({"database": check_db, "bus": check_bus}))
    for spec in specs:
        for router in spec.routers:
            app.include_router(router)
    graphql_limit = RateLimiter(settings.graphql_rate_per_tenant, settings.graphql_burst_per_tenant)

    async def limit_graphql(request: HTTPConnection) -> None:
        """GraphQL requests per tenant (callers without a valid token are refused by resolvers)."""
        try:
            who = authenticate(settings, request)
        except Problem:
            return
        graphql_limit.check(f"tenant:{who.tenant_id}", "GraphQL for this tenant")

    app.include_router(
        AuthenticatedGraphQLRouter(
            graphql_schema(specs, settings),
            context_getter=make_context_getter(settings),
            graphql_ide="graphiql" if settings.env is not Environment.production else None,
        ),
        prefix="/graphql",
        dependencies=[Depends(limit_graphql)],
    )
    return app


def runtime_of(request: Request) -> Runtime:
    """FastAPI dependency: the process runtime."""
    rt: Runtime = request.app.state.runtime
    return rt


class Workers:
    """The outbox relays and consumer loops of the given services, as asyncio tasks."""

    def __init__(self, runtime: Runtime, specs: Sequence[ServiceSpec]):
        self.runtime = runtime
        self.specs = specs
        self._loops: list[ConsumerLoop | OutboxRelay | Periodic] = []
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        rt = self.runtime
        s = rt.settings
        for spec in self.specs:
            relay = OutboxRelay(
                bus=rt.bus,
                sessions=rt.sessions,
                messaging=spec.messaging,
                dsn=rt.dsn,
                notifier=rt.notifier,
                poll_seconds=s.outbox_poll_seconds,
                linger=s.outbox_linger_seconds,
            )
            self._loops.append(relay)
            for c in spec.consumers:
                self._loops.append(
                    ConsumerLoop(
                        group=s.topic(c.group),
                        topics=[s.topic(t) for t in c.topics],
                        bus=rt.bus,
                        sessions=rt.sessions,
                        messaging=spec.messaging,
                        handler=c.handler(rt),
                        topic_prefix=s.topic_prefix,
                        batch_size=s.consumer_batch_size,
                        linger=s.consumer_linger_seconds,
                        service=spec.name,
                    )
                )
            for make in spec.tasks:
                self._loops.append(make(rt))
        for loop in self._loops:
            self._tasks.append(asyncio.create_task(self._supervise(loop)))

    async def _supervise(self, loop: ConsumerLoop | OutboxRelay | Periodic) -> None:
        """Keep a loop running: a crash is logged and the loop restarts after a pause."""
        while True:
            try:
                await loop.run()
                return
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("%s crashed; restarting", type(loop).__name__)
                await asyncio.sleep(1.0)

    async def stop(self) -> None:
        for loop in self._loops:
            loop.stop()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        self._loops.clear()


async def run_worker(
    settings: BaseServiceSettings, specs: Sequence[ServiceSpec], name: str
) -> None:
    """A worker process: relays and consumers until SIGTERM / SIGINT; /healthz, /readyz and
    /metrics on the metrics port."""
    configure_logging(settings.log_level, settings.log_style)
    setup_tracing(f"quotient-{name}")
    server = await provision_embedded(settings)
    rt = await Runtime.open(settings, name)
    for spec in specs:
        if spec.on_start:
            await spec.on_start(rt)
    workers = Workers(rt, specs)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    listener = await serve_worker_health(rt, settings.metrics_port, name)
    await workers.start()
    log.info("%s worker running", name)
    try:
        await stop.wait()
    finally:
        await workers.stop()
        if listener is not None:
            listener.should_exit = True
            await listener.shutdown()
        await rt.close()
        shutdown_tracing()
        if server is not None:
            server.stop()


async def serve_worker_health(rt: Runtime, port: int, name: str) -> uvicorn.Server | None:
    """The worker's small HTTP listener (probes and scrapes); a port already taken is fatal:
    a worker that cannot be probed would be restarted in a loop by its orchestrator."""
    if not port:
        return None
    app = FastAPI(title=f"{name} worker", openapi_url=None, docs_url=None, redoc_url=None)

    async def check_db() -> None:
        await rt.check_database()

    async def check_bus() -> None:
        await rt.bus.ping()

    app.include_router(health_router({"database": check_db, "bus": check_bus}))
    config = uvicorn.Config(
        app, host="0.0.0.0", port=port, log_config=None, access_log=False, lifespan="off"
    )
    listener = uvicorn.Server(config)
    config.load()
    listener.lifespan = config.lifespan_class(config)
    try:
        await listener.startup()  # binds now; the connections are served by the event loop
    except SystemExit as exc:  # uvicorn exits when it cannot bind
        raise RuntimeError(f"the worker's metrics port {port} cannot be bound") from exc
    return listener
