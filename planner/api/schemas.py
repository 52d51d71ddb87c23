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


# ----------------------------------------------------------------------------------------------
# Capacity pre-check (GET /capacity; figures of planner.scheduling.capacity.CapacityReport.to_dict)
# ----------------------------------------------------------------------------------------------
class CapacityGradeHours(BaseModel):
    """One grade's part of a rep-week: visits, visit hours and attributed driving hours."""

    grade: str
    visits: int
    visit_hours: float
    travel_hours: float
    hours: float


class CapacityRepWeek(BaseModel):
    """A rep's week (``week`` from 1): hours available against hours required; ``load`` is
    required / available (null: nothing available but something required)."""

    rep_id: str
    week: int
    week_start: dt.date
    days: int
    absent_days: int
    available_hours: float
    visits: int
    visit_hours: float
    travel_hours: float
    required_hours: float
    load: float | None
    over_hours: float
    max_visits: int | None
    by_grade: list[CapacityGradeHours]


class CapacityWeekTotal(BaseModel):
    """The whole region in one week."""

    week: int
    week_start: dt.date
    available_hours: float
    visits: int
    visit_hours: float
    travel_hours: float
    required_hours: float
    load: float | None
    over_hours: float


class CapacityGrade(BaseModel):
    """What one grade requires, per week and over the horizon."""

    grade: str
    customers: int
    unservable: int
    visits_per_week: list[int]
    visit_hours_per_week: list[float]
    travel_hours_per_week: list[float]
    visits: int
    visit_hours: float
    travel_hours: float
    hours: float


class CapacityOverload(BaseModel):
    """A rep-week over capacity: ``kind`` hours (``over`` hours) or visits (over the visit cap)."""

    kind: Literal["hours", "visits"]
    rep_id: str
    week: int
    week_start: dt.date
    available: float
    required: float
    over: float
    main_grade: str | None
    by_grade: list[CapacityGradeHours]
    message: str


class CapacityUnservable(BaseModel):
    """A customer no rep can serve, with the engine's reason code."""

    customer_id: str
    grade: str
    code: str
    reason: str
    visits: float
    visit_hours: float


class CapacitySummary(BaseModel):
    """Headline figures of a scenario."""

    available_hours: float
    visit_hours: float
    travel_hours: float
    required_hours: float
    over_hours: float
    visits_over_caps: int
    overloaded_rep_weeks: int
    region_over_hours: float
    max_load: float | None
    unservable: int


class CapacityScenario(BaseModel):
    """One scenario: every rep-week, the region per week, grades, overloads, findings."""

    reps: list[str]
    rep_weeks: list[CapacityRepWeek]
    weeks_total: list[CapacityWeekTotal]
    grades: list[CapacityGrade]
    overloads: list[CapacityOverload]
    unservable: list[CapacityUnservable]
    summary: CapacitySummary
    findings: list[str]


class CapacityAddedRep(BaseModel):
    rep_id: str
    near_rep_id: str
    lat: float
    lon: float


class CapacityFrequencyChange(BaseModel):
    grade: str
    before: str
    after: str


class CapacityRepOver(BaseModel):
    rep_id: str
    before: float
    after: float


class CapacityWhatIf(BaseModel):
    """A what-if (``extra_reps``, ``frequency`` or ``combined``) with before/after figures."""

    kind: Literal["extra_reps", "frequency", "combined"]
    description: str
    added_reps: list[CapacityAddedRep]
    frequency_changes: list[CapacityFrequencyChange]
    before: CapacitySummary
    after: CapacitySummary
    rep_over_hours: list[CapacityRepOver]
    scenario: CapacityScenario


class CapacityOut(CapacityScenario):
    """The capacity pre-check: the base scenario's figures, ``fits``, and the what-ifs."""

    start: dt.date
    end: dt.date
    weeks: int
    fits: bool
    what_ifs: list[CapacityWhatIf]


# ----------------------------------------------------------------------------------------------
# Re-planning: POST /plans/{plan_id}/replan, change reports, locks, absences, explanations
# ----------------------------------------------------------------------------------------------
WINDOW = r"^\d{1,2}:\d{2}-\d{1,2}:\d{2}$"


