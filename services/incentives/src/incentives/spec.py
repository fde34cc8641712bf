"""How the incentives service plugs into a process (alone, or all in one)."""

from pathlib import Path

from incentives.commission.endpoints import router as commission_router
from incentives.commission.gql import IncentivesQuery
from incentives.commission.handlers import payments_handler
from incentives.models import audit_log, messaging
from shared.events.topics import Topic
from shared.http.audit import audit_router
from shared.service import ConsumerSpec, ServiceSpec

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"

SERVICE = ServiceSpec(
    name="incentives",
    messaging=messaging,
    migrations=MIGRATIONS,
    routers=(commission_router, audit_router("incentives", audit_log)),
    query=IncentivesQuery,
    consumers=(
        ConsumerSpec(group="incentives", topics=(Topic.activities,), handler=payments_handler),
    ),
)
