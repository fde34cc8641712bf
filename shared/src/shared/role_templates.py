"""The role templates of PRODUCT.md §1 (seeds 000, 003, 004): scorecard items and weights.

Goals ships them in its KPI catalog (a tenant copies and edits them); scoring builds scorecards
from them. Items bound to a metric are scored from live totals; the others are 360° (qualitative)
or entered by hand (``source: manual``). Seed 003's own weights add up to 105; churn is cut to 5.
"""

from __future__ import annotations

from typing import Any


def _item(name: str, weight: int, metric: str | None = None, **extra: Any) -> dict[str, Any]:
    kind = "quantitative" if metric else "qualitative"
    return {"name": name, "weight": weight, "kind": kind, "metric": metric, **extra}


# Role templates: the items and weights of PRODUCT.md §1. Items bound to a metric are scored from
# live totals; the others are 360° (qualitative) or entered by hand.
ROLE_TEMPLATES: dict[str, dict[str, Any]] = {
    "new_business_rep": {
        "name": "New-business rep",
        "items": [
            _item("New-customer revenue", 30, "new_customer_revenue"),
            _item("New-customer count", 25, "new_customers"),
            _item("New-customer conversion", 15, "new_customer_conversion"),
            _item("Effective visits", 10, "effective_visits"),
            _item("Response time", 8, "response_time", direction="lower", target="2"),
            _item("Collaboration (360°)", 7),
            _item("Compliance (360°)", 5),
        ],
    },
    "account_manager": {
        "name": "Account manager",
        "items": [
            _item("Repeat-purchase rate", 30, "repeat_purchase_rate"),
            _item("Upsell / cross-sell revenue", 25, "existing_customer_revenue"),
            _item("Collection rate", 15, "collection_rate"),
            _item("Effective visits", 10, "effective_visits"),
            _item("Response time", 8, "response_time", direction="lower", target="2"),
            _item("Collaboration (360°)", 7),
            _item("Compliance (360°)", 5),
        ],
    },
    "regional_manager": {
        "name": "Regional manager",
        "items": [
            _item("Regional attainment", 35, "collected_revenue", owner="team"),
            _item("Market share", 25, None, source="manual"),
            _item("Revenue per head", 10, None, source="manual"),
            _item("Team collaboration (360°)", 10),
            _item("Customer satisfaction", 10, "customer_satisfaction"),
            _item("Compliance (360°)", 10),
        ],
    },
    "sales_assistant": {
        "name": "Sales assistant",
        "items": [
            _item("Data-entry accuracy", 30, "data_entry_accuracy", target="0.98"),
            _item("Proposals assisted", 25, "proposals_assisted", target="5"),
            _item("Satisfaction", 20, "customer_satisfaction", target="95"),
            _item("Process suggestions", 15, "process_suggestions", target="2"),
            _item("Training pass rate", 10, "training_pass_rate", target="1"),
        ],
    },
    "sales_team": {
        "name": "Sales team (seed 003)",
        "items": [
            _item("Revenue attainment", 30, "collected_revenue"),
            _item("Collection rate", 15, "collection_rate"),
            _item("New customers", 10, "new_customers"),
            _item("Average order value", 10, "average_order_value"),
            _item("Churn", 5, "churn_rate", direction="lower"),
            _item("Collaboration (360°)", 10),
            _item("Customer satisfaction", 10, "customer_satisfaction"),
            _item("Product knowledge", 5),
            _item("Execution", 5),
        ],
    },
}
