"""Allowed visit-day patterns for a frequency over a horizon (periodic VRP style).

Days are offsets from the horizon's first day. Weeks are blocks of seven days from the start.

* ``N/week``: a weekly template of N workdays whose gaps, going round the week, are all at
  least two days (never consecutive days, also across the weekend), repeated every week: a
  1/week customer is seen on the same weekday each week, a 2/week customer e.g. Mon+Thu.
  Templates whose gaps are uneven carry a small preference penalty (Mon+Wed is allowed but
  Mon+Thu or Tue+Fri are preferred).
* ``1/Mweeks``: one day offset ``o`` in the first block of M weeks, repeated every M weeks, so
  visits are exactly ``7·M`` days apart. When the horizon ends inside a block (e.g. a one-week
  plan for fortnightly customers), the customer's due week in each block is fixed by a stable
  phase (the calendar week number plus a hash of the id), so consecutive short plans see the
  customer once per period, with the right spacing across plan boundaries.
"""
from __future__ import annotations

import datetime as dt
import itertools
import zlib
from dataclasses import dataclass

from planner.domain import Frequency

_EPOCH_MONDAY = dt.date(2001, 1, 1)


@dataclass(frozen=True)
class Pattern:
    """Visit days (offsets from the start, sorted) and a preference penalty (0 = ideal)."""

    days: tuple[int, ...]
    penalty: float = 0.0


def workday_offsets(start: dt.date, n_days: int, workdays: frozenset[int]) -> list[int]:
    """Offsets in ``[0, n_days)`` that fall on one of ``workdays`` (0 = Monday)."""
    return [o for o in range(n_days) if (start.weekday() + o) % 7 in workdays]


def due_phase(customer_id: str, start: dt.date, weeks: int) -> int:
    """Week of the block (0..weeks-1) in which a 1/M-weeks customer is due, stable across plans."""
    week_no = (start - _EPOCH_MONDAY).days // 7
    return (zlib.crc32(customer_id.encode("utf-8")) + week_no) % weeks


def candidate_patterns(freq: Frequency, start: dt.date, weeks: int, workdays: frozenset[int],
                       customer_id: str = "") -> list[Pattern]:
    """Every allowed pattern of ``freq`` over ``weeks`` weeks for a rep working ``workdays``.

    An empty list means the frequency cannot be met with these workdays.
    """
    horizon = 7 * weeks
    if freq.weeks == 1:
        week_days = workday_offsets(start, 7, workdays)
        out: list[Pattern] = []
        ideal = 7 / freq.visits
        for combo in itertools.combinations(week_days, freq.visits):
            gaps = [b - a for a, b in zip(combo, combo[1:])] + [combo[0] + 7 - combo[-1]]
            if freq.visits > 1 and min(gaps) < 2:
                continue
            penalty = sum(abs(g - ideal) for g in gaps) / 2 if freq.visits > 1 else 0.0
            days = tuple(sorted(o + 7 * w for w in range(weeks) for o in combo))
            out.append(Pattern(days, round(penalty, 3)))
        return out
    period = freq.period_days
    full_blocks = horizon // period
    partial = horizon % period != 0
    offsets = workday_offsets(start, period, workdays)
    if partial:
        phase = due_phase(customer_id, start, freq.weeks)
        offsets = [o for o in offsets if o // 7 == phase]
        if not offsets:
            # the rep works none of the days of the due week: take any workday in the block
            offsets = workday_offsets(start, period, workdays)
    out = []
    seen: set[tuple[int, ...]] = set()
    for o in offsets:
        days = tuple(d for d in (o + period * k for k in range(full_blocks + 1)) if d < horizon)
        if days not in seen:
            seen.add(days)
            out.append(Pattern(days))
    return out


def required_visits(freq: Frequency, weeks: int) -> int:
    """Visits a full-horizon pattern holds (for partial blocks: upper bound)."""
    return -(-7 * weeks // freq.period_days) * freq.visits


def min_gap_days(freq: Frequency) -> int:
    """Fewest days allowed between two visits: 2 for N/week (N >= 2, never consecutive days),
    1 for 1/week, 5·M for 1/M-weeks (10 days for fortnightly)."""
    if freq.weeks == 1:
        return 2 if freq.visits >= 2 else 1
    return 5 * freq.weeks


def continue_from(patterns: list[Pattern], freq: Frequency, last_visit_offset: int) -> list[Pattern]:
    """Patterns that keep the spacing after a visit on day ``last_visit_offset`` (negative: before
    the horizon), the ones closest to the ideal period preferred. If none keeps the minimum gap,
    all are returned unchanged (the history cannot be honoured; better a visit than none)."""
    ideal = freq.period_days / freq.visits
    out = []
    for p in patterns:
        if not p.days:
            out.append(p)
            continue
        gap = p.days[0] - last_visit_offset
        if gap < min_gap_days(freq):
            continue
        out.append(Pattern(p.days, round(p.penalty + abs(gap - ideal) / ideal, 3)))
    return out or patterns
