"""The journeys and the races again, on a local cloud whose DynamoDB behaves as under contention:
20 % of the functions' writes meet a transaction conflict, 20 % of their requests are throttled,
and global secondary indexes lag 1 s behind the table (``--faults``, local.faults).

The client is a careful one: a 503, and a 409 IDEMPOTENCY_IN_PROGRESS (an earlier attempt's record
still held: one whose store write was throttled keeps it until the invocation's timeout), are
retried after their Retry-After (capped at half a second here, to keep the suite fast), and an order
keeps its Idempotency-Key across retries. What must hold
is exact: no 500, never EMAIL_TAKEN for a conflict, exactly one account of ten racing sign-ups,
exactly N orders of M on stock N, every read right after a write sees it.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from tests.integration.conftest import APP_CLOUD_ARGS, LocalCloud, wait_until
from tests.integration.test_orders import PASSWORD, Emulator

# one worker runs the whole module: its cloud's teardown checks the faults the module met, and
# `--dist loadgroup` would otherwise spread the tests (and a cloud each) over the workers
pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("faults")]

FAULTS = "conflict:0.2,throttle:0.2,index-lag:1s"
#: How many 503s one request may meet before the test calls it unavailable, not busy.
ATTEMPTS = 10


@pytest.fixture(scope="module")
def faulty_cloud(local_cloud_factory: Any) -> Iterator[LocalCloud]:
    cloud = local_cloud_factory(*APP_CLOUD_ARGS, "--faults", FAULTS, name="faults")
    yield cloud
    injected = cloud.get("/_local/faults").json()["injected"]
    # the faults really were met (the whole module's worth)
    for code in ("TransactionConflictException", "TransactionCanceledException"):
        assert injected.get(code, 0) > 0, injected
    assert (
        injected.get("ProvisionedThroughputExceededException", 0) + injected.get("ThrottlingException", 0) > 0
    )


def call(client: httpx.Client | LocalCloud, method: str, path: str, **kwargs: Any) -> httpx.Response:
    """One request as a careful client sends it: a 503 or a 409 IDEMPOTENCY_IN_PROGRESS is retried
    after Retry-After (docs/orders.md); nothing else is."""
    for _ in range(ATTEMPTS):
        try:
            response = client.request(method, path, **kwargs)
        except httpx.TransportError:
            time.sleep(0.2)
            continue
        assert response.status_code != 500, f"{method} {path}: {response.text}"
        if response.status_code == 409 and response.json()["code"] == "IDEMPOTENCY_IN_PROGRESS":
            time.sleep(min(float(response.headers["retry-after"]), 0.5) * random.uniform(0.5, 1.0))
            continue
        if response.status_code != 503:
            return response
        assert response.json()["code"] in ("SERVICE_BUSY", "SERVICE_UNAVAILABLE"), response.text
        retry_after = float(response.headers["retry-after"])
        time.sleep(min(retry_after, 0.5) * random.uniform(0.5, 1.0))
    raise AssertionError(f"{method} {path}: still 503 after {ATTEMPTS} attempts")


def sign_up(cloud: LocalCloud, email: str, name: str = "Faulty") -> httpx.Response:
    return call(cloud, "POST", "/api/auth/sign-up", json={"email": email, "password": PASSWORD, "name": name})


def test_the_faults_switch_reads_refuses_and_restores(faulty_cloud: LocalCloud) -> None:
    current = faulty_cloud.get("/_local/faults").json()
    assert current["spec"] == "conflict:0.2,throttle:0.2,index-lag:1000ms"
    bad = faulty_cloud.request("PUT", "/_local/faults", json={"spec": "conflict:2"})
    assert bad.status_code == 400
    assert bad.json()["code"] == "VALIDATION_ERROR"
    assert "between 0 and 1" in bad.json()["error"]
    assert faulty_cloud.get("/_local/faults").json()["spec"] == current["spec"]  # unchanged


def test_identity_journey_reads_its_own_writes(faulty_cloud: LocalCloud) -> None:
    email = f"faulty-{uuid.uuid4().hex[:10]}@example.com"
    created = sign_up(faulty_cloud, email)
    assert created.status_code == 201, created.text
    # at once: the email index may not have the user for another second; sign-in reads the table
    signed_in = call(faulty_cloud, "POST", "/api/auth/sign-in", json={"email": email, "password": PASSWORD})
    assert signed_in.status_code == 200, signed_in.text
    headers = {"authorization": f"Bearer {signed_in.json()['data']['accessToken']}"}
    me = call(faulty_cloud, "GET", "/api/me", headers=headers)
    assert me.status_code == 200, me.text
    assert me.json()["data"]["user"]["email"] == email
    new_password = "a brand new passphrase 77"
    changed = call(
        faulty_cloud,
        "POST",
        "/api/me/password",
        headers=headers,
        json={"currentPassword": PASSWORD, "newPassword": new_password},
    )
    assert changed.status_code == 204, changed.text
    again = call(faulty_cloud, "POST", "/api/auth/sign-in", json={"email": email, "password": new_password})
    assert again.status_code == 200, again.text
    old = call(faulty_cloud, "POST", "/api/auth/sign-in", json={"email": email, "password": PASSWORD})
    assert old.status_code == 401, old.text
    refreshed = call(
        faulty_cloud, "POST", "/api/auth/refresh", json={"refreshToken": again.json()["data"]["refreshToken"]}
    )
    assert refreshed.status_code == 200, refreshed.text


def test_ten_racing_sign_ups_with_one_email_make_exactly_one_account(faulty_cloud: LocalCloud) -> None:
    email = f"race-{uuid.uuid4().hex[:10]}@example.com"

    def attempt(index: int) -> httpx.Response:
        with httpx.Client(base_url=faulty_cloud.base_url, timeout=60) as client:
            body = {"email": email, "password": PASSWORD, "name": f"Racer {index}"}
            return call(client, "POST", "/api/auth/sign-up", json=body)

    with ThreadPoolExecutor(max_workers=10) as pool:
        responses = list(pool.map(attempt, range(10)))
    statuses = [r.status_code for r in responses]
    assert statuses.count(201) == 1, [r.text for r in responses]
    assert {r.json()["code"] for r in responses if r.status_code == 409} <= {"EMAIL_TAKEN"}
    assert set(statuses) <= {201, 409, 429}, statuses
    # exactly one user item holds the address (read by the test, which meets no faults)
    items = faulty_cloud.client("dynamodb").query(
        TableName=faulty_cloud.table_name,
        IndexName="GSI3",
        KeyConditionExpression="GSI3PK = :pk",
        ExpressionAttributeValues={":pk": {"S": f"EMAIL#{email}"}},
    )["Items"]
    assert len(items) == 1, items


def test_twenty_racing_orders_on_five_in_stock_sell_exactly_five_and_read_back(
    faulty_cloud: LocalCloud,
) -> None:
    emulator = Emulator(faulty_cloud)  # its repository calls meet no faults: they are the test's
    product = emulator.product(name="Scarce", price="3.00", stock=5)
    buyer = emulator.account()

    def order(_: int) -> httpx.Response:
        key = uuid.uuid4().hex  # one key per order, kept across its retries
        with httpx.Client(base_url=faulty_cloud.base_url, timeout=60) as client:
            return call(
                client,
                "POST",
                "/api/orders",
                json={"items": [{"productId": product, "quantity": 1}]},
                headers={**buyer.headers, "idempotency-key": key},
            )

    with ThreadPoolExecutor(max_workers=20) as pool:
        responses = list(pool.map(order, range(20)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] * 5 + [409] * 15, (
        [r.text for r in responses if r.status_code != 201],
        emulator.stock(product),
    )
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"OUT_OF_STOCK"}
    assert emulator.stock(product) == 0
    for placed in (r for r in responses if r.status_code == 201):
        order_id = placed.json()["data"]["id"]
        read = call(faulty_cloud, "GET", f"/api/orders/{order_id}", headers=buyer.headers)
        assert read.status_code == 200, read.text  # right after placing: the table, consistently
        assert read.json()["data"]["id"] == order_id
    # the listing reads an index: it catches up within the lag
    wait_until(
        lambda: call(faulty_cloud, "GET", "/api/orders", headers=buyer.headers).json()["meta"]["total"] == 5,
        timeout=10,
        what="the five orders in the buyer's listing",
    )


def test_a_placed_order_reads_back_at_once_while_the_listing_index_still_lags(
    faulty_cloud: LocalCloud,
) -> None:
    emulator = Emulator(faulty_cloud)
    product = emulator.product(name="Lagging", price="4.00", stock=3)
    buyer = emulator.account()
    slow = faulty_cloud.request(
        "PUT", "/_local/faults", json={"spec": "conflict:0.2,throttle:0.2,index-lag:20s"}
    )
    assert slow.status_code == 200, slow.text
    try:
        placed = call(
            faulty_cloud,
            "POST",
            "/api/orders",
            json={"items": [{"productId": product, "quantity": 1}]},
            headers={**buyer.headers, "idempotency-key": uuid.uuid4().hex},
        )
        assert placed.status_code == 201, placed.text
        order_id = placed.json()["data"]["id"]
        read = call(faulty_cloud, "GET", f"/api/orders/{order_id}", headers=buyer.headers)
        assert read.status_code == 200, read.text
        listed = call(faulty_cloud, "GET", "/api/orders", headers=buyer.headers)
        assert listed.status_code == 200, listed.text
        assert order_id not in {o["id"] for o in listed.json()["data"]}  # the index has not caught up
        assert faulty_cloud.get("/_local/faults").json()["injected"].get("IndexLag", 0) >= 1
    finally:
        restored = faulty_cloud.request("PUT", "/_local/faults", json={"spec": FAULTS})
        assert restored.status_code == 200, restored.text
