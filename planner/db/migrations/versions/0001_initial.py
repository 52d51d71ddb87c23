"""Initial schema: customers, reps, plans and their routes, stops, unassigned visits, assignments.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""
from __future__ import annotations

from typing import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "customers",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("lat", sa.Double(), nullable=False),
        sa.Column("lon", sa.Double(), nullable=False),
        sa.Column("grade", sa.String(16), nullable=False),
        sa.Column("frequency", sa.String(32), nullable=True),
        sa.Column("visit_minutes", sa.Integer(), nullable=True),
        sa.Column("opening", sa.String(255), nullable=False),
        sa.Column("rep_id", sa.String(64), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_customers"),
    )
    op.create_index("ix_customers_grade", "customers", ["grade"])
    op.create_index("ix_customers_active", "customers", ["active"])
    op.create_index("ix_customers_rep_id", "customers", ["rep_id"])

    op.create_table(
        "reps",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("start_lat", sa.Double(), nullable=False),
        sa.Column("start_lon", sa.Double(), nullable=False),
        sa.Column("end_lat", sa.Double(), nullable=True),
        sa.Column("end_lon", sa.Double(), nullable=True),
        sa.Column("work_start", sa.Integer(), nullable=False),
        sa.Column("work_end", sa.Integer(), nullable=False),
        sa.Column("workdays", sa.String(64), nullable=False),
        sa.Column("max_visits_per_day", sa.Integer(), nullable=True),
        sa.Column("cost_per_km", sa.Double(), nullable=False),
        sa.Column("cost_per_hour", sa.Double(), nullable=False),
        sa.Column("lunch_minutes", sa.Integer(), nullable=True),
        sa.Column("lunch_earliest", sa.Integer(), nullable=True),
        sa.Column("lunch_latest", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_reps"),
    )

    op.create_table(
        "plans",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("weeks", sa.Integer(), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("time_limit", sa.Double(), nullable=False),
        sa.Column("kpis", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_plans"),
    )
    op.create_index("ix_plans_created_at", "plans", ["created_at"])

    op.create_table(
        "plan_routes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("plan_id", sa.String(32), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("rep_id", sa.String(64), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("depart", sa.DateTime(), nullable=False),
        sa.Column("back", sa.DateTime(), nullable=False),
        sa.Column("lunch_start", sa.DateTime(), nullable=True),
        sa.Column("distance_km", sa.Double(), nullable=False),
        sa.Column("drive_minutes", sa.Double(), nullable=False),
        sa.Column("cost", sa.Double(), nullable=False),
        sa.ForeignKeyConstraint(["plan_id"], ["plans.id"], name="fk_plan_routes_plan_id_plans",
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_plan_routes"),
    )
    op.create_index("ix_plan_routes_plan_rep_date", "plan_routes", ["plan_id", "rep_id", "date"])

    op.create_table(
        "plan_stops",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("route_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("arrival", sa.DateTime(), nullable=False),
        sa.Column("start", sa.DateTime(), nullable=False),
        sa.Column("end", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["route_id"], ["plan_routes.id"], name="fk_plan_stops_route_id_plan_routes",
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_plan_stops"),
    )
    op.create_index("ix_plan_stops_route_id", "plan_stops", ["route_id"])
    op.create_index("ix_plan_stops_customer_id", "plan_stops", ["customer_id"])

    op.create_table(
        "plan_unassigned",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("plan_id", sa.String(32), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("date", sa.Date(), nullable=True),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["plan_id"], ["plans.id"], name="fk_plan_unassigned_plan_id_plans",
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_plan_unassigned"),
    )
    op.create_index("ix_plan_unassigned_plan_id", "plan_unassigned", ["plan_id"])
    op.create_index("ix_plan_unassigned_customer_id", "plan_unassigned", ["customer_id"])

    op.create_table(
        "plan_assignments",
        sa.Column("plan_id", sa.String(32), nullable=False),
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("rep_id", sa.String(64), nullable=True),
        sa.Column("pattern", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["plan_id"], ["plans.id"], name="fk_plan_assignments_plan_id_plans",
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("plan_id", "customer_id", name="pk_plan_assignments"),
    )
    op.create_index("ix_plan_assignments_customer_id", "plan_assignments", ["customer_id"])


def downgrade() -> None:
    op.drop_table("plan_assignments")
    op.drop_table("plan_unassigned")
    op.drop_table("plan_stops")
    op.drop_table("plan_routes")
    op.drop_table("plans")
    op.drop_table("reps")
    op.drop_table("customers")
