"""schemathesis over the whole OpenAPI schema, on a real server with a crm key: no 500s.

Every operation of ``/openapi.json`` gets a few generated requests (positive and negative
data); the check is schemathesis' ``not_a_server_error``. Failures of all operations are
collected and reported together.
"""
from __future__ import annotations

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402

from tests.api.conftest import run_plan, seed, start_api  # noqa: E402

MAX_EXAMPLES = 80


@pytest.fixture(scope="module")
def fuzz_api(tmp_path_factory):
    # a short search limit: the fuzzer may start plans
    api, db = start_api("sqlite", tmp_path_factory.mktemp("fuzz"), env={"PLANNER_MAX_TIME_LIMIT": "2"})
    seed(api, n_customers=12)
    run_plan(api, time_limit=1)
    yield api
    api.close()
    api.server.stop()
    db.drop()


def test_no_server_errors_anywhere(fuzz_api):
    headers = {"Authorization": f"Bearer {fuzz_api.keys['crm']}"}
    schema = schemathesis.openapi.from_url(f"{fuzz_api.url}/openapi.json", headers=headers)
    failures: list[str] = []
    labels = []
    for result in schema.get_all_operations():
        operation = result.ok()
        labels.append(operation.label)

        @given(case=operation.as_strategy())
        @settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck),
                  derandomize=True, database=None, phases=[Phase.explicit, Phase.generate])
        def run(case):
            case.call_and_validate(base_url=fuzz_api.url, headers=headers, checks=[not_a_server_error])

        try:
            run()
        except Exception as e:  # noqa: BLE001 - collect every operation's failure
            failures.append(f"{operation.label}: {str(e)[:2000]}")
    assert len(labels) >= 20, labels
    assert not failures, "\n\n".join(failures)
    assert fuzz_api.anon.get("/health").status_code == 200
