"""A deterministic simulation of Northwind's CRM and finance system: canonical activity events
(ACTIVITY_EVENT.md) that hang together.

Each sales rep runs a pipeline (lead → first contact → quote → won or lost → invoice → payments)
on new customers; account managers renew, upsell and collect from existing accounts; pre-sales
assist proposals and have their data entry checked; regional managers join visits and collect
satisfaction surveys. Now and then finance refunds part of a payment or the CRM corrects an
earlier record. Nothing here does I/O: the same seed and the same clock give the same events.
"""

from __future__ import annotations

import hashlib
import random
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from allinone.demo.company import BUSINESS_EVENTS_PER_YEAR, CSM_TITLE, TEAMS, DemoPerson

PRODUCT_LINES = ("saas", "hardware", "services")
CHANNELS = ("website", "trade_show", "referral", "cold_call", "partner")
REGION_OF_TEAM = {t.team_id: t.region for t in TEAMS}
PIPELINE_ROLES = ("new_business_rep", "sales_rep", "account_manager")
MAX_OPEN_DEALS = 6  # per rep: beyond it they work their pipeline instead of opening more
ACCOUNTS_PER_MANAGER = 30  # existing customers per account manager


@dataclass
class Deal:
    deal_id: str
    owner: str
    customer: dict[str, str]
    product_line: str
    value: Decimal
    stage: str  # lead, contacted, quoted, won, lost
    invoiced: Decimal = Decimal(0)
    paid: Decimal = Decimal(0)


@dataclass
class Payment:
    event: dict[str, Any]
    amount: Decimal
    refunded: Decimal = Decimal(0)


