"""Records of the catalogue and the content: products, categories, posts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class CategoryRecord:
    """A category of products and posts (unique name and slug)."""

    id: str
    name: str
    slug: str
    created_at: datetime
    updated_at: datetime
    version: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ProductRecord:
    """A product of the catalogue; ``price`` is exact (two decimals)."""

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
class PostRecord:
    """A post, with the ids of its categories."""

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
