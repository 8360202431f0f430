"""Products on the wire: the original's create schema and its partial update schema, and the view.

Text (``name``, ``description``) is stored as given (names trimmed) and returned as JSON: the API
never renders it as HTML, so clients must escape it wherever they put it in a page.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from pydantic import Field, StrictBool, StringConstraints

from backend.schemas.common import CamelModel, Money, MoneyIn, StrictIn, Timestamp

if TYPE_CHECKING:
    from backend.records.catalog import ProductRecord

ProductName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Description = Annotated[str, StringConstraints(max_length=5_000)]
Stock = Annotated[int, Field(ge=0, le=1_000_000_000, strict=True)]
CategoryRef = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=120),
    Field(description="A category's slug (or its name: it is normalized to a slug); it must exist"),
]


class ProductCreateIn(StrictIn):
    """The original's ``createProductSchema`` plus ``stock`` and ``active``; also the PUT body."""

    name: ProductName
    description: Description | None = None
    price: MoneyIn
    category: CategoryRef
    stock: Stock = 0
    active: StrictBool = True


class ProductPatchIn(StrictIn):
    """``createProductSchema.partial()``: only the fields sent change (``description: null`` clears it)."""

    name: ProductName = None  # type: ignore[assignment]  # absent is fine, null is refused
    description: Description | None = None
    price: MoneyIn = None  # type: ignore[assignment]
    category: CategoryRef = None  # type: ignore[assignment]
    stock: Stock = None  # type: ignore[assignment]
    active: StrictBool = None  # type: ignore[assignment]


class ProductOut(CamelModel):
    id: str
    name: str
    description: str | None
    price: Money
    stock: int
    active: bool
    category: str | None = Field(description="The category's slug")
    category_id: str | None
    created_at: Timestamp
    updated_at: Timestamp

    @classmethod
    def of(cls, product: ProductRecord, category_slug: str | None) -> ProductOut:
        return cls(
            id=product.id,
            name=product.name,
            description=product.description,
            price=product.price,
            stock=product.stock,
            active=product.active,
            category=category_slug,
            category_id=product.category_id,
            created_at=product.created_at,
            updated_at=product.updated_at,
        )
