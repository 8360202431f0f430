"""Fuzzing the merged OpenAPI document through the local cloud (schemathesis), three times.

Anonymous, as a USER and as an ADMIN (the three at the same time), each with a fixed seed and a bounded number of examples per
operation (``FUZZ_SEED``, ``FUZZ_MAX_EXAMPLES``: 5 by default), in all of schemathesis' phases: the document's
examples, its boundary values (coverage), random valid and invalid requests (fuzzing) and, where
the document links operations, sequences of calls (stateful). A run fails on any 5xx and on any
response whose status code, content type, headers or body the document does not declare for
that operation (``runner.CHECKS``).

The USER and ADMIN passes get their tokens through the API (``auth.py``); while the identity routes
are missing they are skipped, saying so. ``test_the_gate_fails_on_a_route_that_raises`` proves the
gate is not vacuous: the same run against a route with a bug fails.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.fuzz import auth
from tests.fuzz.runner import FuzzRun, run_schemathesis
from tests.integration.conftest import ROOT, LocalCloud

# One xdist worker runs them all (`make test` distributes by group): one fuzz cloud, not two.
pytestmark = [pytest.mark.fuzz, pytest.mark.xdist_group("fuzz")]


#: Operations that end the pass's own session or account; fuzzed with a token they would turn the
#: rest of the pass into 401s. They are fuzzed in the anonymous pass.
SESSION_ENDING = ("POST /api/auth/sign-out", "DELETE /api/me")
ROLES = ("anonymous", "user", "admin")


@pytest.fixture(scope="module")
def fuzz_runs(
    fuzz_cloud: LocalCloud,
    fuzz_tokens: dict[str, str | auth.NoToken],
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, FuzzRun | auth.NoToken]:
    """The three passes, run at the same time (the cloud has an instance pool per function)."""
    jobs: dict[str, dict[str, Any]] = {}
    runs: dict[str, FuzzRun | auth.NoToken] = {}
    for role in ROLES:
        obtained = None if role == "anonymous" else fuzz_tokens[role]
        if isinstance(obtained, auth.NoToken):
            runs[role] = obtained
            continue
        excluded = (
            () if obtained is None else tuple(x for op in SESSION_ENDING for x in ("--exclude-name", op))
        )
        jobs[role] = {
            "token": obtained,
            "extra": excluded,
            "report_dir": tmp_path_factory.mktemp(f"fuzz-{role}"),
        }
    with ThreadPoolExecutor(max_workers=len(ROLES)) as pool:
        futures = {
            role: pool.submit(run_schemathesis, fuzz_cloud.base_url, **job) for role, job in jobs.items()
        }
        runs.update({role: future.result() for role, future in futures.items()})
    return runs


@pytest.mark.parametrize("role", ROLES)
def test_the_api_holds_under_fuzzing(fuzz_runs: dict[str, FuzzRun | auth.NoToken], role: str) -> None:
    run = fuzz_runs[role]
    if isinstance(run, auth.NoToken):
        pytest.skip(f"{role.upper()} pass not run: {run}")
    print(run.output)  # shown with -s, and in the report of a failure
    assert run.passed, f"schemathesis found failures in the {role} pass ({run.seconds:.0f} s):\n{run.output}"


# ---------------------------------------------------------------------------------- not vacuous

BROKEN_TEMPLATE = """
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Resources:
  SharedLayer:
    Type: AWS::Serverless::LayerVersion
    Properties: {{ContentUri: {layer}}}
  BrokenFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: broken/
      Handler: app.handler
      Runtime: python3.13
      Timeout: 10
      Layers: [!Ref SharedLayer]
      Environment: {{Variables: {{TABLE_NAME: broken-table, APP_STAGE: test, POWERTOOLS_SERVICE_NAME: broken}}}}
      Events:
        Fallback: {{Type: HttpApi, Properties: {{Path: $default, Method: ANY}}}}
"""

BROKEN_APP = '''
"""The project's app factory around one route with a bug: 100 // n fails for n == 0."""
from typing import Annotated, Any

from fastapi import Path

from backend.http.app import create_app, create_handler
from backend.http.auth import enforce_authentication
from backend.http.routes import api_router
from backend.schemas.common import Envelope

router = api_router()


@router.get("/api/ratio/{n}", response_model=Envelope[int], summary="100 divided by n")
def ratio(n: Annotated[int, Path(ge=0, le=100)]) -> Envelope[int]:  # bounded, as every integer here is
    return Envelope(data=100 // n)  # ZeroDivisionError: an unexpected exception, answered 500


app = create_app("broken", routers=[router])
app.dependency_overrides[enforce_authentication] = lambda: None
handler = create_handler(app)
'''


@pytest.fixture(scope="module")
def broken_cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloud]:
    from tests.integration.conftest import start_local_cloud

    root = tmp_path_factory.mktemp("broken-app")
    (root / "template.yaml").write_text(BROKEN_TEMPLATE.format(layer=ROOT / "layers" / "shared"))
    (root / "broken").mkdir()
    (root / "broken" / "app.py").write_text(textwrap.dedent(BROKEN_APP))
    cloud = start_local_cloud(["--template", str(root / "template.yaml"), "--no-seed"], root / "cloud.log")
    yield cloud
    cloud.stop()


def test_the_gate_fails_on_a_route_that_raises(broken_cloud: LocalCloud, report_dir: Path) -> None:
    cloud = broken_cloud
    assert cloud.get("/api/ratio/4").json() == {"data": 25}
    assert cloud.get("/api/ratio/0").status_code == 500  # the bug, answered in the 500 envelope
    run = run_schemathesis(cloud.base_url, report_dir=report_dir)
    assert not run.passed, run.output
    assert "Server error" in run.output
    assert "/api/ratio/{n}" in run.output
