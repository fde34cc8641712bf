"""The running-totals state machine for one tenant (pure: the caller loads and stores its state).

Each original activity becomes a *fact*; its effective version is the original, or what the latest
correction (``record_updated`` / ``record_deleted``, ordered by when the correction happened) made
of it. A correction that arrives before its original waits for it. Every change of a fact's
effective version takes the old version's contributions back and adds the new one's, so totals are
always the sum over surviving effective versions — the same figures a replay from the system of
record gives. A ``customer_response`` is paired with its ``customer_request`` (by ``request_id``) to
give its response time in hours, whichever of the two arrives first.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from goals.totals.contributions import COMPANY, Catalog, Contributions, Owner, contribute
from shared.events.activity import ActivityEvent, ActivityType
from shared.events.corrections import CORRECTIONS, corrected, order_key, replacement_of
from shared.periods import Period, local_date, periods_containing

HOURS = Decimal("0.0001")


@dataclass
class Fact:
    source_id: uuid.UUID
    external_id: str
    event_id: uuid.UUID | None
    effective: ActivityEvent | None
    correction_key: str | None = None
    dirty: bool = False


@dataclass
class Correction:
    source_id: uuid.UUID
    refers_to: str
    external_id: str
    kind: str
    order_key: str
    replacement: dict[str, Any] | None
    dirty: bool = False


@dataclass
class OrgView:
    """Reporting lines as of any day: person → team on that day → parent teams → company."""

    parents: dict[str, str | None] = field(default_factory=dict)
    memberships: dict[str, list[tuple[date, date | None, str]]] = field(default_factory=dict)
    _cache: dict[tuple[str, date], list[Owner]] = field(default_factory=dict)

    def team_on(self, person: str, day: date) -> str | None:
        for start, end, team in self.memberships.get(person, ()):
            if start <= day and (end is None or day <= end):
                return team
        return None

    def chain(self, team: str | None) -> list[str]:
        out: list[str] = []
        while team is not None and team not in out:
            out.append(team)
            team = self.parents.get(team)
        return out

    def owners_of(self, person: str, day: date) -> list[Owner]:
        key = (person, day)
        cached = self._cache.get(key)
        if cached is None:
            teams = self.chain(self.team_on(person, day))
            cached = [("person", person), *(("team", t) for t in teams), COMPANY]
            self._cache[key] = cached
        return cached


@dataclass
class Engine:
    timezone: str
    fiscal_start_month: int
    catalog: Catalog
    org: OrgView
    closed: set[tuple[str, date]]
    facts: dict[tuple[uuid.UUID, str], Fact] = field(default_factory=dict)
    corrections: dict[tuple[uuid.UUID, str], Correction] = field(default_factory=dict)
    # customer_request facts by request_id, and the responses that wait for / use them.
    requests: dict[str, list[Fact]] = field(default_factory=dict)
    responses: dict[str, list[Fact]] = field(default_factory=dict)
    out: Contributions = field(default_factory=Contributions)
    # (event that caused it, period kind, period start, activity id): frozen periods it missed
    late: set[tuple[uuid.UUID, str, date, str]] = field(default_factory=set)
    record_late: bool = True

    # -- events ---------------------------------------------------------------------------------

    def apply(self, source_id: uuid.UUID, event_id: uuid.UUID, activity: ActivityEvent) -> None:
        if activity.type in CORRECTIONS:
            self._correct(source_id, event_id, activity)
            return
        key = (source_id, activity.id)
        if key in self.facts:
            return  # already a fact: a duplicate
        waiting = self.corrections.get(key)
        effective = (
            activity
            if waiting is None
            else corrected(activity.id, waiting.kind, waiting.replacement)
        )
        fact = Fact(
            source_id,
            activity.id,
            event_id,
            None,
            None if waiting is None else waiting.order_key,
            dirty=True,
        )
        self.facts[key] = fact
        self._become(fact, effective, event_id)

    def _correct(self, source_id: uuid.UUID, event_id: uuid.UUID, activity: ActivityEvent) -> None:
        assert activity.refers_to is not None
        key = (source_id, activity.refers_to)
        ordering = order_key(activity)
        current = self.corrections.get(key)
        if current is not None and current.order_key >= ordering:
            return  # an older correction than the one in force: the latest wins
        self.corrections[key] = Correction(
            source_id,
            activity.refers_to,
            activity.id,
            activity.type.value,
            ordering,
            replacement_of(activity),
            dirty=True,
        )
        fact = self.facts.get(key)
        if fact is None:
            return  # the original has not come yet: the correction waits for it
        fact.correction_key = ordering
        fact.dirty = True
        self._become(
            fact,
            corrected(activity.refers_to, activity.type.value, self.corrections[key].replacement),
            event_id,
        )

    # -- effective versions ---------------------------------------------------------------------

    def _become(self, fact: Fact, effective: ActivityEvent | None, cause: uuid.UUID) -> None:
        """Move a fact to a new effective version, keeping totals and pairings in step."""
        old = fact.effective
        if effective is not None and effective.type is ActivityType.customer_response:
            effective = self._with_response_time(effective)
        self._unpair(fact, old)
        if old is not None:
            self._contribute(old, -1, cause)
        fact.effective = effective
        fact.dirty = True
        if effective is not None:
            self._contribute(effective, +1, cause)
        self._pair(fact, effective)
        # A request that appeared, changed or went away re-times the responses that name it.
        for version in (old, effective):
            if version is not None and version.type is ActivityType.customer_request:
                request_id = self._request_id(version)
                for response in list(self.responses.get(request_id or "", ())):
                    if response.effective is not None:
                        self._become(response, response.effective, cause)

    def _contribute(self, activity: ActivityEvent, sign: int, cause: uuid.UUID) -> None:
        day = local_date(activity.occurred_at, self.timezone)
        periods = periods_containing(day, self.fiscal_start_month)
        closed = contribute(
            self.out,
            activity,
            sign,
            day,
            periods,
            self.catalog,
            self.org.owners_of,
            self._is_closed,
        )
        if self.record_late:
            for p in closed:
                self.late.add((cause, p.kind.value, p.start, activity.id))

    def _is_closed(self, period: Period) -> bool:
        return (period.kind.value, period.start) in self.closed

    # -- response time --------------------------------------------------------------------------

    @staticmethod
    def _request_id(activity: ActivityEvent | None) -> str | None:
        if activity is None:
            return None
        raw = activity.attributes.get("request_id")
        return None if raw is None else str(raw)

    def _with_response_time(self, response: ActivityEvent) -> ActivityEvent:
        attributes = dict(response.attributes)
        if "response_hours" in attributes and "response_hours_from" not in attributes:
            return response  # the CRM says how long it took
        attributes.pop("response_hours", None)
        attributes.pop("response_hours_from", None)
        request_id = self._request_id(response)
        request = self._request_for(request_id)
        if request is not None and request.effective is not None:
            seconds = Decimal(
                str((response.occurred_at - request.effective.occurred_at).total_seconds())
            )
            if seconds >= 0:
                attributes["response_hours"] = str((seconds / 3600).quantize(HOURS))
                attributes["response_hours_from"] = request.external_id
        return response.model_copy(update={"attributes": attributes})

    def _unpair(self, fact: Fact, old: ActivityEvent | None) -> None:
        request_id = self._request_id(old)
        if old is None or request_id is None:
            return
        if old.type is ActivityType.customer_request:
            known = self.requests.get(request_id, [])
            if fact in known:
                known.remove(fact)
        elif old.type is ActivityType.customer_response:
            waiting = self.responses.get(request_id, [])
            if fact in waiting:
                waiting.remove(fact)

    def _pair(self, fact: Fact, new: ActivityEvent | None) -> None:
        request_id = self._request_id(new)
        if new is None or request_id is None:
            return
        if new.type is ActivityType.customer_response:
            self.responses.setdefault(request_id, []).append(fact)
        elif new.type is ActivityType.customer_request:
            self.requests.setdefault(request_id, []).append(fact)

    def _request_for(self, request_id: str | None) -> Fact | None:
        """The request a response answers: the earliest one with its request_id (whatever the
        order they arrived in)."""
        known = [f for f in self.requests.get(request_id or "", ()) if f.effective is not None]
        if not known:
            return None
        return min(known, key=lambda f: (f.effective.occurred_at, f.external_id))  # type: ignore[union-attr]

    def register(self, fact: Fact) -> None:
        """A fact loaded from the database (already counted): index it for pairing."""
        self.facts[(fact.source_id, fact.external_id)] = fact
        self._pair(fact, fact.effective)


def persons_in(activities: Iterable[ActivityEvent | None]) -> set[str]:
    out: set[str] = set()
    for a in activities:
        if a is not None:
            out.add(a.actor_id)
            out.update(p for p, _ in a.credited_shares())
    return out
