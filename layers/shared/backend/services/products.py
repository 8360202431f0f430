"""Product use cases (ProductsFunction): the public catalogue through the read cache, admin writes.

Who sees what:
- anonymous callers and users: active products only, through the read cache (users strictly:
  they see every committed write at once);
- admins: inactive products too, read from DynamoDB each time (their view is not the shared one).

Costs (docs/data-model.md, "Cost per route"): a hit costs no DynamoDB request; a product by id
costs one GetItem on a miss; a list page one Query and the counter GetItem of its total; the
category lookups come from the cached category list (one Query when it is not cached).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final, TypedDict

from backend import observability
from backend.errors import NotFoundError, ValidationError
from backend.schemas.common import Envelope, ListEnvelope
from backend.schemas.products import ProductOut
from backend.services import views
from backend.services.categories import CategoryIndex, CategoryIndexMemo, category_slug

if TYPE_CHECKING:
    from backend.cache import ReadCache, Rendered
    from backend.records import Page
    from backend.records.catalog import CategoryRecord, ProductRecord
    from backend.repositories.categories import CategoriesRepository
    from backend.repositories.products import ProductsRepository
    from backend.services.principal import Principal

#: A product's views depend on the products and on the categories (its ``category`` slug).
NAMESPACES: Final = (views.PRODUCTS, views.CATEGORIES)


@dataclass(frozen=True, slots=True)
class CatalogDeps:
    """The collaborators of the catalogue use cases (built by ``backend.wiring``)."""

    products: ProductsRepository
    categories: CategoriesRepository
    cache: ReadCache
    category_index: CategoryIndexMemo = field(default_factory=CategoryIndexMemo)


@dataclass(frozen=True, slots=True)
class ProductQuery:
    """A products listing request: filters and paging."""

    page: int = 1
    limit: int = 20
    cursor: str | None = None
    category: str | None = None


class ProductChanges(TypedDict, total=False):
    """The fields a PUT (all) or a PATCH (those sent) changes; absent ones stay as they are."""

    name: str
    description: str | None
    price: Decimal
    category: str
    stock: int
    active: bool


@dataclass(frozen=True, slots=True)
class ProductView:
    """A product as written, with its category's slug (for the write's response)."""

    product: ProductRecord
    category_slug: str | None

    def out(self) -> ProductOut:
        return ProductOut.of(self.product, self.category_slug)


def _is_admin(viewer: Principal | None) -> bool:
    return viewer is not None and viewer.is_admin


def _index(deps: CatalogDeps, viewer: Principal | None) -> CategoryIndex:
    return deps.category_index.index(deps.categories, deps.cache, strict=views.strict(viewer))


# ----------------------------------------------------------------------------- reads
def get_product(deps: CatalogDeps, product_id: str, viewer: Principal | None = None) -> Rendered:
    """A product; 404 when missing, or inactive for anyone but an admin."""

    def compute() -> bytes:
        product = deps.products.get(product_id, consistent=True)
        if not product.active and not _is_admin(viewer):
            raise NotFoundError("Product")
        slug = _index(deps, viewer).slug_of(product.category_id) if product.category_id else None
        out = ProductOut.of(product, slug)
        return views.render(Envelope[ProductOut](data=out))

    if _is_admin(viewer):
        return views.fresh(compute())
    key = f"products:item:{product_id}"
    return observability.cache_outcome(
        deps.cache.fetch(key, NAMESPACES, compute, strict=views.strict(viewer))
    )


def list_products(deps: CatalogDeps, query: ProductQuery, viewer: Principal | None = None) -> Rendered:
    """Newest first, optionally of one category (by slug or name); active only unless an admin asks."""
    admin = _is_admin(viewer)
    request = views.page_request(query.page, query.limit, query.cursor)
    slug = category_slug(query.category) if query.category is not None else None

    def compute() -> bytes:
        index: CategoryIndex | None = None  # read only when needed (a filter, or products to render)
        page: Page[ProductRecord]
        if query.category is None:
            page = deps.products.list_all(request) if admin else deps.products.list_active(request)
        else:
            index = _index(deps, viewer)
            category = index.by_slug.get(slug) if slug else None
            if category is None:  # no such category: nothing is in it
                page = views.empty_page(request)
            elif admin:
                page = deps.products.list_all_by_category(category.id, request)
            else:
                page = deps.products.list_by_category(category.id, request)
        if index is None and any(p.category_id for p in page.items):
            index = _index(deps, viewer)
        items = [ProductOut.of(p, index.slug_of(p.category_id) if index else None) for p in page.items]
        return views.render_list(ListEnvelope[ProductOut], items, page)

    if admin:
        return views.fresh(compute())
    key = views.key("products:list", slug, query.limit, query.page, query.cursor)
    return observability.cache_outcome(
        deps.cache.fetch(key, NAMESPACES, compute, strict=views.strict(viewer))
    )


# ----------------------------------------------------------------------------- writes (admin)
def create_product(
    deps: CatalogDeps,
    *,
    name: str,
    price: Decimal,
    category: str,
    description: str | None = None,
    stock: int = 0,
    active: bool = True,
) -> ProductView:
    resolved = _resolve_category(deps, category)
    try:
        product = deps.products.create(
            name=name,
            description=description,
            price=price,
            stock=stock,
            active=active,
            category_id=resolved.id,
        )
    except NotFoundError as exc:  # the category was deleted meanwhile
        raise _unknown_category() from exc
    deps.cache.invalidate(views.PRODUCTS)
    return ProductView(product, resolved.slug)


def update_product(deps: CatalogDeps, product_id: str, changes: ProductChanges) -> ProductView:
    """PUT passes every field, PATCH only those sent. 409 CONCURRENT_MODIFICATION if the product
    changed between the read and the write (an order took stock meanwhile): read again and retry."""
    product = deps.products.get(product_id, consistent=True)
    fields: dict[str, Any] = {k: v for k, v in changes.items() if k != "category"}
    resolved = _resolve_category(deps, changes["category"]) if "category" in changes else None
    if resolved is not None:
        fields["category_id"] = resolved.id
    try:
        updated = deps.products.update(product, **fields)
    except NotFoundError as exc:
        if exc.message.startswith("Category"):
            raise _unknown_category() from exc
        raise
    deps.cache.invalidate(views.PRODUCTS)
    slug: str | None
    if resolved is not None:
        slug = resolved.slug
    else:
        slug = deps.category_index.index(deps.categories, deps.cache, strict=True).slug_of(
            updated.category_id
        )
    return ProductView(updated, slug)


def delete_product(deps: CatalogDeps, product_id: str) -> None:
    """Orders keep their item snapshots (name, unit price): their history stays readable."""
    product = deps.products.get(product_id, consistent=True)
    deps.products.delete(product)
    deps.cache.invalidate(views.PRODUCTS)


def _resolve_category(deps: CatalogDeps, reference: str) -> CategoryRecord:
    """The category a product's ``category`` names (by slug, or a name normalized like a slug)."""
    slug = category_slug(reference)
    if slug is None:
        raise _unknown_category()
    try:
        return deps.categories.get_by_slug(slug)
    except (NotFoundError, ValidationError):
        raise _unknown_category() from None


def _unknown_category() -> ValidationError:
    message = "unknown category: use the slug of an existing category"
    return ValidationError("Validation error", details=[{"field": "category", "message": message}])
