"""Category use cases, and the category index that products and posts render with.

All categories are one cached body (``GET /api/categories``, AP16 on a miss). The index built from
it resolves a slug to its category (the ``category`` filters of products and posts, a product's
``category``) and an id to its name and slug (a post's ``categories``), so rendering a product or a
post never reads categories from DynamoDB when the body is cached.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypedDict

from backend import observability
from backend.errors import NotFoundError, ValidationError
from backend.schemas.common import Envelope, ListEnvelope, whole_list_meta
from backend.schemas.content import CategoryOut, CategorySummary
from backend.services import views
from backend.values import normalize_slug, slugify

if TYPE_CHECKING:
    from backend.cache import ReadCache, Rendered
    from backend.records.catalog import CategoryRecord
    from backend.repositories.categories import CategoriesRepository
    from backend.services.principal import Principal

ALL_KEY = "categories:all"


class CategoryIndexMemo:
    """The last category index parsed, by the ETag of the cached list it came from: parsed once per
    distinct body (one per container: ``backend.wiring``)."""

    def __init__(self) -> None:
        self._last: tuple[str, CategoryIndex] | None = None

    def index(self, categories: CategoriesRepository, cache: ReadCache, *, strict: bool) -> CategoryIndex:
        """Slug and id lookups of every category, from the cached list (AP16 on a miss)."""
        rendered = observability.cache_outcome(
            cache.fetch(ALL_KEY, (views.CATEGORIES,), lambda: _render_all(categories), strict=strict)
        )
        memo = self._last
        if memo is not None and memo[0] == rendered.etag:
            return memo[1]
        every = [CategoryOut.model_validate(item) for item in views.data_of(rendered.body)]
        index = CategoryIndex(by_id={c.id: c for c in every}, by_slug={c.slug: c for c in every})
        self._last = (rendered.etag, index)
        return index


@dataclass(frozen=True, slots=True)
class CategoriesDeps:
    """The collaborators of the categories use cases (built by ``backend.wiring``)."""

    categories: CategoriesRepository
    cache: ReadCache
    category_index: CategoryIndexMemo = field(default_factory=CategoryIndexMemo)


@dataclass(frozen=True, slots=True)
class CategoryIndex:
    """The categories by id and by slug."""

    by_id: Mapping[str, CategoryOut]
    by_slug: Mapping[str, CategoryOut]

    def slug_of(self, category_id: str | None) -> str | None:
        found = self.by_id.get(category_id) if category_id else None
        return found.slug if found else None

    def summaries(self, category_ids: tuple[str, ...]) -> list[CategorySummary]:
        return [
            CategorySummary(id=c.id, name=c.name, slug=c.slug)
            for c in (self.by_id.get(i) for i in category_ids)
            if c is not None
        ]


# ----------------------------------------------------------------------------- reads
def list_categories(deps: CategoriesDeps, viewer: Principal | None = None) -> Rendered:
    """Every category, by name (public; one cached body)."""
    return observability.cache_outcome(
        deps.cache.fetch(
            ALL_KEY, (views.CATEGORIES,), lambda: _render_all(deps.categories), strict=views.strict(viewer)
        )
    )


def get_category(deps: CategoriesDeps, slug: str, viewer: Principal | None = None) -> Rendered:
    """One category by slug (public): from the index, 404 if there is none."""
    wanted = _path_slug(slug)
    return _one(
        deps, views.key("categories:slug", wanted), viewer, lambda index: index.by_slug.get(wanted or "")
    )


def get_category_by_id(deps: CategoriesDeps, category_id: str, viewer: Principal | None = None) -> Rendered:
    """One category by id (public): from the index, 404 if there is none."""
    return _one(
        deps, views.key("categories:id", category_id), viewer, lambda index: index.by_id.get(category_id)
    )


def _one(
    deps: CategoriesDeps,
    key: str,
    viewer: Principal | None,
    find: Callable[[CategoryIndex], CategoryOut | None],
) -> Rendered:
    """One category found in the (cached) index, its body cached under ``key``."""
    strict = views.strict(viewer)

    def compute() -> bytes:
        category = find(deps.category_index.index(deps.categories, deps.cache, strict=strict))
        if category is None:
            raise NotFoundError("Category")
        return views.render(Envelope[CategoryOut](data=category))

    return observability.cache_outcome(deps.cache.fetch(key, (views.CATEGORIES,), compute, strict=strict))


def _render_all(categories: CategoriesRepository) -> bytes:
    items = [CategoryOut.of(c) for c in categories.list_all()]
    meta = whole_list_meta(len(items))
    return views.render(ListEnvelope[CategoryOut](data=items, meta=meta))


# ----------------------------------------------------------------------------- writes (admin)
def create_category(deps: CategoriesDeps, *, name: str, slug: str | None) -> CategoryRecord:
    """409 (details name or slug) when either is taken; the slug is generated from the name if absent."""
    record = deps.categories.create(name=name, slug=slug if slug is not None else slug_from(name, "name"))
    deps.cache.invalidate(views.CATEGORIES)
    return record


class CategoryChanges(TypedDict, total=False):
    name: str
    slug: str


def update_category(deps: CategoriesDeps, category_id: str, changes: CategoryChanges) -> CategoryRecord:
    """Only the fields given change; 409 (details name or slug) when the new value is taken."""
    category = deps.categories.get(category_id)
    updated = deps.categories.update(category, **changes)
    deps.cache.invalidate(views.CATEGORIES)
    return updated


def delete_category(deps: CategoriesDeps, category_id: str) -> None:
    """409 (details posts or products) while posts or products still use it."""
    category = deps.categories.get(category_id)
    deps.categories.delete(category)
    deps.cache.invalidate(views.CATEGORIES)


# ----------------------------------------------------------------------------- slugs
def slug_from(text: str, field: str) -> str:
    """A slug generated from a name or title; 400 naming ``field`` when nothing usable is left."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    if not re.search(r"[A-Za-z0-9]", folded):
        message = "cannot make a slug from it: send a slug"
        raise ValidationError("Invalid slug", details=[{"field": field, "message": message}])
    return slugify(text)


def category_slug(text: str) -> str | None:
    """The slug a category reference (``category`` of a product, the ``category`` filters) names:
    a slug, or a name normalized the way slugs are made; None when it cannot name any."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return slugify(text) if re.search(r"[A-Za-z0-9]", folded) else None


def _path_slug(slug: str) -> str | None:
    """A slug from a path or a query (None when it cannot be one: then nothing matches)."""
    try:
        return normalize_slug(slug)
    except ValidationError:
        return None
