"""Orders: an order and its lines in one item collection; stock moves in the same transaction.

Placing an order is one transaction: the order, its lines (with a snapshot of each product's name
and unit price), a stock decrement per product conditioned on "exists, active, enough stock, same
price", a check that the user exists, and the counters. ``MAX_ORDER_LINES`` (``records.orders``)
keeps it within DynamoDB's 100 operations (2 per line + 5).

A user's orders in one status have their own keys-only GSI4 partition
(``USER#<userId>#ORDERS#STATUS#<status>``) and counter (``user#<id>#orders#status#<status>``), both
moved by the transaction that changes the status, so the owner's status filter is a key condition
with an exact total (docs/data-model.md, AP37).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from decimal import Decimal

from backend.errors import (
    AppError,
    ConcurrentModificationError,
    ConflictError,
    NotFoundError,
    ValidationError,
)
from backend.models import keys
from backend.models.attributes import CENTS
from backend.models.clock import Clock, utcnow
from backend.models.enums import OrderStatus
from backend.models.ids import min_id_at, new_id
from backend.models.order import OrderItemModel, OrderModel
from backend.models.product import ProductModel
from backend.records import Page, PageRequest
from backend.records.orders import MAX_ORDER_LINES, OrderItemRecord, OrderLine, OrderRecord
from backend.repositories import counters
from backend.repositories.checks import require_user
from backend.repositories.dynamo import (
    QuerySpec,
    RawItem,
    batch_get,
    for_write,
    items_of_entries,
    query_all,
    query_page,
    to_models,
)
from backend.repositories.paging import CursorCodec, Listing, list_page
from backend.repositories.transaction import OnFail, Transaction, raw_attribute, stale, unexpected
from backend.values import money


def to_order_record(model: OrderModel, items: Sequence[OrderItemModel] = ()) -> OrderRecord:
    return OrderRecord(
        id=model.id,
        user_id=model.user_id,
        status=model.status,
        total=model.total,
        item_count=int(model.item_count),
        created_at=model.created_at,
        updated_at=model.updated_at,
        version=int(model.version),
        status_indexed=bool(model.gsi4pk),
        items=tuple(
            OrderItemRecord(
                position=int(i.position),
                product_id=i.product_id,
                product_name=i.product_name,
                quantity=int(i.quantity),
                unit_price=i.unit_price,
            )
            for i in sorted(items, key=lambda i: int(i.position))
        ),
    )


def _to_model(record: OrderRecord, *, new: bool = False) -> OrderModel:
    model = OrderModel(
        id=record.id,
        user_id=record.user_id,
        status=record.status,
        total=record.total,
        item_count=record.item_count,
        created_at=record.created_at,
        updated_at=record.updated_at,
    )
    return for_write(model, record.version, new=new)


def _item_model(order_id: str, position: int) -> OrderItemModel:
    model = OrderItemModel(order_id=order_id, position=position)
    model.sync_keys()
    return model


def _product_key_model(product_id: str) -> ProductModel:
    model = ProductModel(keys.product_pk(product_id), keys.PRODUCT_SK)
    model.version = 0  # any number: the update increments the stored version without checking it
    return model


def _detail(field: str, message: str, line: OrderLine) -> dict[str, str]:
    return {"field": field, "message": message, "productId": line.product_id}


def _stock_failure(index: int, line: OrderLine) -> OnFail:
    def build(old: RawItem | None) -> AppError:
        field = f"items[{index}]"
        if old is None:
            message = f"{line.product_name} no longer exists"
            return NotFoundError(
                "Product", details=[{"field": field, "message": message, "productId": line.product_id}]
            )
        if raw_attribute(old, "active") is not True:
            message = f"{line.product_name} is not available"
            return ConflictError(message, code="PRODUCT_UNAVAILABLE", details=[_detail(field, message, line)])
        if Decimal(str(raw_attribute(old, "price"))) != line.unit_price:
            message = f"The price of {line.product_name} has changed"
            return ConflictError(message, code="PRICE_CHANGED", details=[_detail(field, message, line)])
        message = f"Not enough {line.product_name} in stock"
        return ConflictError(message, code="INSUFFICIENT_STOCK", details=[_detail(field, message, line)])

    return build


class OrdersRepository:
    def __init__(self, cursor_key: bytes | Callable[[], bytes], *, clock: Clock = utcnow) -> None:
        self._codec = CursorCodec(cursor_key)
        self._clock = clock
        self._counters = counters.CountersRepository()

    # ------------------------------------------------------------------------- reads
    def get(self, order_id: str, *, consistent: bool = False) -> OrderRecord:
        """The order with its items: one Query on ``PK=ORDER#<id>``."""
        models = to_models(query_all(QuerySpec(keys.order_pk(order_id), consistent=consistent)))
        order = next((m for m in models if isinstance(m, OrderModel)), None)
        if order is None:
            raise NotFoundError("Order")
        return to_order_record(order, [m for m in models if isinstance(m, OrderItemModel)])

    def list_for_user(self, user_id: str, request: PageRequest) -> Page[OrderRecord]:
        """Newest first, without items: GSI1 ``USER#<id>#ORDERS``."""
        spec = QuerySpec(keys.user_orders(user_id), index=keys.GSI1, forward=False)
        ref = counters.orders_of_user(user_id)
        return list_page(
            Listing.single(f"orders|user={user_id}", spec),
            request,
            codec=self._codec,
            total=lambda: self._counters.total(ref),
            convert=_orders,
        )

    def list_for_user_with_status(
        self, user_id: str, status: OrderStatus, request: PageRequest
    ) -> Page[OrderRecord]:
        """A user's orders in one status, newest first, without items: GSI4
        ``USER#<id>#ORDERS#STATUS#<status>`` (keys only, so only that status's entries are read),
        then one BatchGetItem of the page; the total is the user's counter for that status.

        An order whose status changed within the index's lag is left out of the page (its table
        item no longer has ``status``); it shows in its new status's listing once the index has it.
        """
        spec = QuerySpec(keys.user_orders_with_status(user_id, status), index=keys.GSI4, forward=False)
        ref = counters.orders_of_user_with_status(user_id, status)
        return list_page(
            Listing.single(f"orders|user={user_id}|status={status.value}", spec),
            request,
            codec=self._codec,
            total=lambda: self._counters.total(ref),
            convert=lambda raw_items: [
                order for order in _orders_by_keys(raw_items) if order.status is status
            ],
        )

    def list_all(self, request: PageRequest) -> Page[OrderRecord]:
        """Every order, newest first (admins): one GSI3 Query per shard of ``ORDERS#ALL``, merged by
        id; the total sums the status counters (one BatchGetItem)."""
        specs = tuple(
            QuerySpec(keys.all_orders(shard), index=keys.GSI3, forward=False)
            for shard in range(keys.ORDER_STATUS_SHARDS)
        )
        refs = [counters.orders_with_status(status) for status in OrderStatus]
        return list_page(
            Listing("orders|all", specs),
            request,
            codec=self._codec,
            total=lambda: sum(self._counters.totals(refs).values()),
            convert=_orders,
        )

    def list_by_status(
        self,
        status: OrderStatus,
        request: PageRequest,
        *,
        created_before: datetime | None = None,
        newest_first: bool = False,
    ) -> Page[OrderRecord]:
        """Oldest first (for the sweeper; ``newest_first`` for admins): one GSI2 Query per shard,
        merged by creation order.

        ``created_before`` narrows every shard's key condition; ``meta.total`` still counts every
        order in ``status``.
        """
        bound = None if created_before is None else OrderModel.gsi2sk < min_id_at(created_before)
        specs = tuple(
            QuerySpec(
                keys.orders_by_status(status, shard),
                index=keys.GSI2,
                range_condition=bound,
                forward=not newest_first,
            )
            for shard in range(keys.ORDER_STATUS_SHARDS)
        )
        query_id = (
            f"orders|status={status.value}|before={created_before.isoformat() if created_before else ''}"
            f"|newest={int(newest_first)}"
        )
        ref = counters.orders_with_status(status)
        return list_page(
            Listing(query_id, specs),
            request,
            codec=self._codec,
            total=lambda: self._counters.total(ref),
            convert=_orders,
        )

    # ------------------------------------------------------------------------- writes
    def create(self, user_id: str, lines: Sequence[OrderLine]) -> OrderRecord:
        """Place an order (one transaction, see the module docstring). Errors: NotFound (user or
        product), Conflict with code PRODUCT_UNAVAILABLE, PRICE_CHANGED or INSUFFICIENT_STOCK."""
        _validate_lines(lines)
        now = self._clock()
        total = sum((line.unit_price * line.quantity for line in lines), Decimal("0")).quantize(CENTS)
        record = OrderRecord(
            id=new_id(),
            user_id=user_id,
            status=OrderStatus.PENDING,
            total=money(total, "total"),
            item_count=len(lines),
            created_at=now,
            updated_at=now,
            version=0,
        )
        model = _to_model(record, new=True)
        tx = Transaction()
        tx.put(model, on_fail=unexpected)
        require_user(tx, user_id)
        items = []
        for position, line in enumerate(lines):
            item = _item_model(record.id, position)
            item.product_id, item.product_name = line.product_id, line.product_name
            item.quantity, item.unit_price = line.quantity, line.unit_price
            tx.put(item, on_fail=unexpected)
            items.append(item)
            condition = (
                ProductModel.pk.exists()
                & (ProductModel.active == True)  # noqa: E712 - a DynamoDB condition, not a Python test
                & (ProductModel.stock >= line.quantity)
                & (ProductModel.price == line.unit_price)
            )
            tx.update(
                _product_key_model(line.product_id),
                [ProductModel.stock.add(-line.quantity)],
                condition=condition,
                version_check=False,
                on_fail=_stock_failure(position, line),
            )
        changes = counters.CounterChanges()
        changes.add(counters.orders_of_user(user_id), 1)
        changes.add(counters.orders_with_status(OrderStatus.PENDING), 1, entity_id=record.id)
        changes.add(counters.orders_of_user_with_status(user_id, OrderStatus.PENDING), 1)
        changes.apply(tx)
        tx.commit()
        return to_order_record(model, items)

    def update_status(self, order: OrderRecord, status: OrderStatus, *, restock: bool = False) -> OrderRecord:
        """Optimistic status change of ``order`` as read; moves the status counters. With
        ``restock`` (a cancellation), the items' quantities go back to the products still existing;
        ``order`` must then come from :meth:`get` (with its items)."""
        changed = replace(order, status=status, updated_at=self._clock())
        model = _to_model(changed)
        tx = Transaction()
        tx.put(model, on_fail=stale("Order"))
        changes = counters.CounterChanges()
        changes.add(counters.orders_with_status(order.status), -1, entity_id=order.id)
        changes.add(counters.orders_with_status(status), 1, entity_id=order.id)
        # the order's GSI4 entry moves to the new status's partition with this Put (sync_keys)
        if order.status_indexed:  # an order written before that listing was never counted there
            changes.add(counters.orders_of_user_with_status(order.user_id, order.status), -1)
        changes.add(counters.orders_of_user_with_status(order.user_id, status), 1)
        changes.apply(tx)
        if restock:
            if len(order.items) != order.item_count:
                raise ValueError("restock needs the order's items: read it with OrdersRepository.get")
            quantities: dict[str, int] = {}
            for item in order.items:
                quantities[item.product_id] = quantities.get(item.product_id, 0) + item.quantity
            existing = batch_get([(keys.product_pk(pid), keys.PRODUCT_SK) for pid in quantities])
            for product_id, quantity in quantities.items():
                if (keys.product_pk(product_id), keys.PRODUCT_SK) in existing:
                    tx.update(
                        _product_key_model(product_id),
                        [ProductModel.stock.add(quantity)],
                        condition=ProductModel.pk.exists(),
                        version_check=False,
                        on_fail=stale("Product"),
                    )
        tx.commit()
        return replace(to_order_record(model), items=order.items)

    def delete(self, order: OrderRecord) -> None:
        """One transaction: the order (optimistic lock), its items, its counters."""
        tx = Transaction()
        tx.delete(_to_model(order), on_fail=stale("Order"))
        for position in range(order.item_count):
            tx.delete(_item_model(order.id, position), on_fail=unexpected)
        changes = counters.CounterChanges()
        changes.add(counters.orders_of_user(order.user_id), -1)
        changes.add(counters.orders_with_status(order.status), -1, entity_id=order.id)
        if order.status_indexed:
            changes.add(counters.orders_of_user_with_status(order.user_id, order.status), -1)
        changes.apply(tx)
        tx.commit()

    # ------------------------------------------------------------------------- migration
    def backfill_status_index(self, *, batch: int = 100) -> int:
        """Index the orders written before the per-user status listing existed: each such order
        (no GSI4 entry) is rewritten with its GSI4 keys and counted in its owner's counter for its
        status, in one transaction conditioned on the version read. Returns how many it indexed.

        Reads every order once through the admins' listing (GSI3 ``ORDERS#ALL#<shard>``, Queries of
        ``batch``; never a Scan). Safe to run again and while the API serves: an order changed
        meanwhile fails the version check and is skipped, because that change already indexed and
        counted it (``status_indexed`` false: no decrement); an indexed order is skipped.
        """
        indexed = 0
        for shard in range(keys.ORDER_STATUS_SHARDS):
            spec = QuerySpec(keys.all_orders(shard), index=keys.GSI3)
            start: RawItem | None = None
            while True:
                page, start = query_page(spec, limit=batch, start_key=start)
                for model in to_models(page):
                    if isinstance(model, OrderModel) and not model.gsi4pk:
                        indexed += self._index_legacy(to_order_record(model))
                if start is None:
                    break
        return indexed

    def _index_legacy(self, order: OrderRecord) -> int:
        tx = Transaction()
        tx.put(_to_model(order), on_fail=stale("Order"))
        changes = counters.CounterChanges()
        changes.add(counters.orders_of_user_with_status(order.user_id, order.status), 1)
        changes.apply(tx)
        try:
            tx.commit()
        except (ConcurrentModificationError, NotFoundError):
            return 0  # changed (and so indexed) or deleted meanwhile
        return 1


def _validate_lines(lines: Sequence[OrderLine]) -> None:
    problems = []
    if not 1 <= len(lines) <= MAX_ORDER_LINES:
        problems.append({"field": "items", "message": f"between 1 and {MAX_ORDER_LINES} lines"})
    seen: set[str] = set()
    for index, line in enumerate(lines):
        if line.product_id in seen:
            problems.append({"field": f"items[{index}]", "message": "duplicate product"})
        seen.add(line.product_id)
        if isinstance(line.quantity, bool) or not isinstance(line.quantity, int) or line.quantity < 1:
            problems.append({"field": f"items[{index}].quantity", "message": "an integer >= 1"})
        money(line.unit_price, f"items[{index}].unitPrice")
    if problems:
        raise ValidationError("Invalid order", details=problems)


def _orders(raw_items: list[RawItem]) -> list[OrderRecord]:
    return [to_order_record(m) for m in to_models(raw_items) if isinstance(m, OrderModel)]


def _orders_by_keys(raw_items: list[RawItem]) -> list[OrderRecord]:
    """Keys-only index entries: the orders themselves, in one BatchGetItem, in the entries' order."""
    return [to_order_record(m) for m in items_of_entries(raw_items) if isinstance(m, OrderModel)]
