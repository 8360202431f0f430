"""Orders: place (one transaction, idempotent per Idempotency-Key), read, list, cancel, move through
the state machine; and the order jobs the worker runs (process, send the confirmation).

State machine (anything else is 409 ``INVALID_STATUS_TRANSITION``)::

    PENDING ──> PROCESSING ──> SHIPPED ──> DELIVERED
       │             │
       └─────────────┴──> CANCELLED   (stock restored in the same transaction)

Every function takes its collaborators as arguments (repositories, enqueue functions), so the rules
run without moto in tests; ``backend.wiring`` builds the real ones once per container.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final

from backend import observability
from backend.errors import (
    ConcurrentModificationError,
    ConflictError,
    ForbiddenError,
    NotFoundError,
    ValidationError,
)
from backend.models.enums import OrderStatus
from backend.models.ids import is_valid_id
from backend.observability import logger
from backend.records import Page, PageRequest
from backend.records.orders import OrderItemRecord, OrderLine, OrderRecord
from backend.services.principal import Principal
from backend.values import CENTS

if TYPE_CHECKING:
    from backend.records.users import UserRecord
    from backend.repositories.orders import OrdersRepository
    from backend.repositories.products import ProductsRepository
    from backend.repositories.users import UsersRepository
    from backend.schemas.jobs import EmailJob, OrderConfirmationJob, OrderProcessJob
    from backend.schemas.orders import OrderLineIn, PlaceOrder
    from backend.services.idempotency import Idempotency, Idempotent, Outcome

#: How long a request waits for another one with its Idempotency-Key to finish (then 409).
IN_PROGRESS_WAIT_SECONDS: Final = 5.0
#: Attempts at the order transaction when a price changed or a conflicting write raced it.
PLACE_ATTEMPTS: Final = 3

#: The allowed moves; everything else is 409.
TRANSITIONS: Final[Mapping[OrderStatus, frozenset[OrderStatus]]] = {
    OrderStatus.PENDING: frozenset({OrderStatus.PROCESSING, OrderStatus.CANCELLED}),
    OrderStatus.PROCESSING: frozenset({OrderStatus.SHIPPED, OrderStatus.CANCELLED}),
    OrderStatus.SHIPPED: frozenset({OrderStatus.DELIVERED}),
    OrderStatus.DELIVERED: frozenset(),
    OrderStatus.CANCELLED: frozenset(),
}
CANCELLABLE: Final = frozenset({OrderStatus.PENDING, OrderStatus.PROCESSING})


def process_job_id(order_id: str) -> str:
    """The one job id of an order's processing, whoever enqueues it (the order route, the sweeper)."""
    return f"order-process-{order_id}"


def confirmation_job_id(order_id: str) -> str:
    return f"order-confirmation-{order_id}"


@dataclass(frozen=True, slots=True)
class PlaceDeps:
    """What placing an order needs."""

    orders: OrdersRepository
    products: ProductsRepository
    #: Puts a job on the order queue (``queues.enqueue_order_job``).
    enqueue_job: Callable[[OrderProcessJob], Any]
    #: The idempotent placement (``placement(idempotency)``), built on first use.
    placement: Callable[[], Idempotent]
    #: Marks read-cache namespaces stale after a write (``ReadCache.invalidate``): stock changed.
    invalidate: Callable[..., None] = lambda *namespaces: None


# ----------------------------------------------------------------------------- place
def place_order(deps: PlaceDeps, order: PlaceOrder, *, lambda_context: Any = None) -> Outcome[OrderRecord]:
    """Place an order once per (user, Idempotency-Key): a retry with the same body gets the same
    order (``replayed`` true: nothing ran); another body is 422 ``IDEMPOTENCY_KEY_REUSED``; a retry
    while the first is still running waits for it (then 409 ``IDEMPOTENCY_IN_PROGRESS``). The key is
    scoped to the user: one user's key never replays another's order."""
    placed: Outcome[OrderRecord] = deps.placement().run(deps, data=order, lambda_context=lambda_context)
    return placed


def placement(idempotency: Idempotency) -> Idempotent:
    return idempotency.wrap(
        _place,
        key_prefix="orders.place",
        event_key="[userId, key]",
        payload_key="items",
        serializer=OrderRecordSerializer(),
        wait_seconds=IN_PROGRESS_WAIT_SECONDS,
    )


