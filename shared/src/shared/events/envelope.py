"""The event envelope and the event types, decoded by one TypeAdapter (a discriminated union)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter

from shared.events.activity import ActivityEvent
from shared.events.topics import Topic


class EventBase(BaseModel):
    """Fields every event carries. Unknown fields are ignored; an unknown version is refused."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: uuid.UUID
    type: str
    version: Literal[1] = 1
    tenant_id: uuid.UUID
    occurred_at: AwareDatetime
    produced_at: AwareDatetime
    key: str
    trace: dict[str, str] = Field(default_factory=dict)


class ActivityRecordedPayload(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    source_id: uuid.UUID
    timezone: str
    activity: ActivityEvent
    backfill: bool = False  # historical: never raises late-entry alerts


class ActivityRecorded(EventBase):
    """A canonical activity was accepted by goals (the system of record)."""

    type: Literal["activity.recorded"] = "activity.recorded"
    payload: ActivityRecordedPayload


class ProgressPayload(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    person_id: str  # the owner: a person id, a team id, or "company"
    metric: str
    period_start: date
    period_end: date
    actual: Decimal | None  # None when undefined (an average of nothing, a ratio over zero)
    target: Decimal | None = None  # as measured against (prorated for joiners and leavers)
    attainment: Decimal | None = None
    event_count: int
    owner_kind: Literal["person", "team", "company"] = "person"
    period_kind: Literal["year", "half", "quarter", "month", "week"] = "month"
    goal_id: uuid.UUID | None = None
    target_set: Decimal | None = None  # the target as set, before proration
    direction: Literal["higher", "lower"] = "higher"


class ProgressUpdated(EventBase):
    """A running KPI figure (of a person, team or the company, for a period) changed."""

    type: Literal["progress.updated"] = "progress.updated"
    payload: ProgressPayload


class ScorePayload(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    person_id: str
    period_start: date
    metric: str
    status: Literal["provisional", "final"]
    weight: Decimal
    target: Decimal
    actual: Decimal
    ratio: Decimal
    score: Decimal


class ScoreComputed(EventBase):
    """A person's score item for a period was (re)computed."""

    type: Literal["score.computed"] = "score.computed"
    payload: ScorePayload


class CommissionPayload(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    person_id: str
    period_start: date
    currency: str
    base_total: Decimal
    commission_total: Decimal
    line_count: int
    period: str | None = None  # the statement's period label, when a pay plan computed it
    plan: str | None = None


class CommissionComputed(EventBase):
    """A person's commission for a period changed."""

    type: Literal["commission.computed"] = "commission.computed"
    payload: CommissionPayload


class PersonErasedPayload(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    person_id: str
    pseudonym: str


class PersonErased(EventBase):
    """A person was erased (PIPL / GDPR): every service replaces the id by the pseudonym."""

    type: Literal["person.erased"] = "person.erased"
    payload: PersonErasedPayload


class TeamSetPayload(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    team_id: str
    name: str
    parent_team_id: str | None = None
    manager_id: str | None = None


class TeamSet(EventBase):
    """A team was created or changed (name, parent, manager)."""

    type: Literal["org.team_set"] = "org.team_set"
    payload: TeamSetPayload


class MembershipSetPayload(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    person_id: str
    team_id: str
    valid_from: date


class MembershipSet(EventBase):
    """A person is in a team from a date on (a join or a move)."""

    type: Literal["org.membership_set"] = "org.membership_set"
    payload: MembershipSetPayload


class PersonSetPayload(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    person_id: str
    role: str
    manager_id: str | None = None
    active_from: date | None = None  # joiners and leavers: targets prorate by active days
    active_to: date | None = None
    # The display name, for pay statements and payroll exports (incentives forgets it on
    # erasure); e-mail and other contact details stay in goals.
    name: str | None = None


class PersonSet(EventBase):
    """A person's name, role, manager or active dates were set."""

    type: Literal["org.person_set"] = "org.person_set"
    payload: PersonSetPayload


class PeriodClosedPayload(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    period: str  # the label, e.g. 2026-Q1
    period_kind: Literal["year", "half", "quarter", "month", "week"]
    period_start: date
    period_end: date


class PeriodClosed(EventBase):
    """A period was closed: its targets and totals are frozen."""

    type: Literal["org.period_closed"] = "org.period_closed"
    payload: PeriodClosedPayload


class GradedPayload(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    person_id: str
    period: str  # label, e.g. 2026-Q1
    period_kind: str
    period_start: date
    grade: str
    total: Decimal
    reason: str  # closed, calibrated, appealed


class ScorecardGraded(EventBase):
    """A person's final grade for a period (at close, after calibration, after an appeal)."""

    type: Literal["scorecard.graded"] = "scorecard.graded"
    payload: GradedPayload


class AlertPayload(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    alert_id: uuid.UUID
    rule: str
    subject: str
    status: Literal["open", "acknowledged", "resolved"]
    severity: str
    person_id: str | None = None
    team_id: str | None = None
    metric: str | None = None
    period: str | None = None
    figures: dict[str, Any] = Field(default_factory=dict)
    evidence_requested: bool = False
    resolution: str | None = None


class AlertChanged(EventBase):
    """An early warning was raised, acknowledged or resolved (goals.alerts.v1)."""

    type: Literal["alert.changed"] = "alert.changed"
    payload: AlertPayload


Event = Annotated[
    ActivityRecorded
    | ProgressUpdated
    | ScoreComputed
    | CommissionComputed
    | PersonErased
    | TeamSet
    | MembershipSet
    | PersonSet
    | PeriodClosed
    | AlertChanged
    | ScorecardGraded,
    Field(discriminator="type"),
]
_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)

TOPIC_OF: dict[str, Topic] = {
    "activity.recorded": Topic.activities,
    "progress.updated": Topic.progress,
    "score.computed": Topic.scores,
    "commission.computed": Topic.payouts,
    "person.erased": Topic.org,
    "org.team_set": Topic.org,
    "org.membership_set": Topic.org,
    "org.person_set": Topic.org,
    "org.period_closed": Topic.org,
    "alert.changed": Topic.alerts,
    "scorecard.graded": Topic.scores,
}

E = TypeVar("E", bound=EventBase)


def decode_event(raw: bytes) -> Event:
    """Decode bytes from the bus; raises pydantic.ValidationError for anything unknown."""
    return _ADAPTER.validate_json(raw)


def encode_event(event: EventBase) -> bytes:
    return event.model_dump_json().encode()


def person_key(tenant_id: uuid.UUID, person_id: str) -> str:
    """One person's events stay in order on one partition."""
    return f"{tenant_id}:{person_id}"


def new_event(
    cls: type[E],
    *,
    tenant_id: uuid.UUID,
    key: str,
    occurred_at: datetime,
    payload: Any,
    event_id: uuid.UUID | None = None,
    trace: dict[str, str] | None = None,
) -> E:
    return cls(  # type: ignore[call-arg]  # `type` has its literal default in each subclass
        id=event_id or uuid.uuid4(),
        tenant_id=tenant_id,
        key=key,
        occurred_at=occurred_at,
        produced_at=datetime.now(UTC),
        payload=payload,
        trace=trace or {},
    )


def derived_event_id(*parts: object) -> uuid.UUID:
    """A deterministic event id: every service dedupes on the same id (UUIDv5)."""
    return uuid.uuid5(QUOTIENT_NAMESPACE, "/".join(str(p) for p in parts))


QUOTIENT_NAMESPACE = uuid.UUID("6f1d3c0e-2b7a-5c4e-9a51-0c7e4a0b9d21")
