"""The standard KPI catalog and the role templates of PRODUCT.md §1 (seeds 000, 003, 004).

Every tenant starts with these metrics; a tenant may override one (same key), add its own, or
switch one off. Templates are copied into the tenant's catalog and edited there.
"""

from __future__ import annotations

from typing import Any

from goals.catalog.definitions import MetricDefinition
from shared.events.activity import ActivityType
from shared.role_templates import ROLE_TEMPLATES as SHARED_ROLE_TEMPLATES

T = ActivityType


def _m(**fields: Any) -> MetricDefinition:
    return MetricDefinition.model_validate(fields)


STANDARD_METRICS: tuple[MetricDefinition, ...] = (
    _m(
        key="collected_revenue",
        name="Collected revenue (回款)",
        kind="sum",
        event_types=[T.payment_received],
        subtract_types=[T.refund],
        unit="currency",
        description="payments received minus refunds, split by credit shares",
    ),
    _m(
        key="new_customer_revenue",
        name="New-customer revenue",
        kind="sum",
        event_types=[T.payment_received],
        subtract_types=[T.refund],
        filters=[{"field": "customer.segment", "value": "new"}],
        unit="currency",
    ),
    _m(
        key="existing_customer_revenue",
        name="Upsell / cross-sell revenue (existing customers)",
        kind="sum",
        event_types=[T.payment_received],
        subtract_types=[T.refund],
        filters=[{"field": "customer.segment", "value": "existing"}],
        unit="currency",
    ),
    _m(
        key="invoiced_revenue",
        name="Invoiced (receivable)",
        kind="sum",
        event_types=[T.invoice_issued],
        unit="currency",
    ),
    _m(
        key="collection_rate",
        name="Collection rate (回款率)",
        kind="rate",
        numerator="collected_revenue",
        denominator="invoiced_revenue",
        unit="ratio",
    ),
    _m(
        key="booked_revenue",
        name="Booked orders (not paid)",
        kind="sum",
        event_types=[T.order_booked],
        unit="currency",
    ),
    _m(
        key="average_order_value",
        name="Average order value",
        kind="average",
        event_types=[T.order_booked],
        unit="currency",
    ),
    _m(
        key="new_customers",
        name="New customers",
        kind="distinct_count",
        event_types=[T.deal_won],
        filters=[{"field": "customer.segment", "value": "new"}],
        field="customer.id",
        unit="count",
    ),
    _m(key="deals_won", name="Deals won", kind="count", event_types=[T.deal_won], unit="count"),
    _m(key="visits", name="Visits", kind="count", event_types=[T.visit], unit="count"),
    _m(
        key="effective_visits",
        name="Effective visits (≥ 30 minutes)",
        kind="count",
        event_types=[T.visit],
        filters=[{"field": "attributes.duration_minutes", "op": "gte", "value": 30}],
        unit="count",
    ),
    _m(
        key="new_customer_conversion",
        name="New-customer conversion (new customers / visits)",
        kind="ratio",
        numerator="new_customers",
        denominator="visits",
        unit="ratio",
    ),
    _m(
        key="response_time",
        name="Response time (hours)",
        kind="average",
        event_types=[T.customer_response],
        field="response_hours",
        direction="lower",
        unit="hours",
        description="customer_response − its customer_request (by request_id), in hours",
    ),
    _m(
        key="renewal_decisions",
        name="Renewal decisions (renewed + churned)",
        kind="count",
        event_types=[T.customer_renewed, T.customer_churned],
        unit="count",
    ),
    _m(
        key="renewals",
        name="Renewals",
        kind="count",
        event_types=[T.customer_renewed],
        unit="count",
    ),
    _m(
        key="churned_customers",
        name="Churned customers",
        kind="count",
        event_types=[T.customer_churned],
        direction="lower",
        unit="count",
    ),
    _m(
        key="repeat_purchase_rate",
        name="Repeat-purchase rate",
        kind="rate",
        numerator="renewals",
        denominator="renewal_decisions",
        unit="ratio",
    ),
    _m(
        key="churn_rate",
        name="Churn rate",
        kind="rate",
        numerator="churned_customers",
        denominator="renewal_decisions",
        direction="lower",
        unit="ratio",
    ),
    _m(
        key="proposals_assisted",
        name="Proposals assisted",
        kind="count",
        event_types=[T.proposal_assisted],
        unit="count",
    ),
    _m(
        key="process_suggestions",
        name="Process suggestions",
        kind="count",
        event_types=[T.suggestion_made],
        unit="count",
    ),
    _m(
        key="trainings",
        name="Trainings completed",
        kind="count",
        event_types=[T.training_completed],
        unit="count",
    ),
    _m(
        key="trainings_passed",
        name="Trainings passed",
        kind="count",
        event_types=[T.training_completed],
        filters=[{"field": "attributes.passed", "value": True}],
        unit="count",
    ),
    _m(
        key="training_pass_rate",
        name="Training pass rate",
        kind="rate",
        numerator="trainings_passed",
        denominator="trainings",
        unit="ratio",
    ),
    _m(
        key="records_checked",
        name="Records checked",
        kind="sum",
        event_types=[T.data_entry_checked],
        field="attributes.records",
        unit="count",
    ),
    _m(
        key="record_errors",
        name="Record errors",
        kind="sum",
        event_types=[T.data_entry_checked],
        field="attributes.errors",
        direction="lower",
        unit="count",
    ),
    _m(
        key="data_entry_accuracy",
        name="Data-entry accuracy (1 − errors / records)",
        kind="rate",
        numerator="record_errors",
        denominator="records_checked",
        complement=True,
        unit="ratio",
    ),
    _m(
        key="customer_satisfaction",
        name="Customer satisfaction (CSAT, 0–100)",
        kind="average",
        event_types=[T.survey_response],
        filters=[{"field": "attributes.kind", "value": "csat"}],
        field="attributes.score",
        unit="score",
    ),
)

STANDARD_BY_KEY = {m.key: m for m in STANDARD_METRICS}


# The role templates (scorecard items and weights) are shared with scoring.
ROLE_TEMPLATES = SHARED_ROLE_TEMPLATES
