"""Import a customers or reps file into the database, all-or-nothing.

The file is read and validated completely before anything is written. If any row is bad, the
import is rejected with every error (:class:`ImportRejected`) and nothing is written — unless
``skip_bad_rows`` is set, in which case the good rows are written and the errors returned in the
:class:`ImportSummary`. The write happens in one transaction, committed on success and rolled
back on any failure.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from sqlalchemy.orm import Session

from planner.db.repository import upsert_customers, upsert_reps
from planner.domain import VisitPolicy
from planner.io.customers import parse_customers
from planner.io.errors import ImportResult, RowError
from planner.io.reps import parse_reps


class ImportRejected(ValueError):
    """The file has bad rows; nothing was written. ``errors`` lists every bad cell."""

    def __init__(self, errors: list[RowError], source: str | None = None):
        self.errors = list(errors)
        self.source = source
        rows = {e.row for e in self.errors}
        head = (f"{source}: " if source else "") + (
            f"import rejected, nothing was written: {len(self.errors)} error(s) on {len(rows)} row(s)")
        super().__init__("\n".join([head, *(f"  {e}" for e in self.errors)]))


@dataclass
class ImportSummary:
    """What an import did: rows inserted, updated, and skipped (bad), with the errors found."""

    inserted: int = 0
    updated: int = 0
    skipped: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def written(self) -> int:
        """Rows written (inserted + updated)."""
        return self.inserted + self.updated

    def __str__(self) -> str:
        text = f"{self.inserted} inserted, {self.updated} updated, {self.skipped} skipped"
        return text + "".join(f"\n  {e}" for e in self.errors)


def import_customers(session: Session, path: str | Path, policy: VisitPolicy, *,
                     skip_bad_rows: bool = False, geocoder: Any = None,
                     geocode_cache: str | Path | None = None) -> ImportSummary:
    """Validate a customers file and upsert its customers in one transaction (see module doc)."""
    result = parse_customers(path, policy, geocoder, geocode_cache=geocode_cache)
    return _write(session, result, upsert_customers, skip_bad_rows, Path(path).name)


def import_reps(session: Session, path: str | Path, *, skip_bad_rows: bool = False) -> ImportSummary:
    """Validate a reps file and upsert its reps in one transaction (see module doc)."""
    return _write(session, parse_reps(path), upsert_reps, skip_bad_rows, Path(path).name)


def _write(session: Session, result: ImportResult, upsert: Callable, skip_bad_rows: bool,
           source: str) -> ImportSummary:
    if result.errors and not skip_bad_rows:
        raise ImportRejected(result.errors, source)
    skipped = result.rows if result.header_errors else len(result.bad_rows)
    try:
        inserted, updated = upsert(session, result.items) if result.items else (0, 0)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return ImportSummary(inserted=inserted, updated=updated, skipped=skipped, errors=list(result.errors))
