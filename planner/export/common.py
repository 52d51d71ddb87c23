"""Helpers shared by the export formats: lookups, time formatting, per-customer visit days."""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from functools import cached_property

from planner.domain import DAY_NAMES, Customer, Plan, Region, Rep, Route, format_windows


def iso_datetime(value: dt.datetime) -> str:
    """Local wall-clock ISO datetime without timezone, seconds included: ``2026-11-30T09:05:00``."""
    return value.strftime("%Y-%m-%dT%H:%M:%S")


def hhmm(value: dt.datetime) -> str:
    """``HH:MM`` of a datetime."""
    return value.strftime("%H:%M")


def weekday_name(day: dt.date) -> str:
    """``Mon`` .. ``Sun``."""
    return DAY_NAMES[day.weekday()]


def opening_text(customer: Customer | None) -> str:
    """Opening hours as ``09:00-12:00,14:00-18:00``; empty when open the whole working day."""
    return format_windows(customer.opening) if customer is not None else ""


def routes_with_stops(plan: Plan) -> list[Route]:
    """The routes that visit somebody, sorted by (date, rep_id)."""
    return sorted((r for r in plan.routes if r.stops), key=lambda r: (r.date, r.rep_id))


@dataclass(frozen=True)
class PlanView:
    """Lookups over a plan and its region, computed once per export."""

    plan: Plan
    region: Region

    @cached_property
    def customers(self) -> dict[str, Customer]:
        return {c.id: c for c in self.region.customers}

    @cached_property
    def reps(self) -> dict[str, Rep]:
        return {r.id: r for r in self.region.reps}

    @cached_property
    def routes(self) -> list[Route]:
        return routes_with_stops(self.plan)

    @cached_property
    def visit_days(self) -> dict[str, list[tuple[dt.date, str]]]:
        """Customer id -> sorted (date, rep_id) of its planned visits."""
        out: dict[str, list[tuple[dt.date, str]]] = defaultdict(list)
        for r in self.routes:
            for s in r.stops:
                out[s.customer_id].append((r.date, r.rep_id))
        return {cid: sorted(v) for cid, v in out.items()}

    def rep_of(self, customer_id: str) -> str | None:
        """The customer's rep: the plan's assignment, else the rep visiting it, else its pin."""
        rid = self.plan.assignment.get(customer_id)
        if rid:
            return rid
        days = self.visit_days.get(customer_id)
        if days:
            return days[0][1]
        c = self.customers.get(customer_id)
        return c.rep_id if c is not None else None

    def rep_name(self, rep_id: str | None) -> str:
        rep = self.reps.get(rep_id) if rep_id else None
        return rep.name if rep is not None else ""

    def customer_name(self, customer_id: str) -> str:
        c = self.customers.get(customer_id)
        return c.name if c is not None else ""