def _place(deps: PlaceDeps, *, data: PlaceOrder) -> OrderRecord:
    """The use case behind the idempotency: price, one transaction, then enqueue ``order.process``."""
    user_id, wanted = data.user_id, data.items
    for attempt in range(1, PLACE_ATTEMPTS + 1):
        lines = _priced_lines(deps.products, wanted)
        try:
            order = deps.orders.create(user_id, lines)
            break
        except ConcurrentModificationError:
            if attempt == PLACE_ATTEMPTS:
                raise
        except ConflictError as exc:
            if exc.code != "PRICE_CHANGED" or attempt == PLACE_ATTEMPTS:
                raise _placement_error(exc) from None
        except NotFoundError as exc:
            raise _placement_error(exc) from None
        time.sleep(0.02 * attempt)  # a racing write or a price change: read again and retry
    logger.info("order placed", extra={"order_id": order.id, "lines": order.item_count})
    stock_changed(deps.invalidate)
    observability.count(observability.ORDERS_PLACED)
    try:
        from backend.schemas.jobs import OrderProcessJob  # the job schemas: only placing an order needs them

        deps.enqueue_job(OrderProcessJob(job_id=process_job_id(order.id), order_id=order.id))
    except Exception:  # noqa: BLE001 - the order is committed; the sweeper re-enqueues PENDING orders
        logger.exception("could not enqueue order.process; the sweeper will", extra={"order_id": order.id})
    return order


def _priced_lines(products: ProductsRepository, wanted: Sequence[OrderLineIn]) -> list[OrderLine]:
    """Each line priced and named from its product (one BatchGetItem). Unknown or inactive products
    are 400 naming them; visibly short stock is 409 OUT_OF_STOCK before any write (the transaction's
    conditions still decide every race)."""
    found = products.get_many([line.product_id for line in wanted])
    unknown = []
    for index, line in enumerate(wanted):
        product = found.get(line.product_id)
        if product is None or not product.active:
            message = f"Product {line.product_id} does not exist or is not available"
            unknown.append(
                {"field": f"items[{index}].productId", "message": message, "productId": line.product_id}
            )
    if unknown:
        raise ValidationError(
            "Unknown or unavailable product: " + ", ".join(d["productId"] for d in unknown), details=unknown
        )
    for index, line in enumerate(wanted):
        product = found[line.product_id]
        if product.stock < line.quantity:
            raise _out_of_stock(index, product.name, product.id)
    return [
        OrderLine(
            product_id=line.product_id,
            product_name=found[line.product_id].name,
            quantity=line.quantity,
            unit_price=found[line.product_id].price,
        )
        for line in wanted
    ]


def _out_of_stock(index: int, name: str, product_id: str) -> ConflictError:
    """The 409 an order short of stock gets (counted: ``OrdersFailedStock``)."""
    observability.count(observability.ORDERS_FAILED_STOCK)
    message = f"Not enough {name} in stock"
    return ConflictError(
        message,
        code="OUT_OF_STOCK",
        details=[{"field": f"items[{index}].quantity", "message": message, "productId": product_id}],
    )


def _placement_error(exc: ConflictError | NotFoundError) -> Exception:
    """The repository's transaction failures in the API's terms."""
    detail = (exc.details or [{}])[0]
    product_id = str(detail.get("productId", ""))
    field = str(detail.get("field", "items"))
    index = int(field[6:-1]) if field.startswith("items[") and field.endswith("]") else 0
    if exc.code == "INSUFFICIENT_STOCK":
        name = exc.message.removeprefix("Not enough ").removesuffix(" in stock")
        return _out_of_stock(index, name, product_id)
    if exc.code == "PRODUCT_UNAVAILABLE" or (isinstance(exc, NotFoundError) and product_id):
        message = f"Product {product_id} does not exist or is not available"
        return ValidationError(
            f"Unknown or unavailable product: {product_id}",
            details=[{"field": f"items[{index}].productId", "message": message, "productId": product_id}],
        )
    return exc


# ----------------------------------------------------------------------------- read
def get_order(orders: OrdersRepository, principal: Principal, order_id: str) -> OrderRecord:
    """The order with its lines (one Query); the owner's or any for an admin, else 404."""
    if not is_valid_id(order_id):
        raise NotFoundError("Order")
    order = orders.get(order_id)
    principal.require_access(order.user_id, "Order")
    return order


def list_orders(
    orders: OrdersRepository, principal: Principal, request: PageRequest, *, status: OrderStatus | None = None
) -> Page[OrderRecord]:
    """Newest first: the caller's own orders, optionally one status; an admin sees every order,
    optionally one status."""
    if not principal.is_admin:
        if status is not None:
            return orders.list_for_user_with_status(principal.user_id, status, request)
        return orders.list_for_user(principal.user_id, request)
    if status is None:
        return orders.list_all(request)
    return orders.list_by_status(status, request, newest_first=True)


