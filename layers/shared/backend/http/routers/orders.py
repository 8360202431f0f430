"""Order routes (OrdersFunction). All authenticated; ownership and roles are checked by the service."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Query, Request, Response
from fastapi.responses import JSONResponse

from backend.http.auth import admin_principal, current_principal
from backend.http.deps import Container, get_container
from backend.http.docs import IDEMPOTENT_REPLAYED, created, errors, optional
from backend.http.params import id_path, page_number
from backend.http.routes import api_router
from backend.records import Page, PageRequest
from backend.records.orders import OrderRecord
from backend.schemas.common import Envelope, ListEnvelope, PageMeta
from backend.schemas.orders import (
    IDEMPOTENCY_KEY_PATTERN,
    OrderCreateIn,
    OrderListQuery,
    OrderOut,
    OrderStatusIn,
    PlaceOrder,
)
from backend.services import orders as orders_service
from backend.services.principal import Principal

router = api_router(prefix="/api/orders", tags=["orders"])

OrderId = Annotated[str, id_path("orderId", "The order's id")]

IdempotencyKey = Annotated[
    str,
    Header(
        alias="idempotency-key",
        min_length=1,
        max_length=255,
        pattern=IDEMPOTENCY_KEY_PATTERN,
        description="Required. 1-255 printable characters, unique per order you mean to place: "
        "retrying with the same key and body returns the same order (that replayed response carries "
        "`Idempotent-Replayed: true`); another body is 422.",
    ),
]


_PLACE_RESPONSES = {
    **created("The order (or, with `Idempotent-Replayed: true`, the one an earlier request placed)"),
    **errors(
        _400="VALIDATION_ERROR: bad body, missing Idempotency-Key, unknown or inactive product (named)",
        _409="OUT_OF_STOCK (names the product); IDEMPOTENCY_IN_PROGRESS (with Retry-After)",
        _422="IDEMPOTENCY_KEY_REUSED: this key was used with another body",
    ),
}
_PLACE_RESPONSES[201]["headers"]["Idempotent-Replayed"] = IDEMPOTENT_REPLAYED
_PLACE_RESPONSES[409]["headers"] = {
    "Retry-After": optional("RetryAfter", "only with IDEMPOTENCY_IN_PROGRESS")
}


@router.post(
    "",
    status_code=201,
    response_model=Envelope[OrderOut],
    summary="Place an order (stock decremented in the same transaction); needs an Idempotency-Key",
    responses=_PLACE_RESPONSES,
)
def place_order(
    body: OrderCreateIn,
    request: Request,
    response: Response,
    *,
    idempotency_key: IdempotencyKey,
    principal: Principal = Depends(current_principal),
    container: Container = Depends(get_container),
) -> Response | Envelope[OrderOut]:
    from backend.http.errors import app_error_response
    from backend.http.headers import IDEMPOTENT_REPLAYED_HEADER
    from backend.services.idempotency import IdempotencyInProgressError

    try:
        placed = orders_service.place_order(
            container.place_order,
            PlaceOrder(user_id=principal.user_id, key=idempotency_key, items=body.items),
            lambda_context=request.scope.get("aws.context"),
        )
    except IdempotencyInProgressError as exc:
        reply: JSONResponse = app_error_response(exc)
        reply.headers["Retry-After"] = str(exc.retry_after_seconds)
        return reply
    if placed.replayed:  # answered from the stored record: the order was placed by an earlier request
        response.headers[IDEMPOTENT_REPLAYED_HEADER] = "true"
    response.headers["location"] = f"/api/orders/{placed.value.id}"
    return Envelope(data=OrderOut.of(placed.value))


@router.get(
    "",
    response_model=ListEnvelope[OrderOut],
    summary="Orders, newest first: your own (administrators: all), optionally in one status",
    responses=errors(_400="VALIDATION_ERROR: unknown status, bad page/limit/cursor"),
)
def list_orders(
    query: Annotated[OrderListQuery, Query()],
    principal: Principal = Depends(current_principal),
    container: Container = Depends(get_container),
) -> ListEnvelope[OrderOut]:
    page = orders_service.list_orders(
        container.orders,
        principal,
        PageRequest(limit=query.limit, page=page_number(query.page, query.cursor), cursor=query.cursor),
        status=query.status,
    )
    return _list(page)


@router.get(
    "/{orderId}",
    response_model=Envelope[OrderOut],
    summary="One order with its lines (the owner or an administrator)",
    responses=errors(_404="No such order, or not yours"),
)
def get_order(
    order_id: OrderId,
    principal: Principal = Depends(current_principal),
    container: Container = Depends(get_container),
) -> Envelope[OrderOut]:
    return Envelope(data=OrderOut.of(orders_service.get_order(container.orders, principal, order_id)))


@router.post(
    "/{orderId}/cancel",
    response_model=Envelope[OrderOut],
    summary="Cancel a PENDING or PROCESSING order (the owner or an administrator); restores stock",
    responses=errors(
        _404="No such order, or not yours", _409="INVALID_STATUS_TRANSITION: the order is past cancelling"
    ),
)
def cancel_order(
    order_id: OrderId,
    principal: Principal = Depends(current_principal),
    container: Container = Depends(get_container),
) -> Envelope[OrderOut]:
    cancelled = orders_service.cancel_order(
        container.orders, principal, order_id, invalidate=container.invalidate
    )
    return Envelope(data=OrderOut.of(cancelled))


@router.patch(
    "/{orderId}/status",
    response_model=Envelope[OrderOut],
    summary="Move an order along PENDING→PROCESSING→SHIPPED→DELIVERED or cancel it (administrators)",
    responses=errors(
        _404="No such order", _409="INVALID_STATUS_TRANSITION: not a move the state machine allows"
    ),
)
def change_status(
    order_id: OrderId,
    body: OrderStatusIn,
    principal: Principal = Depends(admin_principal),
    container: Container = Depends(get_container),
) -> Envelope[OrderOut]:
    from backend.services import queues

    order = orders_service.change_status(
        container.orders,
        principal,
        order_id,
        body.status,
        users=container.users,
        send_email=queues.enqueue_email,
        invalidate=container.invalidate,
    )
    return Envelope(data=OrderOut.of(order))


def _list(page: Page[OrderRecord]) -> ListEnvelope[OrderOut]:
    return ListEnvelope(
        data=[OrderOut.of(order, with_items=False) for order in page.items],
        meta=PageMeta.of(page),
    )
