from __future__ import annotations

import io
import zipfile
from datetime import date, datetime
from decimal import Decimal

import pytest
from openpyxl import Workbook

from goals.imports.parsing import (
    XLSX_CONTENT_TYPE,
    CellError,
    Column,
    ImportFileError,
    cell_text,
    parse_choice,
    parse_date,
    parse_decimal,
    parse_rows,
    read_table,
)

COLUMNS = [
    Column("email"),
    Column("name"),
    Column("target", parse=parse_decimal, aliases=("quota",)),
    Column("start_date", parse=parse_date),
    Column("role", required=False, parse=parse_choice("rep", "manager")),
]


def xlsx(rows: list[list[object]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_csv_with_bom_and_semicolons() -> None:
    data = "\ufeffEmail;Name;Quota;Start Date\r\na@x.io;Ann;1200000;2026-03-01\r\n".encode()
    headers, rows = read_table(data, "people.csv", "text/csv")
    assert headers == ["email", "name", "quota", "start_date"]
    parsed, errors = parse_rows(headers, rows, COLUMNS)
    assert errors == []
    assert parsed == [
        (
            2,
            {
                "email": "a@x.io",
                "name": "Ann",
                "target": Decimal("1200000"),
                "start_date": date(2026, 3, 1),
                "role": None,
            },
        )
    ]


def test_tab_delimited_and_quoted_cells() -> None:
    data = b'email\tname\tnote\na@x.io\t"Ann, Jr."\t"two\nlines"\nb@x.io\tBob\t\n'
    headers, rows = read_table(data, None, None)
    assert headers == ["email", "name", "note"]
    # the quoted cell spans two lines of the file but is one spreadsheet row
    assert rows == [
        (2, {"email": "a@x.io", "name": "Ann, Jr.", "note": "two\nlines"}),
        (3, {"email": "b@x.io", "name": "Bob", "note": ""}),
    ]


def test_gb18030_csv_with_chinese_names() -> None:
    text = "email,name,target,start_date,role\nzw@x.cn,张伟,500000,2026/3/1,经理\n"
    headers, rows = read_table(text.encode("gb18030"), "名单.csv", "application/vnd.ms-excel")
    assert rows[0][1]["name"] == "张伟"
    parsed, errors = parse_rows(headers, rows, COLUMNS)
    assert parsed == []
    assert errors == [CellError(2, "role", "must be one of rep, manager: got '经理'")]
    rows[0][1]["role"] = "Manager"
    parsed, errors = parse_rows(headers, rows, COLUMNS)
    assert errors == []
    assert parsed[0][1]["name"] == "张伟"
    assert parsed[0][1]["role"] == "manager"
    assert parsed[0][1]["start_date"] == date(2026, 3, 1)


def test_xlsx_with_date_int_and_float_cells() -> None:
    data = xlsx(
        [
            ["Email", "Name", "Target", "Start Date", "Count", "Ratio", "At"],
            ["a@x.io", "Ann", 1200000, datetime(2026, 3, 1), 12, 0.25, datetime(2026, 3, 1, 9, 30)],
            ["b@x.io", "Bob", 1500.5, date(2026, 4, 15), 3, 12.0, None],
        ]
    )
    # the zip magic wins over a misleading name and content type
    headers, rows = read_table(data, "export.csv", "text/csv")
    assert headers == ["email", "name", "target", "start_date", "count", "ratio", "at"]
    assert rows[0] == (
        2,
        {
            "email": "a@x.io",
            "name": "Ann",
            "target": "1200000",
            "start_date": "2026-03-01",
            "count": "12",
            "ratio": "0.25",
            "at": "2026-03-01T09:30:00",
        },
    )
    assert rows[1][1]["target"] == "1500.5"
    assert rows[1][1]["start_date"] == "2026-04-15"
    assert rows[1][1]["ratio"] == "12"
    assert rows[1][1]["at"] == ""
    parsed, errors = parse_rows(headers, rows, COLUMNS)
    assert errors == []
    assert [values["target"] for _, values in parsed] == [Decimal("1200000"), Decimal("1500.5")]


def test_xlsx_blank_rows_keep_spreadsheet_numbering() -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet["A1"], sheet["B1"] = "email", "name"
    sheet["A2"], sheet["B2"] = "a@x.io", "Ann"
    sheet["A5"], sheet["B5"] = "b@x.io", "Bob"  # rows 3 and 4 are absent from the file
    sheet["A6"] = "   "  # whitespace only: blank
    sheet["A7"], sheet["B7"] = "c@x.io", "Cy"
    out = io.BytesIO()
    book.save(out)
    _, rows = read_table(out.getvalue(), "p.xlsx", XLSX_CONTENT_TYPE)
    assert [number for number, _ in rows] == [2, 5, 7]


def test_cell_text() -> None:
    assert cell_text(1e20) == "100000000000000000000"
    assert cell_text(1.5e-7) == "0.00000015"
    assert cell_text(True) == "TRUE"
    assert cell_text(Decimal("2.50")) == "2.50"


def test_two_bad_rows_report_every_error_with_row_and_column() -> None:
    data = (
        b"email,name,quota,start_date\n"
        b"a@x.io,Ann,100,2026-03-01\n"
        b"b@x.io,Bob,abc,2026-03-01\n"
        b"c@x.io,Cy,300,2026-03-01\n"
        b",Di,400,2026-02-30\n"
    )
    headers, rows = read_table(data, "p.csv", "text/csv")
    parsed, errors = parse_rows(headers, rows, COLUMNS)
    assert errors == [
        CellError(row=3, column="quota", detail="not a number: 'abc'"),
        CellError(row=5, column="email", detail="required"),
        CellError(row=5, column="start_date", detail="no such date: '2026-02-30'"),
    ]
    assert [number for number, _ in parsed] == [2, 4]  # the caller applies nothing: errors exist


def test_missing_required_header_names_the_column() -> None:
    headers, rows = read_table(b"email,name,start_date\na@x.io,Ann,2026-03-01\n", None, None)
    with pytest.raises(ImportFileError, match="missing required column: 'target'") as caught:
        parse_rows(headers, rows, COLUMNS)
    assert caught.value.column == "target"


def test_alias_and_name_together_are_ambiguous() -> None:
    headers, rows = read_table(b"email,name,target,quota,start_date\n", None, None)
    with pytest.raises(ImportFileError, match="both give 'target'") as caught:
        parse_rows(headers, rows, COLUMNS)
    assert caught.value.column == "target"


def test_duplicate_header() -> None:
    with pytest.raises(ImportFileError) as caught:
        read_table(b"email,Email\na,b\n", None, None)
    assert caught.value.column == "email"


def test_blank_rows_skipped_numbering_kept() -> None:
    data = b"email,name\n\na@x.io,Ann\n , \n,,\nb@x.io,Bob\n"
    headers, rows = read_table(data, None, None)
    assert headers == ["email", "name"]
    assert [(n, r["email"]) for n, r in rows] == [(3, "a@x.io"), (6, "b@x.io")]


def test_trailing_empty_headers_and_short_rows() -> None:
    headers, rows = read_table(b"email,name,,\na@x.io\n", None, None)
    assert headers == ["email", "name"]
    assert rows == [(2, {"email": "a@x.io", "name": ""})]


def test_too_many_rows() -> None:
    data = b"email\n" + b"a@x.io\n" * 4
    assert len(read_table(data, None, None, max_rows=4)[1]) == 4
    with pytest.raises(ImportFileError, match="too many rows"):
        read_table(data, None, None, max_rows=3)


@pytest.mark.parametrize(
    ("data", "filename", "content_type"),
    [
        (b"", "p.csv", "text/csv"),
        (b"\n , \n\n", "p.csv", "text/csv"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "p.csv", None),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\x00", None, None),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, "old.xls", None),
        (b"PK\x03\x04not really a zip", "p.xlsx", None),
        (b"email,name\na,b\n", "p.xlsx", None),
        (b"email,name\na,b\n", None, XLSX_CONTENT_TYPE),
        (b"\x80\x81\xfe" * 10, None, None),
    ],
)
def test_not_a_spreadsheet(data: bytes, filename: str | None, content_type: str | None) -> None:
    with pytest.raises(ImportFileError):
        read_table(data, filename, content_type)


def test_a_zip_that_is_not_a_workbook() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("hello.txt", "hi")
    with pytest.raises(ImportFileError, match="not a valid XLSX"):
        read_table(out.getvalue(), "p.xlsx", None)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1200000", Decimal("1200000")),
        ("1,200,000.50", Decimal("1200000.50")),
        ("-3.5", Decimal("-3.5")),
        (".5", Decimal("0.5")),
        ("１２００", Decimal("1200")),
    ],
)
def test_parse_decimal(text: str, expected: Decimal) -> None:
    assert parse_decimal(text) == expected


@pytest.mark.parametrize(
    "text", ["abc", "NaN", "Infinity", "-inf", "1,5", "12,34,567", "1_000", "$100", "1e5", "-", "."]
)
def test_parse_decimal_refuses(text: str) -> None:
    with pytest.raises(ValueError, match="not a number"):
        parse_decimal(text)


@pytest.mark.parametrize(
    "text",
    ["2026-03-01", "2026/03/01", "2026/3/1", "2026-03-01T09:30:00", "2026-03-01 23:59:59+08:00"],
)
def test_parse_date(text: str) -> None:
    assert parse_date(text) == date(2026, 3, 1)


@pytest.mark.parametrize("text", ["03/01/2026", "2026-03/01", "20260301", "2026-03-01T25:00", "x"])
def test_parse_date_refuses(text: str) -> None:
    with pytest.raises(ValueError, match="not a date"):
        parse_date(text)


def test_parse_choice() -> None:
    parse = parse_choice("Rep", "Manager")
    assert parse("manager") == "Manager"
    with pytest.raises(ValueError, match="must be one of Rep, Manager: got 'boss'"):
        parse("boss")
