"""The API functions' Lambda handlers, for tests that call them with the ``api`` fixture; products and
queue readers for the order tests."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import boto3
import pytest

from backend.records.catalog import ProductRecord
from tests.support.identity import Api


@pytest.fixture
def auth(api: Api) -> Any:
    """AuthFunction's handler."""
    from functions.auth import app

    return app.handler


@pytest.fixture
def users(api: Api) -> Any:
    """UsersFunction's handler."""
    from functions.users import app

    return app.handler


@pytest.fixture
def orders_api(api: Api) -> Any:
    """OrdersFunction's handler."""
    from functions.orders import app

    return app.handler


@pytest.fixture
def make_product(api: Api) -> Callable[..., ProductRecord]:
    counter = iter(range(1, 1_000_000))

    def make(**kwargs: Any) -> ProductRecord:
        kwargs.setdefault("name", f"Product {next(counter)}")
        kwargs.setdefault("price", Decimal("12.50"))
        kwargs.setdefault("stock", 10)
        return api.container.products.create(**kwargs)

    return make


def drain(variable: str) -> list[dict[str, Any]]:
    """Every message body on the queue named by the environment ``variable`` (they are deleted)."""
    import os

    sqs = boto3.client("sqs")
    url = os.environ[variable]
    bodies: list[dict[str, Any]] = []
    while True:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return bodies
        for message in messages:
            bodies.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
