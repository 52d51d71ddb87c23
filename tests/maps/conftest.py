import pytest

from tests.tiny_plan import build_plan, build_region


@pytest.fixture
def region():
    return build_region()


@pytest.fixture
def plan():
    return build_plan()
