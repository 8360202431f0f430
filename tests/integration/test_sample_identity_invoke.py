"""`python -m local invoke` fills ${ACCESS_TOKEN} in a sample event: the function accepts the token."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.conftest import ROOT

pytestmark = pytest.mark.integration


def _event(authorization: str) -> dict[str, object]:
    return {
        "version": "2.0",
        "routeKey": "POST /api/auth/{proxy+}",
        "rawPath": "/api/auth/sign-out",
        "rawQueryString": "",
        "headers": {"host": "api.example.com", "authorization": authorization},
        "requestContext": {
            "http": {
                "method": "POST",
                "path": "/api/auth/sign-out",
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.9",
            },
            "requestId": "sample-request-id",
            "routeKey": "POST /api/auth/{proxy+}",
            "stage": "$default",
        },
        "body": None,
        "isBase64Encoded": False,
    }


def _invoke(tmp_path: Path, event: dict[str, object]) -> dict[str, object]:
    path = tmp_path / "event.json"
    path.write_text(json.dumps(event))
    done = subprocess.run(
        [sys.executable, "-m", "local", "invoke", "AuthFunction", "--event", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout)
    return result


def test_invoke_signs_a_sample_account_in(tmp_path: Path) -> None:
    assert _invoke(tmp_path, _event("Bearer ${ACCESS_TOKEN}"))["statusCode"] == 204
    assert _invoke(tmp_path, _event("Bearer not-a-token"))["statusCode"] == 401
