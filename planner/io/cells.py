"""Typed reading of one row's cells, recording a :class:`RowError` for every bad cell.

Each getter returns the parsed value, or ``None`` when the cell is empty (and optional) or bad;
``RowReader.bad`` tells whether any cell of the row failed.
"""
from __future__ import annotations

import math
from typing import Callable, TypeVar

from planner.domain import DomainError, parse_hhmm
from planner.io.errors import HEADER_ROW, RowError

T = TypeVar("T")

TRUE_WORDS = frozenset({"true", "1", "yes", "y", "t"})
FALSE_WORDS = frozenset({"false", "0", "no", "n", "f"})


def missing_columns(header: tuple[str, ...], required: tuple[str, ...]) -> list[RowError]:
    """One header error per required column absent from the header."""
    return [RowError(HEADER_ROW, c, "", "column is missing from the header") for c in required
            if c not in header]


class RowReader:
    """Reads the cells of one data row; errors go into the shared ``errors`` list."""

    def __init__(self, number: int, values: dict[str, str], errors: list[RowError],
                 header: tuple[str, ...]):
        self.row = number
        self.values = values
        self.errors = errors
        self.header = header
        self._start = len(errors)

    @property
    def bad(self) -> bool:
        """True if any cell of this row was reported."""
        return len(self.errors) > self._start

    def fail(self, column: str, message: str, value: str | None = None) -> None:
        """Record an error for ``column`` of this row."""
        self.errors.append(RowError(self.row, column,
                                    self.raw(column) if value is None else value, message))

    def raw(self, column: str) -> str:
        """The cell's text ('' when empty or the column is absent)."""
        return self.values.get(column, "")

    def text(self, column: str, required: bool = False) -> str | None:
        """The cell's text, None when empty. A required empty cell is an error (unless the
        whole column is missing, which is reported once for the header)."""
        v = self.raw(column)
        if v:
            return v
        if required and column in self.header:
            self.fail(column, "a value is required")
        return None

    def number(self, column: str, lo: float | None = None, hi: float | None = None,
               required: bool = False) -> float | None:
        """A finite decimal number, optionally within ``[lo, hi]``."""
        v = self.text(column, required)
        if v is None:
            return None
        try:
            x = float(v)
        except ValueError:
            self.fail(column, "is not a number")
            return None
        if not math.isfinite(x):
            self.fail(column, "is not a finite number")
            return None
        if lo is not None and x < lo or hi is not None and x > hi:
            if hi is None:
                self.fail(column, f"must not be below {lo:g}")
            elif lo is None:
                self.fail(column, f"must not be above {hi:g}")
            else:
                self.fail(column, f"is out of range ({lo:g} to {hi:g})")
            return None
        return x

    def integer(self, column: str, lo: int | None = None, hi: int | None = None,
                required: bool = False) -> int | None:
        """A whole number (``45`` or ``45.0``), optionally within ``[lo, hi]``."""
        v = self.text(column, required)
        if v is None:
            return None
        try:
            x = float(v)
        except ValueError:
            self.fail(column, "is not a whole number")
            return None
        if not math.isfinite(x) or not x.is_integer():
            self.fail(column, "is not a whole number")
            return None
        n = int(x)
        if lo is not None and n < lo:
            self.fail(column, "must be a positive whole number" if lo == 1 else f"must be at least {lo}")
            return None
        if hi is not None and n > hi:
            self.fail(column, f"must be at most {hi}")
            return None
        return n

    def boolean(self, column: str, default: bool) -> bool | None:
        """``true``/``false`` (also ``1``/``0``, ``yes``/``no``); empty: ``default``."""
        v = self.text(column)
        if v is None:
            return default
        w = v.lower()
        if w in TRUE_WORDS:
            return True
        if w in FALSE_WORDS:
            return False
        self.fail(column, "is not true or false (also 1/0, yes/no)")
        return None

    def time(self, column: str, default: int) -> int | None:
        """``HH:MM`` as minutes after midnight; empty: ``default``."""
        return self.parsed(column, parse_hhmm, default, "is not a time of day HH:MM")

    def parsed(self, column: str, parse: Callable[[str], T], default: T | None = None,
               message: str | None = None) -> T | None:
        """Apply a domain parser; a :class:`DomainError` becomes an error of this cell."""
        v = self.text(column)
        if v is None:
            return default
        try:
            return parse(v)
        except DomainError as e:
            self.fail(column, message or _reason(e))
            return None


def _reason(e: DomainError) -> str:
    return f"is not valid: {e}"


def check_duplicate_ids(rows: list[tuple[int, dict[str, str]]], errors: list[RowError]) -> set[int]:
    """Report every row whose ``id`` appears on another row too (naming all those rows).

    Returns the numbers of the rows with a duplicated id.
    """
    where: dict[str, list[int]] = {}
    for number, values in rows:
        cid = values.get("id", "")
        if cid:
            where.setdefault(cid, []).append(number)
    bad: set[int] = set()
    for cid, numbers in where.items():
        if len(numbers) > 1:
            listed = ", ".join(str(n) for n in numbers[:-1]) + f" and {numbers[-1]}"
            for n in numbers:
                errors.append(RowError(n, "id", cid, f"is a duplicate id: it appears on rows {listed}"))
                bad.add(n)
    return bad
