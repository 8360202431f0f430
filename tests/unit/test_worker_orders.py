"""Order jobs through the real worker handler: process, send the confirmation, once per job id."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import boto3
import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from backend.models.enums import OrderStatus
from backend.records.orders import OrderLine, OrderRecord
from backend.services.email_templates import render
from tests.support.apigw import FakeContext
from tests.support.ddb import run_concurrently, serializable_moto
from tests.support.identity import Api
from tests.unit.api.conftest import drain

MAIL_FROM = "no-reply@example.com"


@pytest.fixture
def worker(api: Api, monkeypatch: pytest.MonkeyPatch, fresh_process: Callable[[], None]) -> Any:
    monkeypatch.setenv("MAIL_FROM", MAIL_FROM)
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "worker")
    fresh_process()
    boto3.client("ses").verify_email_identity(EmailAddress=MAIL_FROM)
    from backend.jobs.worker import create_worker_handler

    return create_worker_handler()


def sent() -> list[Any]:
    return list(ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages)


def record(body: dict[str, Any] | str, message_id: str) -> dict[str, Any]:
    return {
        "messageId": message_id,
        "receiptHandle": "handle",
        "body": body if isinstance(body, str) else json.dumps(body),
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1795600000000"},
        "messageAttributes": {},
        "md5OfBody": "x",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:app-backend-order-test",
        "awsRegion": "us-east-1",
    }


def deliver(worker: Any, *bodies: dict[str, Any] | str) -> set[str]:
    """One batch; returns the message ids reported as failed."""
    records = [record(body, f"m{index}") for index, body in enumerate(bodies)]
    result = worker({"Records": records}, FakeContext())
    return {failure["itemIdentifier"] for failure in result["batchItemFailures"]}


def process(order_id: str) -> dict[str, Any]:
    return {"type": "order.process", "jobId": f"order-process-{order_id}", "orderId": order_id}


def confirmation(order_id: str) -> dict[str, Any]:
    return {"type": "order.send-confirmation", "jobId": f"order-confirmation-{order_id}", "orderId": order_id}


@pytest.fixture
def order(api: Api) -> OrderRecord:
    user = api.user(name="<script>alert(1)</script>")
    mug = api.container.products.create(name="Mug & <b>co</b>", price=Decimal("12.50"), stock=10)
    tea = api.container.products.create(name="Tea", price=Decimal("3.99"), stock=10)
    lines = [
        OrderLine(product_id=mug.id, product_name=mug.name, quantity=2, unit_price=mug.price),
        OrderLine(product_id=tea.id, product_name=tea.name, quantity=3, unit_price=tea.price),
    ]
    return api.container.orders.create(user.id, lines)


def test_process_moves_the_order_and_enqueues_its_confirmation_once(
    api: Api, worker: Any, order: OrderRecord
) -> None:
    assert deliver(worker, process(order.id)) == set()
    assert api.container.orders.get(order.id).status is OrderStatus.PROCESSING
    assert drain("ORDER_QUEUE_URL") == [confirmation(order.id)]
    # the same message again (redelivery), and the sweeper's copy: one effect
    assert deliver(worker, process(order.id), process(order.id)) == set()
    assert drain("ORDER_QUEUE_URL") == []
    assert api.container.orders.get(order.id).version == order.version + 1


def test_confirmation_lists_lines_and_total_escaped_and_is_sent_once(
    api: Api, worker: Any, order: OrderRecord
) -> None:
    deliver(worker, process(order.id))
    assert deliver(worker, confirmation(order.id)) == set()
    assert deliver(worker, confirmation(order.id)) == set()  # delivered twice: one email
    [email] = sent()
    assert email.destinations["ToAddresses"] == [api.container.users.get(order.user_id).email]
    assert email.subject == f"Order {order.id} confirmed"
    html = email.body
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Mug &amp; &lt;b&gt;co&lt;/b&gt;" in html
    for text in (">2<", ">12.50<", ">25.00<", ">3<", ">3.99<", ">11.97<", "<b>36.97</b>"):
        assert text in html, text


def test_concurrent_duplicates_transition_once(api: Api, worker: Any, order: OrderRecord) -> None:
    def run() -> set[str]:
        asyncio.set_event_loop(asyncio.new_event_loop())
        return deliver(worker, process(order.id))

    with serializable_moto():
        results = run_concurrently([run] * 4)
    assert all(r == set() for r in results), results
    assert api.container.orders.get(order.id).status is OrderStatus.PROCESSING
    assert api.container.orders.get(order.id).version == order.version + 1
    assert drain("ORDER_QUEUE_URL") == [confirmation(order.id)]


def test_cancelled_or_missing_orders_are_left_alone(api: Api, worker: Any, order: OrderRecord) -> None:
    api.container.orders.update_status(
        api.container.orders.get(order.id), OrderStatus.CANCELLED, restock=True
    )
    missing = "01ARZ3NDEKTSV4RRFFQ69G5FAV"
    assert deliver(worker, process(order.id), process(missing), confirmation(order.id)) == set()
    assert api.container.orders.get(order.id).status is OrderStatus.CANCELLED
    assert drain("ORDER_QUEUE_URL") == []
    assert sent() == []


def test_an_order_already_processing_still_gets_its_confirmation(
    api: Api, worker: Any, order: OrderRecord
) -> None:
    api.container.orders.update_status(order, OrderStatus.PROCESSING)  # the first run, before it failed
    assert deliver(worker, process(order.id)) == set()
    assert drain("ORDER_QUEUE_URL") == [confirmation(order.id)]


def test_invalid_payloads_fail_alone(api: Api, worker: Any, order: OrderRecord) -> None:
    failed = deliver(
        worker,
        "{not json",
        {"type": "order.process", "jobId": "x"},  # no orderId
        {"type": "order.process", "jobId": "y", "orderId": "../etc"},
        {"type": "order.unknown", "jobId": "z", "orderId": order.id},
        process(order.id),
    )
    assert failed == {"m0", "m1", "m2", "m3"}
    assert api.container.orders.get(order.id).status is OrderStatus.PROCESSING


def test_a_failing_process_is_retried_not_remembered(
    api: Api, worker: Any, order: OrderRecord, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    import boto3

    sqs = boto3.client("sqs")
    name = os.environ["ORDER_QUEUE_URL"].rsplit("/", 1)[1]
    sqs.delete_queue(QueueUrl=os.environ["ORDER_QUEUE_URL"])  # the enqueue fails (NonExistentQueue)
    assert deliver(worker, process(order.id)) == {"m0"}  # moved, but the confirmation was not enqueued
    assert sqs.create_queue(QueueName=name)["QueueUrl"] == os.environ["ORDER_QUEUE_URL"]
    assert deliver(worker, process(order.id)) == set()
    assert drain("ORDER_QUEUE_URL") == [confirmation(order.id)]


def test_templates_have_text_and_html_parts_with_every_value_escaped() -> None:
    lines = [{"productName": "<i>Mug</i>", "quantity": 2, "unitPrice": "12.50", "lineTotal": "25.00"}]
    confirmation_mail = render(
        "order-confirmation",
        {"name": "<script>x</script>", "orderId": "01A", "total": "25.00", "lines": lines},
    )
    assert "2 x <i>Mug</i> @ 12.50 = 25.00" in confirmation_mail.text
    assert "Total: 25.00" in confirmation_mail.text
    assert "&lt;i&gt;Mug&lt;/i&gt;" in confirmation_mail.html
    assert "<script>" not in confirmation_mail.html
    shipped = render(
        "order-shipped", {"name": "Ada\nBcc: x@example.com", "orderId": "01A", "total": "1.00", "lines": []}
    )
    assert shipped.subject == "Order 01A has shipped"
    assert "is on its way" in shipped.text
    digest = render(
        "low-stock-digest",
        {
            "stage": "dev",
            "count": 1,
            "threshold": 5,
            "date": "2026-12-01",
            "more": "",
            "products": [{"name": "<b>Tea</b>", "productId": "01P", "stock": 2}],
        },
    )
    assert digest.subject == "[dev] 1 product(s) low on stock"
    assert "<b>Tea</b> (01P): 2 left" in digest.text
    assert "&lt;b&gt;Tea&lt;/b&gt;" in digest.html
    with pytest.raises(Exception, match="lines"):
        render("order-confirmation", {"name": "A", "orderId": "1", "total": "1"})
    with pytest.raises(Exception, match="quantity"):
        render(
            "order-confirmation", {"name": "A", "orderId": "1", "total": "1", "lines": [{"productName": "x"}]}
        )
