"""ORM tables. Rows mirror the domain objects but are not them: see :mod:`planner.db.repository`.

Times of day are minutes after midnight; datetimes are naive local wall-clock times; floats are
double precision so that a plan round-trips exactly.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (JSON, Boolean, Date, DateTime, Double, ForeignKey, Index, Integer, MetaData,
                        String, Text, true)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base with a constraint naming convention (stable names for migrations)."""

    metadata = MetaData(naming_convention=NAMING)


class CustomerRow(Base):
    """A customer as the CRM knows it (``id`` is the CRM's id)."""

    __tablename__ = "customers"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    address: Mapped[str | None] = mapped_column(Text)
    lat: Mapped[float] = mapped_column(Double)
    lon: Mapped[float] = mapped_column(Double)
    grade: Mapped[str] = mapped_column(String(16), index=True)
    frequency: Mapped[str | None] = mapped_column(String(32))
    visit_minutes: Mapped[int | None] = mapped_column(Integer)
    opening: Mapped[str] = mapped_column(String(255), default="")
    rep_id: Mapped[str | None] = mapped_column(String(64), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    region: Mapped[str | None] = mapped_column(String(64), index=True)
    phone: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime)


class RepRow(Base):
    """A sales rep. ``lunch_*`` all NULL: no lunch break."""

    __tablename__ = "reps"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    start_lat: Mapped[float] = mapped_column(Double)
    start_lon: Mapped[float] = mapped_column(Double)
    end_lat: Mapped[float | None] = mapped_column(Double)
    end_lon: Mapped[float | None] = mapped_column(Double)
    work_start: Mapped[int] = mapped_column(Integer)
    work_end: Mapped[int] = mapped_column(Integer)
    workdays: Mapped[str] = mapped_column(String(64))
    max_visits_per_day: Mapped[int | None] = mapped_column(Integer)
    cost_per_km: Mapped[float] = mapped_column(Double)
    cost_per_hour: Mapped[float] = mapped_column(Double)
    lunch_minutes: Mapped[int | None] = mapped_column(Integer)
    lunch_earliest: Mapped[int | None] = mapped_column(Integer)
    lunch_latest: Mapped[int | None] = mapped_column(Integer)
    region: Mapped[str | None] = mapped_column(String(64), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true(), index=True)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime)


class PlanRow(Base):
    """A stored plan: its horizon, how it was made, and its KPIs."""

    __tablename__ = "plans"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)
    start: Mapped[dt.date] = mapped_column(Date)
    weeks: Mapped[int] = mapped_column(Integer)
    seed: Mapped[int] = mapped_column(Integer, default=0)
    time_limit: Mapped[float] = mapped_column(Double, default=0.0)
    kpis: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(32), default="done")
    parent_id: Mapped[str | None] = mapped_column(String(32))      # re-plan: the plan it started from
    frozen_before: Mapped[dt.date | None] = mapped_column(Date)    # re-plan: days before were copied
    changes: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)  # re-plan: the change report

    routes: Mapped[list[PlanRouteRow]] = relationship(
        back_populates="plan", cascade="all, delete-orphan", passive_deletes=True,
        order_by="PlanRouteRow.seq")
    unassigned: Mapped[list[PlanUnassignedRow]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="PlanUnassignedRow.seq")
    assignments: Mapped[list[PlanAssignmentRow]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True)


