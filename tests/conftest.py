"""Suite-wide settings: no test may reach real AWS, and no test may issue a DynamoDB Scan."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import pytest

pytest_plugins = ["tests.support.plugin", "tests.support.faults"]

# Set before any boto3/botocore import so nothing can pick up real credentials or endpoints.
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SECURITY_TOKEN": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_NAMESPACE": "AppBackendTest",
        "POWERTOOLS_SERVICE_NAME": "test",
        "APP_STAGE": "test",
        "TABLE_NAME": "app-backend-test",
    }
)
os.environ.pop("AWS_PROFILE", None)
os.environ.pop("AWS_ENDPOINT_URL", None)


@pytest.fixture(autouse=True)
def fresh_process() -> Iterator[Callable[[], None]]:
    """Every test starts and ends with a fresh process: ``backend.wiring.reset()`` (the container,
    settings, AWS clients, PynamoDB's connection, parameters, verified tokens), the one reset the
    functions' SnapStart hook and the local cloud use too. A test that changes the environment after
    something read it calls this fixture's value to start over: no test resets anything by hand."""
    from backend import wiring

    wiring.reset()
    yield wiring.reset
    wiring.reset()
