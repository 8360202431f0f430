"""PostsRepository and CategoriesRepository: slugs, links, publication, counters, restrict rules."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from backend.errors import ConcurrentModificationError, ConflictError, NotFoundError, ValidationError
from backend.records import PageRequest
from backend.repositories import counters as refs
from backend.repositories.posts import MAX_CATEGORIES_PER_POST
from tests.support.ddb import count_requests


@pytest.fixture
def author(make_user: Any) -> Any:
    return make_user()


def _published_ids(posts: Any, category_id: str) -> list[str]:
    return [p.id for p in posts.list_published_in_category(category_id, PageRequest()).items]


class TestPosts:
    def test_create_checks_author_and_categories(self, posts: Any, author: Any, make_category: Any) -> None:
        with pytest.raises(NotFoundError, match="User"):
            posts.create(author_id="01ARZ3NDEKTSV4RRFFQ69G5FAV", title="t", slug="orphan")
        with pytest.raises(NotFoundError, match="Category"):
            posts.create(
                author_id=author.id, title="t", slug="no-cat", category_ids=["01ARZ3NDEKTSV4RRFFQ69G5FAV"]
            )
        category = make_category()
        post = posts.create(
            author_id=author.id, title="t", slug="ok", category_ids=[category.id, category.id]
        )
        assert post.category_ids == (category.id,)
        assert post.published_at is None

    def test_duplicate_slug_is_a_conflict_naming_the_field(
        self, posts: Any, author: Any, counters: Any
    ) -> None:
        posts.create(author_id=author.id, title="a", slug="same")
        with pytest.raises(ConflictError) as caught:
            posts.create(author_id=author.id, title="b", slug="SAME")
        assert caught.value.details[0]["field"] == "slug"
        assert counters.total(refs.posts_of_author(author.id)) == 1

    def test_too_many_categories_is_a_validation_error(self, posts: Any, author: Any) -> None:
        ids = [f"c{i}" for i in range(MAX_CATEGORIES_PER_POST + 1)]
        with pytest.raises(ValidationError):
            posts.create(author_id=author.id, title="t", slug="t", category_ids=ids)

    def test_publish_unpublish_and_recategorise_keep_listings_and_counters_exact(
        self, posts: Any, author: Any, make_category: Any, counters: Any, clock: Any
    ) -> None:
        a, b, c = (make_category().id for _ in range(3))
        post = posts.create(author_id=author.id, title="t", slug="moving", category_ids=[a, b])
        assert _published_ids(posts, a) == []

        published = posts.update(post, published=True, published_at=clock())
        assert published.published_at == clock()
        assert _published_ids(posts, a) == _published_ids(posts, b) == [post.id]
        assert counters.totals([refs.POSTS_PUBLISHED, refs.category_published_posts(a)]) == {
            refs.POSTS_PUBLISHED: 1,
            refs.category_published_posts(a): 1,
        }

        moved = posts.update(published, category_ids=[b, c], title="renamed")
        assert (_published_ids(posts, a), _published_ids(posts, b), _published_ids(posts, c)) == (
            [],
            [post.id],
            [post.id],
        )
        assert counters.total(refs.category_posts(a)) == 0
        assert counters.total(refs.category_published_posts(c)) == 1

        later = clock() + timedelta(days=1)
        repub = posts.update(moved, published_at=later)
        assert repub.published_at == later
        assert [p.published_at for p in posts.list_published_in_category(c, PageRequest()).items] == [later]

        hidden = posts.update(repub, published=False)
        assert hidden.published_at is None
        assert posts.list_published(PageRequest()).items == ()
        assert _published_ids(posts, b) == []
        totals = counters.totals(
            [
                refs.POSTS_PUBLISHED,
                refs.category_published_posts(b),
                refs.category_posts(b),
                refs.category_posts(c),
            ]
        )
        assert list(totals.values()) == [0, 0, 1, 1]

    def test_slug_change_releases_the_old_slug(self, posts: Any, author: Any) -> None:
        post = posts.create(author_id=author.id, title="t", slug="first")
        posts.update(post, slug="second")
        assert posts.get_by_slug("second").id == post.id
        with pytest.raises(NotFoundError):
            posts.get_by_slug("first")
        posts.create(author_id=author.id, title="t", slug="first")

    def test_stale_update_and_delete_fail(self, posts: Any, author: Any) -> None:
        post = posts.create(author_id=author.id, title="t", slug="locked")
        posts.update(post, title="newer")
        with pytest.raises(ConcurrentModificationError):
            posts.update(post, title="stale")
        with pytest.raises(ConcurrentModificationError):
            posts.delete(post)
        assert posts.get(post.id).title == "newer"

    def test_delete_removes_post_guard_links_and_counters(
        self, posts: Any, author: Any, make_category: Any, counters: Any, categories: Any
    ) -> None:
        category = make_category()
        post = posts.create(
            author_id=author.id, title="t", slug="gone", published=True, category_ids=[category.id]
        )
        with count_requests() as log:
            posts.delete(post)
        assert log.operations() == ["TransactWriteItems"]
        with pytest.raises(NotFoundError):
            posts.get(post.id)
        assert _published_ids(posts, category.id) == []
        assert counters.totals(
            [refs.posts_of_author(author.id), refs.POSTS_PUBLISHED, refs.category_posts(category.id)]
        ) == {
            refs.posts_of_author(author.id): 0,
            refs.POSTS_PUBLISHED: 0,
            refs.category_posts(category.id): 0,
        }
        categories.delete(categories.get(category.id))  # no longer referenced
        posts.create(author_id=author.id, title="t", slug="gone")


class TestCategories:
    def test_names_are_unique_ignoring_case_and_slugs_are_unique(self, categories: Any) -> None:
        categories.create(name="Science", slug="science")
        with pytest.raises(ConflictError) as by_name:
            categories.create(name=" SCIENCE ", slug="other")
        with pytest.raises(ConflictError) as by_slug:
            categories.create(name="Other", slug="science")
        assert by_name.value.details[0]["field"] == "name"
        assert by_slug.value.details[0]["field"] == "slug"
        assert [c.name for c in categories.list_all()] == ["Science"]

    def test_rename_moves_both_guards(self, categories: Any) -> None:
        category = categories.create(name="Old", slug="old")
        renamed = categories.update(category, name="New", slug="new")
        assert categories.get_by_slug("new") == renamed
        categories.create(name="old", slug="old")
        with pytest.raises(ConcurrentModificationError):
            categories.update(category, name="Stale")

    def test_a_category_in_use_cannot_be_deleted(
        self, categories: Any, posts: Any, products: Any, make_user: Any, make_product: Any
    ) -> None:
        with_post, with_product = categories.create(name="P", slug="p"), categories.create(name="Q", slug="q")
        post = posts.create(author_id=make_user().id, title="t", slug="t", category_ids=[with_post.id])
        product = make_product(category_id=with_product.id, active=False)
        with pytest.raises(ConflictError) as caught:
            categories.delete(with_post)
        assert caught.value.details[0]["field"] == "posts"
        with pytest.raises(ConflictError) as caught:
            categories.delete(with_product)
        assert caught.value.details[0]["field"] == "products"
        assert categories.get(with_post.id) == with_post

        posts.update(post, category_ids=[])
        products.update(product, category_id=None)
        categories.delete(with_post)
        categories.delete(with_product)
        assert categories.list_all() == []
        categories.create(name="P", slug="p")  # guards released

    def test_get_many_skips_missing_ids(self, categories: Any, make_category: Any) -> None:
        category = make_category()
        assert categories.get_many(["01ARZ3NDEKTSV4RRFFQ69G5FAV", category.id]) == [category]
        assert categories.get_many([]) == []
