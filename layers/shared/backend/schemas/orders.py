"""Orders on the wire. Money is a string with two decimals ("25.00"): exact, never a float (docs/api.md)."""

from __future__ import annotations

from typing import Annotated, Final

from pydantic import Field, StringConstraints, field_validator

from backend.models.enums import OrderStatus
from backend.records import DEFAULT_LIMIT, MAX_LIMIT
from backend.records.orders import MAX_ORDER_LINES, OrderItemRecord, OrderRecord
from backend.schemas.common import (
    LIMIT_DESCRIPTION,
    MAX_PAGE,
    PAGE_DESCRIPTION,
    CamelModel,
    Money,
    StrictIn,
    Timestamp,
)

#: Quantity of one line (the original spec's 1..100).
MAX_QUANTITY: Final = 100
#: The Idempotency-Key header: 1 to 255 printable ASCII characters.
IDEMPOTENCY_KEY_PATTERN: Final = r"^[\x20-\x7e]{1,255}$"

ProductIdIn = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]


class OrderLineIn(StrictIn):
    product_id: ProductIdIn
    quantity: int = Field(ge=1, le=MAX_QUANTITY, strict=True, description=f"1 to {MAX_QUANTITY}")


class OrderCreateIn(StrictIn):
    """An order: 1 to 40 lines, each product at most once (the transaction's 100-item limit:
    each line costs two operations, plus four for the order, the user check and the counters)."""

    items: list[OrderLineIn] = Field(min_length=1, max_length=MAX_ORDER_LINES)

    @field_validator("items")
    @classmethod
    def _distinct_products(cls, items: list[OrderLineIn]) -> list[OrderLineIn]:
        first: dict[str, int] = {}
        for index, line in enumerate(items):
            if line.product_id in first:
                raise ValueError(
                    f"items[{index}] repeats the product of items[{first[line.product_id]}]: "
                    "order each product once, with its total quantity"
                )
            first[line.product_id] = index
        return items


class PlaceOrder(CamelModel):
    """Placing an order: whose, under which Idempotency-Key, what. The order use case takes it as
    is, under Powertools idempotency, which hashes its JSON form (``userId`` and ``key`` name the
    record; ``items`` must match on a retry)."""

    user_id: str
    key: str
    items: list[OrderLineIn]


class OrderStatusIn(StrictIn):
    status: OrderStatus


class OrderItemOut(CamelModel):
    product_id: str
    product_name: str = Field(description="Snapshot taken when ordering")
    quantity: int
    unit_price: Money = Field(description="Snapshot taken when ordering")
    line_total: Money

    @classmethod
    def of(cls, item: OrderItemRecord) -> OrderItemOut:
        return cls(
            product_id=item.product_id,
            product_name=item.product_name,
            quantity=item.quantity,
            unit_price=item.unit_price,
            line_total=item.line_total,
        )


class OrderOut(CamelModel):
    id: str
    user_id: str
    status: OrderStatus
    total: Money = Field(description="Sum of the lines, computed by the server (Decimal, 2 places)")
    item_count: int = Field(description="Number of lines")
    items: list[OrderItemOut] | None = Field(
        None, description="The lines; `null` in listings (read the order for them), a list otherwise"
    )
    created_at: Timestamp
    updated_at: Timestamp

    @classmethod
    def of(cls, order: OrderRecord, *, with_items: bool = True) -> OrderOut:
        return cls(
            id=order.id,
            user_id=order.user_id,
            status=order.status,
            total=order.total,
            item_count=order.item_count,
            items=[OrderItemOut.of(item) for item in order.items] if with_items else None,
            created_at=order.created_at,
            updated_at=order.updated_at,
        )


class OrderListQuery(CamelModel):
    page: int | None = Field(None, ge=1, le=MAX_PAGE, description=PAGE_DESCRIPTION)
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description=LIMIT_DESCRIPTION)
    cursor: Annotated[str, StringConstraints(max_length=2048)] | None = None
    status: OrderStatus | None = Field(
        None,
        description="Only orders in this status: your own (administrators: every order in it); "
        "`meta.total` counts them exactly",
    )
