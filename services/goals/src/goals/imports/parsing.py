"""All-or-nothing spreadsheet import: read a CSV or XLSX upload, check every cell, report every error.

The flow for an import endpoint:

    headers, rows = read_table(data, filename, content_type)   # ImportFileError: whole-file problem
    parsed, errors = parse_rows(headers, rows, COLUMNS)        # ImportFileError: missing column
    if errors: report them all and change nothing
    else: apply `parsed`

Row numbers are the ones a person sees in Excel: the header is row 1 (when it is the first line), the
first data row is row 2, and blank rows are skipped without renumbering what follows.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
import zipfile
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DEFAULT_MAX_ROWS = 100_000

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .xls (and .doc, .msg, ...)
# An XLSX is a zip: refuse one that unpacks to more than this (a zip bomb), before openpyxl reads it.
_MAX_XLSX_UNPACKED_BYTES = 256 * 1024 * 1024
_CSV_DELIMITERS = (",", ";", "\t")  # on a tie the first wins
# Text files never hold these; binary files (images, PDFs, zips, ...) almost always do.
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class CellError:
    """One bad cell: `row` as numbered in the spreadsheet, `column` the header as written in the file."""

    row: int
    column: str
    detail: str


@dataclass(frozen=True)
class Column:
    """An expected column. `parse` gets the stripped, non-empty cell text and raises ValueError with a
    message for a person; an empty cell is "required" for a required column, None for an optional one."""

    name: str
    required: bool = True
    parse: Callable[[str], Any] = str
    aliases: tuple[str, ...] = ()


class ImportFileError(ValueError):
    """The file as a whole can't be imported (not a CSV/XLSX, empty, bad or missing header, too big)."""

    def __init__(self, message: str, *, column: str | None = None) -> None:
        super().__init__(message)
        self.column = column


Rows = list[tuple[int, dict[str, str]]]


def normalise_header(text: str) -> str:
    """'  Start Date ' -> 'start_date' (whitespace runs, tabs and no-break spaces become one '_')."""
    return "_".join(text.split()).lower()


# --- reading ---------------------------------------------------------------------------------------


def read_table(
    data: bytes,
    filename: str | None,
    content_type: str | None,
    *,
    max_rows: int = DEFAULT_MAX_ROWS,
) -> tuple[list[str], Rows]:
    """Read an uploaded CSV or XLSX into (headers, [(row_number, {header: cell_text})]).

    Headers are normalised (see `normalise_header`); columns with an empty header are dropped. Cell
    text is stripped; a row whose cells are all empty is skipped, but still counts for numbering.
    At most `max_rows` data rows are accepted.
    """
    if not data:
        raise ImportFileError("the file is empty")
    if data.startswith(_ZIP_MAGIC):
        lines: Generator[tuple[int, list[str]]] = _xlsx_lines(data)
    elif data.startswith(_OLE_MAGIC):
        raise ImportFileError("old-style .xls files are not supported: save it as .xlsx or CSV")
    elif _says_xlsx(filename, content_type):
        raise ImportFileError("not a valid XLSX file")
    else:
        lines = _csv_lines(_decode_text(data))
    try:
        return _table(lines, max_rows)
    finally:
        lines.close()  # closes the workbook when _table stopped early


def _says_xlsx(filename: str | None, content_type: str | None) -> bool:
    # Only the precise XLSX type: Windows browsers send application/vnd.ms-excel for .csv files.
    if content_type and content_type.split(";")[0].strip().lower() == XLSX_CONTENT_TYPE:
        return True
    return filename is not None and filename.strip().lower().endswith(".xlsx")


def _table(lines: Iterator[tuple[int, list[str]]], max_rows: int) -> tuple[list[str], Rows]:
    header_cells: list[str] | None = None
    for _, cells in lines:
        if any(cells):
            header_cells = cells
            break
    if header_cells is None:
        raise ImportFileError("the file is empty")

    # (position in the row, normalised header); empty headers (e.g. Excel's trailing commas) dropped
    keyed: list[tuple[int, str]] = []
    seen: set[str] = set()
    for position, raw in enumerate(header_cells):
        name = normalise_header(raw)
        if not name:
            continue
        if name in seen:
            raise ImportFileError(f"column {name!r} appears more than once", column=name)
        seen.add(name)
        keyed.append((position, name))
    headers = [name for _, name in keyed]

    rows: Rows = []
    for number, cells in lines:
        if not any(cells):
            continue
        if len(rows) >= max_rows:
            raise ImportFileError(f"too many rows: at most {max_rows} can be imported at once")
        width = len(cells)
        rows.append(
            (
                number,
                {name: cells[position] if position < width else "" for position, name in keyed},
            )
        )
    return headers, rows


