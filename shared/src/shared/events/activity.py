"""The canonical activity event v1: a public contract (ACTIVITY_EVENT.md). Never rename a field."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)


class ActivityType(StrEnum):
    lead_created = "lead_created"
    first_contact = "first_contact"
    quote_sent = "quote_sent"
    deal_won = "deal_won"
    deal_lost = "deal_lost"
    opportunity_stage_changed = "opportunity_stage_changed"
    visit = "visit"
    call = "call"
    order_booked = "order_booked"
    payment_received = "payment_received"
    refund = "refund"
    invoice_issued = "invoice_issued"
    customer_churned = "customer_churned"
    customer_renewed = "customer_renewed"
    task_completed = "task_completed"
    proposal_assisted = "proposal_assisted"
    suggestion_made = "suggestion_made"
    training_completed = "training_completed"
    survey_response = "survey_response"
    data_entry_checked = "data_entry_checked"
    customer_request = "customer_request"
    customer_response = "customer_response"
    record_updated = "record_updated"
    record_deleted = "record_deleted"


MONEY_TYPES = frozenset(
    {ActivityType.payment_received, ActivityType.refund, ActivityType.invoice_issued}
)
NEEDS_REFERS_TO = frozenset(
    {ActivityType.refund, ActivityType.record_updated, ActivityType.record_deleted}
)


class Customer(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str | None = None
    segment: str | None = None
    region: str | None = None


class Money(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # A decimal string on the wire: floats are refused so that no cent is ever lost.
    value: Decimal
    currency: str = Field(pattern=r"^[A-Z]{3}$")

    @field_validator("value", mode="before")
    @classmethod
    def _decimal_string(cls, raw: Any) -> Any:
        if isinstance(raw, bool) or not isinstance(raw, str | Decimal):
            raise ValueError('must be a decimal string, e.g. "120000.00"')
        return raw

    @field_validator("value")
    @classmethod
    def _finite(cls, value: Decimal) -> Decimal:
        if not value.is_finite():
            raise ValueError("must be a finite decimal")
        return value


class CreditShare(BaseModel):
    model_config = ConfigDict(extra="forbid")

    actor_id: str = Field(min_length=1)
    share: Decimal = Field(gt=0, le=1)


class ActivityEvent(BaseModel):
    """One activity as a CRM (or finance system) reports it."""

    model_config = ConfigDict(extra="ignore")

    id: str = Field(min_length=1, max_length=200)
    type: ActivityType
    occurred_at: AwareDatetime
    recorded_at: AwareDatetime | None = None
    actor_id: str = Field(min_length=1, max_length=200)
    customer: Customer | None = None
    deal_id: str | None = None
    product_line: str | None = None
    amount: Money | None = None
    credit_split: list[CreditShare] | None = None
    refers_to: str | None = None
    attributes: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _consistent(self) -> ActivityEvent:
        if self.type in MONEY_TYPES and self.amount is None:
            raise ValueError(f"amount is required for {self.type.value}")
        if self.type in NEEDS_REFERS_TO and not self.refers_to:
            raise ValueError(f"refers_to is required for {self.type.value}")
        if self.type is ActivityType.record_updated:
            self._check_replacement()
        if self.credit_split is not None:
            if not self.credit_split:
                raise ValueError("credit_split must not be empty")
            total = sum((s.share for s in self.credit_split), Decimal(0))
            if total != 1:
                raise ValueError(f"credit_split shares must add up to 1 (they add up to {total})")
        return self

    def _check_replacement(self) -> None:
        replacement = self.attributes.get("replacement")
        if not isinstance(replacement, dict):
            raise ValueError("attributes.replacement (the full corrected event) is required")
        try:
            corrected = ActivityEvent.model_validate({**replacement, "id": self.refers_to})
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise ValueError(
                f"attributes.replacement{'.' + where if where else ''}: {first['msg']}"
            ) from None
        if corrected.type in (ActivityType.record_updated, ActivityType.record_deleted):
            raise ValueError("attributes.replacement cannot itself be a correction")

    def credited_shares(self) -> list[tuple[str, Decimal]]:
        """Who is credited with this event's money, and with which share."""
        if self.credit_split:
            return [(s.actor_id, s.share) for s in self.credit_split]
        return [(self.actor_id, Decimal(1))]
