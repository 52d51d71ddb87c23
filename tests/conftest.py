"""Shared fixtures.

Database fixtures are parametrized over SQLite (a file in ``tmp_path``) and PostgreSQL, the
latter only when ``PLANNER_TEST_POSTGRES_URL`` is set (e.g.
``postgresql+psycopg://planner:planner@127.0.0.1:5432/planner_test``). Each PostgreSQL test gets
a schema of its own (dropped afterwards), so tests are independent.
"""
from __future__ import annotations

import csv
import os
import uuid
from pathlib import Path
from types import SimpleNamespace
from typing import Iterator, Sequence

import pytest

PG_ENV = "PLANNER_TEST_POSTGRES_URL"

DB_BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql",
                 marks=pytest.mark.skipif(not os.environ.get(PG_ENV), reason=f"{PG_ENV} is not set")),
]


@pytest.fixture(params=DB_BACKENDS)
def fresh_engine(request, tmp_path) -> Iterator:
    """An engine on an empty database (no tables), SQLite or PostgreSQL."""
    from sqlalchemy import text

    from planner.db.session import make_engine

    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'planner-test.db'}")
        yield engine
        engine.dispose()
        return
    url = os.environ[PG_ENV]
    schema = f"test_{uuid.uuid4().hex[:12]}"
    admin = make_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = make_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def engine(fresh_engine):
    """An engine on a database migrated to the newest schema."""
    from planner.db.session import init_db

    init_db(fresh_engine)
    return fresh_engine


@pytest.fixture
def session(engine) -> Iterator:
    """A session on a migrated database."""
    from planner.db.session import make_session_factory

    with make_session_factory(engine)() as s:
        yield s


@pytest.fixture
def session_factory(engine):
    """A session factory on a migrated database (to look with a second, independent session)."""
    from planner.db.session import make_session_factory

    return make_session_factory(engine)


# ----------------------------------------------------------------------------------------------
# Spreadsheets and geocoding
# ----------------------------------------------------------------------------------------------
def write_csv(path: Path, rows: Sequence[Sequence[object]], *, bom: bool = False) -> Path:
    """Write rows (the first is the header) as a UTF-8 CSV, optionally with a BOM."""
    with open(path, "w", newline="", encoding="utf-8-sig" if bom else "utf-8") as f:
        csv.writer(f).writerows(rows)
    return path


def write_xlsx(path: Path, rows: Sequence[Sequence[object]]) -> Path:
    """Write rows (the first is the header) to the first sheet of an XLSX workbook."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    for row in rows:
        ws.append([None if v == "" else v for v in row])
    wb.create_sheet("ignored").append(["not", "read"])
    wb.save(path)
    return path


class FakeGeocoder:
    """A dictionary-backed, geopy-style geocoder; ``calls`` records every query asked.

    The query ``"explode"`` raises, as a geopy geocoder does when the service is down.
    """

    def __init__(self, places: dict[str, tuple[float, float]]):
        self.places = places
        self.calls: list[str] = []

    def geocode(self, query: str):
        self.calls.append(query)
        if query == "explode":
            from geopy.exc import GeocoderUnavailable

            raise GeocoderUnavailable("service unavailable")
        hit = self.places.get(query)
        return None if hit is None else SimpleNamespace(latitude=hit[0], longitude=hit[1], address=query)


@pytest.fixture
def geocode_cache(tmp_path, monkeypatch) -> Path:
    """A geocode cache file in ``tmp_path``, also set as ``PLANNER_GEOCODE_CACHE``."""
    path = tmp_path / "geocode-cache.sqlite"
    monkeypatch.setenv("PLANNER_GEOCODE_CACHE", str(path))
    return path
