"""Orders and their background jobs through the local cloud: real HTTP, real queues, the worker,
the schedules and the mailbox.

There is no route yet that makes an admin, and products come with the catalog routes; the
``Emulator`` helper does both straight through the repositories, in a child process whose AWS
endpoint is the cloud's emulator (so this test process's own settings and clients are untouched).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
import pytest

from tests.integration.conftest import ROOT, LocalCloud, wait_until

pytestmark = pytest.mark.integration

_EMULATOR_SCRIPT = """
import json, sys
from decimal import Decimal
op, args = sys.argv[1], json.loads(sys.argv[2])
from backend.wiring import get_container
from backend.models.enums import OrderStatus, Role
from backend.records.orders import OrderLine
c = get_container()
if op == "product":
    p = c.products.create(name=args["name"], price=Decimal(args["price"]), stock=args["stock"])
    print(json.dumps({"id": p.id}))
elif op == "stock":
    print(json.dumps({"stock": c.products.get(args["id"], consistent=True).stock}))
elif op == "promote":
    user = c.users.get_by_email(args["email"])
    c.users.update(user, role=Role.ADMIN)
    print(json.dumps({"id": user.id}))
elif op == "order":
    p = c.products.get(args["productId"])
    line = OrderLine(product_id=p.id, product_name=p.name, quantity=args["quantity"], unit_price=p.price)
    print(json.dumps({"id": c.orders.create(args["userId"], [line]).id}))
elif op == "account":  # a user with a session and an access token, without the sign-up rate limit
    import secrets
    from datetime import timedelta
    from backend.services import tokens
    role = Role(args["role"])
    user = c.users.create(email=args["email"], password_hash="unused", name=args["name"], role=role)
    now = c.clock()
    session = c.sessions.create(user.id, token_hash=tokens.hash_secret(secrets.token_hex(16)), expires_at=now + timedelta(days=1))
    token, _ = tokens.issue_access_token(
        c.keyring.current(), user_id=user.id, role=role, session_id=session.id, now=now, ttl_seconds=900, issuer=c.issuer
    )
    print(json.dumps({"id": user.id, "token": token}))
elif op == "status":
    print(json.dumps({"status": c.orders.get(args["id"], consistent=True).status.value}))
"""


@dataclass
class Emulator:
    """Repository calls against the cloud's emulator, each in a child process."""

    cloud: LocalCloud

    def run(self, op: str, **args: Any) -> dict[str, Any]:
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": os.environ.get("HOME", ""),
            "PYTHONPATH": str(ROOT / "layers" / "shared"),
            "AWS_ENDPOINT_URL": self.cloud.endpoint_url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "TABLE_NAME": self.cloud.table_name,
            "TOKEN_SECRET_NAME": self.cloud.ref("TokenSigningSecret"),
            "APP_STAGE": str(self.cloud.health["parameters"].get("Stage", "dev")),
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_LOG_LEVEL": "WARNING",
        }
        done = subprocess.run(
            [sys.executable, "-c", _EMULATOR_SCRIPT, op, json.dumps(args)],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
        return result

    def product(self, *, name: str, price: str, stock: int) -> str:
        return str(self.run("product", name=name, price=price, stock=stock)["id"])

    def stock(self, product_id: str) -> int:
        return int(self.run("stock", id=product_id)["stock"])

    def account(self, *, role: str = "USER", name: str = "Test Buyer") -> User:
        """An account as sign-up makes it, minus the sign-up rate limit (5 a minute per address)."""
        email = f"{uuid.uuid4().hex[:12]}@example.com"
        made = self.run("account", email=email, role=role, name=name)
        return User(id=made["id"], email=email, token=made["token"])


@dataclass
class User:
    id: str
    email: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.token}"}


PASSWORD = "correct horse battery staple 42"


def _auth_post(cloud: LocalCloud, path: str, body: dict[str, Any]) -> httpx.Response:
    """Sign-up and sign-in allow 5 attempts a minute per address, and every test of this cloud signs
    up from 127.0.0.1: a 429 is waited out (Retry-After), as a client would."""
    deadline = time.monotonic() + 90
    while True:
        response = cloud.post(path, json=body)
        if response.status_code != 429 or time.monotonic() > deadline:
            return response
        time.sleep(min(float(response.headers.get("retry-after", "5")), 10))


def sign_up(cloud: LocalCloud, name: str = "Ada Lovelace") -> User:
    email = f"{uuid.uuid4().hex[:12]}@example.com"
    response = _auth_post(cloud, "/api/auth/sign-up", {"email": email, "password": PASSWORD, "name": name})
    assert response.status_code == 201, response.text
    data = response.json()["data"]
    return User(id=data["user"]["id"], email=email, token=data["accessToken"])


