"""Post use cases (ContentFunction): the published posts through the read cache; authors' writes.

Who sees what:
- everyone: published posts, newest ``publishedAt`` first, overall, of a category (slug) or of an
  author, through the read cache (callers with credentials strictly: they see committed writes at
  once);
- a draft only for its author or an admin (anyone else gets 404): computed for them, never cached;
- an author (or an admin) listing that author's posts sees the drafts too (AP12, newest first).

Writes are the author's or an admin's (``Principal.require_access``: others get 404, so a draft's
existence is not revealed). A write invalidates the ``posts`` namespace only when a published post
is involved: drafts are in no shared view.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final, TypedDict

from backend import observability
from backend.cache import NotCached
from backend.errors import ConflictError, NotFoundError, UnauthorizedError, ValidationError
from backend.schemas.common import Envelope, ListEnvelope
from backend.schemas.content import PostOut
from backend.services import views
from backend.services.categories import CategoryIndex, CategoryIndexMemo, category_slug, slug_from
from backend.values import normalize_slug

if TYPE_CHECKING:
    from collections.abc import Sequence

    from backend.cache import ReadCache, Rendered
    from backend.records import Page
    from backend.records.catalog import PostRecord
    from backend.repositories.categories import CategoriesRepository
    from backend.repositories.posts import PostsRepository
    from backend.services.principal import Principal

#: A post's views depend on the posts and on the categories (names and slugs of its categories).
NAMESPACES: Final = (views.POSTS, views.CATEGORIES)


@dataclass(frozen=True, slots=True)
class ContentDeps:
    """The collaborators of the posts use cases (built by ``backend.wiring``)."""

    posts: PostsRepository
    categories: CategoriesRepository
    cache: ReadCache
    category_index: CategoryIndexMemo = field(default_factory=CategoryIndexMemo)


@dataclass(frozen=True, slots=True)
class PostQuery:
    """A posts listing request: filters and paging."""

    page: int = 1
    limit: int = 20
    cursor: str | None = None
    category: str | None = None
    author: str | None = None


class PostChanges(TypedDict, total=False):
    """What a PATCH changes (the fields sent); ``content: None`` clears the content."""

    title: str
    slug: str
    content: str | None
    category_ids: list[str]


@dataclass(frozen=True, slots=True)
class PostView:
    """A post as written, with its categories (for the write's response)."""

    post: PostRecord
    index: CategoryIndex

    def out(self) -> PostOut:
        return PostOut.of(self.post, self.index.summaries(self.post.category_ids))


def _index(deps: ContentDeps, *, strict: bool) -> CategoryIndex:
    return deps.category_index.index(deps.categories, deps.cache, strict=strict)


def _render(post: PostRecord, deps: ContentDeps, *, strict: bool) -> bytes:
    categories = _index(deps, strict=strict).summaries(post.category_ids) if post.category_ids else []
    return views.render(Envelope[PostOut](data=PostOut.of(post, categories)))


# ----------------------------------------------------------------------------- reads
def list_posts(deps: ContentDeps, query: PostQuery, viewer: Principal | None = None) -> Rendered:
    if query.category is not None and query.author is not None:
        message = "filter by category or by author, not both"
        raise ValidationError("Validation error", details=[{"field": "category", "message": message}])
    request = views.page_request(query.page, query.limit, query.cursor)
    strict = views.strict(viewer)
    own = query.author is not None and viewer is not None and viewer.can_access(query.author)
    slug = category_slug(query.category) if query.category is not None else None

    def compute() -> bytes:
        index: CategoryIndex | None = None  # read only when needed (a filter, or categories to render)
        page: Page[PostRecord]
        if query.author is not None:
            if own:
                page = deps.posts.list_by_author(query.author, request)
            else:
                page = deps.posts.list_published_by_author(query.author, request)
        elif query.category is not None:
            index = _index(deps, strict=strict)
            category = index.by_slug.get(slug) if slug else None
            if category is None:
                page = views.empty_page(request)
            else:
                page = deps.posts.list_published_in_category(category.id, request)
        else:
            page = deps.posts.list_published(request)
        if index is None and any(p.category_ids for p in page.items):
            index = _index(deps, strict=strict)
        items = [PostOut.of(p, index.summaries(p.category_ids) if index else []) for p in page.items]
        return views.render_list(ListEnvelope[PostOut], items, page)

    if own:  # drafts included: this caller's view only
        return views.fresh(compute())
    key = views.key("posts:list", slug, query.author, query.limit, query.page, query.cursor)
    return observability.cache_outcome(deps.cache.fetch(key, NAMESPACES, compute, strict=strict))


def get_post(deps: ContentDeps, slug: str, viewer: Principal | None = None) -> Rendered:
    """A published post for anyone; a draft only for its author or an admin (404 for others)."""
    try:
        wanted = normalize_slug(slug)
    except ValidationError:
        raise NotFoundError("Post") from None
    strict = views.strict(viewer)

    def compute() -> bytes | NotCached:
        return _visible(deps.posts.get_by_slug(wanted), deps, viewer, strict=strict)

    return observability.cache_outcome(
        deps.cache.fetch(f"posts:slug:{wanted}", NAMESPACES, compute, strict=strict)
    )


def get_post_by_id(deps: ContentDeps, post_id: str, viewer: Principal | None = None) -> Rendered:
    """The same post by its id (what the write routes name), with the same visibility."""
    strict = views.strict(viewer)

    def compute() -> bytes | NotCached:
        return _visible(deps.posts.get(post_id), deps, viewer, strict=strict)

    return observability.cache_outcome(
        deps.cache.fetch(f"posts:id:{post_id}", NAMESPACES, compute, strict=strict)
    )


def _visible(
    post: PostRecord, deps: ContentDeps, viewer: Principal | None, *, strict: bool
) -> bytes | NotCached:
    """A published post for anyone (cached); a draft only for its author or an admin (never cached)."""
    if post.published:
        return _render(post, deps, strict=strict)
    if viewer is None or not viewer.can_access(post.author_id):
        raise NotFoundError("Post")
    return views.private(_render(post, deps, strict=strict))


# ----------------------------------------------------------------------------- writes
def create_post(
    deps: ContentDeps,
    author: Principal,
    *,
    title: str,
    slug: str | None = None,
    content: str | None = None,
    category_ids: Sequence[str] = (),
) -> PostView:
    """A draft by the caller; the slug is generated from the title when absent; 409 when it is taken."""
    index = _checked_categories(deps, category_ids)
    try:
        post = deps.posts.create(
            author_id=author.user_id,
            title=title,
            slug=slug if slug is not None else slug_from(title, "title"),
            content=content,
            category_ids=category_ids,
        )
    except NotFoundError as exc:
        if exc.message.startswith("Category"):
            raise _unknown_categories() from exc
        raise UnauthorizedError("The account no longer exists") from exc  # the author was deleted
    except ConflictError as exc:
        if _names_slug(exc):
            raise _slug_taken() from exc
        raise
    return PostView(post, index)


def update_post(deps: ContentDeps, principal: Principal, post_id: str, changes: PostChanges) -> PostView:
    """The author or an admin changes title, slug (409 when taken), content or categories."""
    post = _owned(deps, principal, post_id)
    index = _checked_categories(deps, changes.get("category_ids", ()))
    try:
        updated = deps.posts.update(post, **changes)
    except NotFoundError as exc:
        if exc.message.startswith("Category"):
            raise _unknown_categories() from exc
        raise
    except ConflictError as exc:
        if _names_slug(exc):
            raise _slug_taken() from exc
        raise
    _invalidate_if_public(deps, post, updated)
    return PostView(updated, index)


def publish_post(deps: ContentDeps, principal: Principal, post_id: str, *, published: bool) -> PostView:
    """Publish (sets ``publishedAt``; publishing a published post keeps it) or unpublish."""
    post = _owned(deps, principal, post_id)
    updated = post if post.published == published else deps.posts.update(post, published=published)
    _invalidate_if_public(deps, post, updated)
    return PostView(updated, _index(deps, strict=True))


def delete_post(deps: ContentDeps, principal: Principal, post_id: str) -> None:
    post = _owned(deps, principal, post_id)
    deps.posts.delete(post)
    _invalidate_if_public(deps, post, None)


# ----------------------------------------------------------------------------- helpers
def _owned(deps: ContentDeps, principal: Principal, post_id: str) -> PostRecord:
    post = deps.posts.get(post_id, consistent=True)
    principal.require_access(post.author_id, "Post")
    return post


def _checked_categories(deps: ContentDeps, category_ids: Sequence[str]) -> CategoryIndex:
    """The category index, after checking that every id is a category (400 naming categoryIds)."""
    index = _index(deps, strict=True)
    if any(category_id not in index.by_id for category_id in category_ids):
        raise _unknown_categories()
    return index


def _invalidate_if_public(deps: ContentDeps, before: PostRecord, after: PostRecord | None) -> None:
    if before.published or (after is not None and after.published):
        deps.cache.invalidate(views.POSTS)


def _unknown_categories() -> ValidationError:
    message = "unknown category id"
    return ValidationError("Validation error", details=[{"field": "categoryIds", "message": message}])


def _names_slug(exc: ConflictError) -> bool:
    return any(detail.get("field") == "slug" for detail in exc.details or ())


def _slug_taken() -> ConflictError:
    message = "slug is already in use"
    return ConflictError(message, code="SLUG_TAKEN", details=[{"field": "slug", "message": message}])
