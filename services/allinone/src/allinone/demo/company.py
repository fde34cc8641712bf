"""Northwind Trading Co., the realistic demo tenant, as plain data: its regions, its 30 people
with their roles and reporting lines, the shape of its goals, its scorecard templates and its pay
plans. `seed.py` turns this into API calls; `simulate.py` makes its people record CRM activity.

Roles are the ones goals knows (`goals.org.people.ROLES`). The spec's sales rep is a
`new_business_rep`; key account and customer success managers are both `account_manager`s (they
live on existing customers); pre-sales is a `sales_assistant`; the head of each region is a
`regional_manager` and the VP of Sales a `manager`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

COMPANY_NAME = "Northwind Trading Co."
TIMEZONE = "Asia/Shanghai"
CURRENCY = "CNY"
SOURCE_NAME = "Northwind CRM (simulated)"


@dataclass(frozen=True)
class DemoTeam:
    team_id: str
    name: str
    region: str  # the customer.region of its customers' events
    manager_id: str


@dataclass(frozen=True)
class DemoPerson:
    person_id: str
    name: str
    role: str  # as goals knows it
    title: str  # as the business says it
    team_id: str | None
    manager_id: str | None
    email: str
    # Joined (their team membership starts then; targets prorate for a joiner of the year).
    active_from: date | None = None

    @property
    def token_roles(self) -> list[str]:
        """The roles a token of theirs carries."""
        return TOKEN_ROLES[self.role]

    def active_on(self, day: date) -> bool:
        return self.active_from is None or self.active_from <= day


TOKEN_ROLES: dict[str, list[str]] = {
    "new_business_rep": ["rep"],
    "account_manager": ["rep"],
    "sales_rep": ["rep"],
    "sales_assistant": ["assistant"],
    "regional_manager": ["manager"],
    "manager": ["manager"],
    "hr": ["hr"],
    "finance": ["finance"],
}

KAM_TITLE = "Key Account Manager"
CSM_TITLE = "Customer Success Manager"
# Who carries a collected-revenue quota (by title), and their share of their region's.
QUOTA_WEIGHTS = {"Sales Rep": Decimal(10), KAM_TITLE: Decimal(12), CSM_TITLE: Decimal(7)}

TEAMS: tuple[DemoTeam, ...] = (
    DemoTeam("t-east", "华东区（上海）", "east", "p-1010"),
    DemoTeam("t-north", "华北区（北京）", "north", "p-1020"),
    DemoTeam("t-south", "华南区（广州）", "south", "p-1030"),
)
# The company's yearly collected-revenue target goes to the regions by these weights.
REGION_WEIGHTS = {"t-east": Decimal(40), "t-north": Decimal(30), "t-south": Decimal(30)}

_REGION_PEOPLE = {
    "t-east": (
        ("p-1010", "陈静", "Chen Jing"),
        ("p-1011", "王伟", "Wang Wei"),
        ("p-1012", "李娜", "Li Na"),
        ("p-1013", "张磊", "Zhang Lei"),
        ("p-1014", "刘洋", "Liu Yang"),
        ("p-1015", "杨帆", "Yang Fan"),
        ("p-1016", "黄丽", "Huang Li"),
        ("p-1017", "周涛", "Zhou Tao"),
        ("p-1018", "吴霞", "Wu Xia"),
    ),
    "t-north": (
        ("p-1020", "孙强", "Sun Qiang"),
        ("p-1021", "马骏", "Ma Jun"),
        ("p-1022", "胡杰", "Hu Jie"),
        ("p-1023", "朱琳", "Zhu Lin"),
        ("p-1024", "高鹏", "Gao Peng"),
        ("p-1025", "何云", "He Yun"),
        ("p-1026", "罗明", "Luo Ming"),
        ("p-1027", "郑红", "Zheng Hong"),
        ("p-1028", "梁凯", "Liang Kai"),
    ),
    "t-south": (
        ("p-1030", "谢华", "Xie Hua"),
        ("p-1031", "宋佳", "Song Jia"),
        ("p-1032", "唐波", "Tang Bo"),
        ("p-1033", "韩梅", "Han Mei"),
        ("p-1034", "冯瑞", "Feng Rui"),
        ("p-1035", "邓宇", "Deng Yu"),
        ("p-1036", "曹兰", "Cao Lan"),
        ("p-1037", "彭飞", "Peng Fei"),
        ("p-1038", "徐宁", "Xu Ning"),
    ),
}
# Position in a region's list → (role, title).
_SLOTS = (
    ("regional_manager", "Regional Sales Manager"),
    ("new_business_rep", "Sales Rep"),
    ("new_business_rep", "Sales Rep"),
    ("new_business_rep", "Sales Rep"),
    ("new_business_rep", "Sales Rep"),
    ("new_business_rep", "Sales Rep"),
    ("account_manager", KAM_TITLE),
    ("account_manager", CSM_TITLE),
    ("sales_assistant", "Pre-sales Consultant"),
)
VP_ID = "p-1000"
DEMO_REP_ID = "p-1011"  # whose dashboard the demo opens (a sales rep in the East)
# Joined this year: their split targets are prorated by active days.
JOINER_ID = "p-1035"


def _email(pinyin: str) -> str:
    return pinyin.lower().replace(" ", ".") + "@northwind.example"


def people(year: int) -> tuple[DemoPerson, ...]:
    """The 30 people: the VP of Sales, HR and finance at the top, then nine per region."""
    out = [
        DemoPerson(
            VP_ID,
            "赵敏",
            "manager",
            "VP of Sales",
            None,
            None,
            _email("Zhao Min"),
            date(year - 6, 3, 1),
        ),
        DemoPerson(
            "p-1001",
            "林晓雨",
            "hr",
            "HR Business Partner",
            None,
            VP_ID,
            _email("Lin Xiaoyu"),
            date(year - 3, 9, 1),
        ),
        DemoPerson(
            "p-1002",
            "郭慧",
            "finance",
            "Finance Controller",
            None,
            VP_ID,
            _email("Guo Hui"),
            date(year - 4, 5, 1),
        ),
    ]
    for team in TEAMS:
        for index, ((person_id, name, pinyin), (role, title)) in enumerate(
            zip(_REGION_PEOPLE[team.team_id], _SLOTS, strict=True)
        ):
            manager = VP_ID if role == "regional_manager" else team.manager_id
            joined = (
                date(year, 7, 1)
                if person_id == JOINER_ID
                else date(year - 1 - index % 5, 1 + (index * 5 + len(out)) % 12, 1)
            )
            out.append(
                DemoPerson(
                    person_id, name, role, title, team.team_id, manager, _email(pinyin), joined
                )
            )
    return tuple(out)


# -- goals ---------------------------------------------------------------------------------------

# The simulated business's own events (deals, money, visits, refunds) in a year. The targets
# below are sized to it: history at this pace lands most people somewhere between 60 % and 110 %
# of pace, so some are warned and some are paid accelerators. The backfill posts the year so far
# at this pace, and a live stream keeps it (the rest of a live stream is chatter that moves no
# goal), so an hour of streaming adds an hour's business, not months of it.
BUSINESS_EVENTS_PER_YEAR = 2200
COMPANY_REVENUE_TARGET = Decimal(48_000_000)  # CNY collected in the year
COMPANY_NEW_CUSTOMERS = Decimal(150)
COMPANY_EFFECTIVE_VISITS = Decimal(480)
# Seasonality: a slow first quarter (Chinese New Year falls in it), a strong fourth.
QUARTER_WEIGHTS = (Decimal(20), Decimal(25), Decimal(25), Decimal(30))
Q1_MONTH_WEIGHTS = (Decimal(35), Decimal(25), Decimal(40))

# The scorecard periods' own targets (imported: quarter, and each of its months a third).
# metric → {role or title: quarterly target}
SCORECARD_TARGETS: dict[str, dict[str, Decimal]] = {
    "new_customer_revenue": {"new_business_rep": Decimal(450_000)},
    "new_customers": {"new_business_rep": Decimal(3)},
    "new_customer_conversion": {"new_business_rep": Decimal("0.25")},
    "effective_visits": {"new_business_rep": Decimal(6), "account_manager": Decimal(6)},
    "existing_customer_revenue": {KAM_TITLE: Decimal(600_000), CSM_TITLE: Decimal(450_000)},
    "repeat_purchase_rate": {"account_manager": Decimal("0.85")},
    "collection_rate": {"account_manager": Decimal("0.9")},
    "customer_satisfaction": {"regional_manager": Decimal(90)},
}
# Ratios and averages keep their target in a month; counts and money take a third.
NON_ADDITIVE = {
    "new_customer_conversion",
    "repeat_purchase_rate",
    "collection_rate",
    "customer_satisfaction",
}

# -- early warning -------------------------------------------------------------------------------

ALERT_SETTINGS: dict[str, Any] = {
    "thresholds": {
        "pace_threshold": "0.9",  # behind pace under 90 % projected ...
        "pace_critical": "0.7",  # ... critical under 70 %
        "pace_min_elapsed": "0.2",  # judged once a fifth of the period has gone
        "late_hours": "24",
        "stalled_days": "14",
        # The simulated stream compresses weeks into minutes: a busy day is not an anomaly here.
        "burst_floor": 400,
        "follow_up_max": 5,
        "spike_change": "0.5",
    },
    "locale": "zh",
}

# -- scorecards ----------------------------------------------------------------------------------

# The tenant's own copies of the shipped role templates, and who is scored on which.
TEMPLATES = {
    "nw_new_business_rep": ("new_business_rep", "Northwind sales rep"),
    "nw_account_manager": ("account_manager", "Northwind account manager"),
    "nw_regional_manager": ("regional_manager", "Northwind regional manager"),
    "nw_sales_assistant": ("sales_assistant", "Northwind pre-sales"),
}
TEMPLATE_OF_ROLE = {role: key for key, (role, _name) in TEMPLATES.items()}
# Northwind's edit of the shipped templates: revenue items may score up to 120 % of their weight.
REVENUE_ITEM_CAP = "1.2"
REVENUE_METRICS = {"new_customer_revenue", "existing_customer_revenue", "collected_revenue"}

# 360° reviews of the quarter: each manager has rated their people (0–100 per qualitative item);
# one peer each is still to answer. HR has entered the regional managers' manual items.
MANAGER_RATINGS = (72, 95)  # the range the managers' ratings fall in
MANUAL_ITEMS = {
    "market_share": (Decimal("0.2"), (Decimal("0.15"), Decimal("0.24"))),  # target, actual range
    "revenue_per_head": (Decimal(2_000_000), (Decimal(1_500_000), Decimal(2_400_000))),
}

# -- pay -----------------------------------------------------------------------------------------


def plans(year: int) -> dict[str, tuple[dict[str, Any], dict[str, list[str]]]]:
    """Plan key → (definition for PUT /v1/plans/{key}, assignment for POST …/assign)."""
    start = date(year, 1, 1).isoformat()
    return {
        "nw-sales-commission": (
            {
                "name": "Sales commission (marginal tiers, accelerators)",
                "effective_from": start,
                "currency": CURRENCY,
                "quota_metric": "collected_revenue",
                "period_kind": "month",
                "components": [
                    {
                        "type": "tiered",
                        "name": "Commission",
                        "mode": "marginal",
                        "tiers": [
                            {"from": "0", "rate": "0.03"},
                            {"from": "1.0", "rate": "0.04"},
                            {"from": "1.2", "rate": "0.05"},
                        ],
                    },
                    {
                        "type": "over_achievement",
                        "name": "Over-achievement bonus",
                        "above": "1.2",
                        "rate": "0.01",
                    },
                    {
                        "type": "top_n",
                        "name": "Top 3 new-customer revenue",
                        "n": 3,
                        "amount": "3000",
                        "measure": "new_customer_revenue",
                    },
                ],
                "statement_cap": "150000",
                "clawback_days": 180,
            },
            {"roles": ["new_business_rep"]},
        ),
        "nw-account-commission": (
            {
                "name": "Account commission (segment rates, NPS bonus)",
                "effective_from": start,
                "currency": CURRENCY,
                "quota_metric": "collected_revenue",
                "period_kind": "month",
                "components": [
                    {
                        "type": "segment",
                        "name": "Commission",
                        "rates": {"new": "0.04", "existing": "0.02"},
                    },
                    {
                        "type": "nps",
                        "name": "NPS bonus",
                        "threshold": "50",
                        "amount": "3000",
                        "min_responses": 5,
                    },
                ],
                "clawback_days": 180,
            },
            {"roles": ["account_manager"]},
        ),
        "nw-manager-bonus": (
            {
                "name": "Manager bonus (target bonus × scorecard, grade-adjusted)",
                "effective_from": start,
                "currency": CURRENCY,
                "quota_metric": "collected_revenue",
                "period_kind": "quarter",
                "components": [
                    {"type": "fixed_bonus", "name": "Leadership allowance", "amount": "6000"},
                    {
                        "type": "target_bonus",
                        "name": "Target bonus",
                        "amount": "40000",
                        "grade_adjusted": True,
                    },
                ],
            },
            {"roles": ["regional_manager", "manager"]},
        ),
        "nw-presales-bonus": (
            {
                "name": "Pre-sales bonus",
                "effective_from": start,
                "currency": CURRENCY,
                "quota_metric": "collected_revenue",
                "period_kind": "month",
                "components": [
                    {"type": "fixed_bonus", "name": "Monthly bonus", "amount": "1500"},
                    {
                        "type": "target_bonus",
                        "name": "Target bonus",
                        "amount": "2500",
                        "grade_adjusted": True,
                    },
                ],
            },
            {"roles": ["sales_assistant"]},
        ),
    }


# Plan acknowledgements still outstanding (a realistic state: HR chases them).
NOT_YET_ACCEPTED = {"p-1015", "p-1034"}
