"""Suite-wide settings: no test may reach real AWS, and no test may issue a DynamoDB Scan."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

pytest_plugins = ["tests.support.plugin"]

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
def _fresh_container() -> Iterator[None]:
    """Every test starts with no per-container cache: wiring, settings, clients, parameters."""
    from backend.http import deps

    deps.reset()
    yield
    deps.reset()
