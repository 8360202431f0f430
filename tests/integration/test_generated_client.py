"""A client developer's journey through a client generated from the merged /openapi.json.

The local cloud's document is fed to openapi-python-client (pinned in requirements-dev.txt, options in
tests/integration/openapi-client.yaml), once per test session, into a temporary package that is then
imported; every API call below goes through the generated functions, none through raw httpx. The
document is the contract, so the test is strict about it:

- generation must succeed without a warning (``--fail-on-warning``: a duplicate operation id, a schema
  the generator cannot read...);
- the clients raise on a status the document does not declare (``raise_on_unexpected_status``);
- each answer must parse into the declared model (``.parsed``), with no field the document does not
  declare (the generated models keep those in ``additional_properties``) and nothing lost or changed
  on the way (the model's ``to_dict()`` is the JSON the server sent; a ``date-time`` is compared as
  the instant it names: the generated model writes ``2026-01-02T03:04:05+00:00`` for the server's
  ``2026-01-02T03:04:05.000000Z``).
"""

from __future__ import annotations

import importlib
import json
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import attrs
import pytest

from tests.integration.conftest import LocalCloud
from tests.support.identity import PASSWORD

# The journey's tests share one generated client: keep them on one xdist worker.
pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("generated-client")]

CONFIG = Path(__file__).with_name("openapi-client.yaml")
PACKAGE = "app_backend_client"


@dataclass
class Generated:
    """The generated package, its operations by module and the base URL it talks to."""

    package: ModuleType
    base_url: str
    output: str

    def op(self, tag: str, name: str) -> Any:
        """The module of one operation: ``op("orders", "place_order")``."""
        return importlib.import_module(f"{PACKAGE}.api.{tag}.{name}")

    def model(self, name: str) -> Any:
        return getattr(importlib.import_module(f"{PACKAGE}.models"), name)

    def client(self, token: str | None = None) -> Any:
        """A client that raises on a status the document does not declare."""
        if token is None:
            return self.package.Client(base_url=self.base_url, raise_on_unexpected_status=True, timeout=60)
        return self.package.AuthenticatedClient(
            base_url=self.base_url, token=token, raise_on_unexpected_status=True, timeout=60
        )


