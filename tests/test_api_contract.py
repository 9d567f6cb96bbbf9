"""The API keeps the promises of its OpenAPI document: schemathesis generates requests for every
operation (valid ones and broken ones) against a real server with the demo data, with a
teacher's and an owner's token, on both engines: no 5xx, no status code and no content type
that the document does not declare. A bounded number of examples per operation."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, status_code_conformance

# The fixtures: `werkbank serve` on this test's own copy of the demo data (`db`).
from tests.e2e.conftest import db, live_server  # noqa: F401

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = int(os.environ.get("WERKBANK_CONTRACT_EXAMPLES", "12"))
PEOPLE = ("leerkracht@demo.werkbank.be", "eigenaar@demo.werkbank.be")
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance]


def _token(db, tmp_path, email: str) -> str:  # noqa: F811
    env = {**os.environ, "WERKBANK_DATABASE_URL": db.url, "WERKBANK_DATA_DIR": str(tmp_path)}
    werkbank = str(Path(sys.executable).parent / "werkbank")
    done = subprocess.run([werkbank, "tokens", "create", email, "--name", "contract"], env=env, cwd=ROOT,
                          check=True, capture_output=True, text=True)
    return done.stdout.strip().splitlines()[-1]


def test_every_api_operation_keeps_to_its_documented_answers(live_server, db, tmp_path):  # noqa: F811
    schema = schemathesis.openapi.from_url(f"{live_server}/schema/openapi.json")
    tokens = [_token(db, tmp_path, email) for email in PEOPLE]
    failures: list[str] = []
    calls: dict[str, int] = {}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.path for op in operations} >= {"/api/v1/bookings", "/api/v1/resources", "/api/v1/health"}
    def checker(operation, token):
        @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                  phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def check(case):
            response = case.call(base_url=live_server, headers={"Authorization": f"Bearer {token}"}, timeout=30)
            key = f"{operation.method.upper()} {operation.path}"
            calls[key] = calls.get(key, 0) + 1
            try:
                case.validate_response(response, checks=CHECKS)
            except Exception as exc:  # noqa: BLE001 - collected, reported together below
                failures.append(f"{key}: {response.status_code} {response.headers.get('content-type')}: "
                                f"{str(exc)[:300]}")
                raise

        return check

    for operation in operations:
        for token in tokens:
            try:
                checker(operation, token)()
            except Exception as exc:  # noqa: BLE001 - hypothesis re-raises the first failure; all are listed
                if not failures:  # not a failed check: something else went wrong, say what
                    failures.append(f"{operation.method.upper()} {operation.path}: {type(exc).__name__}: {exc}"[:500])
    assert not failures, "\n".join(sorted(set(failures))[:30])
    # every operation was really exercised, with both tokens
    assert len(calls) == len(operations) and min(calls.values()) >= 2, calls


@pytest.fixture(autouse=True)
def _quiet_requests(caplog):
    caplog.set_level("WARNING")
