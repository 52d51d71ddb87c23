"""Re-planning: rep absences, plan locks (fixed appointments), plan lineage and change reports,
the facts each customer was planned from.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""
from __future__ import annotations

from typing import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("plans") as batch:
        batch.add_column(sa.Column("parent_id", sa.String(32), nullable=True))
        batch.add_column(sa.Column("frozen_before", sa.Date(), nullable=True))
        batch.add_column(sa.Column("changes", sa.JSON(), nullable=True))
    with op.batch_alter_table("plan_assignments") as batch:
        batch.add_column(sa.Column("facts", sa.Text(), nullable=True))
    op.create_table(
        "absences",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("rep_id", sa.String(64), nullable=False),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("end", sa.Date(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_absences"),
    )
    op.create_index("ix_absences_rep_id", "absences", ["rep_id"])
    op.create_table(
        "plan_locks",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("plan_id", sa.String(32), nullable=False),
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("rep_id", sa.String(64), nullable=True),
        sa.Column("start_min", sa.Integer(), nullable=True),
        sa.Column("end_min", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["plan_id"], ["plans.id"], name="fk_plan_locks_plan_id_plans", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_plan_locks"),
    )
    op.create_index("ix_plan_locks_plan_id", "plan_locks", ["plan_id"])
    op.create_index("ix_plan_locks_customer_id", "plan_locks", ["customer_id"])


def downgrade() -> None:
    op.drop_index("ix_plan_locks_customer_id", table_name="plan_locks")
    op.drop_index("ix_plan_locks_plan_id", table_name="plan_locks")
    op.drop_table("plan_locks")
    op.drop_index("ix_absences_rep_id", table_name="absences")
    op.drop_table("absences")
    with op.batch_alter_table("plan_assignments") as batch:
        batch.drop_column("facts")
    with op.batch_alter_table("plans") as batch:
        batch.drop_column("changes")
        batch.drop_column("frozen_before")
        batch.drop_column("parent_id")
