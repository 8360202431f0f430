"""What an API function imports at cold start: only what its first request needs.

`make bench` measures the cold start; this keeps its causes from creeping back between runs. Each
API function is imported in a fresh interpreter, and nothing on the list below may be loaded by
the import alone: they are loaded on first use by the routes that need them (docs/performance.md,
"The import pattern", which also asks services to import repositories for type hints only: a
recommendation there, measured by `make bench`, not enforced here).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from local.template import ROOT, resources_of_type

API_FUNCTIONS = {
    name: Path(ROOT, res["Properties"]["CodeUri"])
    for name, res in resources_of_type("AWS::Serverless::Function").items()
    if any(e["Type"] == "HttpApi" for e in res["Properties"]["Events"].values())
}

#: Loaded on first use only, never by importing a function.
NOT_AT_IMPORT = (
    "aws_xray_sdk",  # X-Ray SDK subsegments are opt-in (XRaySdkTracing)
    "sentry_sdk",  # error reporting is opt-in (SentryDsnParameterName; tests/unit/test_error_reporting.py)
    "boto3",  # clients are built on first use (backend.aws); PynamoDB needs botocore only
    "argon2",  # password hashing: sign-up and sign-in only
    "jwt",  # access tokens: authenticated routes, on first use
    "aws_lambda_powertools.utilities.parameters",  # configuration and secrets, on first use
    "aws_lambda_powertools.utilities.batch",  # the worker's
    "aws_lambda_powertools.utilities.idempotency",  # the worker's
)


def imported_modules(code_dir: Path) -> set[str]:
    code = (
        "import json, sys\n"
        f"sys.path[:0] = [{str(code_dir)!r}, {str(ROOT / 'layers' / 'shared')!r}]\n"
        "import app\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "XRAY_SDK_TRACING": "false"},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize("function", sorted(API_FUNCTIONS))
def test_importing_a_function_loads_only_what_its_first_request_needs(function: str) -> None:
    modules = imported_modules(API_FUNCTIONS[function])
    loaded = {name for name in NOT_AT_IMPORT if name in modules}
    assert not loaded, f"{function} imports {sorted(loaded)} at cold start"