def admin(cloud: LocalCloud, emulator: Emulator) -> User:
    user = sign_up(cloud, "Grace Admin")
    emulator.run("promote", email=user.email)
    signed_in = _auth_post(cloud, "/api/auth/sign-in", {"email": user.email, "password": PASSWORD})
    assert signed_in.status_code == 200, signed_in.text
    assert signed_in.json()["data"]["user"]["role"] == "ADMIN"
    return User(id=user.id, email=user.email, token=signed_in.json()["data"]["accessToken"])


def place(
    cloud: LocalCloud, user: User, items: list[dict[str, Any]], key: str | None = None, client: Any = None
) -> httpx.Response:
    """POST /api/orders as a careful client does: a connection error is retried with the same
    Idempotency-Key, which is what the key is for (under 50 parallel connections the local gateway
    may reset some before they are accepted)."""
    headers = {**user.headers, "idempotency-key": key or uuid.uuid4().hex}
    for attempt in range(5):
        try:
            return (client or cloud).post("/api/orders", json={"items": items}, headers=headers)
        except httpx.TransportError:
            if attempt == 4:
                raise
            time.sleep(0.2 * (attempt + 1))
    raise AssertionError("unreachable")


def order_status(cloud: LocalCloud, user: User, order_id: str) -> str:
    response = cloud.get(f"/api/orders/{order_id}", headers=user.headers)
    assert response.status_code == 200, response.text
    return str(response.json()["data"]["status"])


def queue_depth(cloud: LocalCloud, logical_id: str) -> int:
    attributes = cloud.client("sqs").get_queue_attributes(
        QueueUrl=cloud.queue_urls[logical_id],
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(
        attributes["ApproximateNumberOfMessagesNotVisible"]
    )


@pytest.fixture(scope="module")
def emulator(local_cloud: LocalCloud) -> Emulator:
    return Emulator(local_cloud)


# ----------------------------------------------------------------------------- the journey
def test_the_whole_journey_ends_with_the_confirmation_in_the_mailbox(
    local_cloud: LocalCloud, emulator: Emulator
) -> None:
    admin(local_cloud, emulator)  # an admin exists; products come from the catalogue (here, directly)
    mug = emulator.product(name="Mug <Deluxe>", price="12.50", stock=5)
    tea = emulator.product(name="Tea", price="3.99", stock=9)
    user = sign_up(local_cloud, "<script>alert(1)</script>")
    placed = place(local_cloud, user, [{"productId": mug, "quantity": 2}, {"productId": tea, "quantity": 3}])
    assert placed.status_code == 201, placed.text
    order = placed.json()["data"]
    assert order["total"] == "36.97"
    assert (emulator.stock(mug), emulator.stock(tea)) == (3, 6)

    mail = local_cloud.wait_for_mail(lambda m: m["subject"] == f"Order {order['id']} confirmed", timeout=30)
    assert mail["to"] == [user.email]
    body = mail["body"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "<script>" not in body
    for text in (
        "Mug &lt;Deluxe&gt;",
        ">2<",
        ">12.50<",
        ">25.00<",
        "Tea",
        ">3<",
        ">3.99<",
        ">11.97<",
        "36.97",
    ):
        assert text in body, text
    assert order_status(local_cloud, user, order["id"]) == "PROCESSING"

    # The same confirmation message delivered twice more: still one email.
    sqs = local_cloud.client("sqs")
    job = {
        "type": "order.send-confirmation",
        "jobId": f"order-confirmation-{order['id']}",
        "orderId": order["id"],
    }
    for _ in range(2):
        sqs.send_message(QueueUrl=local_cloud.queue_urls["OrderQueue"], MessageBody=json.dumps(job))
    wait_until(
        lambda: queue_depth(local_cloud, "OrderQueue") == 0, timeout=20, what="the order queue to drain"
    )
    time.sleep(1)
    confirmations = [m for m in local_cloud.mail() if m["subject"] == f"Order {order['id']} confirmed"]
    assert len(confirmations) == 1


# ----------------------------------------------------------------------------- races
def test_fifty_concurrent_orders_on_ten_in_stock_sell_exactly_ten(
    local_cloud: LocalCloud, emulator: Emulator
) -> None:
    product = emulator.product(name="Limited", price="1.00", stock=10)
    buyer = emulator.account()
    with httpx.Client(base_url=local_cloud.base_url, timeout=60) as client, ThreadPoolExecutor(50) as pool:
        responses = list(
            pool.map(
                lambda _: place(local_cloud, buyer, [{"productId": product, "quantity": 1}], client=client),
                range(50),
            )
        )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] * 10 + [409] * 40, [r.text for r in responses if r.status_code not in (201, 409)]
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"OUT_OF_STOCK"}
    assert emulator.stock(product) == 0
    listed = local_cloud.get("/api/orders", headers=buyer.headers).json()
    assert listed["meta"]["total"] == 10
    assert local_cloud.stats("OrdersFunction")["peakConcurrency"] > 1  # a real race between instances