@dataclass
class Simulator:
    """Makes one event at a time for the moment it is given; keeps each person's pipeline."""

    people: Sequence[DemoPerson]
    seed: int | None = None
    run: str = ""
    _rng: random.Random = field(init=False, repr=False)
    _serial: int = field(default=0, init=False)
    _deals: dict[str, list[Deal]] = field(default_factory=dict, init=False)
    _payments: list[Payment] = field(default_factory=list, init=False)
    _visits: list[dict[str, Any]] = field(default_factory=list, init=False)
    _queue: list[dict[str, Any]] = field(default_factory=list, init=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed if self.seed is not None else secrets.randbits(64))
        # Event ids must not collide with another run's (a seeded run repeats its own exactly).
        self.run = self.run or (f"s{self.seed}" if self.seed is not None else secrets.token_hex(3))
        self.actors = [p for p in self.people if p.role in ACTIONS]
        self.weights = [
            ACTOR_WEIGHT[p.role] * (0.8 if p.title == CSM_TITLE else 1.0) for p in self.actors
        ]
        self.by_team: dict[str | None, list[DemoPerson]] = {}
        for p in self.people:
            self.by_team.setdefault(p.team_id, []).append(p)

    def jitter(self, scale: float) -> float:
        """A uniform draw in [0, scale), from the simulation's own (seeded) generator."""
        return self._rng.random() * scale

    # -- making events ------------------------------------------------------------------------

    def next_event(self, at: datetime, now: datetime | None = None) -> dict[str, Any]:
        """One event that happened at `at` (timezone-aware), recorded soon after (never after
        `now`); a follow-up of an earlier event (a customer's answered request) comes first."""
        if self._queue:
            return self._queue.pop(0)
        now = now or at
        roll = self._rng.random()
        event: dict[str, Any] | None = None
        if roll < 0.012:
            event = self._refund(at)
        elif roll < 0.024:
            event = self._correction(at)
        if event is None:
            actor = self._actor(at.date())
            event = ACTIONS[actor.role](self, actor, at)
        self._stamp(event, at, now)
        return event

    def next_live_event(self, at: datetime, now: datetime, business_share: float) -> dict[str, Any]:
        """A live event: with probability `business_share` one of the business's own events (as
        in the history: deals, money, visits, refunds), else day-to-day chatter that moves no goal
        (calls, customers' questions answered, surveys, pre-sales checks). A live stream posts far
        more events per second than a real CRM sees, so the business part must keep the history's
        pace, or an hour of streaming would collect months of revenue (see `business_share`)."""
        if self._queue or self._rng.random() < business_share:
            return self.next_event(at, now)
        actor = self._actor(at.date())
        deals = self._deals.get(actor.person_id, [])
        if actor.role == "sales_assistant":
            event = self._rng.choice((self._presales_check, self._presales_task))(actor, at)
        elif actor.role == "regional_manager":
            event = self._manager(actor, at)
            if event["type"] == "visit":
                event = self._contact(actor, at, "call", dict(event["customer"]))
        else:
            customer = self._customer_of(actor, deals)
            choice = self._rng.choices(("call", "request", "survey"), (6, 3, 1))[0]
            if choice == "request":
                event = self._request(actor, at, customer)
            elif choice == "survey":
                event = self._survey(actor, at, "nps", customer)
            else:
                event = self._contact(actor, at, "call", customer)
        self._stamp(event, at, now)
        return event

    def _presales_check(self, actor: DemoPerson, at: datetime) -> dict[str, Any]:
        records = self._rng.randrange(20, 80)
        errors = self._rng.choices((0, 1, 2, 3), (60, 25, 10, 5))[0]
        return self._event(
            "data_entry_checked", actor, at, attributes={"records": records, "errors": errors}
        )

    def _presales_task(self, actor: DemoPerson, at: datetime) -> dict[str, Any]:
        return self._event("task_completed", actor, at, attributes={"task": "demo preparation"})

    def _actor(self, day: date) -> DemoPerson:
        while True:
            (actor,) = self._rng.choices(self.actors, self.weights)
            if actor.active_on(day):
                return actor

    def _id(self, kind: str, at: datetime, length: int = 16) -> str:
        """Unique per run and instant; a seeded run given the same clock repeats its ids (the
        webhook then counts them once)."""
        self._serial += 1
        digest = hashlib.sha256(f"{self.run}|{self._serial}|{at.isoformat()}".encode())
        return f"{kind}-{digest.hexdigest()[:length]}"

    def _stamp(self, event: dict[str, Any], at: datetime, now: datetime) -> None:
        """Recorded in the CRM minutes later; about one in a hundred entered days late."""
        occurred = datetime.fromisoformat(event["occurred_at"])
        if self._rng.random() < 0.01:
            recorded = occurred + timedelta(hours=self._rng.uniform(26, 60))
        else:
            recorded = occurred + timedelta(minutes=self._rng.uniform(1, 30))
        event["recorded_at"] = min(recorded, max(now, occurred)).isoformat()

    def _event(self, kind: str, actor: DemoPerson, at: datetime, **fields: Any) -> dict[str, Any]:
        event: dict[str, Any] = {
            "id": self._id(kind[:3], at),
            "type": kind,
            "occurred_at": at.isoformat(),
            "actor_id": actor.person_id,
        }
        event.update({k: v for k, v in fields.items() if v is not None})
        return event

    def _money(self, low: int, high: int) -> Decimal:
        """A deal size in CNY, rounded to the hundred; small deals are the common ones."""
        value = low * (high / low) ** self._rng.random()
        return Decimal(int(value / 100) * 100)

    def _region(self, actor: DemoPerson) -> str:
        return REGION_OF_TEAM.get(actor.team_id or "", "east")

    # -- new business (sales reps) ------------------------------------------------------------

    def _pipeline(self, actor: DemoPerson, at: datetime, wanted: str) -> dict[str, Any]:
        """Work the pipeline: collect, invoice, move a deal on or open one, whichever is wanted,
        else the nearest thing there is to do (money first)."""
        segment = "new" if actor.role != "account_manager" else "existing"
        deals = self._deals.get(actor.person_id, [])
        open_deals = [d for d in deals if d.stage in ("lead", "contacted", "quoted")]
        to_invoice = [d for d in deals if d.stage == "won" and d.invoiced < d.value]
        to_collect = [d for d in deals if d.paid < d.invoiced]
        order = ["payment", "invoice", "advance", "open"]
        for step in [wanted, *order]:
            if step == "payment" and to_collect:
                return self._payment(actor, to_collect[0], at)
            if step == "invoice" and to_invoice:
                return self._invoice(actor, to_invoice[0], at)
            if step == "advance" and open_deals:
                return self._advance(actor, open_deals[0], at)
            if step == "open" and len(open_deals) < MAX_OPEN_DEALS:
                return self._lead(actor, at, segment)
        return self._advance(actor, open_deals[0], at)

    def _rep(self, actor: DemoPerson, at: datetime) -> dict[str, Any]:
        choice = self._rng.choices(
            ("open", "advance", "invoice", "payment", "visit", "call", "request", "survey"),
            (9, 22, 9, 18, 20, 12, 6, 4),
        )[0]
        if choice in ("open", "advance", "invoice", "payment"):
            return self._pipeline(actor, at, choice)
        deals = self._deals.get(actor.person_id, [])
        if choice == "request":
            return self._request(actor, at, self._customer_of(actor, deals))
        if choice == "survey":
            return self._survey(actor, at, "nps", self._customer_of(actor, deals))
        return self._contact(actor, at, choice, self._customer_of(actor, deals))

    def warm_start(self, at: datetime) -> None:
        """What the CRM already holds when the simulation starts: last year's invoices still to
        be collected and deals under way (no events: they happened before)."""
        for actor in self.actors:
            if actor.role not in PIPELINE_ROLES or not actor.active_on(at.date()):
                continue
            segment = "new" if actor.role != "account_manager" else "existing"
            for stage in ("won", "won", "quoted", "contacted"):
                self._lead(actor, at, segment)
                deal = self._deals[actor.person_id][-1]
                deal.stage = stage
                if stage == "won":
                    deal.invoiced = deal.value

    def _lead(self, actor: DemoPerson, at: datetime, segment: str = "new") -> dict[str, Any]:
        region = self._region(actor)
        if segment == "new":
            customer = {"id": self._id(f"c-{region}", at, 8), "segment": "new"}
        else:
            customer = self._account(actor)
        customer["region"] = region
        deal = Deal(
            deal_id=self._id("d", at),
            owner=actor.person_id,
            customer=customer,
            product_line=self._rng.choice(PRODUCT_LINES),
            value=self._money(40_000, 900_000)
            if segment == "new"
            else self._money(30_000, 500_000),
            stage="lead" if segment == "new" else "contacted",
        )
        self._deals.setdefault(actor.person_id, []).append(deal)
        kind = "lead_created" if segment == "new" else "first_contact"
        return self._event(
            kind,
            actor,
            at,
            customer=dict(customer),
            deal_id=deal.deal_id,
            product_line=deal.product_line,
            attributes={"stage": deal.stage, "channel": self._rng.choice(CHANNELS)},
        )

    def _advance(self, actor: DemoPerson, deal: Deal, at: datetime) -> dict[str, Any]:
        fields: dict[str, Any] = {
            "customer": dict(deal.customer),
            "deal_id": deal.deal_id,
            "product_line": deal.product_line,
        }
        if deal.stage == "lead":
            deal.stage = "contacted"
            return self._event(
                "first_contact", actor, at, attributes={"stage": "contacted"}, **fields
            )
        if deal.stage == "contacted":
            deal.stage = "quoted"
            return self._event(
                "quote_sent",
                actor,
                at,
                attributes={"stage": "quote", "quoted_value": str(deal.value)},
                **fields,
            )
        if self._rng.random() < 0.3:
            deal.stage = "lost"
            self._deals[deal.owner].remove(deal)
            reason = self._rng.choice(("price", "competitor", "no_budget", "timing"))
            return self._event(
                "deal_lost", actor, at, attributes={"stage": "lost", "reason": reason}, **fields
            )
        deal.stage = "won"
        # The order is booked the moment the deal is won (booked is not collected: no commission).
        booked = self._event(
            "order_booked",
            actor,
            at,
            amount={"value": str(deal.value), "currency": "CNY"},
            **fields,
        )
        self._stamp(booked, at, at)
        self._queue.append(booked)
        return self._event("deal_won", actor, at, attributes={"stage": "won"}, **fields)

    def _invoice(self, actor: DemoPerson, deal: Deal, at: datetime) -> dict[str, Any]:
        amount = deal.value - deal.invoiced
        deal.invoiced += amount
        return self._event(
            "invoice_issued",
            actor,
            at,
            customer=dict(deal.customer),
            deal_id=deal.deal_id,
            product_line=deal.product_line,
            amount={"value": str(amount), "currency": "CNY"},
            attributes={"invoice_no": self._id("inv", at).upper()},
        )

    def _payment(self, actor: DemoPerson, deal: Deal, at: datetime) -> dict[str, Any]:
        due = deal.invoiced - deal.paid
        # Large invoices are often paid in two instalments.
        amount = (
            due if due < 200_000 or self._rng.random() < 0.5 else (due / 2).quantize(Decimal(1))
        )
        deal.paid += amount
        if deal.paid >= deal.value:
            self._deals[deal.owner].remove(deal)  # done: nothing left to do on it
        split = None
        partners = [
            p
            for p in self.by_team.get(actor.team_id, [])
            if p.role == "account_manager"
            and p.person_id != actor.person_id
            and p.active_on(at.date())
        ]
        if deal.customer["segment"] == "new" and partners and self._rng.random() < 0.15:
            # A key account handed over during the deal: the credit is shared.
            split = [
                {"actor_id": actor.person_id, "share": "0.7"},
                {"actor_id": partners[0].person_id, "share": "0.3"},
            ]
        event = self._event(
            "payment_received",
            actor,
            at,
            customer=dict(deal.customer),
            deal_id=deal.deal_id,
            product_line=deal.product_line,
            amount={"value": str(amount), "currency": "CNY"},
            credit_split=split,
            attributes={"method": self._rng.choice(("bank_transfer", "bank_transfer", "alipay"))},
        )
        self._payments.append(Payment(event, amount))
        return event

    # -- existing customers (account managers) ------------------------------------------------

    def _account(self, actor: DemoPerson) -> dict[str, str]:
        number = self._rng.randrange(ACCOUNTS_PER_MANAGER)
        return {"id": f"c-{actor.person_id}-a{number:02d}", "segment": "existing"}

    def _account_manager(self, actor: DemoPerson, at: datetime) -> dict[str, Any]:
        success = actor.title == CSM_TITLE
        choice = self._rng.choices(
            (
                "open",
                "advance",
                "invoice",
                "payment",
                "renewal",
                "visit",
                "call",
                "request",
                "survey",
            ),
            (5, 15, 9, 18, 12 if success else 6, 18, 10, 6, 9 if success else 5),
        )[0]
        if choice in ("open", "advance", "invoice", "payment"):
            return self._pipeline(actor, at, choice)
        customer = dict(self._account(actor), region=self._region(actor))
        if choice == "renewal":
            kind = "customer_renewed" if self._rng.random() < 0.88 else "customer_churned"
            return self._event(kind, actor, at, customer=customer)
        if choice == "request":
            return self._request(actor, at, customer)
        if choice == "survey":
            return self._survey(actor, at, "nps", customer)
        return self._contact(actor, at, choice, customer)

    # -- everyone ------------------------------------------------------------------------------

    def _customer_of(self, actor: DemoPerson, deals: list[Deal]) -> dict[str, str]:
        if deals:
            return dict(self._rng.choice(deals).customer)
        return {
            "id": f"c-{self._region(actor)[0]}-walkin",
            "segment": "new",
            "region": self._region(actor),
        }

    def _contact(
        self, actor: DemoPerson, at: datetime, kind: str, customer: dict[str, str]
    ) -> dict[str, Any]:
        if kind == "visit":
            minutes = self._rng.choice((15, 20, 30, 45, 45, 60, 60, 90, 120))
        else:
            minutes = self._rng.choice((5, 8, 10, 15, 20, 30))
        event = self._event(
            kind, actor, at, customer=customer, attributes={"duration_minutes": minutes}
        )
        if kind == "visit":
            self._visits.append(event)
            del self._visits[:-200]
        return event

    def _request(self, actor: DemoPerson, at: datetime, customer: dict[str, str]) -> dict[str, Any]:
        """A customer's request, answered (the answer follows as the next event)."""
        hours = Decimal(str(round(self._rng.uniform(0.3, 5.5), 2)))
        asked = at - timedelta(hours=float(hours))
        request_id = self._id("req", at)
        answer = self._event(
            "customer_response", actor, at, customer=customer, attributes={"request_id": request_id}
        )
        self._stamp(answer, at, at)
        self._queue.append(answer)
        return self._event(
            "customer_request",
            actor,
            asked,
            customer=customer,
            attributes={
                "request_id": request_id,
                "channel": self._rng.choice(("wechat", "phone", "email")),
            },
        )

    def _survey(
        self, actor: DemoPerson, at: datetime, kind: str, customer: dict[str, str]
    ) -> dict[str, Any]:
        if kind == "nps":
            score = self._rng.choices(range(11), (1, 1, 1, 1, 2, 3, 4, 8, 14, 25, 30))[0]
        else:
            score = int(self._rng.triangular(60, 100, 92))
        return self._event(
            "survey_response",
            actor,
            at,
            customer=customer,
            attributes={"kind": kind, "score": score},
        )

    def _presales(self, actor: DemoPerson, at: datetime) -> dict[str, Any]:
        choice = self._rng.choices(
            ("proposal", "check", "suggestion", "training", "task"), (35, 25, 8, 7, 25)
        )[0]
        if choice == "proposal":
            colleagues = [
                d
                for p in self.by_team.get(actor.team_id, [])
                for d in self._deals.get(p.person_id, [])
                if d.stage in ("contacted", "quoted")
            ]
            deal = self._rng.choice(colleagues) if colleagues else None
            return self._event(
                "proposal_assisted",
                actor,
                at,
                deal_id=deal.deal_id if deal else None,
                customer=dict(deal.customer) if deal else None,
                attributes={"for": deal.owner if deal else actor.manager_id},
            )
        if choice == "check":
            return self._presales_check(actor, at)
        if choice == "suggestion":
            topic = self._rng.choice(("quote template", "CRM stage names", "visit report form"))
            return self._event("suggestion_made", actor, at, attributes={"topic": topic})
        if choice == "training":
            course = self._rng.choice(("product: saas", "product: hardware", "compliance"))
            passed = self._rng.random() < 0.92
            return self._event(
                "training_completed", actor, at, attributes={"course": course, "passed": passed}
            )
        return self._presales_task(actor, at)

    def _manager(self, actor: DemoPerson, at: datetime) -> dict[str, Any]:
        region = self._region(actor)
        choice = self._rng.choices(("visit", "survey", "call"), (35, 45, 20))[0]
        customer = {
            "id": f"c-{region[0]}-key{self._rng.randrange(12):02d}",
            "segment": "existing",
            "region": region,
        }
        if choice == "survey":
            return self._survey(actor, at, "csat", customer)
        return self._contact(actor, at, choice, customer)

    # -- finance and corrections ---------------------------------------------------------------

    def _refund(self, at: datetime) -> dict[str, Any] | None:
        """Finance refunds part of a payment (returned goods): it follows the payment's credit."""
        candidates = [p for p in self._payments if p.refunded < p.amount]
        if not candidates:
            return None
        payment = self._rng.choice(candidates[-40:])
        left = payment.amount - payment.refunded
        amount = max(
            Decimal(100),
            (left * Decimal(self._rng.choice((10, 20, 50, 100))) / 100).quantize(Decimal(100)),
        )
        amount = min(amount, left)
        payment.refunded += amount
        original = payment.event
        actor = next(p for p in self.people if p.person_id == original["actor_id"])
        occurred = max(at, datetime.fromisoformat(original["occurred_at"]))
        return self._event(
            "refund",
            actor,
            occurred,
            customer=original.get("customer"),
            deal_id=original.get("deal_id"),
            product_line=original.get("product_line"),
            amount={"value": str(amount), "currency": "CNY"},
            credit_split=original.get("credit_split"),
            refers_to=original["id"],
            attributes={
                "reason": self._rng.choice(("returned goods", "billing error", "discount"))
            },
        )

    def _correction(self, at: datetime) -> dict[str, Any] | None:
        """The CRM corrects a visit report (its duration), or deletes one entered twice."""
        if not self._visits:
            return None
        visit = self._rng.choice(self._visits[-60:])
        self._visits.remove(visit)
        actor = next(p for p in self.people if p.person_id == visit["actor_id"])
        occurred = max(at, datetime.fromisoformat(visit["occurred_at"]))
        if self._rng.random() < 0.3:
            return self._event(
                "record_deleted",
                actor,
                occurred,
                refers_to=visit["id"],
                attributes={"reason": "entered twice"},
            )
        minutes = visit["attributes"]["duration_minutes"] + 15
        replacement = {k: v for k, v in visit.items() if k not in ("id", "recorded_at")}
        replacement["attributes"] = {"duration_minutes": minutes, "corrected": True}
        return self._event(
            "record_updated",
            actor,
            occurred,
            refers_to=visit["id"],
            attributes={"replacement": replacement},
        )


ACTIONS = {
    "new_business_rep": Simulator._rep,
    "sales_rep": Simulator._rep,
    "account_manager": Simulator._account_manager,
    "sales_assistant": Simulator._presales,
    "regional_manager": Simulator._manager,
}


def business_share(events_per_second: float) -> float:
    """The share of a live stream's events that are the business's own (the rest is chatter), so
    that business events keep the history's pace of `BUSINESS_EVENTS_PER_YEAR` whatever the
    stream's rate: at 2 events a second, about one business event every four hours."""
    if events_per_second <= 0:
        return 1.0
    per_second = BUSINESS_EVENTS_PER_YEAR / (365.25 * 86400)
    return min(1.0, per_second / events_per_second)


ACTOR_WEIGHT = {
    "new_business_rep": 1.0,
    "sales_rep": 1.0,
    "account_manager": 1.0,
    "sales_assistant": 0.5,
    "regional_manager": 0.4,
}
