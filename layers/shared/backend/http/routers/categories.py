"""Category routes (ContentFunction): public reads through the read cache; admin writes."""

from __future__ import annotations

from typing import Annotated, Any, cast

from fastapi import Depends, Request, Response

from backend.http.auth import admin_principal, optional_principal
from backend.http.deps import Container, get_container
from backend.http.docs import created, errors
from backend.http.params import id_path, slug_path
from backend.http.representation import CONDITIONAL_GET, represent
from backend.http.routes import api_router
from backend.schemas.common import Envelope, ListEnvelope
from backend.schemas.content import CategoryCreateIn, CategoryOut, CategoryPatchIn
from backend.services import categories as service
from backend.services.principal import Principal

router = api_router(prefix="/api/categories", tags=["categories"])

CategoryId = Annotated[str, id_path("categoryId", "The category's id")]
CategorySlug = Annotated[str, slug_path("The category")]
_TAKEN = "CONFLICT: the name (case-insensitive) or the slug is taken (details name the field)"


@router.get(
    "",
    response_model=ListEnvelope[CategoryOut],
    summary="List every category, by name (public)",
    description="Cached for 60 s; sends an ETag and answers `If-None-Match` with 304.",
    responses=CONDITIONAL_GET,
)
def list_categories(
    request: Request,
    viewer: Principal | None = Depends(optional_principal),
    container: Container = Depends(get_container),
) -> Response:
    rendered = service.list_categories(container.categories_deps, viewer)
    return represent(request, rendered, anonymous=viewer is None, max_age=container.cache.ttl_seconds)


@router.get(
    "/by-slug/{slug}",
    response_model=Envelope[CategoryOut],
    summary="Get a category by slug (public)",
    responses={**errors(_404="Category not found"), **CONDITIONAL_GET},
)
def get_category(
    request: Request,
    slug: CategorySlug,
    viewer: Principal | None = Depends(optional_principal),
    container: Container = Depends(get_container),
) -> Response:
    rendered = service.get_category(container.categories_deps, slug, viewer)
    return represent(request, rendered, anonymous=viewer is None, max_age=container.cache.ttl_seconds)


@router.get(
    "/{categoryId}",
    response_model=Envelope[CategoryOut],
    summary="Get a category by id (public)",
    responses={**errors(_404="Category not found"), **CONDITIONAL_GET},
)
def get_category_by_id(
    request: Request,
    category_id: CategoryId,
    viewer: Principal | None = Depends(optional_principal),
    container: Container = Depends(get_container),
) -> Response:
    rendered = service.get_category_by_id(container.categories_deps, category_id, viewer)
    return represent(request, rendered, anonymous=viewer is None, max_age=container.cache.ttl_seconds)


@router.post(
    "",
    status_code=201,
    response_model=Envelope[CategoryOut],
    summary="Create a category (admin); the slug is generated from the name when absent",
    responses={**created("The category (Location: its by-slug path)"), **errors(_409=_TAKEN)},
)
def create_category(
    body: CategoryCreateIn,
    response: Response,
    _admin: Principal = Depends(admin_principal),
    container: Container = Depends(get_container),
) -> Envelope[CategoryOut]:
    category = service.create_category(container.categories_deps, name=body.name, slug=body.slug)
    response.headers["location"] = f"/api/categories/by-slug/{category.slug}"
    return Envelope(data=CategoryOut.of(category))


@router.patch(
    "/{categoryId}",
    response_model=Envelope[CategoryOut],
    summary="Rename a category or change its slug (admin)",
    responses=errors(_404="Category not found", _409=_TAKEN),
)
def patch_category(
    body: CategoryPatchIn,
    category_id: CategoryId,
    _admin: Principal = Depends(admin_principal),
    container: Container = Depends(get_container),
) -> Envelope[CategoryOut]:
    changes: dict[str, Any] = {name: getattr(body, name) for name in body.model_fields_set}
    category = service.update_category(
        container.categories_deps, category_id, cast(service.CategoryChanges, changes)
    )
    return Envelope(data=CategoryOut.of(category))


@router.delete(
    "/{categoryId}",
    status_code=204,
    summary="Delete a category (admin; only while no post or product uses it)",
    responses=errors(
        _404="Category not found", _409="CONFLICT: posts or products still use it (details name which)"
    ),
)
def delete_category(
    category_id: CategoryId,
    _admin: Principal = Depends(admin_principal),
    container: Container = Depends(get_container),
) -> Response:
    service.delete_category(container.categories_deps, category_id)
    return Response(status_code=204)
