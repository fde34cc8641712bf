"""How the scoring service plugs into a process (alone, or all in one)."""

from pathlib import Path

from strawberry.tools import merge_types

from scoring.appeals.endpoints import router as appeals_router
from scoring.calibration.endpoints import router as calibration_router
from scoring.interviews.endpoints import router as interviews_router
from scoring.models import audit_log, messaging, org
from scoring.people.service import export as people_export
from scoring.results.endpoints import router as results_router
from scoring.score.endpoints import router as score_router
from scoring.score.gql import ScoringQuery
from scoring.score.handlers import progress_handler
from scoring.scorecards.endpoints import router as scorecards_router
from scoring.scorecards.gql import ScorecardsQuery
from shared.events.topics import Topic
from shared.http.audit import audit_router
from shared.http.people import export_router
from shared.service import ConsumerSpec, ServiceSpec

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"

SERVICE = ServiceSpec(
    name="scoring",
    messaging=messaging,
    org=org,
    migrations=MIGRATIONS,
    routers=(
        score_router,
        scorecards_router,
        calibration_router,
        appeals_router,
        interviews_router,
        results_router,
        audit_router("scoring", audit_log),
        export_router("scoring", messaging, people_export),
    ),
    query=merge_types("ScoringServiceQuery", (ScoringQuery, ScorecardsQuery)),
    consumers=(
        ConsumerSpec(group="scoring", topics=(Topic.progress, Topic.org), handler=progress_handler),
    ),
)
