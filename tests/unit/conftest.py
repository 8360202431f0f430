"""Unit-test fixtures: moto in-process, resources created from template.yaml."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tests.support.tables import create_app_table


@pytest.fixture
def aws() -> Iterator[None]:
    """Every AWS call inside the test goes to moto (in-process)."""
    with mock_aws():
        yield


@pytest.fixture
def table(aws: None) -> Any:
    """The app table, created from template.yaml's AppTable (keys, GSIs, TTL) so tests cannot drift."""
    from backend.settings import get_settings

    get_settings.cache_clear()
    name = create_app_table(boto3.client("dynamodb"))
    return boto3.resource("dynamodb").Table(name)
