"""Alembic environment of the planner.

Used two ways: programmatically by :func:`planner.db.session.init_db`, which hands over an open
connection in ``config.attributes["connection"]``; and from the command line
(``alembic -c planner/db/migrations/alembic.ini upgrade head``), which connects to
``sqlalchemy.url`` if set, else to ``PLANNER_DATABASE_URL`` / the default SQLite file.
"""
from __future__ import annotations

from alembic import context

from planner.db.models import Base

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url")
    if url:
        return url
    from planner.settings import get_settings

    return get_settings().database_url


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True,
                      dialect_opts={"paramstyle": "named"}, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    from planner.db.session import make_engine

    engine = make_engine(_url())
    try:
        with engine.begin() as conn:
            _run(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
