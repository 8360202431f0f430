"""Posts: by id or slug, by author, published (overall and per category); writes with cascades.

A post's transaction covers the post, its slug guard, its category links and every counter it
moves; a post has at most ``MAX_CATEGORIES_PER_POST`` categories, which bounds the worst update to
well under DynamoDB's 100 operations (swapping all categories of a published post is 73).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Final

from backend.errors import AppError, NotFoundError, ValidationError
from backend.models import keys
from backend.models.clock import Clock, utcnow
from backend.models.ids import new_id
from backend.models.post import PostCategoryModel, PostModel
from backend.records import UNSET, Page, PageRequest, Unset
from backend.records.catalog import PostRecord
from backend.repositories import counters, guards
from backend.repositories.checks import require_category, require_user
from backend.repositories.dynamo import (
    QuerySpec,
    RawItem,
    batch_get,
    for_write,
    get_item,
    items_of_entries,
    query_page,
    to_models,
)
from backend.repositories.paging import CursorCodec, Listing, list_page
from backend.repositories.transaction import Transaction, stale, unexpected
from backend.values import normalize_slug

MAX_CATEGORIES_PER_POST: Final = 10


def _category_ids(ids: Sequence[str]) -> tuple[str, ...]:
    unique = tuple(dict.fromkeys(ids))
    if len(unique) > MAX_CATEGORIES_PER_POST:
        message = f"at most {MAX_CATEGORIES_PER_POST} categories"
        raise ValidationError("Too many categories", details=[{"field": "categoryIds", "message": message}])
    return unique


def categories_of(model: PostModel) -> tuple[str, ...]:
    return tuple(str(category_id) for category_id in model.category_ids or ())


def to_post_record(model: PostModel) -> PostRecord:
    return PostRecord(
        id=model.id,
        author_id=model.author_id,
        title=model.title,
        slug=model.slug,
        content=model.content,
        published=model.published,
        published_at=model.published_at,
        category_ids=categories_of(model),
        created_at=model.created_at,
        updated_at=model.updated_at,
        version=int(model.version),
    )


def _to_model(record: PostRecord, *, new: bool = False) -> PostModel:
    model = PostModel(
        id=record.id,
        author_id=record.author_id,
        title=record.title,
        slug=record.slug,
        content=record.content,
        published=record.published,
        published_at=record.published_at,
        category_ids=list(record.category_ids),
        created_at=record.created_at,
        updated_at=record.updated_at,
    )
    return for_write(model, record.version, new=new)


def _link(post_id: str, category_id: str, published_at: datetime | None) -> PostCategoryModel:
    link = PostCategoryModel(post_id=post_id, category_id=category_id, published_at=published_at)
    link.sync_keys()
    return link


def plan_post_deletion(
    tx: Transaction, post: PostModel, changes: counters.CounterChanges, *, count_author: bool = True
) -> None:
    """Add a post's deletion cascade to ``tx``: post, slug guard, links, counters (3k + 4 operations)."""
    tx.delete(post, on_fail=stale("Post"))
    guards.release(tx, guards.POST_SLUG, post.slug, owner=post.pk)
    published = post.published and post.published_at is not None
    if count_author:
        changes.add(counters.posts_of_author(post.author_id), -1)
        if published:
            changes.add(counters.published_posts_of_author(post.author_id), -1)
    if published:
        changes.add(counters.POSTS_PUBLISHED, -1)
    for category_id in categories_of(post):
        tx.delete(_link(post.id, category_id, None), on_fail=unexpected)
        changes.add(counters.category_posts(category_id), -1)
        if published:
            changes.add(counters.category_published_posts(category_id), -1)