def _decode_text(data: bytes) -> str:
    if data.startswith(codecs.BOM_UTF8):
        text = _decode(data, "utf-8-sig")
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = _decode(data, "utf-16")  # Excel's "Unicode text" export
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            # Excel in a Chinese locale saves "CSV" as GB18030 (GBK), without a BOM
            text = _decode(data, "gb18030")
    if _CONTROL_CHARS.search(text):
        raise ImportFileError("not a CSV or XLSX file")
    return text


def _decode(data: bytes, encoding: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        raise ImportFileError(
            "not a CSV or XLSX file (CSV text must be UTF-8 or GB18030)"
        ) from None


def _csv_lines(text: str) -> Generator[tuple[int, list[str]]]:
    delimiter = _sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    number = 0
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise ImportFileError(f"row {number + 1}: unreadable CSV ({exc})") from None
        # a record is one spreadsheet row, even when a quoted cell spans several lines of the file
        number += 1
        yield number, [cell.strip() for cell in record]


def _sniff_delimiter(text: str) -> str:
    """The delimiter that splits the header (the first non-blank record) into the most cells."""
    best, best_width = _CSV_DELIMITERS[0], 0
    for delimiter in _CSV_DELIMITERS:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        try:
            # blank under every candidate, so that " , " can't pass for a one-column header
            first = next((r for r in reader if any(c.strip(" \t,;") for c in r)), [])
        except csv.Error:
            continue
        if len(first) > best_width:
            best, best_width = delimiter, len(first)
    return best


def _xlsx_lines(data: bytes) -> Generator[tuple[int, list[str]]]:
    # openpyxl is imported here so that a CSV-only caller doesn't pay for it
    from openpyxl import load_workbook

    buffer = io.BytesIO(data)
    try:
        with zipfile.ZipFile(buffer) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        raise ImportFileError("not a valid XLSX file") from None
    if unpacked > _MAX_XLSX_UNPACKED_BYTES:
        raise ImportFileError("the XLSX file is too large")

    try:
        workbook = load_workbook(buffer, read_only=True, data_only=True)
    except Exception:  # a zip that isn't a workbook fails in many ways (KeyError, XML errors, ...)
        raise ImportFileError("not a valid XLSX file") from None
    try:
        if not workbook.worksheets:
            raise ImportFileError("the XLSX file has no worksheet")
        sheet = workbook.worksheets[0]
        # The stored dimensions are wrong in files from some tools (e.g. 'A1:A1'), which would cut
        # rows off silently; without them every row actually present is read.
        sheet.reset_dimensions()
        # min_row=1 makes openpyxl yield an empty tuple for each row missing from the file, so the
        # position is the row number.
        values: Iterable[tuple[Any, ...]] = sheet.iter_rows(min_row=1, values_only=True)
        try:
            for number, row in enumerate(values, start=1):
                yield number, [cell_text(value) for value in row]
        except ImportFileError:
            raise
        except Exception:
            raise ImportFileError("the XLSX file is damaged and can't be read") from None
    finally:
        workbook.close()


def cell_text(value: Any) -> str:
    """An XLSX cell value as the text a person would type for it (dates ISO, 12 not 12.0)."""
    if value is None:
        return ""
    if isinstance(value, bool):  # before int: bool is an int
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime):  # before date: datetime is a date
        if value.time() == time(0, 0) and value.tzinfo is None:
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return str(value)
        return _decimal_text(Decimal(str(value)))
    if isinstance(value, Decimal):
        return _decimal_text(value)
    if isinstance(value, timedelta):
        return str(value)
    return str(value).strip()


def _decimal_text(value: Decimal) -> str:
    text = format(value, "f")
    return text[:-2] if text.endswith(".0") else text


# --- checking --------------------------------------------------------------------------------------


