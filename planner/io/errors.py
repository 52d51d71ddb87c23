"""Errors of an import: one :class:`RowError` per bad cell, collected into an :class:`ImportResult`."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")

HEADER_ROW = 1


class TableError(ValueError):
    """The file as a whole cannot be read (unknown type, not UTF-8, no header, broken XLSX)."""


@dataclass(frozen=True, order=True)
class RowError:
    """One bad cell: its row as a spreadsheet user sees it (header = 1), column, value and why.

    ``str()`` reads like ``row 7, column 'lat': 'abc' is not a number``.
    """

    row: int
    column: str
    value: str
    message: str

    def __str__(self) -> str:
        if self.value != "":
            return f"row {self.row}, column {self.column!r}: {self.value!r} {self.message}"
        return f"row {self.row}, column {self.column!r}: {self.message}"


@dataclass
class ImportResult(Generic[T]):
    """What a file parses into: the domain objects of its good rows, and every error found.

    ``rows`` is the number of data rows read (blank rows are not counted). A header error
    (a missing column) makes every row bad.
    """

    items: list[T] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    rows: int = 0

    @property
    def ok(self) -> bool:
        """True if no error was found."""
        return not self.errors

    @property
    def bad_rows(self) -> set[int]:
        """Row numbers with at least one error (the header row excluded)."""
        return {e.row for e in self.errors if e.row != HEADER_ROW}

    @property
    def header_errors(self) -> list[RowError]:
        """Errors of the header row (missing columns)."""
        return [e for e in self.errors if e.row == HEADER_ROW]

    def report(self) -> str:
        """Every error, one a line."""
        return "\n".join(str(e) for e in self.errors)
