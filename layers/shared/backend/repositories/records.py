"""Domain records returned by repositories: frozen dataclasses, no PynamoDB inside.

``version`` is the optimistic-locking token: pass the record you read back to ``update``/``delete``,
and the write succeeds only if nobody changed the item since (else ConcurrentModificationError).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Final

from backend.models.enums import OrderStatus, Role

__all__ = [
    "UNSET",
    "ActionTokenRecord",
    "CategoryRecord",
    "OrderItemRecord",
    "OrderLine",
    "OrderRecord",
    "OrderStatus",
    "Page",
    "PageMeta",
    "PageRequest",
    "PostRecord",
    "ProductRecord",
    "ProfileRecord",
    "RateLimitResult",
    "Role",
    "SessionRecord",
    "Unset",
    "UserDeletion",
    "UserRecord",
]


class Unset(Enum):
    """Marker for "leave unchanged" in update methods (``None`` is a real value: clear the field)."""

    UNSET = "UNSET"

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final = Unset.UNSET

DEFAULT_LIMIT: Final = 20
MAX_LIMIT: Final = 100


@dataclass(frozen=True, slots=True, kw_only=True)
class UserRecord:
    id: str
    email: str
    name: str | None
    role: Role
    password_hash: str
    created_at: datetime
    updated_at: datetime
    version: int
    email_verified: bool = False
    email_status: str = "ACTIVE"


@dataclass(frozen=True, slots=True, kw_only=True)
class ActionTokenRecord:
    """A single-use token (its hash) for one purpose, one user and one address."""

    purpose: str
    user_id: str
    email: str
    created_at: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class ProfileRecord:
    user_id: str
    bio: str | None
    website: str | None
    avatar: str | None
    created_at: datetime
    updated_at: datetime
    version: int


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionRecord:
    id: str
    user_id: str
    token_hash: str
    user_agent: str | None
    created_at: datetime
    rotated_at: datetime | None
    expires_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class PostRecord:
    id: str
    author_id: str
    title: str
    slug: str
    content: str | None
    published: bool
    published_at: datetime | None
    category_ids: tuple[str, ...]
    created_at: datetime
    updated_at: datetime
    version: int


@dataclass(frozen=True, slots=True, kw_only=True)
class CategoryRecord:
    id: str
    name: str
    slug: str
    created_at: datetime
    updated_at: datetime
    version: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ProductRecord:
    id: str
    name: str
    description: str | None
    price: Decimal
    stock: int
    active: bool
    category_id: str | None
    created_at: datetime
    updated_at: datetime
    version: int


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderLine:
    """One line of a new order: the caller prices it from the product it read (snapshot)."""

    product_id: str
    product_name: str
    quantity: int
    unit_price: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderItemRecord:
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


@dataclass(frozen=True, slots=True, kw_only=True)
class UserDeletion:
    """What deleting a user did. ``posts_pending`` posts are left for the purge job (see docs)."""

    user_id: str
    sessions_deleted: int
    posts_deleted: int
    posts_pending: int


@dataclass(frozen=True, slots=True, kw_only=True)
class RateLimitResult:
    allowed: bool
    limit: int
    remaining: int
    retry_after_seconds: int  # 0 when allowed
    reset_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class PageRequest:
    """The spec's ``page``/``limit`` plus an optional opaque ``cursor`` (which carries its own page).

    Validated by ``backend.repositories.paging.resolve`` (1 <= limit <= 100; deep pages are capped).
    """

    limit: int = DEFAULT_LIMIT
    page: int = 1
    cursor: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PageMeta:
    page: int
    limit: int
    total: int
    total_pages: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Page[T]:
    items: tuple[T, ...]
    meta: PageMeta
    next_cursor: str | None = field(default=None)