def parse_rows(
    headers: Sequence[str],
    rows: Sequence[tuple[int, dict[str, str]]],
    columns: Sequence[Column],
) -> tuple[list[tuple[int, dict[str, Any]]], list[CellError]]:
    """Convert every cell with its column's parser.

    Returns the rows that converted cleanly, as (row_number, {column.name: value}) with every
    column present (None for an absent optional column), and every cell error in row order. Import
    nothing unless the error list is empty. Columns in the file that no Column names are ignored.
    Raises ImportFileError for a missing required column, or two headers naming the same column.
    """
    by_name: dict[str, Column] = {}
    for column in columns:
        for name in (column.name, *column.aliases):
            key = normalise_header(name)
            if key in by_name and by_name[key] is not column:
                raise ValueError(f"columns {by_name[key].name!r} and {column.name!r} share {key!r}")
            by_name[key] = column

    header_of: dict[str, str] = {}  # column.name -> the header in the file that gives it
    for header in headers:
        found = by_name.get(normalise_header(header))
        if found is None:
            continue
        if found.name in header_of:
            raise ImportFileError(
                f"columns {header_of[found.name]!r} and {header!r} both give {found.name!r}",
                column=found.name,
            )
        header_of[found.name] = header

    missing = [c.name for c in columns if c.required and c.name not in header_of]
    if missing:
        listed = ", ".join(repr(name) for name in missing)
        plural = "s" if len(missing) > 1 else ""
        raise ImportFileError(f"missing required column{plural}: {listed}", column=missing[0])

    parsed: list[tuple[int, dict[str, Any]]] = []
    errors: list[CellError] = []
    for number, cells in rows:
        values: dict[str, Any] = {}
        row_errors: list[CellError] = []
        for column in columns:
            source = header_of.get(column.name)
            text = cells.get(source, "").strip() if source is not None else ""
            if not text:
                if column.required:
                    row_errors.append(CellError(number, source or column.name, "required"))
                values[column.name] = None
                continue
            try:
                values[column.name] = column.parse(text)
            except ValueError as exc:
                detail = str(exc) or f"invalid value: {text!r}"
                row_errors.append(CellError(number, source or column.name, detail))
        if row_errors:
            errors.extend(row_errors)
        else:
            parsed.append((number, values))
    return parsed, errors


# --- cell parsers ----------------------------------------------------------------------------------

_NUMBER = re.compile(r"[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)?(?:\.\d+)?", re.ASCII)
_DATE = re.compile(r"(\d{4})([-/])(\d{1,2})\2(\d{1,2})(?:[T ](.+))?", re.ASCII)
_TIME = re.compile(
    r"(\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?\s*(?:Z|[+-]\d{2}(?::?\d{2})?)?", re.ASCII
)


def parse_decimal(text: str) -> Decimal:
    """'1200000', '1,200,000.50', '-3.5', '.5' (full-width digits too). Commas must group by three:
    '1,5' is refused rather than read as 15, since in much of Europe it means 1.5."""
    cleaned = unicodedata.normalize("NFKC", text).strip()
    if not any(ch.isdigit() for ch in cleaned) or not _NUMBER.fullmatch(cleaned):
        raise ValueError(f"not a number: {text!r}")
    try:
        return Decimal(cleaned.replace(",", ""))
    except InvalidOperation:  # pragma: no cover - the pattern admits only valid decimals
        raise ValueError(f"not a number: {text!r}") from None


def parse_date(text: str) -> date:
    """'2026-03-01', '2026/03/01', '2026/3/1'; a date-time ('2026-03-01T09:30:00') gives its date."""
    cleaned = unicodedata.normalize("NFKC", text).strip()
    match = _DATE.fullmatch(cleaned)
    if match is None:
        raise ValueError(f"not a date (expected YYYY-MM-DD): {text!r}")
    year, _, month, day, clock = match.groups()
    if clock is not None:
        t = _TIME.fullmatch(clock.strip())
        if t is None or int(t[1]) > 23 or int(t[2]) > 59 or int(t[3] or 0) > 59:
            raise ValueError(f"not a date (expected YYYY-MM-DD): {text!r}")
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        raise ValueError(f"no such date: {text!r}") from None


def parse_choice(*allowed: str) -> Callable[[str], str]:
    """A parser accepting one of `allowed` in any case, returning it spelled as in `allowed`."""
    if not allowed:
        raise ValueError("parse_choice needs at least one allowed value")
    canonical = {value.casefold(): value for value in allowed}
    listing = ", ".join(allowed)

    def parse(text: str) -> str:
        try:
            return canonical[text.strip().casefold()]
        except KeyError:
            raise ValueError(f"must be one of {listing}: got {text!r}") from None

    return parse
