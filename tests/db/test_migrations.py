"""The Alembic migrations build the schema of the models on a fresh database."""
from __future__ import annotations

from sqlalchemy import inspect

from planner.db.models import Base
from planner.db.session import current_revision, init_db, make_engine

TABLES = {"customers", "reps", "plans", "plan_routes", "plan_stops", "plan_unassigned", "plan_assignments",
          "api_keys", "jobs", "visits", "map_cache", "absences", "plan_locks"}


def test_fresh_database_gets_the_schema(fresh_engine):
    assert current_revision(fresh_engine) is None
    init_db(fresh_engine)
    assert current_revision(fresh_engine) == "0004"
    insp = inspect(fresh_engine)
    assert TABLES | {"alembic_version"} <= set(insp.get_table_names())
    for table in TABLES:
        assert {c["name"] for c in insp.get_columns(table)} == set(Base.metadata.tables[table].columns.keys())
    indexes = {t: {tuple(i["column_names"]) for i in insp.get_indexes(t)} for t in TABLES}
    assert {("grade",), ("active",), ("rep_id",)} <= indexes["customers"]
    assert ("plan_id", "rep_id", "date") in indexes["plan_routes"]
    assert ("customer_id",) in indexes["plan_stops"]
    fks = {t: [(fk["referred_table"], fk["options"].get("ondelete")) for fk in insp.get_foreign_keys(t)]
           for t in ("plan_routes", "plan_stops", "plan_unassigned", "plan_assignments")}
    assert fks == {"plan_routes": [("plans", "CASCADE")], "plan_stops": [("plan_routes", "CASCADE")],
                   "plan_unassigned": [("plans", "CASCADE")], "plan_assignments": [("plans", "CASCADE")]}


def test_migrations_match_the_models(engine):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []


def test_init_db_is_idempotent(engine):
    init_db(engine)
    assert current_revision(engine) == "0004"


def test_downgrade_and_upgrade_again(engine):
    from alembic import command

    from planner.db.session import alembic_config

    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "base")
    assert not TABLES & set(inspect(engine).get_table_names())
    init_db(engine)
    assert TABLES <= set(inspect(engine).get_table_names())


def test_make_engine_defaults_to_settings(tmp_path, monkeypatch):
    monkeypatch.setenv("PLANNER_DATABASE_URL", f"sqlite:///{tmp_path / 'from-env.db'}")
    engine = make_engine()
    try:
        init_db(engine)
        assert (tmp_path / "from-env.db").exists()
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        engine.dispose()


def test_no_engine_is_made_at_import():
    import subprocess
    import sys

    code = ("import sqlalchemy, sqlalchemy.engine.create as c\n"
            "made = []\n"
            "orig = sqlalchemy.create_engine\n"
            "sqlalchemy.create_engine = lambda *a, **k: made.append(a) or orig(*a, **k)\n"
            "import planner.db.session, planner.db.repository, planner.io.service, planner.geo.geocode\n"
            "assert not made, made\n")
    subprocess.run([sys.executable, "-c", code], check=True)
