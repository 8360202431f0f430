"""Unit-test fixtures: moto in-process, resources created from template.yaml."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from local.template import table_definition, ttl_attribute


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
    client = boto3.client("dynamodb")
    name = os.environ["TABLE_NAME"]
    client.create_table(TableName=name, **table_definition())
    ttl = ttl_attribute()
    if ttl:
        client.update_time_to_live(
            TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl}
        )
    return boto3.resource("dynamodb").Table(name)
