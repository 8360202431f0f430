"""The business metrics reach the functions' output as CloudWatch EMF lines (docs/operations.md).

In AWS, CloudWatch Logs turns each line carrying an ``_aws.CloudWatchMetrics`` directive into
metrics; here the same lines reach the local cloud's output, prefixed ``HH:MM:SS [function]``.
The test drives the events through real HTTP and the real queues, then reads them back from that
output: names, namespace, dimensions (``service`` per function, ``job_type`` per job: never an id)
and values.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from tests.integration.conftest import LocalCloud, wait_until
from tests.integration.test_orders import PASSWORD, Emulator, _auth_post, place, sign_up

pytestmark = pytest.mark.integration

_LINE = re.compile(r"^\d\d:\d\d:\d\d \[(?P<source>[^\]]+)\] (?P<json>\{.*\})$")
#: Every dimension a business metric may have (tests/unit/test_observability.py pins the same set).
#: What an id looks like: a ULID (26 Crockford base32 characters) or a hex uuid.
_ID = re.compile(r"\b[0-9A-HJKMNP-TV-Z]{26}\b|\b[0-9a-f]{32}\b|[0-9a-f]{8}-[0-9a-f]{4}-")
#: ``queue``: the DLQ monitor's DeadLetterMessages, one series per dead-letter queue (five).
ALLOWED_DIMENSIONS = {"service", "job_type", "limit", "function_name", "template", "queue"}


def emf_lines(cloud: LocalCloud) -> list[tuple[str, dict[str, Any]]]:
    """(source, EMF document) for every line of the cloud's output that is one."""
    found = []
    for line in cloud.output().splitlines():
        match = _LINE.match(line)
        if match is None:
            continue
        try:
            document = json.loads(match["json"])
        except json.JSONDecodeError:
            continue
        if isinstance(document, dict) and "CloudWatchMetrics" in document.get("_aws", {}):
            found.append((match["source"], document))
    return found


def metric_total(cloud: LocalCloud, name: str, **dimensions: str) -> float:
    """The sum of ``name`` over the EMF lines whose dimension values match ``dimensions``."""
    total = 0.0
    for _source, document in emf_lines(cloud):
        declared = {m["Name"] for d in document["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]}
        if name not in declared or any(document.get(k) != v for k, v in dimensions.items()):
            continue
        value = document[name]
        total += sum(value) if isinstance(value, list) else value
    return total


def wait_for_metric(cloud: LocalCloud, name: str, at_least: float, **dimensions: str) -> float:
    found: Callable[[], float] = lambda: metric_total(cloud, name, **dimensions)  # noqa: E731
    wait_until(lambda: found() >= at_least, timeout=30, what=f"{name} {dimensions} >= {at_least}")
    return found()


def test_business_events_are_emf_lines_with_low_cardinality_dimensions(local_cloud: LocalCloud) -> None:
    emulator = Emulator(local_cloud)
    before = {
        "signups": metric_total(local_cloud, "SignUps", service="auth"),
        "failed": metric_total(local_cloud, "SignInsFailed", service="auth"),
        "placed": metric_total(local_cloud, "OrdersPlaced", service="orders"),
        "cancelled": metric_total(local_cloud, "OrdersCancelled", service="orders"),
        "stock": metric_total(local_cloud, "OrdersFailedStock", service="orders"),
        "processed": metric_total(local_cloud, "JobsProcessed", service="worker", job_type="order.process"),
    }
    user = sign_up(local_cloud, "Metric Maker")
    wrong = _auth_post(local_cloud, "/api/auth/sign-in", {"email": user.email, "password": PASSWORD + "x"})
    assert wrong.status_code == 401, wrong.text
    unknown = _auth_post(
        local_cloud,
        "/api/auth/sign-in",
        {"email": f"{uuid.uuid4().hex[:12]}@example.com", "password": PASSWORD},
    )
    assert unknown.status_code == 401, unknown.text

    product = emulator.product(name="Metered Mug", price="4.00", stock=2)
    placed = place(local_cloud, user, [{"productId": product, "quantity": 1}])
    assert placed.status_code == 201, placed.text
    short = place(local_cloud, user, [{"productId": product, "quantity": 5}])
    assert short.status_code == 409, short.text
    order_id = placed.json()["data"]["id"]

    # the worker moves the order to PROCESSING (an order.process job), then it is cancelled
    wait_for_metric(
        local_cloud, "JobsProcessed", before["processed"] + 1, service="worker", job_type="order.process"
    )
    cancelled = local_cloud.post(f"/api/orders/{order_id}/cancel", headers=user.headers)
    assert cancelled.status_code == 200, cancelled.text

    assert (
        wait_for_metric(local_cloud, "SignUps", before["signups"] + 1, service="auth")
        == before["signups"] + 1
    )
    assert (
        wait_for_metric(local_cloud, "SignInsFailed", before["failed"] + 2, service="auth")
        == before["failed"] + 2
    )
    assert (
        wait_for_metric(local_cloud, "OrdersPlaced", before["placed"] + 1, service="orders")
        == before["placed"] + 1
    )
    assert (
        wait_for_metric(local_cloud, "OrdersFailedStock", before["stock"] + 1, service="orders")
        == before["stock"] + 1
    )
    assert (
        wait_for_metric(local_cloud, "OrdersCancelled", before["cancelled"] + 1, service="orders")
        == before["cancelled"] + 1
    )

    lines = emf_lines(local_cloud)
    assert lines
    for source, document in lines:
        directive = document["_aws"]
        assert isinstance(directive["Timestamp"], int)
        for declaration in directive["CloudWatchMetrics"]:
            assert declaration["Namespace"] == "AppBackend"
            for dimension_set in declaration["Dimensions"]:
                assert set(dimension_set) <= ALLOWED_DIMENSIONS, (source, dimension_set)
                for dimension in dimension_set:
                    # a value of a small, fixed set (job types, queue names...): never an id
                    assert not _ID.search(str(document[dimension])), document
            for metric in declaration["Metrics"]:
                assert metric["Unit"] == "Count", (source, metric)
        assert user.id not in json.dumps(document)
        assert order_id not in json.dumps(document)