class ReplanRequest(_In):
    """Re-plan a stored plan from ``from`` on under the current facts (customers, rep absences,
    the plan's locks) with the fewest changes (a background job). Days before ``from`` are copied
    unchanged; ``change_cost`` (default: the engine's, 15) is what moving one visit to another day
    or rep costs, in the currency of route costs: a move must save more than that."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    from_: dt.date = Field(alias="from", examples=["2026-12-09"],
                           description="first day to re-plan, inside the plan's horizon")
    time_limit: float = Field(10.0, ge=1, le=3600, description="seconds of search")
    seed: int = Field(1, ge=0, le=2**31 - 1)
    change_cost: float | None = Field(None, ge=0, le=1e6)


class ChangeOut(BaseModel):
    """One change of a re-plan against the plan it started from: ``kind`` added, removed, moved
    or retimed, with its ``cause`` (new_customer, rep_absent, lock, frequency_change, cost_gain,
    knock_on, ...) and the old and new day, rep and start."""

    customer_id: str
    kind: str
    cause: str
    detail: str
    old_date: dt.date | None = None
    old_rep: str | None = None
    old_start: dt.datetime | None = None
    new_date: dt.date | None = None
    new_rep: str | None = None
    new_start: dt.datetime | None = None


class LockIn(_In):
    """A fixed appointment: ``customer_id`` is visited on ``date`` (by ``rep_id``; default: the
    account owner), starting exactly ``at`` or inside ``window`` if one is given (not both)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    customer_id: str = Field(min_length=1, max_length=64)
    date: dt.date = Field(examples=["2026-12-10"])
    rep_id: str | None = Field(None, min_length=1, max_length=64)
    at: str | None = Field(None, pattern=HHMM, examples=["10:00"])
    window: str | None = Field(None, pattern=WINDOW, examples=["09:30-11:00"])


class LockOut(BaseModel):
    """A fixed appointment on a plan (carried to its re-plans)."""

    id: int
    plan_id: str
    customer_id: str
    date: dt.date
    rep_id: str | None
    at: str | None
    window: str | None
    description: str


class AbsenceIn(_In):
    """A rep away from ``start`` to ``end`` (inclusive; default: ``start``), at most 366 days."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    start: dt.date = Field(examples=["2026-12-07"])
    end: dt.date | None = Field(None, examples=["2026-12-08"])
    reason: str | None = Field(None, max_length=500, examples=["ill"])


class AbsenceOut(BaseModel):
    """A stored rep absence (``days``: its length, inclusive)."""

    id: int
    rep_id: str
    start: dt.date
    end: dt.date
    reason: str | None
    days: int


class AbsenceCreated(AbsenceOut):
    """A new absence, and how many visits of the rep the latest plan has on those days (what
    ``POST /plans/latest/replan`` would move)."""

    latest_plan_id: str | None
    visits_to_move: int


class ExplainUnplanned(BaseModel):
    """An unplanned visit with its machine-readable ``code`` and reason (``date`` null: a visit
    of the horizon that got no day)."""

    customer_id: str | None = None
    date: dt.date | None
    code: str
    reason: str


class ExplainRep(BaseModel):
    """A rep's figures in a plan."""

    rep_id: str
    customers: int
    visits: int
    days: int
    hours: float
    km: float


class PlanExplanationOut(BaseModel):
    """Why a plan is as it is: unplanned visits by code with their reasons, each rep's figures,
    and where it comes from (``parent_id``/``frozen_before`` for a re-plan)."""

    plan_id: str
    parent_id: str | None
    frozen_before: dt.date | None
    unplanned_by_code: dict[str, int]
    unplanned: list[ExplainUnplanned]
    reps: list[ExplainRep]


class AlternativeOut(BaseModel):
    """A (rep, visit days) option for a customer and what it costs more than the plan's choice
    (``extra_cost`` null: some day of it cannot take the visit; ``current``: the plan's choice)."""

    rep_id: str | None
    dates: list[dt.date]
    extra_cost: float | None
    current: bool


class CustomerExplanationOut(BaseModel):
    """Why a customer has its rep and days (``status``: planned, partly_planned, unplanned,
    not_due, inactive), the priced alternatives, its unplanned visits and, for a re-plan, its
    entries of the change report."""

    customer_id: str
    name: str
    grade: str
    frequency: str
    visit_minutes: int
    status: str
    rep_id: str | None
    dates: list[dt.date]
    why_rep: str
    why_days: str
    unplanned: list[ExplainUnplanned]
    alternatives: list[AlternativeOut]
    changes: list[ChangeOut]