@pytest.fixture(scope="session")
def generated(local_cloud: LocalCloud, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Generated]:
    """The client generated from the running cloud's /openapi.json (once per session)."""
    root = tmp_path_factory.mktemp("generated-client")
    document = root / "openapi.json"
    response = local_cloud.get("/openapi.json")
    assert response.status_code == 200, response.text
    document.write_bytes(response.content)
    command = [
        sys.executable,
        "-m",
        "openapi_python_client",
        "generate",
        "--path",
        str(document),
        "--output-path",
        str(root / PACKAGE),
        "--meta",
        "none",
        "--config",
        str(CONFIG),
        "--fail-on-warning",
    ]
    env = {**os.environ, "NO_COLOR": "1", "TERM": "dumb", "COLUMNS": "200"}
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env, check=False)
    output = (done.stdout + done.stderr).strip()
    assert done.returncode == 0, f"openapi-python-client failed on /openapi.json:\n{output}"
    assert "warning" not in output.lower(), f"openapi-python-client warned about /openapi.json:\n{output}"
    sys.path.insert(0, str(root))
    try:
        yield Generated(importlib.import_module(PACKAGE), local_cloud.base_url, output)
    finally:
        sys.path.remove(str(root))
        for name in [name for name in sys.modules if name == PACKAGE or name.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


def undeclared(value: Any, where: str = "") -> list[str]:
    """Fields of a parsed answer the document does not declare, by path (empty when none).

    A generated model keeps the members its schema does not name in ``additional_properties``, typed
    ``dict[str, Any]``; a schema that declares ``additionalProperties`` (a map) gets a typed one."""
    if attrs.has(type(value)):
        where = where or type(value).__name__
        found: list[str] = []
        for field in attrs.fields(type(value)):
            member = getattr(value, field.name)
            if field.name == "additional_properties" and str(field.type) in (
                "dict[str, Any]",
                str(dict[str, Any]),
            ):
                found += [f"{where}.{key}" for key in sorted(member)]
            elif field.name == "additional_properties":
                found += [
                    item
                    for key, item_value in member.items()
                    for item in undeclared(item_value, f"{where}[{key}]")
                ]
            else:
                found += undeclared(member, f"{where}.{field.name}")
        return found
    if isinstance(value, list):
        return [
            item for index, element in enumerate(value) for item in undeclared(element, f"{where}[{index}]")
        ]
    return []


DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def instants(value: Any) -> Any:
    """JSON with every RFC 3339 date-time read as the instant it names (its spelling aside)."""
    if isinstance(value, dict):
        return {key: instants(item) for key, item in value.items()}
    if isinstance(value, list):
        return [instants(item) for item in value]
    if isinstance(value, str) and DATE_TIME.match(value):
        return datetime.fromisoformat(value)
    return value


def expect(response: Any, status: int, model: Any) -> Any:
    """The parsed answer, after checking its status, its model and that the model holds all of it."""
    assert response.status_code == status, (status, int(response.status_code), response.content[:500])
    parsed = response.parsed
    assert isinstance(parsed, model), (
        f"{type(parsed).__name__} is not {model.__name__}: {response.content[:500]!r}"
    )
    assert undeclared(parsed) == [], (
        f"the server sends fields the document does not declare: {undeclared(parsed)}"
    )
    assert instants(parsed.to_dict()) == instants(json.loads(response.content)), (
        "the declared model does not say what the server sent"
    )
    return parsed


def test_the_document_generates_a_client_with_every_operation(
    generated: Generated, local_cloud: LocalCloud
) -> None:
    """Every operation of the document became a function of the generated client."""
    document = local_cloud.get("/openapi.json").json()
    modules = {path.stem for path in Path(str(generated.package.__file__)).parent.glob("api/*/*.py")}
    modules.discard("__init__")
    operations = [
        operation["operationId"]
        for item in document["paths"].values()
        for method, operation in item.items()
        if method in ("get", "put", "post", "patch", "delete")
    ]
    assert len(operations) == len(set(operations)), "duplicate operation ids"
    assert len(modules) == len(operations), (sorted(modules), sorted(operations))


def test_journey_sign_up_browse_order_replay_cancel(generated: Generated) -> None:
    auth_out = generated.model("EnvelopeAuthOut")
    error = generated.model("ErrorEnvelope")
    anonymous = generated.client()

    # sign up, then sign in
    email = f"client-{uuid.uuid4().hex[:12]}@example.com"
    sign_up = generated.op("auth", "sign_up")
    body = generated.model("SignUpIn")(email=email, password=PASSWORD, name="Client Developer")
    signed_up = expect(sign_up.sync_detailed(client=anonymous, body=body), 201, auth_out).data
    assert signed_up.user.email == email
    assert signed_up.token_type == "Bearer"
    sign_in = generated.op("auth", "sign_in")
    body = generated.model("SignInIn")(email=email, password=PASSWORD)
    signed_in = expect(sign_in.sync_detailed(client=anonymous, body=body), 200, auth_out).data
    assert signed_in.user.id == signed_up.user.id
    client = generated.client(signed_in.access_token)

    # products: a page, then one by id
    list_products = generated.op("products", "list_products")
    products = expect(
        list_products.sync_detailed(client=anonymous, limit=100),
        200,
        generated.model("ListEnvelopeProductOut"),
    )
    assert products.data
    assert products.meta.limit == 100
    assert products.meta.total >= len(products.data)
    product = max(products.data, key=lambda item: item.stock)
    assert product.active, product
    assert product.stock >= 2, product
    get_product = generated.op("products", "get_product")
    one = expect(
        get_product.sync_detailed(product.id, client=anonymous), 200, generated.model("EnvelopeProductOut")
    )
    assert (one.data.id, one.data.name, one.data.price) == (product.id, product.name, product.price)

    # categories: every one, then one by slug
    list_categories = generated.op("categories", "list_categories")
    categories = expect(
        list_categories.sync_detailed(client=anonymous), 200, generated.model("ListEnvelopeCategoryOut")
    )
    assert categories.data
    assert categories.meta.limit is None
    assert categories.meta.total == len(categories.data)
    category = categories.data[0]
    get_category = generated.op("categories", "get_category")
    found = expect(
        get_category.sync_detailed(category.slug, client=anonymous),
        200,
        generated.model("EnvelopeCategoryOut"),
    )
    assert found.data.id == category.id
    missing = get_category.sync_detailed("no-such-category", client=anonymous)
    assert expect(missing, 404, error).code == "NOT_FOUND"

    # posts: the published ones, then one by slug
    list_posts = generated.op("posts", "list_posts")
    posts = expect(list_posts.sync_detailed(client=anonymous), 200, generated.model("ListEnvelopePostOut"))
    assert posts.data
    assert all(post.published for post in posts.data)
    post = posts.data[0]
    get_post = generated.op("posts", "get_post")
    read = expect(
        get_post.sync_detailed(post.slug, client=anonymous), 200, generated.model("EnvelopePostOut")
    )
    assert (read.data.id, read.data.title, read.data.content) == (post.id, post.title, post.content)

    # an order with an Idempotency-Key; the same key and body again: the same order
    order_out = generated.model("EnvelopeOrderOut")
    place_order = generated.op("orders", "place_order")
    line = generated.model("OrderLineIn")
    order_in = generated.model("OrderCreateIn")
    key = f"client-{uuid.uuid4().hex}"

    def place(quantity: int) -> Any:
        body = order_in(items=[line(product_id=product.id, quantity=quantity)])
        return place_order.sync_detailed(client=client, body=body, idempotency_key=key)

    order = expect(place(1), 201, order_out).data
    assert order.status == generated.model("OrderStatus").PENDING
    assert order.total == product.price
    assert Decimal(order.total) > 0
    assert [(item.product_id, item.quantity) for item in order.items] == [(product.id, 1)]
    again = expect(place(1), 201, order_out).data
    assert (again.id, again.total, again.created_at) == (order.id, order.total, order.created_at)

    # the same key with another body: 422 IDEMPOTENCY_KEY_REUSED
    assert expect(place(2), 422, error).code == "IDEMPOTENCY_KEY_REUSED"

    # cancel it, then list one's own orders
    cancel = generated.op("orders", "cancel_order")
    cancelled = expect(cancel.sync_detailed(order.id, client=client), 200, order_out).data
    assert cancelled.id == order.id
    assert cancelled.status == generated.model("OrderStatus").CANCELLED
    list_orders = generated.op("orders", "list_orders")
    mine = expect(list_orders.sync_detailed(client=client), 200, generated.model("ListEnvelopeOrderOut"))
    assert [(item.id, item.status) for item in mine.data] == [(order.id, cancelled.status)]
    assert mine.meta.total == 1

    # without the token the client library still answers with the declared 401, in the envelope
    unauthorized = list_orders.sync_detailed(client=generated.client("not-a-token"))
    assert expect(unauthorized, 401, error).code == "UNAUTHORIZED"
