"""Request and response bodies of the HTTP API (pydantic), separate from the ORM rows
(:mod:`planner.db.models`) and the domain objects (:mod:`planner.domain`)."""
from __future__ import annotations

import datetime as dt
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

T = TypeVar("T")

Id = Field(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f\x7f]+$")
OUTCOMES = ("done", "absent", "rescheduled")
MISSED_OUTCOMES = ("absent", "rescheduled")
Outcome = Literal["done", "absent", "rescheduled"]


class _In(BaseModel):
    """An input item: unknown fields are ignored, and empty strings count as not given (as the
    empty cells of a spreadsheet do)."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    @model_validator(mode="before")
    @classmethod
    def _empty_is_none(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if not (isinstance(v, str) and not v.strip())}
        return data


class Page(BaseModel, Generic[T]):
    """One page of a list: ``items``, and ``total`` items matching the filters."""

    items: list[T]
    total: int
    limit: int
    offset: int


class ErrorOut(BaseModel):
    detail: Any


class UpsertResult(BaseModel):
    """What a bulk upsert did (the same request twice: everything ``unchanged``)."""

    inserted: int
    updated: int
    unchanged: int


# ----------------------------------------------------------------------------------------------
# Customers
# ----------------------------------------------------------------------------------------------
class CustomerIn(_In):
    """A customer as the CRM sends it (columns of interfaces.md). ``lat``/``lon`` may be left out
    when ``address`` geocodes."""

    id: str = Field(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f\x7f]+$")
    name: str = Field(min_length=1, max_length=255)
    address: str | None = Field(None, max_length=1000)
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)
    grade: str = Field(min_length=1, max_length=16)
    frequency: str | None = Field(None, max_length=32, examples=["2/week", "1/2weeks"])
    visit_minutes: int | None = Field(None, ge=1, le=24 * 60 - 1)
    open: str | None = Field(None, max_length=255, examples=["09:00-12:00,14:00-18:00"])
    rep_id: str | None = Field(None, min_length=1, max_length=64)
    active: bool = True
    region: str | None = Field(None, max_length=64)
    phone: str | None = Field(None, max_length=64, pattern=r"^[0-9+()\-. #*]*$")


class CustomerPatch(_In):
    """Fields to change; a field set to ``null`` is cleared (where it may be empty)."""

    name: str | None = Field(None, min_length=1, max_length=255)
    address: str | None = Field(None, max_length=1000)
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)
    grade: str | None = Field(None, min_length=1, max_length=16)
    frequency: str | None = Field(None, max_length=32)
    visit_minutes: int | None = Field(None, ge=1, le=24 * 60 - 1)
    open: str | None = Field(None, max_length=255)
    rep_id: str | None = Field(None, min_length=1, max_length=64)
    active: bool | None = None
    region: str | None = Field(None, max_length=64)
    phone: str | None = Field(None, max_length=64, pattern=r"^[0-9+()\-. #*]*$")


class CustomerOut(BaseModel):
    id: str
    name: str
    address: str | None
    lat: float
    lon: float
    grade: str
    frequency: str | None
    visit_minutes: int | None
    open: str
    rep_id: str | None
    active: bool
    region: str | None
    phone: str | None
    updated_at: dt.datetime | None = None


class NearbyCustomer(CustomerOut):
    distance_km: float


# ----------------------------------------------------------------------------------------------
# Reps
# ----------------------------------------------------------------------------------------------
HHMM = r"^\d{1,2}:\d{2}$"


class RepIn(_In):
    """A rep as the CRM sends it (columns of interfaces.md, plus lunch, region and active)."""

    id: str = Field(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f\x7f]+$")
    name: str = Field(min_length=1, max_length=255)
    start_lat: float = Field(ge=-90, le=90)
    start_lon: float = Field(ge=-180, le=180)
    end_lat: float | None = Field(None, ge=-90, le=90)
    end_lon: float | None = Field(None, ge=-180, le=180)
    work_start: str = Field("08:30", pattern=HHMM)
    work_end: str = Field("17:30", pattern=HHMM)
    workdays: str = Field("Mon,Tue,Wed,Thu,Fri", max_length=64)
    max_visits_per_day: int | None = Field(None, ge=1, le=200)
    cost_per_km: float = Field(1.0, ge=0, le=1e6)
    cost_per_hour: float = Field(30.0, ge=0, le=1e6)
    lunch_minutes: int = Field(60, ge=0, le=600)
    lunch_earliest: str = Field("11:30", pattern=HHMM)
    lunch_latest: str = Field("13:30", pattern=HHMM)
    region: str | None = Field(None, max_length=64)
    active: bool = True


class RepPatch(_In):
    name: str | None = Field(None, min_length=1, max_length=255)
    start_lat: float | None = Field(None, ge=-90, le=90)
    start_lon: float | None = Field(None, ge=-180, le=180)
    end_lat: float | None = Field(None, ge=-90, le=90)
    end_lon: float | None = Field(None, ge=-180, le=180)
    work_start: str | None = Field(None, pattern=HHMM)
    work_end: str | None = Field(None, pattern=HHMM)
    workdays: str | None = Field(None, max_length=64)
    max_visits_per_day: int | None = Field(None, ge=1, le=200)
    cost_per_km: float | None = Field(None, ge=0, le=1e6)
    cost_per_hour: float | None = Field(None, ge=0, le=1e6)
    lunch_minutes: int | None = Field(None, ge=0, le=600)
    lunch_earliest: str | None = Field(None, pattern=HHMM)
    lunch_latest: str | None = Field(None, pattern=HHMM)
    region: str | None = Field(None, max_length=64)
    active: bool | None = None


class RepOut(BaseModel):
    id: str
    name: str
    start_lat: float
    start_lon: float
    end_lat: float | None
    end_lon: float | None
    work_start: str
    work_end: str
    workdays: str
    max_visits_per_day: int | None
    cost_per_km: float
    cost_per_hour: float
    lunch_minutes: int
    lunch_earliest: str
    lunch_latest: str
    region: str | None
    active: bool
    updated_at: dt.datetime | None = None


# ----------------------------------------------------------------------------------------------
# Plans and jobs
# ----------------------------------------------------------------------------------------------
class PlanRequest(_In):
    """Plan ``weeks`` weeks from ``start`` (a background job). ``rep_ids``/``region``: plan only
    these reps / the customers and reps of this region."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    start: dt.date = Field(examples=["2026-12-07"])
    weeks: int = Field(1, ge=1, le=26)
    time_limit: float = Field(10.0, ge=1, le=3600, description="seconds of search")
    seed: int = Field(1, ge=0, le=2**31 - 1)
    rep_ids: list[str] | None = Field(None, min_length=1, max_length=1000)
    region: str | None = Field(None, min_length=1, max_length=64)

    @field_validator("rep_ids")
    @classmethod
    def _ids(cls, v: list[str] | None) -> list[str] | None:
        if v is not None:
            for x in v:
                if not x or len(x) > 64:
                    raise ValueError("rep ids are 1 to 64 characters")
        return v


