"""The plan as iCalendar files: one calendar per rep, one event per visit (and one per lunch).

Times are floating local times (no timezone), like the rest of the plan: the rep's tablet shows
them in the region's wall-clock time.
"""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from icalendar import Calendar, Event

from planner.domain import Plan, Region, Route
from planner.export.common import PlanView, hhmm, opening_text

PRODID = "-//field-visit-planner//plan export//EN"
UID_DOMAIN = "field-visit-planner"


def _uid_part(text: str) -> str:
    """Keep a UID readable and free of characters that confuse calendar clients."""
    return re.sub(r"[^0-9A-Za-z_.\-]", "_", str(text)) or "_"


def event_uid(plan_id: str, rep_id: str, day: dt.date, customer_id: str) -> str:
    """Stable UID of a visit: the same plan, rep, day and customer give the same UID."""
    return (f"{_uid_part(plan_id)}.{_uid_part(rep_id)}.{day:%Y%m%d}."
            f"{_uid_part(customer_id)}@{UID_DOMAIN}")


def _dtstamp(plan: Plan) -> dt.datetime:
    if plan.created_at is None:
        return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    c = plan.created_at
    return (c if c.tzinfo else c.replace(tzinfo=dt.timezone.utc)).astimezone(dt.timezone.utc)


def rep_calendar(plan: Plan, region: Region, rep_id: str, view: PlanView | None = None) -> Calendar:
    """The calendar of one rep: every planned visit and lunch break of the plan."""
    view = view or PlanView(plan, region)
    stamp = _dtstamp(plan)
    rep = view.reps.get(rep_id)
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", f"{rep.name if rep else rep_id} – {plan.plan_id}")
    routes: list[Route] = [r for r in view.routes if r.rep_id == rep_id]
    for r in routes:
        seen: dict[str, int] = {}
        for i, s in enumerate(r.stops, 1):
            c = view.customers.get(s.customer_id)
            uid = event_uid(plan.plan_id, rep_id, r.date, s.customer_id)
            seen[s.customer_id] = seen.get(s.customer_id, 0) + 1
            if seen[s.customer_id] > 1:  # the same customer twice a day: keep UIDs unique
                uid = uid.replace("@", f"-{seen[s.customer_id]}@", 1)
            ev = Event()
            ev.add("uid", uid)
            ev.add("dtstamp", stamp)
            ev.add("dtstart", s.start.replace(tzinfo=None))
            ev.add("dtend", s.end.replace(tzinfo=None))
            ev.add("summary", c.name if c and c.name else s.customer_id)
            if c is not None:
                ev.add("location", c.address or f"{c.location.lat:.6f},{c.location.lon:.6f}")
                ev.add("geo", (c.location.lat, c.location.lon))
            lines = [
                f"Customer: {s.customer_id}",
                f"Grade: {c.grade if c else ''}",
                f"Opening hours: {opening_text(c) or 'working day'}",
                f"Visit: {round((s.end - s.start).total_seconds() / 60)} min",
                f"Arrival: {hhmm(s.arrival)}",
                f"Stop {i} of {len(r.stops)}",
            ]
            ev.add("description", "\n".join(lines))
            ev.add("categories", ["Visit"])
            ev.add("transp", "OPAQUE")
            cal.add_component(ev)
        if r.lunch_start is not None:
            minutes = rep.lunch.minutes if rep is not None and rep.lunch is not None else 60
            ev = Event()
            ev.add("uid", event_uid(plan.plan_id, rep_id, r.date, "lunch"))
            ev.add("dtstamp", stamp)
            ev.add("dtstart", r.lunch_start.replace(tzinfo=None))
            ev.add("dtend", r.lunch_start.replace(tzinfo=None) + dt.timedelta(minutes=minutes))
            ev.add("summary", "午餐 / Lunch")
            ev.add("categories", ["Lunch"])
            cal.add_component(ev)
    return cal


def write_ics(plan: Plan, region: Region, out: Path) -> list[Path]:
    """Write ``<out>/<rep_id>.ics`` for every rep with at least one visit; ``out`` is a directory."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    view = PlanView(plan, region)
    written = []
    for rep_id in sorted({r.rep_id for r in view.routes}):
        path = out / f"{_uid_part(rep_id)}.ics"
        path.write_bytes(rep_calendar(plan, region, rep_id, view).to_ical())
        written.append(path)
    return written
