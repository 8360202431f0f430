"""ProductsRepository and OrdersRepository: money, stock in the order transaction, status moves."""

from __future__ import annotations

import time
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from backend.errors import ConcurrentModificationError, ConflictError, NotFoundError, ValidationError
from backend.models.enums import OrderStatus
from backend.models.ids import id_time
from backend.records import PageRequest
from backend.records.orders import MAX_ORDER_LINES, OrderLine
from backend.repositories import counters as refs
from tests.support.ddb import count_requests


def line(product: Any, quantity: int = 1, price: Decimal | None = None) -> OrderLine:
    return OrderLine(
        product_id=product.id,
        product_name=product.name,
        quantity=quantity,
        unit_price=product.price if price is None else price,
    )


class TestProducts:
    def test_price_is_exact_and_validated(self, products: Any, make_product: Any) -> None:
        product = make_product(price="19.90")
        assert products.get(product.id).price == Decimal("19.90")
        for bad in ("1.999", "-1.00", "nope"):
            with pytest.raises(ValidationError):
                make_product(price=bad)
        with pytest.raises(ValidationError):
            make_product(stock=-1)

    def test_activation_and_category_changes_move_listings_and_counters(
        self, products: Any, make_product: Any, make_category: Any, counters: Any
    ) -> None:
        first, second = make_category().id, make_category().id
        product = make_product(category_id=first)
        hidden = products.update(product, active=False)
        assert products.list_active(PageRequest()).items == ()
        assert products.list_by_category(first, PageRequest()).items == ()
        moved = products.update(hidden, active=True, category_id=second)
        assert [p.id for p in products.list_by_category(second, PageRequest()).items] == [product.id]
        totals = counters.totals(
            [
                refs.PRODUCTS_ACTIVE,
                refs.category_products(first),
                refs.category_products(second),
                refs.category_active_products(second),
            ]
        )
        assert list(totals.values()) == [1, 0, 1, 1]
        with pytest.raises(NotFoundError, match="Category"):
            products.update(moved, category_id="01ARZ3NDEKTSV4RRFFQ69G5FAV")
        products.delete(moved)
        assert counters.total(refs.PRODUCTS_ACTIVE) == 0

    def test_stale_edit_fails_after_an_order_sold_stock(
        self, products: Any, orders: Any, make_product: Any, make_user: Any
    ) -> None:
        product = make_product(stock=5)
        orders.create(make_user().id, [line(product, 2)])
        with pytest.raises(ConcurrentModificationError):
            products.update(product, name="edited from a stale read")
        fresh = products.get(product.id)
        assert fresh.stock == 3
        assert products.update(fresh, stock=10).stock == 10

    def test_plain_update_is_a_single_put_item(self, products: Any, make_product: Any) -> None:
        product = make_product()
        with count_requests() as log:
            products.update(product, name="renamed", price="5.00")
        assert log.operations() == ["PutItem"]


