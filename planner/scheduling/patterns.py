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
import functools
import itertools
import zlib
from dataclasses import dataclass
from typing import Collection, Sequence

from planner.domain import Frequency

_EPOCH_MONDAY = dt.date(2001, 1, 1)


@dataclass(frozen=True)
class Pattern:
    """Visit days (offsets from the start, sorted) and a preference penalty (0 = ideal)."""

    days: tuple[int, ...]
    penalty: float = 0.0
    short: tuple[int, ...] = ()  # visits the frequency asks for that no day can take (their block's first day)


SHORT_PENALTY = 1000.0  # per visit a pattern cannot make (rep away): any complete pattern is preferred


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

    An empty list means the frequency cannot be met with these workdays. (Memoised: a region
    asks for the same few frequencies and workweeks for every customer and rep; the customer
    only matters for the due week of a 1/M-weeks block the horizon cuts.)
    """
    phase = None
    if freq.weeks > 1 and (7 * weeks) % freq.period_days != 0:
        phase = due_phase(customer_id, start, freq.weeks)
    return list(_candidate_patterns(freq, start, weeks, frozenset(workdays), phase))


@functools.lru_cache(maxsize=4096)
def _candidate_patterns(freq: Frequency, start: dt.date, weeks: int, workdays: frozenset[int],
                        phase: int | None) -> tuple[Pattern, ...]:
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
        return tuple(out)
    period = freq.period_days
    full_blocks = horizon // period
    offsets = workday_offsets(start, period, workdays)
    if phase is not None:  # the horizon ends inside a block: visits in the customer's due week
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
    return tuple(out)


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


def _spaced(days: Sequence[int], gap: int) -> bool:
    return all(b - a >= gap for a, b in zip(days, days[1:]))


def flexible_patterns(freq: Frequency, start: dt.date, weeks: int, workdays: frozenset[int],
                      available: Sequence[int], *, customer_id: str = "", history: Sequence[int] = (),
                      first_day: int = 0, required: Collection[int] = (),
                      previous: Sequence[int] | None = None, max_patterns: int = 24) -> list[Pattern]:
    """Visit-day patterns over ``[first_day, horizon)`` when not every workday can be used (rep
    absences) or part of the horizon is already fixed (a re-plan from ``first_day``).

    ``available``: the day offsets the rep can work (absences removed). ``history``: visit
    offsets before ``first_day`` that already happened or stay as they are (negative: before
    the horizon); they count towards their block's visits and the spacing (a source's day before
    ``first_day`` that is not in the history, e.g. a missed visit, is owed in its block). ``required``: days
    that must be visit days (fixed appointments). ``previous``: the customer's visit days in the
    plan being re-planned (those before ``first_day`` included), tried first so that it is kept where it still
    holds.

    Each pattern starts from a source — ``previous``, then the regular patterns of
    :func:`candidate_patterns` — keeps its days where possible and replaces the others by the
    nearest available days of the same block that keep the spacing (:func:`min_gap_days`);
    single-day shifts of the first result are added as alternatives. Every full block of the
    frequency gets exactly its visits (history included); a block cut by the horizon's end
    gets what its source puts there. The penalty is the source's plus 0.25 per replaced day,
    plus how far the first gap after the history is from the ideal one (relative). A block with
    too few days left (the rep away most of a week) gets the visits that fit; the pattern lists
    the others in ``short`` and costs :data:`SHORT_PENALTY` per visit, so that the customer is
    still seen in the other blocks and the missing visits are reported.
    Returned days are only those from ``first_day`` on; [] if nothing fits.
    """
    horizon = 7 * weeks
    avail = sorted(d for d in set(available) if first_day <= d < horizon)
    avail_set = set(avail)
    hist = sorted(d for d in history if d < first_day)
    req = sorted(d for d in set(required) if first_day <= d < horizon)
    if any(d not in avail_set for d in req):
        return []
    gap = min_gap_days(freq)
    period = freq.period_days
    sources: list[tuple[list[int], float]] = []  # whole-horizon day lists; days before first_day say
    if previous is not None:                       # how many visits a block cut by the horizon wants
        sources.append((sorted(set(previous)), 0.0))
    for p in candidate_patterns(freq, start, weeks, workdays, customer_id):
        sources.append((list(p.days), p.penalty))

    def build(full: list[int]) -> tuple[list[int], int, list[int]] | None:
        target = [d for d in full if d >= first_day]
        chosen: list[int] = []
        short: list[int] = []
        changed = 0
        for k in range(first_day // period, -(-horizon // period)):
            lo, hi = k * period, min((k + 1) * period, horizon)
            done_here = sum(1 for d in hist if lo <= d < hi)
            src = [d for d in target if lo <= d < hi]
            need = freq.visits - done_here
            want = max(0, need if hi - lo == period else min(sum(1 for d in full if lo <= d < hi), need))
            must = [d for d in req if lo <= d < hi]
            if len(must) > want:
                return None
            picked = list(must)
            for d in src:  # keep the source's days that still work
                if len(picked) >= want:
                    break
                if d in avail_set and d not in picked and _spaced(sorted([*hist, *chosen, *picked, d]), gap):
                    picked.append(d)
            missing = [d for d in src if d not in picked] or [lo + (hi - lo) // 2]
            while len(picked) < want:  # nearest available day of the block that keeps the spacing
                ref = missing[min(len(missing) - 1, len(picked))]
                options = [d for d in avail if max(lo, first_day) <= d < hi and d not in picked
                           and _spaced(sorted([*hist, *chosen, *picked, d]), gap)]
                if not options:  # the block cannot hold all its visits: the rest are short
                    short.extend([max(lo, first_day)] * (want - len(picked)))
                    break
                picked.append(min(options, key=lambda d: (abs(d - ref), d)))
                changed += 1
            chosen.extend(sorted(picked))
        days = sorted(chosen)
        if not _spaced(sorted([*hist, *days]), gap) or any(d not in days for d in req):
            return None
        return days, changed, short

    out: dict[tuple[int, ...], float] = {}
    shorts: dict[tuple[int, ...], tuple[int, ...]] = {}
    first: list[int] | None = None
    for target, penalty in sources:
        built = build(target)
        if built is None:
            continue
        days, changed, short = built
        key = tuple(days)
        ideal = period / freq.visits  # continuing after the history: the ideal gap preferred
        cont = abs(days[0] - hist[-1] - ideal) / ideal if hist and days else 0.0
        score = round(penalty + 0.25 * changed + cont + SHORT_PENALTY * len(short), 3)
        if key not in out or score < out[key]:
            out[key] = score
            shorts[key] = tuple(short)
        if first is None or len(short) < len(shorts.get(tuple(first), ())):
            first = days
    if first is not None:  # one visit moved to another day of its block: small adjustments
        base = out[tuple(first)]
        for i, d in enumerate(first):
            if d in req:
                continue
            lo = d - d % period
            for e in avail:
                if lo <= e < lo + period and e != d and max(e, d) >= first_day:
                    days = sorted([*first[:i], e, *first[i + 1:]])
                    if _spaced(sorted([*hist, *days]), gap) and tuple(days) not in out:
                        out[tuple(days)] = round(base + 0.25, 3)
                        shorts[tuple(days)] = shorts[tuple(first)]
    ranked = sorted(out.items(), key=lambda kv: (kv[1], kv[0]))[:max_patterns]
    return [Pattern(days, pen, shorts.get(days, ())) for days, pen in ranked]
