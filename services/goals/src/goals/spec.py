"""How the goals service plugs into a process (alone, or all in one)."""

from pathlib import Path

from strawberry.tools import merge_types

from goals.alerts.delivery import deliverer
from goals.alerts.endpoints import router as alerts_router
from goals.alerts.gql import AlertsSubscription
from goals.alerts.handlers import alerts_handler, sweeper
from goals.catalog.endpoints import router as catalog_router
from goals.funnel.endpoints import router as funnel_router
from goals.funnel.gql import FunnelQuery
from goals.imports.endpoints import router as imports_router
from goals.ingest.endpoints import router as ingest_router
from goals.ingest.mappings import router as mappings_router
from goals.models import audit_log, messaging, org
from goals.org.endpoints import router as org_router
from goals.people.endpoints import export as people_export
from goals.people.endpoints import router as people_router
from goals.targets.endpoints import router as targets_router
from goals.targets.gql import GoalsQuery
from goals.tenant.endpoints import router as tenant_router
from goals.totals.endpoints import router as totals_router
from goals.totals.gql import TotalsQuery
from goals.totals.handlers import activities_handler
from shared.events.topics import Topic
from shared.http.audit import audit_router
from shared.service import ConsumerSpec, ServiceSpec

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"

SERVICE = ServiceSpec(
    name="goals",
    messaging=messaging,
    org=org,
    migrations=MIGRATIONS,
    routers=(
        tenant_router,
        ingest_router,
        mappings_router,
        totals_router,
        targets_router,
        alerts_router,
        catalog_router,
        imports_router,
        funnel_router,
        people_router,
        org_router,
        people_export,
        audit_router("goals", audit_log),
    ),
    query=merge_types("GoalsServiceQuery", (TotalsQuery, GoalsQuery, FunnelQuery)),
    subscription=AlertsSubscription,
    consumers=(
        ConsumerSpec(group="goals", topics=(Topic.activities,), handler=activities_handler),
        # Early warnings judge activities and the figures they moved, in their own group.
        ConsumerSpec(
            group="goals-alerts",
            topics=(Topic.activities, Topic.progress),
            handler=alerts_handler,
        ),
    ),
    tasks=(sweeper, deliverer),
)