JobStatus = Literal["queued", "running", "done", "failed"]


class JobAccepted(BaseModel):
    job_id: str
    status: JobStatus


class JobOut(BaseModel):
    job_id: str
    kind: str
    status: JobStatus
    progress: float = Field(ge=0, le=1)
    stage: str | None
    error: str | None
    plan_id: str | None
    params: dict[str, Any]
    info: dict[str, Any]
    created_by: str | None
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None


class PlanSummary(BaseModel):
    plan_id: str
    created_at: str
    start: str
    end: str
    weeks: int
    seed: int | None = None
    time_limit: float | None = None
    status: str | None = None
    routes: int | None = None
    unassigned: int | None = None
    kpis: dict[str, Any] = {}


class StopOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    seq: int
    customer_id: str
    name: str | None = None
    arrival: str
    start: str
    end: str


class RouteOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    rep_id: str
    date: str
    stops: list[StopOut]
    distance_km: float
    duration_minutes: float
    cost: float


class UnassignedOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    customer_id: str
    date: str | None
    code: str
    reason: str


class PlanOut(BaseModel):
    """The plan JSON of interfaces.md (with the extras of ``planner export --format json``)."""

    model_config = ConfigDict(extra="allow")
    plan_id: str
    start: str
    end: str
    weeks: int
    routes: list[RouteOut]
    unassigned: list[UnassignedOut]
    kpis: dict[str, Any]


class Deleted(BaseModel):
    """What a delete removed, per table."""

    id: str
    erased: dict[str, int]


# ----------------------------------------------------------------------------------------------
# Visits
# ----------------------------------------------------------------------------------------------
class VisitIn(_In):
    """A visit record card. ``rep_id`` may be left out with a rep key (it is the key's rep)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    customer_id: str = Field(min_length=1, max_length=64)
    rep_id: str | None = Field(None, min_length=1, max_length=64)
    visited_at: dt.datetime | None = Field(None, description="local time; default: now")
    outcome: Outcome
    notes: str | None = Field(None, max_length=4000)
    next_action: str | None = Field(None, max_length=1000)
    plan_id: str | None = Field(None, min_length=1, max_length=32)


class VisitOut(BaseModel):
    id: int
    customer_id: str
    rep_id: str
    plan_id: str | None
    visited_at: dt.datetime
    outcome: Outcome
    notes: str | None
    next_action: str | None
    created_at: dt.datetime
    created_by: str | None


class Me(BaseModel):
    name: str
    role: str
    rep_id: str | None


class Health(BaseModel):
    status: Literal["ok"]
