"""Indexes for the API's filters and the queries of rep keys (database at size).

* ``plan_routes (rep_id, plan_id)``: a rep's plans and the customers on its routes (every
  request of a rep key), which the ``(plan_id, rep_id, date)`` index cannot serve.
* ``plan_stops (route_id, seq)``: a route's stops in order (replaces ``route_id`` alone).
* ``visits (customer_id, visited_at, id)`` and ``(rep_id, visited_at, id)``: ``GET /visits`` by
  customer or rep newest first (its order: a page is read off the index), a rep's day page,
  erasing a customer (replace the ids alone).
* ``jobs (status, created_at)``: ``GET /jobs?status=`` newest first (replaces ``status`` alone);
  ``jobs (plan_id)``: the job that made a plan, and the ``ON DELETE SET NULL`` of a deleted plan.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24
"""
from __future__ import annotations

from typing import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (name, table, columns) created by this revision, and the indexes they replace
NEW = (
    ("ix_plan_routes_rep_id_plan_id", "plan_routes", ["rep_id", "plan_id"]),
    ("ix_plan_stops_route_id_seq", "plan_stops", ["route_id", "seq"]),
    ("ix_visits_customer_id_visited_at_id", "visits", ["customer_id", "visited_at", "id"]),
    ("ix_visits_rep_id_visited_at_id", "visits", ["rep_id", "visited_at", "id"]),
    ("ix_jobs_status_created_at", "jobs", ["status", "created_at"]),
    ("ix_jobs_plan_id", "jobs", ["plan_id"]),
)
REPLACED = (
    ("ix_plan_stops_route_id", "plan_stops", ["route_id"]),
    ("ix_visits_customer_id", "visits", ["customer_id"]),
    ("ix_visits_rep_id", "visits", ["rep_id"]),
    ("ix_jobs_status", "jobs", ["status"]),
)


def upgrade() -> None:
    for name, table, columns in NEW:
        op.create_index(name, table, columns)
    for name, table, _ in REPLACED:
        op.drop_index(name, table_name=table)


def downgrade() -> None:
    for name, table, columns in REPLACED:
        op.create_index(name, table, columns)
    for name, table, _ in reversed(NEW):
        op.drop_index(name, table_name=table)
