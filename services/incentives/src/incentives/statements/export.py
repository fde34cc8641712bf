"""Payroll export of a period's approved and paid statements: one row per statement line, naming
the payee (name and id), their team, the period, the component, the amount and its currency.

CSV for systems, XLSX for people: a sheet named after the period, money in a number format with two
decimals (never text), a bold header frozen above the rows, an autofilter and column widths fitted
to what the cells hold. Names and teams are what goals announced on goals.org.v1 (incentives never
reads goals' tables); someone goals has not named yet is exported by id with an empty name.
"""

from __future__ import annotations

import csv
import io
import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from incentives.models import PersonRole, Statement, org
from shared.periods import parse_period

HEADER = (
    "person_id",
    "person_name",
    "team_id",
    "team_name",
    "period",
    "status",
    "component",
    "amount",
    "currency",
    "statement_total",
)
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MONEY_FORMAT = "#,##0.00"
MONEY_COLUMNS = ("amount", "statement_total")


@dataclass(frozen=True, slots=True)
class PayrollRow:
    person_id: str
    person_name: str
    team_id: str
    team_name: str
    period: str
    status: str
    component: str
    amount: Decimal | None  # None: a line still waiting for the final grade
    currency: str
    statement_total: Decimal

    def cells(self) -> tuple[str | Decimal | None, ...]:
        return (
            self.person_id,
            self.person_name,
            self.team_id,
            self.team_name,
            self.period,
            self.status,
            self.component,
            self.amount,
            self.currency,
            self.statement_total,
        )


async def payroll_rows(
    session: AsyncSession, tenant_id: uuid.UUID, period: str
) -> list[PayrollRow]:
    """The rows of a period's approved and paid statements, by person then line order; each
    person's team is the one they belonged to on the period's last day."""
    statements = list(
        await session.scalars(
            select(Statement)
            .where(
                Statement.tenant_id == tenant_id,
                Statement.period == period,
                Statement.status.in_(("approved", "paid")),
            )
            .order_by(Statement.person_id)
        )
    )
    people = sorted({s.person_id for s in statements})
    found = await session.execute(
        select(PersonRole.person_id, PersonRole.name).where(
            PersonRole.tenant_id == tenant_id, PersonRole.person_id.in_(people)
        )
    )
    names = {person: name for person, name in found}
    teams = await _teams_on(session, tenant_id, people, _last_day(period))
    rows: list[PayrollRow] = []
    for s in statements:
        team_id, team_name = teams.get(s.person_id, ("", ""))
        for line in s.lines:
            amount = line.get("amount")
            rows.append(
                PayrollRow(
                    person_id=s.person_id,
                    person_name=names.get(s.person_id) or "",
                    team_id=team_id,
                    team_name=team_name,
                    period=s.period,
                    status=s.status,
                    component=str(line["component"]),
                    amount=None if amount in (None, "") else Decimal(str(amount)),
                    currency=s.currency,
                    statement_total=s.total,
                )
            )
    return rows


def _last_day(period: str) -> date | None:
    try:
        return parse_period(period).end
    except ValueError:
        return None


async def _teams_on(
    session: AsyncSession, tenant_id: uuid.UUID, people: list[str], day: date | None
) -> dict[str, tuple[str, str]]:
    """Each person's team (id, name) on a day, from the memberships goals announced."""
    if not people or day is None:
        return {}
    t, m = org.teams.c, org.memberships.c
    rows = await session.execute(
        select(m.person_id, m.team_id, t.name)
        .select_from(
            org.memberships.outerjoin(
                org.teams, (t.tenant_id == m.tenant_id) & (t.team_id == m.team_id)
            )
        )
        .where(
            m.tenant_id == tenant_id,
            m.person_id.in_(people),
            m.valid_from <= day,
            m.valid_to.is_(None) | (m.valid_to >= day),
        )
        .order_by(m.person_id, m.valid_from)
    )
    return {r.person_id: (r.team_id, r.name or "") for r in rows}


def to_csv(rows: list[PayrollRow]) -> str:
    """UTF-8 text for payroll systems (people open the XLSX)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    for row in rows:
        writer.writerow(["" if c is None else str(c) for c in row.cells()])
    return out.getvalue()


def to_xlsx(rows: list[PayrollRow], period: str) -> bytes:
    """A workbook with one sheet, "Payroll <period>": typed cells, money formats, a bold frozen
    header with an autofilter, and column widths fitted to the contents."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = f"Payroll {period}"[:31]  # Excel's limit on a sheet name
    sheet.append(list(HEADER))
    for row in rows:
        sheet.append(list(row.cells()))
    bold = Font(bold=True)
    for cell in sheet[1]:
        cell.font = bold
        cell.alignment = Alignment(vertical="center")
    money = {HEADER.index(name) + 1 for name in MONEY_COLUMNS}
    for column in money:
        for (cell,) in sheet.iter_rows(min_row=2, min_col=column, max_col=column):
            cell.number_format = MONEY_FORMAT
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions
    for index, name in enumerate(HEADER, start=1):
        width = max(
            [_display_width(name)]
            + [_display_width(_shown(r.cells()[index - 1], index in money)) for r in rows]
        )
        sheet.column_dimensions[get_column_letter(index)].width = min(60, width + 2)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def _shown(value: str | Decimal | None, money: bool) -> str:
    if value is None:
        return ""
    if money and isinstance(value, Decimal):
        return f"{value:,.2f}"
    return str(value)


def _display_width(text: str) -> int:
    """Columns a text takes in a spreadsheet: a CJK character is about two Latin ones wide."""
    return sum(2 if ord(ch) >= 0x2E80 else 1 for ch in text)