def test_five_concurrent_requests_with_one_key_make_one_order(
    local_cloud: LocalCloud, emulator: Emulator
) -> None:
    product = emulator.product(name="Once", price="2.00", stock=10)
    buyer = emulator.account()
    key = uuid.uuid4().hex
    with httpx.Client(base_url=local_cloud.base_url, timeout=60) as client, ThreadPoolExecutor(5) as pool:
        responses = list(
            pool.map(
                lambda _: place(
                    local_cloud, buyer, [{"productId": product, "quantity": 2}], key=key, client=client
                ),
                range(5),
            )
        )
    assert [r.status_code for r in responses] == [201] * 5, [r.text for r in responses]
    assert len({json.dumps(r.json()["data"], sort_keys=True) for r in responses}) == 1
    # one response executed the placement (no header); the four others were answered from its record
    replayed = sorted(r.headers.get("idempotent-replayed", "-") for r in responses)
    assert replayed == ["-"] + ["true"] * 4
    assert emulator.stock(product) == 8
    assert local_cloud.get("/api/orders", headers=buyer.headers).json()["meta"]["total"] == 1
    # a later retry from a browser: replayed, and the gateway's CORS lets the page read the header
    again = local_cloud.post(
        "/api/orders",
        json={"items": [{"productId": product, "quantity": 2}]},
        headers={**buyer.headers, "idempotency-key": key, "origin": "http://localhost:5173"},
    )
    assert again.status_code == 201, again.text
    assert again.headers["idempotent-replayed"] == "true"
    exposed = again.headers["access-control-expose-headers"].lower().split(",")
    assert "idempotent-replayed" in exposed


# ----------------------------------------------------------------------------- state machine
def test_cancel_restores_stock_and_illegal_transitions_are_409(
    local_cloud: LocalCloud, emulator: Emulator
) -> None:
    boss = emulator.account(role="ADMIN")
    product = emulator.product(name="Lamp", price="30.00", stock=10)
    buyer = emulator.account()
    order = place(local_cloud, buyer, [{"productId": product, "quantity": 3}]).json()["data"]
    assert emulator.stock(product) == 7
    cancelled = local_cloud.post(f"/api/orders/{order['id']}/cancel", headers=buyer.headers)
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["data"]["status"] == "CANCELLED"
    assert emulator.stock(product) == 10
    for status in ("PROCESSING", "DELIVERED"):
        illegal = local_cloud.request(
            "PATCH", f"/api/orders/{order['id']}/status", json={"status": status}, headers=boss.headers
        )
        assert illegal.status_code == 409
        assert illegal.json()["code"] == "INVALID_STATUS_TRANSITION"
    again = local_cloud.post(f"/api/orders/{order['id']}/cancel", headers=buyer.headers)
    assert again.status_code == 409
    assert emulator.stock(product) == 10
    stranger = emulator.account()
    assert local_cloud.get(f"/api/orders/{order['id']}", headers=stranger.headers).status_code == 404


def test_users_filter_their_own_orders_by_status_with_exact_totals(
    local_cloud: LocalCloud, emulator: Emulator
) -> None:
    """Issue 19 through the gateway: ``?status=`` lists only the caller's orders in that status,
    paged by cursor and by page number, with exact totals; an unknown status is 400."""
    product = emulator.product(name="Kettle", price="20.00", stock=50)
    buyer, other = emulator.account(), emulator.account()
    # placed through the repository: no order.process job, so they stay PENDING until moved here
    ids = [emulator.run("order", userId=buyer.id, productId=product, quantity=1)["id"] for _ in range(4)]
    emulator.run("order", userId=other.id, productId=product, quantity=1)
    cancelled = local_cloud.post(f"/api/orders/{ids[0]}/cancel", headers=buyer.headers)
    assert cancelled.status_code == 200, cancelled.text

    def listing(query: str, user: User = buyer) -> dict[str, Any]:
        response = local_cloud.get(f"/api/orders?{query}", headers=user.headers)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    newest_pending = ids[:0:-1]
    first = wait_until(  # the index may lag the write for a moment
        lambda: (
            (b := listing("status=PENDING&limit=2"))["data"]
            and [o["id"] for o in b["data"]] == newest_pending[:2]
            and b
        ),
        what="the PENDING listing",
    )
    assert first["meta"]["total"] == 3
    assert first["meta"]["totalPages"] == 2
    assert {o["userId"] for o in first["data"]} == {buyer.id}
    rest = listing(f"status=PENDING&limit=2&cursor={first['meta']['nextCursor']}")
    assert [o["id"] for o in rest["data"]] == newest_pending[2:]
    assert rest["meta"]["nextCursor"] is None
    assert [o["id"] for o in listing("status=PENDING&limit=2&page=2")["data"]] == newest_pending[2:]
    gone = wait_until(lambda: (b := listing("status=CANCELLED"))["data"] and b, what="the CANCELLED listing")
    assert [o["id"] for o in gone["data"]] == [ids[0]]
    assert gone["meta"]["total"] == 1
    assert listing("status=PENDING", other)["meta"]["total"] == 1
    assert listing("")["meta"]["total"] == 4  # the unfiltered list is unchanged

    bad = local_cloud.get("/api/orders?status=LOST", headers=buyer.headers)
    assert bad.status_code == 400
    assert bad.json()["code"] == "VALIDATION_ERROR"
    assert bad.json()["details"][0]["field"] == "status"