class PostsRepository:
    def __init__(self, cursor_key: bytes | Callable[[], bytes], *, clock: Clock = utcnow) -> None:
        self._codec = CursorCodec(cursor_key)
        self._clock = clock
        self._counters = counters.CountersRepository()

    # ------------------------------------------------------------------------- reads
    def get(self, post_id: str, *, consistent: bool = False) -> PostRecord:
        """GetItem ``POST#<id>/POST``."""
        model = get_item(PostModel, keys.post_pk(post_id), keys.POST_SK, consistent=consistent)
        if model is None:
            raise NotFoundError("Post")
        return to_post_record(model)

    def get_by_slug(self, slug: str) -> PostRecord:
        """Query GSI3 ``POST_SLUG#<slug>`` (one item)."""
        items, _ = query_page(
            QuerySpec(keys.post_slug_lookup(normalize_slug(slug)), index=keys.GSI3), limit=1
        )
        models = [m for m in to_models(items) if isinstance(m, PostModel)]
        if not models:
            raise NotFoundError("Post")
        return to_post_record(models[0])

    def list_by_author(self, author_id: str, request: PageRequest) -> Page[PostRecord]:
        """Newest first, drafts included: GSI1 ``USER#<id>#POSTS``."""
        spec = QuerySpec(keys.author_posts(author_id), index=keys.GSI1, forward=False)
        ref = counters.posts_of_author(author_id)
        return list_page(
            Listing.single(f"posts|author={author_id}", spec),
            request,
            codec=self._codec,
            total=lambda: self._counters.total(ref),
            convert=_posts,
        )

    def list_published(self, request: PageRequest) -> Page[PostRecord]:
        """By publication time, newest first: GSI2 ``POSTS#PUBLISHED`` (sparse)."""
        spec = QuerySpec(keys.POSTS_PUBLISHED, index=keys.GSI2, forward=False)
        return list_page(
            Listing.single("posts|published", spec),
            request,
            codec=self._codec,
            total=lambda: self._counters.total(counters.POSTS_PUBLISHED),
            convert=_posts,
        )

    def list_published_by_author(self, author_id: str, request: PageRequest) -> Page[PostRecord]:
        """An author's published posts by publication time, newest first: GSI4
        ``USER#<id>#POSTS#PUBLISHED`` (sparse, keys only), then one BatchGetItem of the page."""
        spec = QuerySpec(keys.author_published_posts(author_id), index=keys.GSI4, forward=False)
        ref = counters.published_posts_of_author(author_id)
        return list_page(
            Listing.single(f"posts|published|author={author_id}", spec),
            request,
            codec=self._codec,
            total=lambda: self._counters.total(ref),
            convert=_posts_by_keys,
        )

    def list_published_in_category(self, category_id: str, request: PageRequest) -> Page[PostRecord]:
        """Newest first: links in GSI2 ``CATEGORY#<id>#POSTS`` (sparse), then one BatchGet of the posts."""
        spec = QuerySpec(keys.category_posts(category_id), index=keys.GSI2, forward=False)
        ref = counters.category_published_posts(category_id)
        return list_page(
            Listing.single(f"posts|published|category={category_id}", spec),
            request,
            codec=self._codec,
            total=lambda: self._counters.total(ref),
            convert=_posts_of_links,
        )

    # ------------------------------------------------------------------------- writes
    def create(
        self,
        *,
        author_id: str,
        title: str,
        slug: str,
        content: str | None = None,
        published: bool = False,
        published_at: datetime | None = None,
        category_ids: Sequence[str] = (),
    ) -> PostRecord:
        """One transaction: post, slug guard, author and category checks, links, counters."""
        now = self._clock()
        record = PostRecord(
            id=new_id(),
            author_id=author_id,
            title=title,
            slug=normalize_slug(slug),
            content=content,
            published=published,
            published_at=(published_at or now) if published else None,
            category_ids=_category_ids(category_ids),
            created_at=now,
            updated_at=now,
            version=0,
        )
        model = _to_model(record, new=True)
        tx = Transaction()
        tx.put(model, on_fail=unexpected)
        guards.claim(tx, guards.POST_SLUG, record.slug, owner=model.pk, field="slug")
        require_user(tx, author_id)
        changes = counters.CounterChanges()
        changes.add(counters.posts_of_author(author_id), 1)
        if record.published:
            changes.add(counters.POSTS_PUBLISHED, 1)
            changes.add(counters.published_posts_of_author(author_id), 1)
        for category_id in record.category_ids:
            require_category(tx, category_id)
            tx.put(_link(record.id, category_id, record.published_at), on_fail=unexpected)
            changes.add(counters.category_posts(category_id), 1)
            if record.published:
                changes.add(counters.category_published_posts(category_id), 1)
        changes.apply(tx)
        tx.commit()
        return to_post_record(model)

    def update(
        self,
        post: PostRecord,
        *,
        title: str | Unset = UNSET,
        slug: str | Unset = UNSET,
        content: str | Unset | None = UNSET,
        published: bool | Unset = UNSET,
        published_at: datetime | Unset | None = UNSET,
        category_ids: Sequence[str] | Unset = UNSET,
    ) -> PostRecord:
        """Optimistic update of ``post`` as read, moving guard, links and counters in one transaction.

        Publishing sets ``published_at`` (given, or now); unpublishing clears it.
        """
        now = self._clock()
        is_published = post.published if isinstance(published, Unset) else published
        if not is_published:
            new_published_at = None
        elif not isinstance(published_at, Unset) and published_at is not None:
            new_published_at = published_at
        else:
            new_published_at = post.published_at if post.published else now
        changed = replace(
            post,
            title=post.title if isinstance(title, Unset) else title,
            slug=post.slug if isinstance(slug, Unset) else normalize_slug(slug),
            content=post.content if isinstance(content, Unset) else content,
            published=is_published,
            published_at=new_published_at,
            category_ids=post.category_ids
            if isinstance(category_ids, Unset)
            else _category_ids(category_ids),
            updated_at=now,
        )
        model = _to_model(changed)
        tx = Transaction()
        tx.put(model, on_fail=stale("Post"))
        guards.swap(tx, guards.POST_SLUG, post.slug, changed.slug, owner=model.pk, field="slug")
        changes = counters.CounterChanges()
        was, now_pub = post.published, changed.published
        if was != now_pub:
            changes.add(counters.POSTS_PUBLISHED, 1 if now_pub else -1)
            changes.add(counters.published_posts_of_author(post.author_id), 1 if now_pub else -1)
        old_ids, new_ids = set(post.category_ids), set(changed.category_ids)
        for category_id in post.category_ids:
            if category_id not in new_ids:
                tx.delete(_link(post.id, category_id, None), on_fail=unexpected)
                changes.add(counters.category_posts(category_id), -1)
                if was:
                    changes.add(counters.category_published_posts(category_id), -1)
            elif post.published_at != changed.published_at:
                tx.put(_link(post.id, category_id, changed.published_at), on_fail=unexpected)
                if was != now_pub:
                    changes.add(counters.category_published_posts(category_id), 1 if now_pub else -1)
        for category_id in changed.category_ids:
            if category_id not in old_ids:
                require_category(tx, category_id)
                tx.put(_link(post.id, category_id, changed.published_at), on_fail=unexpected)
                changes.add(counters.category_posts(category_id), 1)
                if now_pub:
                    changes.add(counters.category_published_posts(category_id), 1)
        changes.apply(tx)
        tx.commit()
        return to_post_record(model)

    def delete(self, post: PostRecord) -> None:
        """One transaction: the post (optimistic lock), its slug guard, its links, its counters."""
        tx, changes = Transaction(), counters.CounterChanges()
        plan_post_deletion(tx, _to_model(post), changes)
        changes.apply(tx)
        tx.commit()

    def purge_author(self, author_id: str, *, max_posts: int = 25) -> int:
        """Delete up to ``max_posts`` posts of an author, one transaction each (the account-deletion
        job for authors whose posts did not fit the account's transaction). Returns how many remain.
        """
        spec = QuerySpec(keys.author_posts(author_id), index=keys.GSI1)
        items, _ = query_page(spec, limit=max_posts)
        for model in to_models(items):
            if not isinstance(model, PostModel):
                continue
            tx, changes = Transaction(), counters.CounterChanges()
            plan_post_deletion(tx, model, changes)
            changes.apply(tx)
            try:
                tx.commit()
            except AppError:
                continue  # deleted or changed meanwhile: the next run sees its current state
        return self._counters.total(counters.posts_of_author(author_id))


def _posts(raw_items: list[RawItem]) -> list[PostRecord]:
    return [to_post_record(m) for m in to_models(raw_items) if isinstance(m, PostModel)]


def _posts_by_keys(raw_items: list[RawItem]) -> list[PostRecord]:
    """Index entries without the item's attributes: the posts themselves, in one BatchGetItem."""
    return [to_post_record(m) for m in items_of_entries(raw_items) if isinstance(m, PostModel)]


def _posts_of_links(raw_items: list[RawItem]) -> list[PostRecord]:
    links = [m for m in to_models(raw_items) if isinstance(m, PostCategoryModel)]
    found = batch_get([(keys.post_pk(link.post_id), keys.POST_SK) for link in links])
    return [
        to_post_record(post)
        for link in links
        if isinstance(post := found.get((keys.post_pk(link.post_id), keys.POST_SK)), PostModel)
    ]
