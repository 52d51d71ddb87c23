"""Read a ``.csv`` or ``.xlsx`` table into numbered rows of text.

Row numbers are those a spreadsheet user sees: the header is row 1, the first data row is 2,
and blank rows keep their number but are not returned. Header names are stripped and
lower-cased; cell values are stripped text (XLSX numbers, dates and times become the text a
user would type: ``1001``, ``52.52``, ``09:00``, ``2026-11-30``).
"""
from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from pathlib import Path

from planner.io.errors import TableError

SUPPORTED_SUFFIXES = (".csv", ".xlsx")

Row = tuple[int, dict[str, str]]


@dataclass(frozen=True)
class Table:
    """A read table: its header (normalized names, in file order) and its non-blank rows."""

    header: tuple[str, ...]
    rows: list[Row] = field(default_factory=list)


def read_rows(path: str | Path) -> list[Row]:
    """``(row_number, {column: text})`` for each non-blank data row of a CSV or XLSX file."""
    return read_table(path).rows


def read_table(path: str | Path) -> Table:
    """Read a ``.csv`` (UTF-8, optional BOM; ``,`` or ``;`` separated) or ``.xlsx`` (first sheet)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise TableError(f"{path.name}: unsupported file type {path.suffix or '(none)'!r}; "
                         f"use a .csv (UTF-8) or .xlsx file")
    if not path.is_file():
        raise TableError(f"{path}: no such file")
    raw = _read_csv(path) if suffix == ".csv" else _read_xlsx(path)
    return _to_table(path, raw)


def _read_csv(path: Path) -> list[tuple[int, list[str]]]:
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise TableError(f"{path.name}: not UTF-8 text (byte {e.start}); save it as 'CSV UTF-8'") from None
    first = text.split("\n", 1)[0]
    delimiter = ";" if ";" in first and "," not in first else ","
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as e:
        raise TableError(f"{path.name}: broken CSV: {e}") from None
    return [(i, rec) for i, rec in enumerate(records, start=1)]


def _read_xlsx(path: Path) -> list[tuple[int, list[str]]]:
    import openpyxl  # heavy-ish; only when an XLSX is read

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as e:  # zipfile.BadZipFile, KeyError, InvalidFileException...
        raise TableError(f"{path.name}: not a readable XLSX workbook ({e})") from None
    try:
        ws = wb.worksheets[0]
        out = []
        for i, cells in enumerate(ws.iter_rows(values_only=True), start=1):
            out.append((i, [_cell_text(v) for v in cells]))
        return out
    finally:
        wb.close()


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0) :
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.time):
        return value.strftime("%H:%M") if not value.second else value.strftime("%H:%M:%S")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _to_table(path: Path, raw: list[tuple[int, list[str]]]) -> Table:
    header_at = next((k for k, (_, cells) in enumerate(raw) if any(c.strip() for c in cells)), None)
    if header_at is None:
        raise TableError(f"{path.name}: the file is empty (a header row is needed)")
    if header_at:
        raise TableError(f"{path.name}: the header must be on row 1 (found blank rows above it)")
    names = [c.strip().lower() for c in raw[0][1]]
    seen: set[str] = set()
    for n in names:
        if n and n in seen:
            raise TableError(f"{path.name}: column {n!r} appears twice in the header")
        seen.add(n)
    rows: list[Row] = []
    for number, cells in raw[1:]:
        if not any(c.strip() for c in cells):
            continue
        values = {n: (cells[k].strip() if k < len(cells) else "") for k, n in enumerate(names) if n}
        rows.append((number, values))
    return Table(header=tuple(n for n in names if n), rows=rows)
