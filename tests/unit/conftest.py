"""Unit-test fixtures: moto in-process, resources created from template.yaml."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tests.support.identity import TOKEN_SECRET, TOKEN_SECRET_NAME, Api
from tests.support.tables import create_app_table


@pytest.fixture
def aws() -> Iterator[None]:
    """Every AWS call inside the test goes to moto (in-process)."""
    with mock_aws():
        yield


@pytest.fixture
def table(aws: None) -> Any:
    """The app table, created from template.yaml's AppTable (keys, GSIs, TTL) so tests cannot drift."""
    name = create_app_table(boto3.client("dynamodb"))
    return boto3.resource("dynamodb").Table(name)


@pytest.fixture
def api(table: Any, monkeypatch: pytest.MonkeyPatch, fresh_process: Callable[[], None]) -> Api:
    """moto with the app table, the token-signing secret and the job queues; a fresh container.

    Handlers under test read the same environment as on Lambda (TOKEN_SECRET_NAME, queue URLs), and
    every resource has the name template.yaml gives it with Stage=test, so the IAM contract
    (tests/contract) can check the handlers' requests against the deployed roles.
    """
    secrets = boto3.client("secretsmanager")
    secrets.create_secret(Name=TOKEN_SECRET_NAME, SecretString=TOKEN_SECRET)
    sqs = boto3.client("sqs")
    for variable, name in (("EMAIL_QUEUE_URL", "email"), ("ORDER_QUEUE_URL", "order")):
        monkeypatch.setenv(variable, sqs.create_queue(QueueName=f"app-backend-{name}-test")["QueueUrl"])
    monkeypatch.setenv("TOKEN_SECRET_NAME", TOKEN_SECRET_NAME)
    monkeypatch.delenv("CONFIG_PARAMETER_NAME", raising=False)
    fresh_process()
    return Api()
