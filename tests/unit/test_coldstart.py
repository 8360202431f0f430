"""backend.coldstart: no garbage collection while a function initializes, in a Lambda sandbox only."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# A function as functions/<group>/app.py makes one, then its first two invocations.
FUNCTION = """
import gc, json
import backend.coldstart
from backend.http.app import create_app, create_handler
from backend.http.auth import enforce_authentication
from backend.http.routes import api_router
from tests.support.apigw import FakeContext, http_event

router = api_router()

@router.get("/api/ping")
def ping() -> dict[str, str]:
    return {"data": "pong"}

app = create_app("t", routers=[router])
app.dependency_overrides[enforce_authentication] = lambda: None
handler = create_handler(app)
seen = [gc.isenabled()]
handler(http_event("GET", "/api/ping"), FakeContext())
seen += [gc.isenabled(), gc.get_freeze_count() > 0]
frozen = gc.get_freeze_count()
status = handler(http_event("GET", "/api/ping"), FakeContext())["statusCode"]
seen += [gc.isenabled(), gc.get_freeze_count() <= frozen, status]  # no second freeze
print(json.dumps(seen))
"""


def _run(**env: str) -> list[object]:
    environment = {k: v for k, v in os.environ.items() if k != "AWS_LAMBDA_FUNCTION_NAME"}
    environment |= {
        "PYTHONPATH": f"{ROOT / 'layers' / 'shared'}{os.pathsep}{ROOT}",
        "TABLE_NAME": "app-table",
        **env,
    }
    done = subprocess.run(
        [sys.executable, "-c", FUNCTION],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    result: list[object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_in_a_sandbox_the_collector_waits_for_the_end_of_the_first_invocation() -> None:
    paused, resumed, frozen, still_on, no_refreeze, status = _run(
        AWS_LAMBDA_FUNCTION_NAME="app-backend-dev-t"
    )
    assert paused is False  # disabled from the import to the end of the first invocation
    assert (resumed, frozen) == (True, True)  # then on, with initialization's objects frozen
    assert (still_on, no_refreeze, status) == (True, True, 200)  # once only


def test_outside_a_sandbox_the_collector_is_left_alone() -> None:
    enabled, *_rest, status = _run()
    assert enabled is True
    assert status == 200
