"""Persistence: SQLAlchemy 2.0 ORM models (separate from the domain objects), sessions,
Alembic migrations (``planner/db/migrations``) and a repository of functions that convert
between rows and :mod:`planner.domain` objects.

SQLite (the default, an embedded file) and PostgreSQL (``postgresql+psycopg://…``) both work.
"""