class TestOrders:
    def test_create_snapshots_lines_decrements_stock_and_counts(
        self, orders: Any, products: Any, make_product: Any, make_user: Any, counters: Any
    ) -> None:
        user = make_user()
        a, b = make_product(price="2.50", stock=5), make_product(price="0.10", stock=3)
        with count_requests() as log:
            order = orders.create(user.id, [line(a, 2), line(b, 3)])
        assert log.operations() == ["TransactWriteItems"]
        assert order.status is OrderStatus.PENDING
        assert order.total == Decimal("5.30")
        assert [(i.product_name, i.unit_price, i.line_total) for i in order.items] == [
            (a.name, Decimal("2.50"), Decimal("5.00")),
            (b.name, Decimal("0.10"), Decimal("0.30")),
        ]
        assert (products.get(a.id).stock, products.get(b.id).stock) == (3, 0)
        assert counters.totals(
            [refs.orders_of_user(user.id), refs.orders_with_status(OrderStatus.PENDING)]
        ) == {
            refs.orders_of_user(user.id): 1,
            refs.orders_with_status(OrderStatus.PENDING): 1,
        }

    @pytest.mark.parametrize(
        ("scenario", "code"),
        [("stock", "INSUFFICIENT_STOCK"), ("inactive", "PRODUCT_UNAVAILABLE"), ("price", "PRICE_CHANGED")],
    )
    def test_a_failing_line_cancels_the_whole_order(
        self,
        *,
        scenario: str,
        code: str,
        orders: Any,
        products: Any,
        make_product: Any,
        make_user: Any,
        counters: Any,
    ) -> None:
        user, ok = make_user(), make_product(stock=5)
        bad = make_product(stock=1, active=scenario != "inactive")
        lines = [
            line(ok, 2),
            line(bad, 2 if scenario == "stock" else 1, Decimal("0.01") if scenario == "price" else None),
        ]
        with pytest.raises(ConflictError) as caught:
            orders.create(user.id, lines)
        assert caught.value.code == code
        assert caught.value.details[0]["field"] == "items[1]"
        assert products.get(ok.id).stock == 5
        assert counters.total(refs.orders_of_user(user.id)) == 0

    def test_unknown_user_or_product_is_not_found(
        self, orders: Any, make_product: Any, make_user: Any
    ) -> None:
        product = make_product()
        with pytest.raises(NotFoundError, match="User"):
            orders.create("01ARZ3NDEKTSV4RRFFQ69G5FAV", [line(product)])
        ghost = OrderLine(
            product_id="01ARZ3NDEKTSV4RRFFQ69G5FAV", product_name="x", quantity=1, unit_price=Decimal(1)
        )
        with pytest.raises(NotFoundError, match="Product"):
            orders.create(make_user().id, [ghost])

    def test_lines_are_validated(self, orders: Any, make_product: Any, make_user: Any) -> None:
        user, product = make_user(), make_product()
        for lines in (
            [],
            [line(product), line(product)],
            [line(product, 0)],
            [line(product)] * (MAX_ORDER_LINES + 1),
        ):
            with pytest.raises(ValidationError):
                orders.create(user.id, lines)

    def test_status_change_moves_the_sharded_counters_and_cancel_restocks(
        self, orders: Any, products: Any, make_product: Any, make_user: Any, counters: Any
    ) -> None:
        product = make_product(stock=4)
        order = orders.create(make_user().id, [line(product, 3)])
        processing = orders.update_status(order, OrderStatus.PROCESSING)
        assert processing.items == order.items
        with pytest.raises(ConcurrentModificationError):
            orders.update_status(order, OrderStatus.CANCELLED)
        cancelled = orders.update_status(orders.get(order.id), OrderStatus.CANCELLED, restock=True)
        assert cancelled.status is OrderStatus.CANCELLED
        assert products.get(product.id).stock == 4
        totals = counters.totals([refs.orders_with_status(s) for s in OrderStatus])
        assert {ref.name: n for ref, n in totals.items() if n} == {"orders#status#CANCELLED": 1}
        assert [o.id for o in orders.list_by_status(OrderStatus.CANCELLED, PageRequest()).items] == [order.id]
        with pytest.raises(ValueError, match="items"):
            orders.update_status(
                orders.list_for_user(order.user_id, PageRequest()).items[0], OrderStatus.PENDING, restock=True
            )

    def test_restock_skips_deleted_products(
        self, orders: Any, products: Any, make_product: Any, make_user: Any
    ) -> None:
        kept, dropped = make_product(stock=2), make_product(stock=2)
        order = orders.create(make_user().id, [line(kept), line(dropped)])
        products.delete(products.get(dropped.id))
        orders.update_status(orders.get(order.id), OrderStatus.CANCELLED, restock=True)
        assert products.get(kept.id).stock == 2
        with pytest.raises(NotFoundError):
            products.get(dropped.id)

    def test_delete_removes_order_items_and_counters(
        self, orders: Any, make_product: Any, make_user: Any, counters: Any
    ) -> None:
        user = make_user()
        order = orders.create(user.id, [line(make_product()), line(make_product())])
        orders.delete(order)
        with pytest.raises(NotFoundError):
            orders.get(order.id)
        assert counters.total(refs.orders_of_user(user.id)) == 0
        assert counters.total(refs.orders_with_status(OrderStatus.PENDING)) == 0

    def test_delete_also_decrements_the_owners_status_counter(
        self, orders: Any, make_product: Any, make_user: Any, counters: Any, users: Any
    ) -> None:
        user = make_user()
        order = orders.create(user.id, [line(make_product())])
        assert counters.total(refs.orders_of_user_with_status(user.id, OrderStatus.PENDING)) == 1
        orders.delete(order)
        assert counters.total(refs.orders_of_user_with_status(user.id, OrderStatus.PENDING)) == 0
        users.delete(users.get(user.id))  # no orders left: the account and its order counters go

    def test_account_deletion_removes_the_per_status_counters_and_keeps_the_restrict_rule(
        self, orders: Any, make_product: Any, make_user: Any, users: Any, db: Any
    ) -> None:
        from backend.models import keys

        user, product = make_user(), make_product(stock=10)
        kept = orders.create(user.id, [line(product)])
        gone = orders.create(user.id, [line(product)])
        orders.update_status(gone, OrderStatus.CANCELLED)
        with pytest.raises(ConflictError) as refused:
            users.delete(users.get(user.id))
        assert refused.value.details[0]["field"] == "orders"
        orders.delete(orders.get(kept.id))
        orders.delete(orders.get(gone.id))
        users.delete(users.get(user.id))
        for status in OrderStatus:
            name = refs.orders_of_user_with_status(user.id, status).name
            found = db.get_item(
                TableName="app-backend-test",
                Key={"PK": {"S": keys.counter_pk(name)}, "SK": {"S": keys.counter_sk(0)}},
            )
            assert "Item" not in found, status

    def test_backfill_indexes_orders_written_before_the_status_listing(
        self, orders: Any, make_product: Any, make_user: Any, counters: Any, db: Any
    ) -> None:
        from backend.models import keys

        user, product = make_user(), make_product(stock=10)
        legacy = [orders.create(user.id, [line(product)]) for _ in range(3)]
        for order in legacy:  # as written before: no GSI4 entry, not in the owner's status counter
            db.update_item(
                TableName="app-backend-test",
                Key={"PK": {"S": keys.order_pk(order.id)}, "SK": {"S": keys.ORDER_SK}},
                UpdateExpression="REMOVE GSI4PK, GSI4SK",
            )
        pending = refs.orders_of_user_with_status(user.id, OrderStatus.PENDING)
        db.delete_item(
            TableName="app-backend-test",
            Key={"PK": {"S": keys.counter_pk(pending.name)}, "SK": {"S": keys.counter_sk(0)}},
        )
        assert orders.list_for_user_with_status(user.id, OrderStatus.PENDING, PageRequest()).items == ()
        # a legacy order that changes status before the backfill is indexed and counted by that change
        moved = orders.update_status(orders.get(legacy[0].id), OrderStatus.PROCESSING)
        assert counters.total(pending) == 0  # not decremented below what it never counted
        assert counters.total(refs.orders_of_user_with_status(user.id, OrderStatus.PROCESSING)) == 1
        assert moved.status_indexed

        assert orders.backfill_status_index(batch=1) == 2
        assert orders.backfill_status_index() == 0  # idempotent
        page = orders.list_for_user_with_status(user.id, OrderStatus.PENDING, PageRequest())
        assert [o.id for o in page.items] == [legacy[2].id, legacy[1].id]
        assert page.meta.total == 2
        assert counters.total(refs.orders_of_user_with_status(user.id, OrderStatus.PROCESSING)) == 1
        cancelled = orders.update_status(orders.get(legacy[1].id), OrderStatus.CANCELLED)
        assert cancelled.status_indexed
        assert counters.total(pending) == 1

    def test_sweeper_can_bound_by_creation_time(self, orders: Any, make_product: Any, make_user: Any) -> None:
        user, product = make_user(), make_product(stock=10)
        old = orders.create(user.id, [line(product)])
        time.sleep(0.002)  # ids have millisecond resolution
        orders.create(user.id, [line(product)])
        created = id_time(old.id)
        before_old = orders.list_by_status(OrderStatus.PENDING, PageRequest(), created_before=created)
        assert before_old.items == ()
        assert before_old.meta.total == 2  # the total counts the whole status
        after_old = orders.list_by_status(
            OrderStatus.PENDING, PageRequest(), created_before=created + timedelta(milliseconds=1)
        )
        assert [o.id for o in after_old.items] == [old.id]

    def test_failures_name_the_product(
        self, orders: Any, products: Any, make_product: Any, make_user: Any
    ) -> None:
        user, ok, gone = make_user(), make_product(), make_product(name="Gone")
        products.delete(products.get(gone.id))
        with pytest.raises(NotFoundError) as caught:
            orders.create(user.id, [line(ok), line(gone)])
        assert caught.value.details == [
            {"field": "items[1]", "message": "Gone no longer exists", "productId": gone.id}
        ]
        scarce = make_product(stock=0)
        with pytest.raises(ConflictError) as short:
            orders.create(user.id, [line(scarce)])
        assert short.value.details[0]["productId"] == scarce.id

    def test_admin_listings_are_newest_first_and_total_every_status(
        self, orders: Any, make_product: Any, make_user: Any
    ) -> None:
        product = make_product(stock=20)
        placed = [orders.create(make_user().id, [line(product)]) for _ in range(5)]
        orders.update_status(placed[1], OrderStatus.SHIPPED)
        everything = orders.list_all(PageRequest(limit=3))
        assert [o.id for o in everything.items] == [o.id for o in placed[::-1][:3]]
        assert everything.meta.total == 5
        rest = orders.list_all(PageRequest(limit=3, cursor=everything.next_cursor))
        assert [o.id for o in rest.items] == [placed[1].id, placed[0].id]
        assert rest.next_cursor is None
        pending = orders.list_by_status(OrderStatus.PENDING, PageRequest(), newest_first=True)
        assert [o.id for o in pending.items] == [placed[4].id, placed[3].id, placed[2].id, placed[0].id]


def test_low_stock_reads_active_products_under_the_threshold(make_product: Any) -> None:
    from backend.repositories.inventory import low_stock_products

    low, lower = make_product(name="Low", stock=4), make_product(name="Lower", stock=0)
    make_product(stock=5)
    make_product(stock=1, active=False)
    assert [p.id for p in low_stock_products(5)] == [lower.id, low.id]
