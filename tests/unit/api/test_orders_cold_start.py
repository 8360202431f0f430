"""The orders function's first request is a read: what only placing an order needs stays unimported."""

from __future__ import annotations

import json
import subprocess
import sys

from local.template import ROOT

CHILD = r"""
import json, sys
sys.path[:0] = ["layers/shared", "functions/orders", "."]
from moto import mock_aws
with mock_aws():
    import boto3
    from tests.support.tables import create_app_table
    from tests.support.identity import TOKEN_SECRET, TOKEN_SECRET_NAME, Api
    from tests.support.apigw import FakeContext, http_event
    create_app_table(boto3.client("dynamodb"))
    boto3.client("secretsmanager").create_secret(Name=TOKEN_SECRET_NAME, SecretString=TOKEN_SECRET)
    before = set(sys.modules)
    import app
    from backend.wiring import get_container
    account = Api().account()
    response = app.handler(
        http_event("GET", "/api/orders", headers={"authorization": f"Bearer {account.token}"}), FakeContext()
    )
    assert response["statusCode"] == 200, response
    loaded = set(sys.modules) - before
    print(json.dumps(sorted(loaded)))
"""

#: Loaded on first use by POST /api/orders (or by the worker), never by a read.
POST_ONLY = (
    "aws_lambda_powertools.utilities.idempotency",
    "backend.services.idempotency",
    "redis",
)


def test_a_read_never_loads_what_only_placing_an_order_needs() -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "TABLE_NAME": "app-backend-test",
        "TOKEN_SECRET_NAME": "app-backend/test/token-signing-key",
        "APP_STAGE": "test",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_SERVICE_NAME": "orders",
    }
    done = subprocess.run(
        [sys.executable, "-c", CHILD],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    for module in POST_ONLY:
        assert module not in loaded, module
