"""Product routes (ProductsFunction): the public catalogue and the admin's writes.

Public reads are served through the read cache with ``ETag``/``Cache-Control`` (304 on
``If-None-Match``); admins see inactive products too. Writes are admin-only.
"""

from __future__ import annotations

from typing import Annotated, Any, cast

from fastapi import Depends, Query, Request, Response

from backend.http.auth import admin_principal, optional_principal
from backend.http.deps import Container, get_container
from backend.http.docs import errors
from backend.http.params import id_path, page_number
from backend.http.representation import NOT_MODIFIED, represent
from backend.http.routes import api_router
from backend.schemas.common import PAGE_DESCRIPTION, Envelope, ListEnvelope, PageNumber
from backend.schemas.products import ProductCreateIn, ProductOut, ProductPatchIn
from backend.services import products as service
from backend.services.principal import Principal

router = api_router(prefix="/api/products", tags=["products"])

ProductId = Annotated[str, id_path("productId", "The product's id")]
_NOT_FOUND = "Product not found (or inactive, for anyone but an admin)"
_CATEGORY_NOTE = (
    "`category` is the slug of an existing category (a name is normalized to a slug); "
    "an unknown one is 400 VALIDATION_ERROR. Text is returned as stored: clients must escape it."
)


def _changes(body: ProductCreateIn | ProductPatchIn, *, every: bool) -> service.ProductChanges:
    """PUT changes every field (an absent optional one is cleared); PATCH only those sent."""
    names = type(body).model_fields if every else body.model_fields_set
    fields: dict[str, Any] = {name: getattr(body, name) for name in names}
    return cast(service.ProductChanges, fields)


@router.get(
    "",
    response_model=ListEnvelope[ProductOut],
    summary="List products, newest first (public; admins also see inactive ones)",
    description="Filter `category` (slug or name). Page with `page`/`limit` or follow `meta.nextCursor`. "
    "Cached for 60 s; sends an ETag and answers `If-None-Match` with 304.",
    responses=NOT_MODIFIED,
)
def list_products(
    request: Request,
    *,
    page: PageNumber | None = Query(None, description=PAGE_DESCRIPTION),
    limit: int = Query(20, ge=1, le=100),
    cursor: str | None = Query(None, max_length=2048, description="meta.nextCursor of the previous page"),
    category: str | None = Query(None, min_length=1, max_length=120, description="A category slug"),
    viewer: Principal | None = Depends(optional_principal),
    container: Container = Depends(get_container),
) -> Response:
    query = service.ProductQuery(
        page=page_number(page, cursor), limit=limit, cursor=cursor, category=category
    )
    rendered = service.list_products(container.catalog_deps, query, viewer)
    return represent(request, rendered, anonymous=viewer is None, max_age=container.cache.ttl_seconds)


@router.get(
    "/{productId}",
    response_model=Envelope[ProductOut],
    summary="Get a product (public; an inactive one only for admins)",
    responses={**errors(_404=_NOT_FOUND), **NOT_MODIFIED},
)
def get_product(
    request: Request,
    product_id: ProductId,
    viewer: Principal | None = Depends(optional_principal),
    container: Container = Depends(get_container),
) -> Response:
    rendered = service.get_product(container.catalog_deps, product_id, viewer)
    return represent(request, rendered, anonymous=viewer is None, max_age=container.cache.ttl_seconds)


@router.post(
    "",
    status_code=201,
    response_model=Envelope[ProductOut],
    summary="Create a product (admin)",
    description=_CATEGORY_NOTE,
)
def create_product(
    body: ProductCreateIn,
    response: Response,
    _admin: Principal = Depends(admin_principal),
    container: Container = Depends(get_container),
) -> Envelope[ProductOut]:
    view = service.create_product(container.catalog_deps, **body.model_dump())
    response.headers["location"] = f"/api/products/{view.product.id}"
    return Envelope(data=view.out())


@router.put(
    "/{productId}",
    response_model=Envelope[ProductOut],
    summary="Replace a product (admin; every field, as in create)",
    description=_CATEGORY_NOTE,
    responses=errors(_404="Product not found", _409="CONCURRENT_MODIFICATION: it changed meanwhile"),
)
def replace_product(
    body: ProductCreateIn,
    product_id: ProductId,
    _admin: Principal = Depends(admin_principal),
    container: Container = Depends(get_container),
) -> Envelope[ProductOut]:
    view = service.update_product(container.catalog_deps, product_id, _changes(body, every=True))
    return Envelope(data=view.out())


@router.patch(
    "/{productId}",
    response_model=Envelope[ProductOut],
    summary="Change some fields of a product (admin; the create schema made partial)",
    description=_CATEGORY_NOTE,
    responses=errors(_404="Product not found", _409="CONCURRENT_MODIFICATION: it changed meanwhile"),
)
def patch_product(
    body: ProductPatchIn,
    product_id: ProductId,
    _admin: Principal = Depends(admin_principal),
    container: Container = Depends(get_container),
) -> Envelope[ProductOut]:
    view = service.update_product(container.catalog_deps, product_id, _changes(body, every=False))
    return Envelope(data=view.out())


@router.delete(
    "/{productId}",
    status_code=204,
    summary="Delete a product (admin; orders keep their item snapshots)",
    responses=errors(_404="Product not found", _409="CONCURRENT_MODIFICATION: it changed meanwhile"),
)
def delete_product(
    product_id: ProductId,
    _admin: Principal = Depends(admin_principal),
    container: Container = Depends(get_container),
) -> Response:
    service.delete_product(container.catalog_deps, product_id)
    return Response(status_code=204)
