"""Who may see whom: the first step of planning, shared by the engine, the capacity pre-check
and territory design.

A rep may see a customer when the customer is not pinned to another rep (nor to a rep who is
not planned), the frequency (or its explicit patterns) has a visit-day pattern on the rep's
available days, some opening window fits the visit inside the rep's working hours, and a lone
visit from the rep's start can be made and driven back within one working day (demand within
the rep's capacity). Customers no rep may see get a machine-readable reason.
"""
from __future__ import annotations

from typing import Collection

from planner.domain import (REASON_BAD_FREQUENCY, REASON_CAPACITY, REASON_NO_WINDOW, REASON_PINNED_REP_MISSING,
                            REASON_REP_ABSENT, REASON_UNREACHABLE)
from planner.scheduling.instance import PlanningInstance
from planner.scheduling.patterns import Pattern
from planner.solver.timeline import schedule_day


def eligibility(inst: PlanningInstance, missing_pins: Collection[int] = ()
                ) -> tuple[list[list[int]], dict[tuple[int, int], list[Pattern]], dict[int, tuple[str, str]]]:
    """Per customer the reps that may see it, the visit-day patterns per (customer, rep), and for
    customers without any rep the reason ``(code, text)``. ``missing_pins``: customers pinned to
    a rep that is not planned."""
    eligible: list[list[int]] = []
    options: dict[tuple[int, int], list[Pattern]] = {}
    why_not: dict[int, tuple[str, str]] = {}
    missing = frozenset(missing_pins)
    for c in range(inst.n):
        reps = [inst.pinned[c]] if inst.pinned[c] is not None else list(range(len(inst.reps)))
        ok: list[int] = []
        why: tuple[str, str] | None = None
        if c in missing:
            why = (REASON_PINNED_REP_MISSING,
                   f"pinned to rep {inst.customers[c].rep_id}, who is not among the planned reps")
        for r in ([] if why else reps):
            rid = inst.reps[r].rep.id
            pats = inst.patterns(c, r)
            if not pats:
                if inst.reps[r].restricted:  # absences (or a re-plan's fixed past) took the days needed
                    why = why or (REASON_REP_ABSENT, f"rep {rid} is away on the days a visit pattern of frequency "
                                                     f"{inst.frequencies[c]} needs (or they lie before the re-plan "
                                                     "date)")
                else:
                    why = why or (REASON_BAD_FREQUENCY, f"frequency {inst.frequencies[c]} cannot be met on the "
                                                        f"workdays of rep {rid} without consecutive days")
                continue
            if not inst.start_windows(c, r):
                why = (REASON_NO_WINDOW, f"no opening window fits a {inst.service_s[c] // 60}-minute visit inside "
                                         f"rep {rid}'s working hours")
                continue
            cap = inst.reps[r].capacity
            if (cap is not None and inst.demand is not None and inst.demand[c] > cap) or \
                    schedule_day([inst.visit(c, r)], inst.reps[r].day, inst.dur_s) is None:
                why = (REASON_UNREACHABLE, f"a visit from rep {rid}'s start cannot be done and driven back within "
                                           "one working day" + (" or exceeds the capacity" if cap is not None else ""))
                continue
            ok.append(r)
            options[(c, r)] = pats
        eligible.append(ok)
        if not ok:
            why_not[c] = why or (REASON_CAPACITY, "no rep available")
    return eligible, options, why_not
