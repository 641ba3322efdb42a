"""schemathesis against the published OpenAPI document (`/api/v1/openapi.json`), the app in-process
through its WSGI interface: generated requests for every operation, with the five districts
loaded and a district token; no answer may be a 5xx.

Kept small (a few examples per operation) so it stays well under a minute; `MCU_FUZZ_EXAMPLES`
raises it for a longer hunt.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings

TENANT = "kondinsky"
REGION = "khmao"
EXAMPLES = int(os.environ.get("MCU_FUZZ_EXAMPLES", 3))


@pytest.fixture
def fuzz_token(loaded_app):
    result = loaded_app.test_cli_runner().invoke(
        args=["tokens", "create", "--tenant", TENANT, "--name", "fuzz"]
    )
    assert result.exit_code == 0, result.output
    return result.stdout.splitlines()[0].strip()


def test_no_server_errors(loaded_app, fuzz_token):
    # Hypothesis driven per operation by hand rather than schemathesis' pytest plugin: its lazy
    # fixture loader does not work with the pytest we run (it reaches for a private `_nodeid`).
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", loaded_app)
    headers = {"Authorization": f"Bearer {fuzz_token}"}
    server_errors: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,  # the same requests on every run: a failure is reproducible
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def call(case):
            # A random district slug is a 404 before anything else runs: aim at a real district
            # (and region) so the handlers behind the tenant check get the generated input.
            if "tenant" in (case.path_parameters or {}):
                case.path_parameters["tenant"] = TENANT
            if "region" in (case.path_parameters or {}):
                case.path_parameters["region"] = REGION
            response = case.call(headers=headers)
            if response.status_code >= 500:
                server_errors.append(
                    f"{case.method} {case.formatted_path} {case.query or ''} → {response.status_code}\n"
                    f"  body sent: {str(case.body)[:300]}\n  answer: {response.text[:300]}"
                )

        call()
    assert operations >= 40, operations  # the whole document was walked
    assert not server_errors, "\n".join(server_errors)
