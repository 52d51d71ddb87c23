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
