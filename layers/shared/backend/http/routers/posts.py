"""Post routes (ContentFunction): published posts for everyone, drafts for their authors.

Post content and titles are returned exactly as written, as JSON strings: the API renders no HTML,
so clients must escape them wherever they display them.
"""

from __future__ import annotations

from typing import Annotated, Any, cast

from fastapi import Depends, Query, Request, Response

from backend.http.auth import current_principal, optional_principal
from backend.http.deps import Container, get_container
from backend.http.docs import errors
from backend.http.params import id_path, page_number, slug_path
from backend.http.representation import NOT_MODIFIED, represent
from backend.http.routes import api_router
from backend.schemas.common import PAGE_DESCRIPTION, Envelope, ListEnvelope, PageNumber
from backend.schemas.content import PostCreateIn, PostOut, PostPatchIn
from backend.services import posts as service
from backend.services.principal import Principal

router = api_router(prefix="/api/posts", tags=["posts"])

PostId = Annotated[str, id_path("postId", "The post's id")]
PostSlug = Annotated[str, slug_path("The post")]
_NOT_YOURS = "Post not found (or not yours: only its author or an admin may change it)"
_ESCAPE = "Text is returned as written (JSON strings, never HTML): clients must escape it."


@router.get(
    "",
    response_model=ListEnvelope[PostOut],
    summary="List published posts, newest publishedAt first (public)",
    description="Filter `category` (a slug) or `author` (a user id), not both. An author (or an "
    "admin) asking for that author's posts also gets the drafts, newest first. Page with "
    "`page`/`limit` or follow `meta.nextCursor`. Cached for 60 s; ETag and 304. " + _ESCAPE,
    responses=NOT_MODIFIED,
)
def list_posts(
    request: Request,
    *,
    page: PageNumber | None = Query(None, description=PAGE_DESCRIPTION),
    limit: int = Query(20, ge=1, le=100),
    cursor: str | None = Query(None, max_length=2048, description="meta.nextCursor of the previous page"),
    category: str | None = Query(None, min_length=1, max_length=120, description="A category slug"),
    author: str | None = Query(None, min_length=1, max_length=64, description="An author's user id"),
    viewer: Principal | None = Depends(optional_principal),
    container: Container = Depends(get_container),
) -> Response:
    query = service.PostQuery(
        page=page_number(page, cursor), limit=limit, cursor=cursor, category=category, author=author
    )
    rendered = service.list_posts(container.content_deps, query, viewer)
    return represent(request, rendered, anonymous=viewer is None, max_age=container.cache.ttl_seconds)


@router.get(
    "/by-slug/{slug}",
    response_model=Envelope[PostOut],
    summary="Get a post by slug (public when published; a draft only for its author or an admin)",
    description=_ESCAPE,
    responses={
        **errors(_404="Post not found (drafts are 404 for everyone but the author and admins)"),
        **NOT_MODIFIED,
    },
)
def get_post(
    request: Request,
    slug: PostSlug,
    viewer: Principal | None = Depends(optional_principal),
    container: Container = Depends(get_container),
) -> Response:
    rendered = service.get_post(container.content_deps, slug, viewer)
    return represent(request, rendered, anonymous=viewer is None, max_age=container.cache.ttl_seconds)


@router.post(
    "",
    status_code=201,
    response_model=Envelope[PostOut],
    summary="Write a post (a draft; any signed-in user)",
    description="`slug` is generated from the title when absent (lowercase ASCII with hyphens). " + _ESCAPE,
    responses=errors(_409="SLUG_TAKEN: another post has this slug"),
)
def create_post(
    body: PostCreateIn,
    response: Response,
    principal: Principal = Depends(current_principal),
    container: Container = Depends(get_container),
) -> Envelope[PostOut]:
    view = service.create_post(
        container.content_deps,
        principal,
        title=body.title,
        slug=body.slug,
        content=body.content,
        category_ids=body.category_ids,
    )
    response.headers["location"] = f"/api/posts/by-slug/{view.post.slug}"
    return Envelope(data=view.out())


@router.patch(
    "/{postId}",
    response_model=Envelope[PostOut],
    summary="Change a post's title, slug, content or categories (its author or an admin)",
    responses=errors(
        _404=_NOT_YOURS,
        _409="SLUG_TAKEN, or CONCURRENT_MODIFICATION: it changed meanwhile",
    ),
)
def patch_post(
    body: PostPatchIn,
    post_id: PostId,
    principal: Principal = Depends(current_principal),
    container: Container = Depends(get_container),
) -> Envelope[PostOut]:
    changes: dict[str, Any] = {name: getattr(body, name) for name in body.model_fields_set}
    view = service.update_post(container.content_deps, principal, post_id, cast(service.PostChanges, changes))
    return Envelope(data=view.out())


@router.delete(
    "/{postId}",
    status_code=204,
    summary="Delete a post (its author or an admin)",
    responses=errors(_404=_NOT_YOURS, _409="CONCURRENT_MODIFICATION: it changed meanwhile"),
)
def delete_post(
    post_id: PostId,
    principal: Principal = Depends(current_principal),
    container: Container = Depends(get_container),
) -> Response:
    service.delete_post(container.content_deps, principal, post_id)
    return Response(status_code=204)


@router.post(
    "/{postId}/publish",
    response_model=Envelope[PostOut],
    summary="Publish a post (sets publishedAt; its author or an admin)",
    responses=errors(_404=_NOT_YOURS, _409="CONCURRENT_MODIFICATION: it changed meanwhile"),
)
def publish_post(
    post_id: PostId,
    principal: Principal = Depends(current_principal),
    container: Container = Depends(get_container),
) -> Envelope[PostOut]:
    view = service.publish_post(container.content_deps, principal, post_id, published=True)
    return Envelope(data=view.out())


@router.post(
    "/{postId}/unpublish",
    response_model=Envelope[PostOut],
    summary="Unpublish a post (back to a draft; its author or an admin)",
    responses=errors(_404=_NOT_YOURS, _409="CONCURRENT_MODIFICATION: it changed meanwhile"),
)
def unpublish_post(
    post_id: PostId,
    principal: Principal = Depends(current_principal),
    container: Container = Depends(get_container),
) -> Envelope[PostOut]:
    view = service.publish_post(container.content_deps, principal, post_id, published=False)
    return Envelope(data=view.out())
