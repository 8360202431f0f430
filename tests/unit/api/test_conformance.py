"""The response-conformance check every API test runs (tests/support/conformance.py) is not vacuous,
and the headers the API sends are declared where clients look for them."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from tests.support.conformance import Document, check
from tests.support.identity import Api


@pytest.fixture
def products_document(api: Api) -> dict[str, Any]:
    from functions.products import app

    return copy.deepcopy(app.app.openapi())


def product_body(**changes: Any) -> str:
    product = {
        "id": "01JNBC0Y8Q3ZK6W2V5T9R4M7HX",
        "name": "Lamp",
        "description": None,
        "price": "19.00",
        "stock": 3,
        "active": True,
        "category": None,
        "categoryId": None,
        "createdAt": "2026-12-07T10:00:00.000Z",
        "updatedAt": "2026-12-07T10:00:00.000Z",
    }
    return json.dumps({"data": {**product, **changes}})


HEADERS = {
    "content-type": "application/json",
    "x-request-id": "abc",
    "cache-control": "no-store",
    "location": "/api/products/01JNBC0Y8Q3ZK6W2V5T9R4M7HX",
}


def created(document: dict[str, Any], **overrides: Any) -> None:
    arguments: dict[str, Any] = {
        "status": 201,
        "headers": dict(HEADERS),
        "body_text": product_body(),
        "cookies": [],
    } | overrides
    check(Document(document), "POST", "/api/products", **arguments)


def test_a_conforming_response_passes(products_document: dict[str, Any]) -> None:
    created(products_document)


@pytest.mark.parametrize(
    ("overrides", "complaint"),
    [
        ({"status": 202}, "status not declared"),
        ({"headers": {**HEADERS, "etag": '"x"'}}, "sends ETag, which is not declared"),
        ({"headers": {**HEADERS, "retry-after": "1"}}, "sends Retry-After, which is not declared"),
        ({"cookies": ["a=b"]}, "sends Set-Cookie, which is not declared"),
        ({"headers": {k: v for k, v in HEADERS.items() if k != "location"}}, "location is required"),
        ({"headers": {k: v for k, v in HEADERS.items() if k != "x-request-id"}}, "x-request-id is required"),
        ({"headers": {**HEADERS, "cache-control": "max-age=60"}}, "Cache-Control"),
        ({"body_text": product_body(price=19.0)}, "at data/price"),
        ({"body_text": product_body(createdAt=1765101600)}, "at data/createdAt"),
        ({"body_text": json.dumps({"data": {"id": "01JNBC0Y8Q3ZK6W2V5T9R4M7HX"}})}, "is a required property"),
        ({"headers": {**HEADERS, "content-type": "text/html"}}, "sends 'text/html'"),
    ],
)
def test_a_response_the_document_does_not_declare_fails(
    products_document: dict[str, Any], overrides: dict[str, Any], complaint: str
) -> None:
    with pytest.raises(AssertionError, match="POST /api/products → ") as raised:
        created(products_document, **overrides)
    assert complaint in str(raised.value)


def test_a_body_where_the_document_declares_none_fails(products_document: dict[str, Any]) -> None:
    with pytest.raises(AssertionError, match="declares none"):
        check(
            Document(products_document),
            "DELETE",
            "/api/products/01JNBC0Y8Q3ZK6W2V5T9R4M7HX",
            status=204,
            headers={"x-request-id": "a", "cache-control": "no-store"},
            body_text="{}",
            cookies=[],
        )


def test_paths_the_document_lacks_are_left_to_the_gateway(products_document: dict[str, Any]) -> None:
    check(
        Document(products_document), "GET", "/api/nowhere", status=404, headers={}, body_text="x", cookies=[]
    )


def test_every_response_of_every_operation_declares_the_request_id_and_cache_control(api: Api) -> None:
    from functions.auth import app as auth
    from functions.content import app as content
    from functions.orders import app as orders
    from functions.products import app as products
    from functions.users import app as users

    for module in (auth, content, orders, products, users):
        document = module.app.openapi()
        assert set(document["components"]["headers"]) >= {"RequestId", "RetryAfter", "ETag", "Location"}
        for path, item in document["paths"].items():
            for method, operation in item.items():
                for status, response in operation["responses"].items():
                    where = f"{method.upper()} {path} {status}"
                    assert {"X-Request-Id", "Cache-Control"} <= set(response["headers"]), where
                    if status == "401":
                        assert "WWW-Authenticate" in response["headers"], where
                    if status == "201":
                        assert (
                            "Location" in response["headers"]
                            or path == "/api/auth/sign-up"
                            or "avatar" in path
                        ), where


def test_a_replayed_order_is_marked_and_located(api: Api, orders_api: Any, make_product: Any) -> None:
    """The conformance check runs on these responses too: Idempotent-Replayed and Location declared."""
    product = make_product()
    buyer = api.account()
    body = {"items": [{"productId": product.id, "quantity": 1}]}
    headers = {"idempotency-key": "conformance-1"}
    first = api.call(orders_api, "POST", "/api/orders", body=body, token=buyer.token, headers=headers)
    again = api.call(orders_api, "POST", "/api/orders", body=body, token=buyer.token, headers=headers)
    assert first.status == again.status == 201
    assert "idempotent-replayed" not in first.headers
    assert again.headers["idempotent-replayed"] == "true"
    assert first.headers["location"] == again.headers["location"] == f"/api/orders/{first.data['id']}"