class PlanRouteRow(Base):
    """One rep's day in a plan (``seq``: its place in the plan's route order)."""

    __tablename__ = "plan_routes"
    __table_args__ = (Index("ix_plan_routes_plan_rep_date", "plan_id", "rep_id", "date"),
                      # a rep's plans and customers (rep keys, migration 0004)
                      Index("ix_plan_routes_rep_id_plan_id", "rep_id", "plan_id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    plan_id: Mapped[str] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    rep_id: Mapped[str] = mapped_column(String(64))
    date: Mapped[dt.date] = mapped_column(Date)
    depart: Mapped[dt.datetime] = mapped_column(DateTime)
    back: Mapped[dt.datetime] = mapped_column(DateTime)
    lunch_start: Mapped[dt.datetime | None] = mapped_column(DateTime)
    distance_km: Mapped[float] = mapped_column(Double)
    drive_minutes: Mapped[float] = mapped_column(Double)
    cost: Mapped[float] = mapped_column(Double)

    plan: Mapped[PlanRow] = relationship(back_populates="routes")
    stops: Mapped[list[PlanStopRow]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="PlanStopRow.seq")


class PlanStopRow(Base):
    """One visit of a route, in order (``seq``)."""

    __tablename__ = "plan_stops"
    # a route's stops in order (migration 0004; was route_id alone)
    __table_args__ = (Index("ix_plan_stops_route_id_seq", "route_id", "seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    route_id: Mapped[int] = mapped_column(ForeignKey("plan_routes.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    customer_id: Mapped[str] = mapped_column(String(64), index=True)
    arrival: Mapped[dt.datetime] = mapped_column(DateTime)
    start: Mapped[dt.datetime] = mapped_column(DateTime)
    end: Mapped[dt.datetime] = mapped_column(DateTime)


class PlanUnassignedRow(Base):
    """A visit a plan could not make, with its code and reason."""

    __tablename__ = "plan_unassigned"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    plan_id: Mapped[str] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    customer_id: Mapped[str] = mapped_column(String(64), index=True)
    date: Mapped[dt.date | None] = mapped_column(Date)
    code: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)


class PlanAssignmentRow(Base):
    """A customer's rep and visit day offsets in a plan (``pattern`` like ``0,3,7,10``)."""

    __tablename__ = "plan_assignments"

    plan_id: Mapped[str] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)
    rep_id: Mapped[str | None] = mapped_column(String(64))
    pattern: Mapped[str | None] = mapped_column(Text)
    facts: Mapped[str | None] = mapped_column(Text)  # what the customer was planned from (domain.customer_facts)


# ----------------------------------------------------------------------------------------------
# HTTP API (migration 0002): keys, plan jobs, visit records, rendered maps
# ----------------------------------------------------------------------------------------------
class ApiKeyRow(Base):
    """An API key: only a SHA-256 hash of the key is stored (the key is shown once).

    ``key_id`` is the public part of the key (``fvp_<key_id>_<secret>``), used to find the row;
    the hash of the whole key is then compared in constant time. ``role``: crm, manager or rep
    (``rep_id`` set for rep keys). A revoked key keeps its row with ``revoked_at`` set.
    """

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key_id: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(128), index=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    rep_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class JobRow(Base):
    """A background job (planning): status queued|running|done|failed, progress 0-1.

    ``params`` are the request (start, weeks, time_limit, seed, rep_ids, region); ``info`` what
    the run used and found (priority customers, solve seconds...). ``plan_id`` is set, in the
    same transaction that stores the plan, when the job is done.
    """

    __tablename__ = "jobs"
    # migration 0004: jobs by status newest first (was status alone); the job of a plan (and the
    # ON DELETE SET NULL of a deleted plan)
    __table_args__ = (Index("ix_jobs_status_created_at", "status", "created_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), default="plan")
    status: Mapped[str] = mapped_column(String(16))
    progress: Mapped[float] = mapped_column(Double, default=0.0)
    stage: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(Text)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    info: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    plan_id: Mapped[str | None] = mapped_column(ForeignKey("plans.id", ondelete="SET NULL"), index=True)
    created_by: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class VisitRow(Base):
    """A visit record card: who saw whom when, the outcome (done, absent, rescheduled), notes
    and the next action. Missed visits (absent, rescheduled) are frequency debt for the next plan."""

    __tablename__ = "visits"
    # a customer's or a rep's records newest first, a rep's day (migration 0004; were the ids alone)
    # (``id`` last: the order of GET /visits, so a page is read off the index)
    __table_args__ = (Index("ix_visits_customer_id_visited_at_id", "customer_id", "visited_at", "id"),
                      Index("ix_visits_rep_id_visited_at_id", "rep_id", "visited_at", "id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    customer_id: Mapped[str] = mapped_column(String(64))
    rep_id: Mapped[str] = mapped_column(String(64))
    plan_id: Mapped[str | None] = mapped_column(String(32))
    visited_at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)
    outcome: Mapped[str] = mapped_column(String(16))
    notes: Mapped[str | None] = mapped_column(Text)
    next_action: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    created_by: Mapped[str | None] = mapped_column(String(128))


class MapCacheRow(Base):
    """A rendered map page (HTML) of a plan, kept so that tablets reopening a day are fast.

    Purged whenever customers, reps or the plan change (a deleted customer must vanish from
    every map)."""

    __tablename__ = "map_cache"

    plan_id: Mapped[str] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(160), primary_key=True)
    html: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)


# ----------------------------------------------------------------------------------------------
# Re-planning (migration 0003): rep absences, fixed appointments (locks)
# ----------------------------------------------------------------------------------------------
class AbsenceRow(Base):
    """A rep away from ``start`` to ``end`` (inclusive dates)."""

    __tablename__ = "absences"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    rep_id: Mapped[str] = mapped_column(String(64), index=True)
    start: Mapped[dt.date] = mapped_column(Date)
    end: Mapped[dt.date] = mapped_column(Date)
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)


class PlanLockRow(Base):
    """A fixed appointment on a plan: the customer is seen on ``date`` (by ``rep_id``), starting at
    ``start_min`` (exact when ``end_min`` equals it, else a window); carried to re-plans."""

    __tablename__ = "plan_locks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    plan_id: Mapped[str] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    customer_id: Mapped[str] = mapped_column(String(64), index=True)
    date: Mapped[dt.date] = mapped_column(Date)
    rep_id: Mapped[str | None] = mapped_column(String(64))
    start_min: Mapped[int | None] = mapped_column(Integer)
    end_min: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
