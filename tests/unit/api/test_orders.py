"""The orders endpoint group through the real OrdersFunction handler (moto in-process).

Each route's DynamoDB requests are asserted (docs/data-model.md lists the same counts).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from backend.models.enums import OrderStatus, Role
from backend.records.catalog import ProductRecord
from backend.records.orders import MAX_ORDER_LINES
from tests.support.ddb import count_requests, run_concurrently, serializable_moto
from tests.support.identity import Account, Api, Response
from tests.unit.api.conftest import drain

MakeProduct = Callable[..., ProductRecord]


def place(
    api: Api, handler: Any, account: Account, items: list[dict[str, Any]], key: str | None = "key-1"
) -> Response:
    headers = {} if key is None else {"idempotency-key": key}
    return api.call(
        handler, "POST", "/api/orders", body={"items": items}, token=account.token, headers=headers
    )


def in_thread[T](function: Callable[[], T]) -> Callable[[], T]:
    """``function`` made runnable in a new thread (Mangum needs an event loop in each)."""

    def run() -> T:
        asyncio.set_event_loop(asyncio.new_event_loop())
        return function()

    return run


def line(product: ProductRecord, quantity: int = 1) -> dict[str, Any]:
    return {"productId": product.id, "quantity": quantity}


# ----------------------------------------------------------------------------- place
class TestPlace:
    def test_places_the_order_in_one_transaction_and_enqueues_processing(
        self, api: Api, orders_api: Any, make_product: MakeProduct
    ) -> None:
        user = api.account()
        mug, tea = make_product(name="Mug", price="12.50", stock=5), make_product(name="Tea", price="3.99")
        with count_requests() as log:
            response = place(api, orders_api, user, [line(mug, 2), line(tea, 3)])
        assert response.status == 201, response.body
        assert "idempotent-replayed" not in response.headers  # this response executed the placement
        order = response.data
        assert order["status"] == "PENDING"
        assert order["userId"] == user.id
        assert order["total"] == "36.97"  # 2 x 12.50 + 3 x 3.99, exact
        assert order["itemCount"] == 2
        assert order["items"] == [
            {
                "productId": mug.id,
                "productName": "Mug",
                "quantity": 2,
                "unitPrice": "12.50",
                "lineTotal": "25.00",
            },
            {
                "productId": tea.id,
                "productName": "Tea",
                "quantity": 3,
                "unitPrice": "3.99",
                "lineTotal": "11.97",
            },
        ]
        # auth, idempotency record (in progress), products, the transaction, the read cache's
        # stamps (the product views show stock: in-process cache here), idempotency (completed)
        assert log.operations() == [
            "BatchGetItem",
            "PutItem",
            "BatchGetItem",
            "TransactWriteItems",
            "UpdateItem",
            "UpdateItem",
        ]
        assert log.sizes()[3] == 2 * 2 + 5  # + the owner's PENDING counter (the status filter's total)
        assert api.container.products.get(mug.id).stock == 3
        assert drain("ORDER_QUEUE_URL") == [
            {"type": "order.process", "jobId": f"order-process-{order['id']}", "orderId": order["id"]}
        ]

    def test_same_key_and_body_replays_the_same_response_without_a_second_order(
        self, api: Api, orders_api: Any, make_product: MakeProduct
    ) -> None:
        user, product = api.account(), make_product(stock=5)
        first = place(api, orders_api, user, [line(product, 2)])
        with count_requests() as log:
            again = place(api, orders_api, user, [line(product, 2)])
        assert again.status == 201
        assert again.body == first.body
        assert "idempotent-replayed" not in first.headers
        assert again.headers["idempotent-replayed"] == "true"  # answered from the stored record
        assert log.operations() == ["BatchGetItem", "PutItem"]  # auth, then the stored response
        assert api.container.products.get(product.id).stock == 3
        assert len(drain("ORDER_QUEUE_URL")) == 1

    def test_same_key_with_another_body_is_422(
        self, api: Api, orders_api: Any, make_product: MakeProduct
    ) -> None:
        user, product = api.account(), make_product()
        assert place(api, orders_api, user, [line(product, 1)]).status == 201
        reused = place(api, orders_api, user, [line(product, 2)])
        assert reused.status == 422
        assert reused.body["code"] == "IDEMPOTENCY_KEY_REUSED"
        assert "idempotent-replayed" not in reused.headers  # nothing was replayed
        assert api.container.products.get(product.id).stock == 9

    def test_keys_are_scoped_per_user(self, api: Api, orders_api: Any, make_product: MakeProduct) -> None:
        product = make_product()
        mine = place(api, orders_api, api.account(), [line(product)], key="shared")
        theirs = place(api, orders_api, api.account(), [line(product)], key="shared")
        assert theirs.status == mine.status == 201
        assert theirs.data["id"] != mine.data["id"]
        assert theirs.data["userId"] != mine.data["userId"]

    @pytest.mark.parametrize("key", [None, "", "x" * 256, "bad\x01key"])
    def test_idempotency_key_is_required_and_checked(
        self, api: Api, orders_api: Any, make_product: MakeProduct, key: str | None
    ) -> None:
        response = place(api, orders_api, api.account(), [line(make_product())], key=key)
        assert response.status == 400
        assert response.body["code"] == "VALIDATION_ERROR"
        assert response.body["details"][0]["field"] == "idempotency-key"

    def test_not_enough_stock_is_409_naming_the_product(
        self, api: Api, orders_api: Any, make_product: MakeProduct
    ) -> None:
        plenty, scarce = make_product(stock=50), make_product(name="Rare vinyl", stock=1)
        response = place(api, orders_api, api.account(), [line(plenty, 3), line(scarce, 2)])
        assert response.status == 409
        assert response.body["code"] == "OUT_OF_STOCK"
        assert "Rare vinyl" in response.body["error"]
        assert response.body["details"] == [
            {
                "field": "items[1].quantity",
                "message": "Not enough Rare vinyl in stock",
                "productId": scarce.id,
            }
        ]
        assert api.container.products.get(plenty.id).stock == 50

    def test_stock_sold_between_read_and_write_is_out_of_stock_from_the_transaction(
        self, api: Api, orders_api: Any, make_product: MakeProduct, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        product = make_product(name="Last one", stock=1)
        stale = api.container.products.get(product.id)
        repository = type(api.container.products)
        monkeypatch.setattr(repository, "get_many", lambda self, ids: {stale.id: stale})
        assert place(api, orders_api, api.account(), [line(product)], key="a").status == 201
        late = place(api, orders_api, api.account(), [line(product)], key="b")
        assert late.status == 409
        assert late.body["code"] == "OUT_OF_STOCK"
        assert late.body["details"][0]["productId"] == product.id
        assert api.container.products.get(product.id).stock == 0

    def test_unknown_or_inactive_products_are_400_naming_them(
        self, api: Api, orders_api: Any, make_product: MakeProduct
    ) -> None:
        inactive = make_product(active=False)
        unknown = "01ARZ3NDEKTSV4RRFFQ69G5FAV"
        response = place(
            api,
            orders_api,
            api.account(),
            [line(make_product()), line(inactive), {"productId": unknown, "quantity": 1}],
        )
        assert response.status == 400
        assert response.body["code"] == "VALIDATION_ERROR"
        assert [d["productId"] for d in response.body["details"]] == [inactive.id, unknown]
        assert [d["field"] for d in response.body["details"]] == ["items[1].productId", "items[2].productId"]
        assert unknown in response.body["error"]

    @pytest.mark.parametrize(
        ("items", "field"),
        [
            ([], "items"),
            ([{"productId": "P", "quantity": 0}], "items[0].quantity"),
            ([{"productId": "P", "quantity": 101}], "items[0].quantity"),
            ([{"productId": "P", "quantity": "2"}], "items[0].quantity"),
            ([{"productId": "P", "quantity": 1.5}], "items[0].quantity"),
            ([{"productId": "P", "quantity": 1, "unitPrice": "0.01"}], "items[0].unitPrice"),
            ([{"productId": "P", "quantity": 1}, {"productId": "P", "quantity": 2}], "items"),
            ([{"productId": f"P{i}", "quantity": 1} for i in range(MAX_ORDER_LINES + 1)], "items"),
        ],
        ids=[
            "empty",
            "zero",
            "over-100",
            "string",
            "fraction",
            "client-price",
            "same-product-twice",
            "41-lines",
        ],
    )
    def test_invalid_bodies_are_400(
        self, api: Api, orders_api: Any, items: list[dict[str, Any]], field: str
    ) -> None:
        response = place(api, orders_api, api.account(), items)
        assert response.status == 400, response.body
        assert response.body["code"] == "VALIDATION_ERROR"
        assert field in [d["field"] for d in response.body["details"]]

    def test_a_price_change_between_read_and_write_is_retried_with_the_new_price(
        self, api: Api, orders_api: Any, make_product: MakeProduct, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        product = make_product(price="10.00")
        old = api.container.products.get(product.id)
        api.container.products.update(old, price="11.00")
        reads = iter([{old.id: old}])
        repository = type(api.container.products)
        real = repository.get_many
        monkeypatch.setattr(repository, "get_many", lambda self, ids: next(reads, None) or real(self, ids))
        response = place(api, orders_api, api.account(), [line(product, 2)])
        assert response.status == 201, response.body
        assert response.data["total"] == "22.00"

    def test_a_failed_enqueue_does_not_fail_the_committed_order(
        self, api: Api, orders_api: Any, make_product: MakeProduct, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        import os

        import boto3

        boto3.client("sqs").delete_queue(QueueUrl=os.environ["ORDER_QUEUE_URL"])  # the enqueue fails
        product = make_product(stock=2)
        response = place(api, orders_api, api.account(), [line(product)])
        assert response.status == 201
        assert api.container.orders.get(response.data["id"]).status is OrderStatus.PENDING

    def test_anonymous_callers_are_401(self, api: Api, orders_api: Any) -> None:
        response = api.call(
            orders_api, "POST", "/api/orders", body={"items": []}, headers={"idempotency-key": "k"}
        )
        assert response.status == 401


class TestConcurrency:
    def test_five_concurrent_requests_with_one_key_make_one_order(
        self, api: Api, orders_api: Any, make_product: MakeProduct
    ) -> None:
        user, product = api.account(), make_product(stock=10)
        with serializable_moto():
            results = run_concurrently(
                [in_thread(lambda: place(api, orders_api, user, [line(product, 2)]))] * 5
            )
        responses = [r for r in results if isinstance(r, Response)]
        assert [r.status for r in responses] == [201] * 5, results
        assert len({r.raw["body"] for r in responses}) == 1  # five identical responses
        # one executed; the four others waited for it and were answered from its record
        assert sorted(r.headers.get("idempotent-replayed", "-") for r in responses) == ["-"] + ["true"] * 4
        assert api.container.products.get(product.id).stock == 8
        assert len(drain("ORDER_QUEUE_URL")) == 1

    def test_concurrent_orders_never_oversell(
        self, api: Api, orders_api: Any, make_product: MakeProduct
    ) -> None:
        product = make_product(stock=4)
        buyers = [api.account() for _ in range(12)]
        with serializable_moto():
            results = run_concurrently(
                [
                    in_thread(lambda b=b: place(api, orders_api, b, [line(product)], key=f"k-{b.id}"))  # type: ignore[misc]
                    for b in buyers
                ]
            )
        statuses = sorted(r.status for r in results if isinstance(r, Response))
        assert statuses == [201] * 4 + [409] * 8, results
        assert api.container.products.get(product.id).stock == 0

    def test_a_request_waits_for_one_in_flight_then_gets_409_with_retry_after(
        self, api: Api, orders_api: Any, make_product: MakeProduct, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        from backend.services import orders as orders_service

        monkeypatch.setattr(orders_service, "IN_PROGRESS_WAIT_SECONDS", 0.3)
        entered, release = threading.Event(), threading.Event()
        real = orders_service._priced_lines

        def slow(products: Any, wanted: Any) -> Any:
            entered.set()
            assert release.wait(10)
            return real(products, wanted)

        monkeypatch.setattr(orders_service, "_priced_lines", slow)
        user, product = api.account(), make_product()
        first: list[Response] = []
        thread = threading.Thread(
            target=in_thread(lambda: first.append(place(api, orders_api, user, [line(product)])))
        )
        thread.start()
        assert entered.wait(10)
        waiting = place(api, orders_api, user, [line(product)])
        release.set()
        thread.join()
        assert waiting.status == 409
        assert waiting.body["code"] == "IDEMPOTENCY_IN_PROGRESS"
        assert waiting.headers["retry-after"] == "1"
        assert first[0].status == 201
        assert "idempotent-replayed" not in waiting.headers
        replay = place(api, orders_api, user, [line(product)])
        assert replay.body == first[0].body
        assert replay.headers["idempotent-replayed"] == "true"


# ----------------------------------------------------------------------------- read
class TestRead:
    def test_users_list_their_own_orders_newest_first(
        self, api: Api, orders_api: Any, make_product: MakeProduct
    ) -> None:
        user, other, product = api.account(), api.account(), make_product(stock=20)
        ids = [place(api, orders_api, user, [line(product)], key=f"k{i}").data["id"] for i in range(3)]
        place(api, orders_api, other, [line(product)])
        with count_requests() as log:
            page = api.call(orders_api, "GET", "/api/orders", token=user.token, query="limit=2")
        assert page.status == 200
        assert [o["id"] for o in page.data] == [ids[2], ids[1]]
        assert page.data[0]["items"] is None
        assert page.body["meta"]["total"] == 3
        assert page.body["meta"]["totalPages"] == 2
        assert log.operations() == ["BatchGetItem", "Query", "GetItem"]
        cursor = page.body["meta"]["nextCursor"]
        rest = api.call(orders_api, "GET", "/api/orders", token=user.token, query=f"limit=2&cursor={cursor}")
        assert [o["id"] for o in rest.data] == [ids[0]]
        assert rest.body["meta"]["nextCursor"] is None

    def test_admins_see_every_order_and_filter_by_status(
        self, api: Api, orders_api: Any, make_product: MakeProduct
    ) -> None:
        admin, product = api.account(Role.ADMIN), make_product(stock=20)
        ids = [place(api, orders_api, api.account(), [line(product)]).data["id"] for _ in range(3)]
        api.call(
            orders_api,
            "PATCH",
            f"/api/orders/{ids[1]}/status",
            body={"status": "PROCESSING"},
            token=admin.token,
        )
        with count_requests() as log:
            everything = api.call(orders_api, "GET", "/api/orders", token=admin.token)
        assert [o["id"] for o in everything.data] == ids[::-1]
        assert everything.body["meta"]["total"] == 3
        assert log.operations() == ["BatchGetItem"] + ["Query"] * 4 + ["BatchGetItem"]
        assert log.indexes()[1:5] == ["GSI3"] * 4
        with count_requests() as log:
            pending = api.call(orders_api, "GET", "/api/orders", token=admin.token, query="status=PENDING")
        assert [o["id"] for o in pending.data] == [ids[2], ids[0]]
        assert pending.body["meta"]["total"] == 2
        assert log.operations() == ["BatchGetItem"] + ["Query"] * 4 + ["BatchGetItem"]
        assert log.indexes()[1:5] == ["GSI2"] * 4

    def test_an_unknown_status_is_400_in_the_error_envelope(self, api: Api, orders_api: Any) -> None:
        for who in (api.account(), api.account(Role.ADMIN)):
            bad = api.call(orders_api, "GET", "/api/orders", token=who.token, query="status=LOST")
            assert bad.status == 400
            assert bad.body["code"] == "VALIDATION_ERROR"
            assert bad.body["details"][0]["field"] == "status"
            assert bad.body["details"][0]["in"] == "query"
            assert "requestId" in bad.body
            lower = api.call(orders_api, "GET", "/api/orders", token=who.token, query="status=pending")
            assert (lower.status, lower.body["code"]) == (400, "VALIDATION_ERROR")

    def test_an_order_is_visible_to_its_owner_and_admins_only(
        self, api: Api, orders_api: Any, make_product: MakeProduct
    ) -> None:
        owner, product = api.account(), make_product()
        order = place(api, orders_api, owner, [line(product, 2)]).data
        path = f"/api/orders/{order['id']}"
        with count_requests() as log:
            mine = api.call(orders_api, "GET", path, token=owner.token)
        assert mine.status == 200
        assert mine.data == order
        assert log.operations() == ["BatchGetItem", "Query"]
        assert api.call(orders_api, "GET", path, token=api.account(Role.ADMIN).token).data == order
        stranger = api.call(orders_api, "GET", path, token=api.account().token)
        assert stranger.status == 404
        assert stranger.body["code"] == "NOT_FOUND"
        assert (
            api.call(orders_api, "GET", "/api/orders/01ARZ3NDEKTSV4RRFFQ69G5FAV", token=owner.token).status
            == 404
        )
        malformed = api.call(orders_api, "GET", "/api/orders/not-an-id", token=owner.token)
        assert (malformed.status, malformed.body["code"]) == (400, "VALIDATION_ERROR")


# ----------------------------------------------------------------------------- own status filter
def seed_orders(api: Api, user: Account, product: ProductRecord, count: int) -> list[str]:
    """``count`` PENDING orders of ``user`` through the repository (faster than the route)."""
    from backend.records.orders import OrderLine

    line_ = OrderLine(product_id=product.id, product_name=product.name, quantity=1, unit_price=product.price)
    return [api.container.orders.create(user.id, [line_]).id for _ in range(count)]


def own(api: Api, handler: Any, user: Account, query: str) -> Response:
    response = api.call(handler, "GET", "/api/orders", token=user.token, query=query)
    assert response.status == 200, response.body
    return response


class TestOwnStatusFilter:
    """Issue 19: a user filters their own orders by status (GSI4, keys only; AP37)."""

    def test_only_own_orders_in_that_status_newest_first(
        self, api: Api, orders_api: Any, make_product: MakeProduct
    ) -> None:
        user, other, product = api.account(), api.account(), make_product(stock=50)
        mine = seed_orders(api, user, product, 4)
        theirs = seed_orders(api, other, product, 2)
        api.call(orders_api, "POST", f"/api/orders/{mine[1]}/cancel", token=user.token)
        api.call(orders_api, "POST", f"/api/orders/{theirs[0]}/cancel", token=other.token)
        with count_requests() as log:
            pending = own(api, orders_api, user, "status=PENDING")
        assert [o["id"] for o in pending.data] == [mine[3], mine[2], mine[0]]
        assert {o["userId"] for o in pending.data} == {user.id}
        assert {o["status"] for o in pending.data} == {"PENDING"}
        assert pending.data[0]["items"] is None
        assert pending.body["meta"] == {
            "page": 1,
            "limit": 20,
            "total": 3,
            "totalPages": 1,
            "nextCursor": None,
        }
        # auth, the GSI4 keys of the page, the page's orders, the total (one counter)
        assert log.operations() == ["BatchGetItem", "Query", "BatchGetItem", "GetItem"]
        assert log.indexes()[1] == "GSI4"
        assert log.sizes()[2] == 3
        cancelled = own(api, orders_api, user, "status=CANCELLED")
        assert [o["id"] for o in cancelled.data] == [mine[1]]
        assert cancelled.body["meta"]["total"] == 1
        for status in ("PROCESSING", "SHIPPED", "DELIVERED"):
            empty = own(api, orders_api, user, f"status={status}")
            assert (empty.data, empty.body["meta"]["total"], empty.body["meta"]["nextCursor"]) == (
                [],
                0,
                None,
            )
        # the unfiltered list is unchanged: all four, one GSI1 Query
        with count_requests() as log:
            everything = own(api, orders_api, user, "")
        assert [o["id"] for o in everything.data] == mine[::-1]
        assert log.operations() == ["BatchGetItem", "Query", "GetItem"]

    def test_pages_by_cursor_and_by_page_number(
        self, api: Api, orders_api: Any, make_product: MakeProduct
    ) -> None:
        user, product = api.account(), make_product(stock=50)
        ids = seed_orders(api, user, product, 5)[::-1]  # newest first
        first = own(api, orders_api, user, "status=PENDING&limit=2")
        assert [o["id"] for o in first.data] == ids[:2]
        assert first.body["meta"]["total"] == 5
        assert first.body["meta"]["totalPages"] == 3
        seen = [o["id"] for o in first.data]
        cursor = first.body["meta"]["nextCursor"]
        pages = 1
        while cursor:
            page = own(api, orders_api, user, f"status=PENDING&limit=2&cursor={cursor}")
            pages += 1
            assert page.body["meta"]["page"] == pages
            seen += [o["id"] for o in page.data]
            cursor = page.body["meta"]["nextCursor"]
        assert seen == ids
        assert pages == 3
        for number, expected in ((2, ids[2:4]), (3, ids[4:]), (4, [])):
            by_number = own(api, orders_api, user, f"status=PENDING&limit=2&page={number}")
            assert [o["id"] for o in by_number.data] == expected
            assert by_number.body["meta"]["page"] == number
            assert by_number.body["meta"]["total"] == 5
        # a cursor is bound to its query: not valid for another status, nor the unfiltered list
        cursor = first.body["meta"]["nextCursor"]
        for query in (f"status=CANCELLED&limit=2&cursor={cursor}", f"limit=2&cursor={cursor}"):
            wrong = api.call(orders_api, "GET", "/api/orders", token=user.token, query=query)
            assert (wrong.status, wrong.body["code"]) == (400, "INVALID_CURSOR")
        both = api.call(
            orders_api, "GET", "/api/orders", token=user.token, query=f"status=PENDING&page=2&cursor={cursor}"
        )
        assert (both.status, both.body["code"]) == (400, "VALIDATION_ERROR")

    def test_another_users_cursor_reads_nothing_of_theirs(
        self, api: Api, orders_api: Any, make_product: MakeProduct
    ) -> None:
        user, other, product = api.account(), api.account(), make_product(stock=50)
        seed_orders(api, other, product, 3)
        cursor = own(api, orders_api, other, "status=PENDING&limit=1").body["meta"]["nextCursor"]
        stolen = api.call(
            orders_api,
            "GET",
            "/api/orders",
            token=user.token,
            query=f"status=PENDING&limit=1&cursor={cursor}",
        )
        assert (stolen.status, stolen.body["code"]) == (400, "INVALID_CURSOR")

    def test_totals_stay_exact_through_place_cancel_and_the_state_machine(
        self, api: Api, orders_api: Any, make_product: MakeProduct
    ) -> None:
        admin, user, product = api.account(Role.ADMIN), api.account(), make_product(stock=50)
        ids = [place(api, orders_api, user, [line(product)], key=f"t{i}").data["id"] for i in range(4)]

        def totals() -> dict[str, int]:
            return {
                s.value: own(api, orders_api, user, f"status={s.value}").body["meta"]["total"]
                for s in OrderStatus
            }

        def move(order_id: str, status: str) -> None:
            path = f"/api/orders/{order_id}/status"
            assert (
                api.call(orders_api, "PATCH", path, body={"status": status}, token=admin.token).status == 200
            )

        assert totals() == {"PENDING": 4, "PROCESSING": 0, "SHIPPED": 0, "DELIVERED": 0, "CANCELLED": 0}
        assert api.call(orders_api, "POST", f"/api/orders/{ids[0]}/cancel", token=user.token).status == 200
        move(ids[1], "PROCESSING")
        move(ids[2], "PROCESSING")
        move(ids[2], "SHIPPED")
        assert totals() == {"PENDING": 1, "PROCESSING": 1, "SHIPPED": 1, "DELIVERED": 0, "CANCELLED": 1}
        move(ids[2], "DELIVERED")
        move(ids[1], "CANCELLED")
        assert api.call(orders_api, "POST", f"/api/orders/{ids[1]}/cancel", token=user.token).status == 409
        assert totals() == {"PENDING": 1, "PROCESSING": 0, "SHIPPED": 0, "DELIVERED": 1, "CANCELLED": 2}
        for status, expected in (
            ("PENDING", [ids[3]]),
            ("DELIVERED", [ids[2]]),
            ("CANCELLED", [ids[1], ids[0]]),
        ):
            assert [o["id"] for o in own(api, orders_api, user, f"status={status}").data] == expected
        assert own(api, orders_api, user, "").body["meta"]["total"] == 4

    def test_many_orders_of_another_status_are_never_read(
        self, api: Api, orders_api: Any, make_product: MakeProduct, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # The filter is a key condition: 30 cancelled orders cost nothing to a PENDING page (no
        # FilterExpression, so no short or empty pages and no read cap to hit).
        from backend.repositories import paging

        user, product = api.account(), make_product(stock=100)
        cancelled = seed_orders(api, user, product, 30)
        for order_id in cancelled:
            order = api.container.orders.get(order_id)
            api.container.orders.update_status(order, OrderStatus.CANCELLED)
        pending = seed_orders(api, user, product, 2)
        read: list[int] = []
        real = paging.query_page

        def counting(*args: Any, **kwargs: Any) -> Any:
            items, last = real(*args, **kwargs)
            read.append(len(items))
            return items, last

        monkeypatch.setattr(paging, "query_page", counting)
        page = own(api, orders_api, user, "status=PENDING&limit=2")
        assert [o["id"] for o in page.data] == pending[::-1]
        assert page.body["meta"]["nextCursor"] is None
        assert read == [2]  # index entries evaluated: exactly the page (the limit+1 found the end)
        read.clear()
        first = own(api, orders_api, user, "status=CANCELLED&limit=10")
        assert len(first.data) == 10
        assert read == [11]  # limit + 1
        assert first.body["meta"]["total"] == 30

    def test_an_order_that_changed_status_within_the_index_lag_is_left_out(
        self, api: Api, orders_api: Any, make_product: MakeProduct
    ) -> None:
        import boto3

        from backend.models import keys

        user, product = api.account(), make_product(stock=10)
        first, second = seed_orders(api, user, product, 2)
        # the table item says CANCELLED while its GSI4 entry still says PENDING (what index lag looks like)
        boto3.client("dynamodb").update_item(
            TableName=api.container.settings.table_name,
            Key={"PK": {"S": keys.order_pk(first)}, "SK": {"S": keys.ORDER_SK}},
            UpdateExpression="SET #s = :c",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":c": {"S": "CANCELLED"}},
        )
        page = own(api, orders_api, user, "status=PENDING")
        assert [o["id"] for o in page.data] == [second]

    def test_admins_are_unchanged(self, api: Api, orders_api: Any, make_product: MakeProduct) -> None:
        admin, product = api.account(Role.ADMIN), make_product(stock=10)
        mine = seed_orders(api, admin, product, 1)
        others = seed_orders(api, api.account(), product, 2)
        with count_requests() as log:
            listing = api.call(orders_api, "GET", "/api/orders", token=admin.token, query="status=PENDING")
        assert {o["id"] for o in listing.data} >= set(mine + others)  # every order, not only the admin's
        assert log.indexes()[1:5] == ["GSI2"] * 4


# ----------------------------------------------------------------------------- change
class TestChange:
    def test_cancel_restores_stock_once(self, api: Api, orders_api: Any, make_product: MakeProduct) -> None:
        owner, product = api.account(), make_product(stock=5)
        order = place(api, orders_api, owner, [line(product, 3)]).data
        assert api.container.products.get(product.id).stock == 2
        assert (
            api.call(
                orders_api, "POST", f"/api/orders/{order['id']}/cancel", token=api.account().token
            ).status
            == 404
        )
        with count_requests() as log:
            cancelled = api.call(orders_api, "POST", f"/api/orders/{order['id']}/cancel", token=owner.token)
        assert cancelled.status == 200
        assert cancelled.data["status"] == "CANCELLED"
        # auth, the order, its products, the transaction, the read cache's stamps (stock changed)
        assert log.operations() == [
            "BatchGetItem",
            "Query",
            "BatchGetItem",
            "TransactWriteItems",
            "UpdateItem",
        ]
        assert api.container.products.get(product.id).stock == 5
        again = api.call(orders_api, "POST", f"/api/orders/{order['id']}/cancel", token=owner.token)
        assert again.status == 409
        assert again.body["code"] == "INVALID_STATUS_TRANSITION"
        assert api.container.products.get(product.id).stock == 5

    def test_the_state_machine(self, api: Api, orders_api: Any, make_product: MakeProduct) -> None:
        admin, owner, product = (
            api.account(Role.ADMIN),
            api.account(name="<script>Ada</script>"),
            make_product(),
        )
        order_id = place(api, orders_api, owner, [line(product)]).data["id"]

        def move(status: str, who: Account = admin) -> Response:
            return api.call(
                orders_api,
                "PATCH",
                f"/api/orders/{order_id}/status",
                body={"status": status},
                token=who.token,
            )

        assert move("PROCESSING", owner).status == 403
        for illegal in ("SHIPPED", "DELIVERED", "PENDING"):
            response = move(illegal)
            assert response.status == 409, illegal
            assert response.body["code"] == "INVALID_STATUS_TRANSITION"
        with count_requests() as log:
            assert move("PROCESSING").data["status"] == "PROCESSING"
        assert log.operations() == ["BatchGetItem", "Query", "TransactWriteItems"]
        assert drain("EMAIL_QUEUE_URL") == []
        with count_requests() as log:
            assert move("SHIPPED").data["status"] == "SHIPPED"
        assert log.operations() == ["BatchGetItem", "Query", "TransactWriteItems", "GetItem"]
        [email] = drain("EMAIL_QUEUE_URL")
        assert email["template"] == "order-shipped"
        assert email["jobId"] == f"order-shipped-{order_id}"
        assert email["to"] == owner.user.email
        assert email["data"]["name"] == "<script>Ada</script>"  # escaped when rendered, not here
        assert email["data"]["lines"][0]["productName"] == product.name
        assert move("CANCELLED").status == 409
        assert move("DELIVERED").data["status"] == "DELIVERED"
        assert move("CANCELLED").status == 409
        assert api.call(orders_api, "POST", f"/api/orders/{order_id}/cancel", token=owner.token).status == 409

    def test_admin_cancel_of_a_processing_order_restores_stock(
        self, api: Api, orders_api: Any, make_product: MakeProduct
    ) -> None:
        admin, product = api.account(Role.ADMIN), make_product(stock=3)
        order_id = place(api, orders_api, api.account(), [line(product, 3)]).data["id"]
        path = f"/api/orders/{order_id}/status"
        api.call(orders_api, "PATCH", path, body={"status": "PROCESSING"}, token=admin.token)
        response = api.call(orders_api, "PATCH", path, body={"status": "CANCELLED"}, token=admin.token)
        assert response.data["status"] == "CANCELLED"
        assert api.container.products.get(product.id).stock == 3

    def test_a_cancel_racing_the_worker_re_reads_instead_of_overwriting(
        self, api: Api, orders_api: Any, make_product: MakeProduct, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        owner, product = api.account(), make_product(stock=2)
        order_id = place(api, orders_api, owner, [line(product)]).data["id"]
        repository = type(api.container.orders)
        real_get = repository.get
        raced: list[bool] = []

        def get_then_worker_moves_it(self: Any, oid: str, *, consistent: bool = False) -> Any:
            order = real_get(self, oid, consistent=consistent)
            if not raced:
                raced.append(True)
                self.update_status(order, OrderStatus.PROCESSING)  # the worker, meanwhile
            return order

        monkeypatch.setattr(repository, "get", get_then_worker_moves_it)
        response = api.call(orders_api, "POST", f"/api/orders/{order_id}/cancel", token=owner.token)
        assert response.data["status"] == "CANCELLED"
        assert api.container.products.get(product.id).stock == 2


def test_money_is_decimal_text_never_a_float(api: Api, orders_api: Any, make_product: MakeProduct) -> None:
    product = make_product(price=Decimal("0.10"))
    order = place(api, orders_api, api.account(), [line(product, 3)]).data
    assert order["total"] == "0.30"
    assert order["items"][0]["unitPrice"] == "0.10"
