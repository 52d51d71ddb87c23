"""The rounds after the first improvement, with account ownership: destroy-and-repair, then
pattern and rep moves, then a polish only while polishing gains as fast per second as the
round did (at most three skipped in a row). The search steps are replaced by stand-ins whose
gains are known, so only the schedule is under test."""
from __future__ import annotations

import datetime as dt
import time

import pytest

from planner.pipeline import engine, plan_region
from planner.synthetic import generate_region

MONDAY = dt.date(2026, 11, 30)


def _run(monkeypatch, lns_gain: float, polish_gain: float) -> list[str]:
    """Plan a small owned region in 3 s; each stand-in step takes 20 ms and gains the given cost."""
    steps: list[str] = []

    def lns(self, deadline, max_iters=None, schedule=None):
        time.sleep(0.02)
        self.total -= lns_gain
        self.note_best()
        steps.append("L")
        return 1

    def polish(self, deadline):
        time.sleep(0.02)
        self.total -= polish_gain
        steps.append("P")
        return True

    def improve(self, deadline):
        steps.append("I")
        return False

    monkeypatch.setattr(engine._State, "lns", lns)
    monkeypatch.setattr(engine._State, "polish", polish)
    monkeypatch.setattr(engine._State, "improve", improve)
    plan_region(generate_region(12, 2, seed=3), MONDAY, 1, time_limit=3, seed=1, check=False)
    return steps


def test_a_polish_that_gains_less_per_second_than_the_round_is_skipped_three_times_in_a_row(monkeypatch):
    steps = "".join(_run(monkeypatch, lns_gain=10.0, polish_gain=1.0))
    # first improvement and polish, then round 1 (destroy-and-repair, moves, polish), then rounds
    # without a polish, one in four with it
    assert steps.startswith("IPLIPLILILILIPLILILILIP")
    rounds = steps[2:].split("L")[1:]
    assert len(rounds) > 12
    assert all(r in ("I", "IP") for r in rounds)
    polished = [i for i, r in enumerate(rounds) if r == "IP"]
    assert polished[:4] == [0, 4, 8, 12]


def test_a_polish_that_gains_as_fast_runs_every_round(monkeypatch):
    steps = "".join(_run(monkeypatch, lns_gain=1.0, polish_gain=10.0))
    rounds = steps[2:].split("L")[1:]
    assert len(rounds) > 12 and all(r == "IP" for r in rounds[:-1])


@pytest.mark.parametrize("flag", ["POLISH_ADAPT"])
def test_without_the_rule_every_round_is_polished(monkeypatch, flag):
    monkeypatch.setattr(engine, flag, False)
    steps = "".join(_run(monkeypatch, lns_gain=10.0, polish_gain=1.0))
    rounds = steps[2:].split("L")[1:]
    assert len(rounds) > 12 and all(r == "IP" for r in rounds[:-1])
