"""Importing customers and reps from a manager's spreadsheet (CSV or XLSX).

* :mod:`planner.io.tables` reads a ``.csv`` (UTF-8, with or without BOM) or ``.xlsx`` file into
  numbered rows, numbered as a spreadsheet user sees them (the header is row 1).
* :mod:`planner.io.customers` and :mod:`planner.io.reps` validate every cell and turn good rows
  into domain objects, collecting every error of every row as a :class:`RowError`.
* :mod:`planner.io.service` writes an import to the database all-or-nothing (or, when asked,
  only the good rows).

The column names are those of ``shared/spec/interfaces.md``; extra columns are ignored.
"""
from planner.io.errors import ImportResult, RowError, TableError

__all__ = ["ImportResult", "RowError", "TableError"]