# ----------------------------------------------------------------------------- failures
def test_a_poison_message_reaches_the_dlq_and_redrive_brings_it_back(
    local_cloud: LocalCloud, emulator: Emulator
) -> None:
    product = emulator.product(name="Pen", price="1.50", stock=10)
    buyer = emulator.account()
    # Orders written without their job (as if the enqueue had failed), then processed in one batch
    # together with a poison message.
    orders = [emulator.run("order", userId=buyer.id, productId=product, quantity=1)["id"] for _ in range(2)]
    sqs = local_cloud.client("sqs")
    poison = '{"type": "order.process", "jobId": "poison-1", "orderId": "../../etc/passwd"}'
    entries = [
        {
            "Id": str(i),
            "MessageBody": json.dumps({"type": "order.process", "jobId": f"order-process-{o}", "orderId": o}),
        }
        for i, o in enumerate(orders)
    ]
    sqs.send_message_batch(
        QueueUrl=local_cloud.queue_urls["OrderQueue"],
        Entries=[*entries, {"Id": "poison", "MessageBody": poison}],
    )
    for order_id in orders:
        wait_until(
            lambda o=order_id: order_status(local_cloud, buyer, o) == "PROCESSING",
            timeout=20,
            what="processing",
        )

    dlq = local_cloud.queue_urls["OrderDLQ"]

    def poison_in_dlq() -> bool:
        messages = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10, VisibilityTimeout=0).get(
            "Messages", []
        )
        return any(m["Body"] == poison for m in messages)

    wait_until(poison_in_dlq, timeout=60, what="the poison message in OrderDLQ (maxReceiveCount 5)")
    port = local_cloud.base_url.rsplit(":", 1)[1]
    done = subprocess.run(
        [sys.executable, "-m", "local", "redrive", "OrderDLQ", "--port", port],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"queue": "OrderDLQ", "destination": "OrderQueue", "moved": 1}
    assert queue_depth(local_cloud, "OrderDLQ") == 0
    # Back on its queue, it is retried again (and, still poison, ends in the DLQ again).
    wait_until(
        poison_in_dlq, timeout=60, what="the redriven poison message to be retried and dead-lettered again"
    )
    sqs.purge_queue(QueueUrl=dlq)


def test_the_sweeper_gets_an_order_processed_when_its_enqueue_failed(
    local_cloud: LocalCloud, emulator: Emulator
) -> None:
    product = emulator.product(name="Kettle", price="20.00", stock=5)
    buyer = emulator.account()
    sqs = local_cloud.client("sqs")
    url = local_cloud.queue_urls["OrderQueue"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout", "RedrivePolicy"])
    sqs.delete_queue(QueueUrl=url)  # SQS is down for the orders function
    try:
        placed = place(local_cloud, buyer, [{"productId": product, "quantity": 1}])
    finally:
        sqs.create_queue(QueueName=url.rsplit("/", 1)[1], Attributes=attributes["Attributes"])
    assert placed.status_code == 201, placed.text  # the order is committed either way
    order_id = placed.json()["data"]["id"]
    time.sleep(3)
    assert order_status(local_cloud, buyer, order_id) == "PENDING"  # nothing was enqueued

    # The sweeper, run now with no minimum age (its schedule uses PendingOrderRequeueAfterSeconds).
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "local",
            "invoke",
            "ScheduledFunction",
            "--event",
            "-",
            "--endpoint-url",
            local_cloud.base_url,
        ],
        cwd=ROOT,
        input=json.dumps({"task": "order-sweeper", "requeueAfterSeconds": 0}),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["requeued"] >= 1
    wait_until(
        lambda: order_status(local_cloud, buyer, order_id) == "PROCESSING", timeout=30, what="processing"
    )
    local_cloud.wait_for_mail(lambda m: m["subject"] == f"Order {order_id} confirmed", timeout=30)
    assert Decimal(emulator.stock(product)) == 4
