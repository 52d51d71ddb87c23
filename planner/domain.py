"""Domain objects of the planner: customers, reps, visit policy, and plans.

Everything here is plain, immutable data with no dependency on the database, the API or the
solver. Times of day are integer minutes after midnight; dates are ``datetime.date``. Other
layers convert to and from these objects (see ``planner.io``, ``planner.db`` and
``planner.solver.problem``).
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping

DAY_NAMES: tuple[str, ...] = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
DEFAULT_WORKDAYS: frozenset[int] = frozenset(range(5))


class DomainError(ValueError):
    """A value that cannot describe a valid customer, rep or policy."""


def parse_hhmm(text: str) -> int:
    """Parse ``HH:MM`` into minutes after midnight (``24:00`` allowed)."""
    m = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*", text or "")
    if not m:
        raise DomainError(f"bad time {text!r}, expected HH:MM")
    h, mi = int(m.group(1)), int(m.group(2))
    if mi > 59 or h > 24 or (h == 24 and mi):
        raise DomainError(f"bad time {text!r}")
    return h * 60 + mi


def format_hhmm(minutes: int) -> str:
    """Format minutes after midnight as ``HH:MM``."""
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@dataclass(frozen=True, order=True)
class TimeWindow:
    """A half-open interval of the day ``[start, end)`` in minutes after midnight."""

    start: int
    end: int

    def __post_init__(self) -> None:
        # Opening hours typed by users stop at 24:00 (parse_hhmm); programmatic windows (research
        # instances with long horizons) may run over several days.
        if not 0 <= self.start < self.end <= 7 * 24 * 60:
            raise DomainError(f"empty or invalid window {format_hhmm(self.start)}-{format_hhmm(self.end)}")

    def __str__(self) -> str:
        return f"{format_hhmm(self.start)}-{format_hhmm(self.end)}"


def parse_windows(text: str | None) -> tuple[TimeWindow, ...]:
    """Parse ``09:00-12:00,14:00-18:00`` into sorted, non-overlapping windows (empty: none)."""
    if text is None or not str(text).strip():
        return ()
    wins = []
    for part in str(text).split(","):
        if "-" not in part:
            raise DomainError(f"bad opening window {part.strip()!r}, expected HH:MM-HH:MM")
        a, b = part.split("-", 1)
        wins.append(TimeWindow(parse_hhmm(a), parse_hhmm(b)))
    wins.sort()
    for x, y in zip(wins, wins[1:]):
        if y.start < x.end:
            raise DomainError(f"opening windows {x} and {y} overlap")
    return tuple(wins)


def format_windows(windows: tuple[TimeWindow, ...]) -> str:
    """Inverse of :func:`parse_windows`."""
    return ",".join(str(w) for w in windows)


@dataclass(frozen=True)
class Frequency:
    """``visits`` visits in every block of ``weeks`` weeks (``2/week``, ``1/2weeks``...)."""

    visits: int
    weeks: int = 1

    def __post_init__(self) -> None:
        if self.visits < 1 or self.weeks < 1:
            raise DomainError(f"impossible frequency {self.visits}/{self.weeks}weeks")
        if self.weeks > 1 and self.visits != 1:
            raise DomainError(f"unsupported frequency {self}: use N/week or 1/Mweeks")
        if self.visits > 7:
            raise DomainError(f"impossible frequency {self}: more than 7 visits a week")

    @classmethod
    def parse(cls, text: str) -> "Frequency":
        """Parse ``N/week``, ``1/Mweeks`` (also ``1/2 weeks``, ``1/1week``)."""
        m = re.fullmatch(r"\s*(\d+)\s*/\s*(\d*)\s*weeks?\s*", (text or "").lower())
        if not m:
            raise DomainError(f"bad frequency {text!r}, expected N/week or 1/Mweeks")
        return cls(int(m.group(1)), int(m.group(2) or 1))

    @property
    def period_days(self) -> int:
        """Length of one block in days."""
        return 7 * self.weeks

    @property
    def visits_per_week(self) -> float:
        """Average visits a week."""
        return self.visits / self.weeks

    def __str__(self) -> str:
        return f"{self.visits}/week" if self.weeks == 1 else f"{self.visits}/{self.weeks}weeks"


@dataclass(frozen=True)
class GradeRule:
    """Default frequency and visit length of one grade."""

    frequency: Frequency
    visit_minutes: int


def _default_rules() -> Mapping[str, GradeRule]:
    return MappingProxyType({
        "A": GradeRule(Frequency(2, 1), 60),
        "B": GradeRule(Frequency(1, 1), 45),
        "C": GradeRule(Frequency(1, 2), 30),
        "D": GradeRule(Frequency(1, 4), 30),
    })


@dataclass(frozen=True)
class VisitPolicy:
    """Maps each grade to its default frequency and visit length (the rules page's table)."""

    rules: Mapping[str, GradeRule] = field(default_factory=_default_rules)

    @property
    def grades(self) -> tuple[str, ...]:
        """Known grades, in order."""
        return tuple(self.rules)

    def frequency_of(self, customer: "Customer") -> Frequency:
        """The customer's own frequency, or its grade's."""
        if customer.frequency is not None:
            return customer.frequency
        return self._rule(customer.grade).frequency

    def visit_minutes_of(self, customer: "Customer") -> int:
        """The customer's own visit length, or its grade's."""
        if customer.visit_minutes is not None:
            return customer.visit_minutes
        return self._rule(customer.grade).visit_minutes

    def _rule(self, grade: str) -> GradeRule:
        try:
            return self.rules[grade]
        except KeyError:
            raise DomainError(f"grade {grade!r} is not in the visit policy ({', '.join(self.rules)})") from None


@dataclass(frozen=True)
class Location:
    """WGS84 coordinates in decimal degrees."""

    lat: float
    lon: float

    def __post_init__(self) -> None:
        if not (-90 <= self.lat <= 90 and -180 <= self.lon <= 180):
            raise DomainError(f"coordinates out of range: {self.lat}, {self.lon}")


@dataclass(frozen=True)
class LunchBreak:
    """A break of ``minutes`` taken entirely inside ``[earliest, latest]`` (minutes of the day)."""

    minutes: int = 60
    earliest: int = 11 * 60 + 30
    latest: int = 13 * 60 + 30

    def __post_init__(self) -> None:
        if self.minutes < 0 or self.latest - self.earliest < self.minutes:
            raise DomainError("lunch break does not fit in its window")


@dataclass(frozen=True)
class Customer:
    """A customer to visit. ``frequency``/``visit_minutes`` of None mean: the grade's default.

    ``opening`` empty means open during the whole working day of the rep. ``demand`` is what a
    visit takes of a rep's ``capacity`` (samples, goods; 0 by default). ``allowed_days``, when
    set, lists the exact visit-day patterns allowed (day offsets from the plan's start), as in
    the periodic VRP literature; it overrides the frequency's patterns.
    """

    id: str
    name: str
    location: Location
    grade: str
    frequency: Frequency | None = None
    visit_minutes: int | None = None
    opening: tuple[TimeWindow, ...] = ()
    rep_id: str | None = None
    active: bool = True
    address: str | None = None
    demand: int = 0
    allowed_days: tuple[tuple[int, ...], ...] | None = None
    region: str | None = None  # the CRM's sales region: a label to filter by, not used to plan
    phone: str | None = None   # contact telephone (the rep's day page links it for a call)

    def __post_init__(self) -> None:
        if not self.id:
            raise DomainError("customer without id")
        if self.visit_minutes is not None and not 0 <= self.visit_minutes < 24 * 60:
            raise DomainError(f"visit length {self.visit_minutes} min is not possible")
        if self.demand < 0:
            raise DomainError(f"customer {self.id}: negative demand")
        if self.allowed_days is not None and (not self.allowed_days or any(
                not p or list(p) != sorted(set(p)) or p[0] < 0 for p in self.allowed_days)):
            raise DomainError(f"customer {self.id}: allowed visit-day patterns must be non-empty sorted day offsets")


@dataclass(frozen=True)
class Rep:
    """A sales rep: where the day starts and ends, working hours and costs."""

    id: str
    name: str
    start: Location
    end: Location | None = None
    work_start: int = 8 * 60 + 30
    work_end: int = 17 * 60 + 30
    workdays: frozenset[int] = DEFAULT_WORKDAYS
    max_visits_per_day: int | None = None
    cost_per_km: float = 1.0
    cost_per_hour: float = 30.0
    lunch: LunchBreak | None = field(default_factory=LunchBreak)
    capacity: int | None = None

    def __post_init__(self) -> None:
        if not self.id:
            raise DomainError("rep without id")
        if self.work_end <= self.work_start:
            raise DomainError(f"rep {self.id}: working day ends before it starts")
        if not self.workdays or not self.workdays <= frozenset(range(7)):
            raise DomainError(f"rep {self.id}: no valid workdays")
        if self.max_visits_per_day is not None and self.max_visits_per_day < 1:
            raise DomainError(f"rep {self.id}: max visits per day must be at least 1")
        if self.cost_per_km < 0 or self.cost_per_hour < 0:
            raise DomainError(f"rep {self.id}: negative cost")
        if self.capacity is not None and self.capacity < 0:
            raise DomainError(f"rep {self.id}: negative capacity")

    @property
    def end_location(self) -> Location:
        """Where the day ends (the start unless set)."""
        return self.end or self.start

    def works_on(self, day: dt.date) -> bool:
        """True if ``day`` is one of the rep's workdays."""
        return day.weekday() in self.workdays

    def lunch_applies(self) -> bool:
        """True if the lunch window lies inside the working day, so a break is due."""
        return self.lunch is not None and self.lunch.minutes > 0 and (
            self.work_start <= self.lunch.earliest and self.lunch.latest <= self.work_end)


def parse_workdays(text: str | None) -> frozenset[int]:
    """Parse ``Mon,Tue,Wed`` (case-insensitive; also ``Mon-Fri``) into weekday numbers."""
    if text is None or not str(text).strip():
        return DEFAULT_WORKDAYS
    names = [d.lower() for d in DAY_NAMES]
    out: set[int] = set()
    for part in str(text).split(","):
        part = part.strip().lower()
        if "-" in part:
            a, b = (p.strip()[:3] for p in part.split("-", 1))
            if a not in names or b not in names:
                raise DomainError(f"bad workday range {part!r}")
            i, j = names.index(a), names.index(b)
            out.update(range(i, j + 1) if i <= j else [*range(i, 7), *range(0, j + 1)])
        else:
            if part[:3] not in names or len(part) < 3:
                raise DomainError(f"bad workday {part!r}, expected Mon..Sun")
            out.add(names.index(part[:3]))
    return frozenset(out)


def format_workdays(days: frozenset[int]) -> str:
    """Inverse of :func:`parse_workdays`."""
    return ",".join(DAY_NAMES[d] for d in sorted(days))


@dataclass(frozen=True)
class Region:
    """Everything a plan is made from.

    ``ownership``: a customer is seen by the same rep over the whole horizon (account
    ownership, the default). False: any rep may make any visit (a shared fleet, as in the
    periodic VRP literature).
    """

    customers: tuple[Customer, ...]
    reps: tuple[Rep, ...]
    policy: VisitPolicy = field(default_factory=VisitPolicy)
    ownership: bool = True

    def customer(self, cid: str) -> Customer:
        """Look a customer up by id (KeyError if unknown)."""
        for c in self.customers:
            if c.id == cid:
                return c
        raise KeyError(cid)


# ----------------------------------------------------------------------------------------------
# Plans
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Stop:
    """One visit in a route. ``arrival`` may precede ``start`` (waiting for the customer)."""

    customer_id: str
    arrival: dt.datetime
    start: dt.datetime
    end: dt.datetime


@dataclass(frozen=True)
class Route:
    """A rep's day: stops in order, when the rep leaves and is back, lunch, and figures."""

    rep_id: str
    date: dt.date
    stops: tuple[Stop, ...]
    depart: dt.datetime
    back: dt.datetime
    lunch_start: dt.datetime | None = None
    distance_km: float = 0.0
    drive_minutes: float = 0.0
    cost: float = 0.0

    @property
    def duration_minutes(self) -> float:
        """Minutes from leaving the start to being back at the end location."""
        return (self.back - self.depart).total_seconds() / 60


# Machine-readable reasons for an unplanned visit.
REASON_INACTIVE = "inactive"
REASON_BAD_FREQUENCY = "frequency_impossible"
REASON_NO_WINDOW = "no_window_fits"
REASON_NO_REP = "no_rep_available"
REASON_CAPACITY = "capacity_exceeded"
REASON_PINNED_REP_MISSING = "pinned_rep_missing"
REASON_UNREACHABLE = "unreachable"
REASON_REP_ABSENT = "rep_absent"          # the (pinned or locked) rep is away on every possible day
REASON_LOCK_INFEASIBLE = "lock_infeasible"  # a fixed appointment cannot be kept (day, rep or time)


@dataclass(frozen=True)
class Absence:
    """A rep away (ill, on leave, training) from ``start`` to ``end`` inclusive: no visits then."""

    rep_id: str
    start: dt.date
    end: dt.date
    reason: str | None = None

    def __post_init__(self) -> None:
        if not self.rep_id:
            raise DomainError("absence without rep")
        if self.end < self.start:
            raise DomainError(f"absence of {self.rep_id}: ends ({self.end}) before it starts ({self.start})")

    def days(self) -> tuple[dt.date, ...]:
        """Every date of the absence."""
        return tuple(self.start + dt.timedelta(days=i) for i in range((self.end - self.start).days + 1))


def absent_days(absences) -> dict[str, frozenset[dt.date]]:
    """Rep id -> the dates it is away, from a collection of :class:`Absence`."""
    out: dict[str, set[dt.date]] = {}
    for a in absences:
        out.setdefault(a.rep_id, set()).update(a.days())
    return {k: frozenset(v) for k, v in out.items()}


@dataclass(frozen=True)
class Lock:
    """A fixed appointment: ``customer_id`` is visited on ``date`` (by ``rep_id`` if set), starting
    exactly at ``at`` (minutes after midnight) or inside ``window`` if either is set.

    Re-plans never move a locked visit; routing honours its time."""

    customer_id: str
    date: dt.date
    rep_id: str | None = None
    at: int | None = None
    window: TimeWindow | None = None

    def __post_init__(self) -> None:
        if not self.customer_id:
            raise DomainError("lock without customer")
        if self.at is not None and self.window is not None:
            raise DomainError("a lock has an exact time or a window, not both")
        if self.at is not None and not 0 <= self.at < 24 * 60:
            raise DomainError(f"bad lock time {self.at}")

    @property
    def start_window(self) -> tuple[int, int] | None:
        """Minutes in which the visit must start (None: any time the customer is open)."""
        if self.at is not None:
            return (self.at, self.at)
        if self.window is not None:
            return (self.window.start, self.window.end)
        return None

    def describe(self) -> str:
        """``C17 on 2026-12-04 (rep R2, at 10:00)``."""
        extra = [f"rep {self.rep_id}"] if self.rep_id else []
        if self.at is not None:
            extra.append(f"at {format_hhmm(self.at)}")
        if self.window is not None:
            extra.append(f"starting {self.window}")
        return f"{self.customer_id} on {self.date}" + (f" ({', '.join(extra)})" if extra else "")


@dataclass(frozen=True)
class Unassigned:
    """A visit the plan could not make, with a machine-readable ``code`` and a human ``reason``."""

    customer_id: str
    date: dt.date | None
    code: str
    reason: str


@dataclass(frozen=True)
class Plan:
    """A multi-week visit plan: routes per rep and day, plus every visit that could not be made.

    ``assignment`` maps each planned customer to its rep; ``patterns`` to the visit day offsets
    (days after ``start``) chosen for it. ``facts`` keeps, per planned customer, a fingerprint of
    what the plan was made from (see :func:`customer_facts`), so a re-plan can tell which
    customers changed since.
    """

    plan_id: str
    start: dt.date
    weeks: int
    routes: tuple[Route, ...]
    unassigned: tuple[Unassigned, ...] = ()
    assignment: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    patterns: Mapping[str, tuple[int, ...]] = field(default_factory=lambda: MappingProxyType({}))
    created_at: dt.datetime | None = None
    seed: int = 0
    time_limit: float = 0.0
    parent_id: str | None = None          # the plan this one re-planned
    frozen_before: dt.date | None = None  # re-plan: days before this date were copied unchanged
    facts: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))  # customer -> fingerprint

    @property
    def end(self) -> dt.date:
        """Last day of the horizon (inclusive)."""
        return self.start + dt.timedelta(days=7 * self.weeks - 1)

    @property
    def days(self) -> tuple[dt.date, ...]:
        """Every date of the horizon."""
        return tuple(self.start + dt.timedelta(days=i) for i in range(7 * self.weeks))


def customer_facts(c: Customer, policy: VisitPolicy) -> str:
    """A fingerprint of what planning a customer depends on: ``lat,lon|frequency|minutes|opening|pin``.

    Compared field by field by re-plans (:func:`facts_changes`) to name the cause of a change."""
    return "|".join((f"{c.location.lat:.6f},{c.location.lon:.6f}", str(policy.frequency_of(c)),
                     str(policy.visit_minutes_of(c)), format_windows(c.opening), c.rep_id or "",
                     ";".join(",".join(map(str, p)) for p in c.allowed_days) if c.allowed_days else ""))


FACT_FIELDS: tuple[str, ...] = ("location", "frequency", "visit_minutes", "opening", "pinned_rep", "allowed_days")


def facts_changes(old: str, new: str) -> list[str]:
    """Names of the :data:`FACT_FIELDS` that differ between two fingerprints."""
    a, b = old.split("|"), new.split("|")
    a += [""] * (len(FACT_FIELDS) - len(a))
    b += [""] * (len(FACT_FIELDS) - len(b))
    return [name for name, x, y in zip(FACT_FIELDS, a, b) if x != y]