# ----------------------------------------------------------------------------- change
def cancel_order(
    orders: OrdersRepository,
    principal: Principal,
    order_id: str,
    *,
    invalidate: Callable[..., None] = lambda *namespaces: None,
) -> OrderRecord:
    """PENDING or PROCESSING → CANCELLED (owner or admin), stock restored in the same transaction
    (then the product views are invalidated: ``invalidate`` is ``ReadCache.invalidate``)."""
    order = get_order(orders, principal, order_id)
    cancelled = _move(orders, order, OrderStatus.CANCELLED)
    stock_changed(invalidate)
    observability.count(observability.ORDERS_CANCELLED)
    return cancelled


def change_status(
    orders: OrdersRepository,
    principal: Principal,
    order_id: str,
    status: OrderStatus,
    *,
    users: UsersRepository,
    send_email: Callable[..., Any],
    invalidate: Callable[..., None] = lambda *namespaces: None,
) -> OrderRecord:
    """An admin moves an order along the state machine; SHIPPED emails the owner; CANCELLED restores
    stock (then the product views are invalidated)."""
    if not principal.is_admin:
        raise ForbiddenError("Administrators only")
    order = _move(orders, get_order(orders, principal, order_id), status)
    if status is OrderStatus.CANCELLED:
        stock_changed(invalidate)
    if status is OrderStatus.SHIPPED:
        _email_shipped(order, users=users, send_email=send_email)
    return order


def _move(
    orders: OrdersRepository, order: OrderRecord, status: OrderStatus, *, attempts: int = 3
) -> OrderRecord:
    """The transition, optimistic: a concurrent change (the worker processing the order while it is
    cancelled) re-reads and re-checks the rule instead of overwriting."""
    for attempt in range(1, attempts + 1):
        if status not in TRANSITIONS[order.status]:
            raise _illegal(order.status, status)
        try:
            moved = orders.update_status(order, status, restock=status is OrderStatus.CANCELLED)
        except ConcurrentModificationError:
            if attempt == attempts:
                raise
            order = orders.get(order.id, consistent=True)
            continue
        logger.info(
            "order status changed",
            extra={"order_id": order.id, "from": order.status.value, "to": status.value},
        )
        return moved
    raise AssertionError("unreachable")  # pragma: no cover


def stock_changed(invalidate: Callable[..., None]) -> None:
    """After a committed stock change: the product pages and lists show ``stock`` (docs/caching.md)."""
    from backend.services.views import PRODUCTS

    try:
        invalidate(PRODUCTS)
    except Exception:  # noqa: BLE001 - the write is committed: never fail it (nor re-run a placement)
        logger.exception("could not invalidate the product views; they may be stale until their TTL")


def _illegal(current: OrderStatus, wanted: OrderStatus) -> ConflictError:
    allowed = sorted(s.value for s in TRANSITIONS[current])
    message = f"An order cannot go from {current.value} to {wanted.value}"
    return ConflictError(
        message,
        code="INVALID_STATUS_TRANSITION",
        details=[
            {
                "field": "status",
                "message": f"allowed from {current.value}: {', '.join(allowed) or 'none'}",
                "from": current.value,
                "to": wanted.value,
            }
        ],
    )


def _email_shipped(order: OrderRecord, *, users: UsersRepository, send_email: Callable[..., Any]) -> None:
    try:
        user = users.get(order.user_id)
    except NotFoundError:
        return  # the account is gone: nobody to tell
    try:
        send_email(
            to=user.email,
            template="order-shipped",
            data=order_email_data(order, user),
            job_id=f"order-shipped-{order.id}",
        )
    except Exception:  # noqa: BLE001 - the status change is committed; a lost email must not fail it
        logger.exception("could not enqueue the shipped email", extra={"order_id": order.id})


# ----------------------------------------------------------------------------- email data
def money_text(value: Decimal) -> str:
    return f"{value.quantize(CENTS)}"


def order_email_data(order: OrderRecord, user: UserRecord) -> dict[str, Any]:
    """The values of the order-confirmation and order-shipped templates (lines as rows)."""
    return {
        "name": user.name or user.email,
        "orderId": order.id,
        "total": money_text(order.total),
        "lines": [
            {
                "productName": item.product_name,
                "quantity": item.quantity,
                "unitPrice": money_text(item.unit_price),
                "lineTotal": money_text(item.line_total),
            }
            for item in order.items
        ],
    }


# ----------------------------------------------------------------------------- jobs (worker)
# The job schemas are imported where a job is made or read: the API function never loads them.
@dataclass(frozen=True, slots=True)
class JobDeps:
    """The collaborators of the order jobs the worker runs (built by ``backend.wiring``)."""

    orders: OrdersRepository
    users: UsersRepository
    enqueue_job: Callable[[OrderConfirmationJob], Any]
    #: Sends an email job through SES, once per job id (``email.send_email_job``).
    send_email_job: Callable[[EmailJob], dict[str, Any]]


