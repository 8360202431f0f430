"""Categories and posts on the wire (the original's Post and Category, with the m:n link).

Text written by users (titles, post content, names) is stored as given (titles and names trimmed)
and returned as JSON; nothing is rendered as HTML by the API, so clients must escape it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BeforeValidator, Field, StringConstraints

from backend.schemas.common import CamelModel, StrictIn, Timestamp
from backend.values import SLUG_MAX_LENGTH, SLUG_PATTERN

if TYPE_CHECKING:
    from backend.records.catalog import CategoryRecord, PostRecord

#: At most this many categories per post (the repository bounds its transactions with it).
MAX_POST_CATEGORIES = 10


def _trimmed_lower(value: Any) -> Any:
    return value.strip().lower() if isinstance(value, str) else value


#: Slugs are case-insensitive: trimmed and lower-cased, then checked (``values.SLUG_PATTERN``).
SlugIn = Annotated[
    str,
    BeforeValidator(_trimmed_lower),
    StringConstraints(min_length=1, max_length=SLUG_MAX_LENGTH, pattern=SLUG_PATTERN),
    Field(description="Lowercase ASCII letters and digits in words separated by single hyphens"),
]
CategoryName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
#: Posts live in one DynamoDB item (400 KB at most): 50,000 characters is at most 200 KB of UTF-8.
Content = Annotated[str, StringConstraints(max_length=50_000)]
EntityId = Annotated[str, StringConstraints(min_length=1, max_length=64)]
CategoryIds = Annotated[list[EntityId], Field(max_length=MAX_POST_CATEGORIES)]


# ----------------------------------------------------------------------------- categories
class CategoryCreateIn(StrictIn):
    name: CategoryName
    slug: SlugIn | None = Field(None, description="Generated from the name when absent")


class CategoryPatchIn(StrictIn):
    name: CategoryName = None  # type: ignore[assignment]  # absent is fine, null is refused
    slug: SlugIn = None  # type: ignore[assignment]


class CategoryOut(CamelModel):
    id: str
    name: str
    slug: str
    created_at: Timestamp
    updated_at: Timestamp

    @classmethod
    def of(cls, category: CategoryRecord) -> CategoryOut:
        return cls(
            id=category.id,
            name=category.name,
            slug=category.slug,
            created_at=category.created_at,
            updated_at=category.updated_at,
        )


class CategorySummary(CamelModel):
    id: str
    name: str
    slug: str


# ----------------------------------------------------------------------------- posts
class PostCreateIn(StrictIn):
    title: Title
    slug: SlugIn | None = Field(None, description="Generated from the title when absent")
    content: Content | None = None
    category_ids: CategoryIds = Field(default_factory=list)


class PostPatchIn(StrictIn):
    title: Title = None  # type: ignore[assignment]  # absent is fine, null is refused
    slug: SlugIn = None  # type: ignore[assignment]
    content: Content | None = None
    category_ids: CategoryIds = None  # type: ignore[assignment]


class PostOut(CamelModel):
    id: str
    title: str
    slug: str
    content: str | None
    published: bool
    published_at: Timestamp | None
    author_id: str
    categories: list[CategorySummary]
    created_at: Timestamp
    updated_at: Timestamp

    @classmethod
    def of(cls, post: PostRecord, categories: list[CategorySummary]) -> PostOut:
        return cls(
            id=post.id,
            title=post.title,
            slug=post.slug,
            content=post.content,
            published=post.published,
            published_at=post.published_at,
            author_id=post.author_id,
            categories=categories,
            created_at=post.created_at,
            updated_at=post.updated_at,
        )
