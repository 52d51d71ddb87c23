"""Destroy-and-repair's acceptance threshold (:func:`acceptance_share`), by hand."""
from __future__ import annotations

import pytest

from planner.pipeline import engine
from planner.pipeline.engine import acceptance_share


@pytest.fixture(autouse=True)
def _limits(monkeypatch):
    monkeypatch.setattr(engine, "THRESHOLD", 0.03)
    monkeypatch.setattr(engine, "ACCEPT_ROUTES", 40)


def test_the_threshold_shrinks_to_zero_over_the_phase():
    assert acceptance_share(0.0, 30, True) == pytest.approx(0.03)
    assert acceptance_share(0.5, 30, True) == pytest.approx(0.015)
    assert acceptance_share(1.0, 30, True) == 0.0
    assert acceptance_share(1.7, 30, True) == 0.0  # (past the planned end: still 0)


def test_large_owned_plans_get_a_share_smaller_in_proportion():
    # 200 busy routes, 40 at full share: 0.03 x 0.5 x 40 / 200
    assert acceptance_share(0.5, 200, True) == pytest.approx(0.003)
    assert acceptance_share(0.5, 40, True) == pytest.approx(0.015)


def test_a_shared_fleet_keeps_the_full_share():
    assert acceptance_share(0.5, 200, False) == pytest.approx(0.015)


def test_short_phases_get_a_share_smaller_in_proportion(monkeypatch):
    monkeypatch.setattr(engine, "ACCEPT_ITERS", 16)
    # time for 4 iterations per customer, 16 at full share: 0.03 x 0.5 x 4 / 16
    assert acceptance_share(0.5, 30, True, 4.0) == pytest.approx(0.00375)
    assert acceptance_share(0.5, 30, True, 16.0) == pytest.approx(0.015)
    assert acceptance_share(0.5, 30, True, 90.0) == pytest.approx(0.015)
    assert acceptance_share(0.5, 30, True, None) == pytest.approx(0.015)  # (pace not known yet)
    assert acceptance_share(0.5, 30, True, 0.0) == 0.0
    # both cuts: 0.03 x 0.5 x 40 / 200 x 8 / 16
    assert acceptance_share(0.5, 200, True, 8.0) == pytest.approx(0.0015)
    assert acceptance_share(0.5, 200, False, 4.0) == pytest.approx(0.015)  # (a shared fleet: full share)
