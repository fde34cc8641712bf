"""Test infrastructure: real PostgreSQL and real Kafka, provisioned here when not given.

- DATABASE_URL (a superuser URL) or QUOTIENT_TEST_ADMIN_URL: use that server; otherwise an embedded
  PostgreSQL is started for the session and stopped at the end.
- KAFKA_BOOTSTRAP_SERVERS: use that broker; otherwise a single-node KRaft broker is started (jars
  fetched by Maven) the first time a test needs it, and stopped at the end.
In CI (CI=true) a server that cannot be provisioned is an error, never a skip.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "deploy" / "local"))

from kafka_broker import LocalKafka, free_port  # noqa: E402
from shared.db.bootstrap import DatabaseUrls, drop_database, ensure_database  # noqa: E402
from shared.db.embedded import EmbeddedPostgres  # noqa: E402
from shared.settings import BaseServiceSettings  # noqa: E402

TEMPLATE = "quotient_test_template"


@pytest.fixture(scope="session")
def work_dir() -> Iterator[Path]:
    base = REPO / ".cache"
    base.mkdir(exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix="test-run-", dir=base))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_admin_url(work_dir: Path) -> Iterator[str]:
    given = os.environ.get("QUOTIENT_TEST_ADMIN_URL") or os.environ.get("DATABASE_URL")
    if given:
        yield given
        return
    server = EmbeddedPostgres(work_dir / "postgres", free_port())
    try:
        url = server.start()
    except Exception as exc:
        pytest.exit(f"could not start the embedded PostgreSQL: {exc}", returncode=3)
    try:
        yield url
    finally:
        server.stop()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def template_database(pg_admin_url: str) -> str:
    """A database migrated to head once; each test clones it."""
    from allinone.app import SERVICES
    from shared.service import migrate

    await drop_database(pg_admin_url, TEMPLATE)
    urls = await ensure_database(pg_admin_url, TEMPLATE)
    settings = BaseServiceSettings(
        env="test", database_url=urls.app_url, database_owner_url=urls.owner_url
    )
    await migrate(settings, SERVICES)
    return TEMPLATE


@pytest_asyncio.fixture(loop_scope="session")
async def database(pg_admin_url: str, template_database: str) -> AsyncIterator[DatabaseUrls]:
    """A fresh database (cloned from the migrated template) for one test."""
    name = f"t_{uuid.uuid4().hex[:16]}"
    urls = await ensure_database(pg_admin_url, name, template=template_database)
    try:
        yield urls
    finally:
        await drop_database(pg_admin_url, name)


_kafka: LocalKafka | None = None


@pytest.fixture(scope="session")
def kafka_bootstrap(work_dir: Path) -> Iterator[str]:
    given = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if given:
        yield given
        return
    broker = LocalKafka(work_dir / "kafka")
    try:
        bootstrap = broker.start()
    except Exception as exc:
        pytest.exit(f"could not start the Kafka broker: {exc}", returncode=3)
    try:
        yield bootstrap
    finally:
        broker.stop()


@pytest.fixture(params=["embedded", "kafka"])
def bus_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def fleet(database: DatabaseUrls, kafka_bootstrap: str, tmp_path: Path) -> Iterator[object]:
    """An api and a worker process per service, over real Kafka, stopped after the test."""
    from tests.e2e.processes import Fleet
    from tests.helpers import make_settings

    fleet = Fleet(make_settings(database, kafka=kafka_bootstrap), tmp_path / "logs")
    try:
        fleet.start_all()
        yield fleet
    finally:
        fleet.stop_all()
