"""Records of orders: the order, its item snapshots, and the lines a new order is made of."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Final

from backend.models.enums import OrderStatus

#: The most lines an order may have. Placing an order is one DynamoDB transaction of 2 operations
#: per line plus 5 (the order, the user check, three counters), within DynamoDB's 100.
MAX_ORDER_LINES: Final = 40


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderLine:
    """One line of a new order: the caller prices it from the product it read (snapshot)."""

    product_id: str
    product_name: str
    quantity: int
    unit_price: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderItemRecord:
    """One line of a placed order: a snapshot of the product's name and unit price."""

    position: int
    product_id: str
    product_name: str
    quantity: int
    unit_price: Decimal

    @property
    def line_total(self) -> Decimal:
        return self.unit_price * self.quantity


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderRecord:
    """An order; ``items`` is filled by ``OrdersRepository.get`` and empty in listings."""

    id: str
    user_id: str
    status: OrderStatus
    total: Decimal
    item_count: int
    created_at: datetime
    updated_at: datetime
    version: int
    items: tuple[OrderItemRecord, ...] = ()
    #: False for an order written before the per-user status listing existed (no GSI4 entry, not in
    #: the user's status counters) until ``OrdersRepository.backfill_status_index`` or its next
    #: status change indexes it: that change must then not decrement a counter it was never in.
    status_indexed: bool = True