def process_job(idempotency: Idempotency) -> Idempotent:
    """``order.process`` wrapped by Powertools idempotency on its job id."""
    return idempotency.wrap(_process_from_data, key_prefix="order.process", event_key="jobId")


def _process_from_data(deps: JobDeps, *, data: dict[str, Any]) -> dict[str, Any]:
    from backend.schemas.jobs import OrderProcessJob

    return process_order(deps, OrderProcessJob.model_validate(data))


def process_order(deps: JobDeps, job: OrderProcessJob) -> dict[str, Any]:
    """PENDING → PROCESSING (conditional on the version read), then enqueue the confirmation.

    A cancelled, shipped or missing order is left alone; an order already PROCESSING (its first run
    moved it and then failed to enqueue) only gets its confirmation enqueued, which is itself
    idempotent by job id.
    """
    from backend.schemas.jobs import OrderConfirmationJob

    result = {"jobId": job.job_id, "orderId": job.order_id}
    for _ in range(3):
        try:
            order = deps.orders.get(job.order_id, consistent=True)
        except NotFoundError:
            logger.warning("order to process does not exist", extra={"order_id": job.order_id})
            return {**result, "outcome": "missing"}
        if order.status is OrderStatus.PENDING:
            try:
                deps.orders.update_status(order, OrderStatus.PROCESSING)
            except ConcurrentModificationError:
                continue  # cancelled or changed meanwhile: read again and decide again
            outcome = "processed"
        elif order.status is OrderStatus.PROCESSING:
            outcome = "already-processing"
        else:
            logger.info("order not processed", extra={"order_id": order.id, "status": order.status.value})
            return {**result, "outcome": f"skipped-{order.status.value.lower()}"}
        deps.enqueue_job(OrderConfirmationJob(job_id=confirmation_job_id(order.id), order_id=order.id))
        logger.info("order processing", extra={"order_id": order.id, "outcome": outcome})
        return {**result, "outcome": outcome}
    raise ConcurrentModificationError()


def send_confirmation(deps: JobDeps, job: OrderConfirmationJob) -> dict[str, Any]:
    """Email the confirmation to the owner. The send is idempotent by this job's id, so a message
    delivered twice sends one email."""
    from backend.schemas.jobs import EmailJob

    result = {"jobId": job.job_id, "orderId": job.order_id}
    try:
        order = deps.orders.get(job.order_id, consistent=True)
        user = deps.users.get(order.user_id)
    except NotFoundError:
        logger.warning("no confirmation: order or account gone", extra={"order_id": job.order_id})
        return {**result, "outcome": "missing"}
    if order.status is OrderStatus.CANCELLED:
        return {**result, "outcome": "skipped-cancelled"}
    email = EmailJob(
        job_id=job.job_id, to=user.email, template="order-confirmation", data=order_email_data(order, user)
    )
    return {**result, "outcome": "sent", **deps.send_email_job(email)}


# ----------------------------------------------------------------------------- serialization
class OrderRecordSerializer:
    """Stores a placed order in the idempotency record and reads it back, equal to the original
    (Powertools' ``BaseIdempotencySerializer`` protocol, without importing Powertools here)."""

    def to_dict(self, data: OrderRecord) -> dict[str, Any]:
        return {
            "id": data.id,
            "userId": data.user_id,
            "status": data.status.value,
            "total": str(data.total),
            "itemCount": data.item_count,
            "createdAt": data.created_at.isoformat(),
            "updatedAt": data.updated_at.isoformat(),
            "version": data.version,
            "items": [
                {
                    "position": i.position,
                    "productId": i.product_id,
                    "productName": i.product_name,
                    "quantity": i.quantity,
                    "unitPrice": str(i.unit_price),
                }
                for i in data.items
            ],
        }

    def from_dict(self, data: dict[str, Any]) -> OrderRecord:
        return OrderRecord(
            id=data["id"],
            user_id=data["userId"],
            status=OrderStatus(data["status"]),
            total=Decimal(data["total"]),
            item_count=int(data["itemCount"]),
            created_at=datetime.fromisoformat(data["createdAt"]),
            updated_at=datetime.fromisoformat(data["updatedAt"]),
            version=int(data["version"]),
            items=tuple(
                OrderItemRecord(
                    position=int(i["position"]),
                    product_id=i["productId"],
                    product_name=i["productName"],
                    quantity=int(i["quantity"]),
                    unit_price=Decimal(i["unitPrice"]),
                )
                for i in data["items"]
            ),
        )
