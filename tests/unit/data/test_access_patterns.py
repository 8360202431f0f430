"""One test per row of the access-pattern table in docs/data-model.md.

Each asserts the DynamoDB operations a pattern costs (names, index, count), so the table cannot
drift from the code: a new row needs a test here (checked by ``test_every_documented_pattern...``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from backend.models.enums import OrderStatus, Role
from backend.records import PageRequest
from backend.records.orders import OrderLine
from tests.support.ddb import count_requests

DOC = Path(__file__).resolve().parents[3] / "docs" / "data-model.md"
TESTED: dict[str, str] = {}


def pattern(pattern_id: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def register(test: Callable[..., Any]) -> Callable[..., Any]:
        TESTED[pattern_id] = test.__name__
        return test

    return register


def test_every_documented_pattern_has_a_test_and_vice_versa() -> None:
    documented = set(re.findall(r"^\|\s*(AP\d{2})\s*\|", DOC.read_text(), flags=re.MULTILINE))
    assert documented, "no access-pattern rows found in docs/data-model.md"
    assert documented == set(TESTED)


# ----------------------------------------------------------------------------- users
@pattern("AP01")
def test_user_by_id_is_one_get_item(users: Any, make_user: Any) -> None:
    user = make_user()
    with count_requests() as log:
        assert users.get(user.id) == user
    assert log.operations() == ["GetItem"]


@pattern("AP02")
def test_user_by_email_is_two_consistent_gets_of_the_table(users: Any, make_user: Any) -> None:
    """The email's unique guard names the owner, then the user: no index, so a sign-in right after a
    sign-up or an email change sees it (GSI3 is eventually consistent)."""
    user = make_user(email="Grace@Example.com")
    with count_requests() as log:
        assert users.get_by_email("grace@example.COM").id == user.id
    assert log.operations() == ["GetItem", "GetItem"]
    assert log.indexes() == [None, None]


@pattern("AP03")
def test_users_newest_first_is_one_query_and_a_counter_read(users: Any, make_user: Any) -> None:
    created = [make_user() for _ in range(3)]
    with count_requests() as log:
        page = users.list(PageRequest(limit=10))
    assert [u.id for u in page.items] == [u.id for u in reversed(created)]
    assert page.meta.total == 3
    assert log.operations() == ["Query", "GetItem"]
    assert log.indexes() == ["GSI1", None]


@pattern("AP04")
def test_users_by_role_is_one_query_on_gsi2(users: Any, make_user: Any) -> None:
    admin = make_user(role=Role.ADMIN)
    make_user()
    with count_requests() as log:
        page = users.list(PageRequest(), role=Role.ADMIN)
    assert [u.id for u in page.items] == [admin.id]
    assert page.meta.total == 1
    assert log.operations() == ["Query", "GetItem"]
    assert log.indexes() == ["GSI2", None]


@pattern("AP05")
def test_user_text_search_reads_the_narrow_index_then_batch_gets_the_page(users: Any, make_user: Any) -> None:
    ada = make_user(name="Ada Lovelace", email="ada@example.com")
    make_user(name="Alan Turing", email="alan@example.com")
    grace = make_user(name="Grace Hopper", email="LOVELACE.fan@example.org")
    with count_requests() as log:
        page = users.search("loveLACE", PageRequest(limit=10))
    assert [u.id for u in page.items] == [grace.id, ada.id]
    assert page.meta.total == 2
    assert log.operations() == ["Query", "BatchGetItem"]
    assert log.indexes() == ["GSI4", None]


@pattern("AP06")
def test_profile_of_user_is_one_get_item(profiles: Any, make_user: Any) -> None:
    user = make_user()
    profiles.create(user.id, bio="Hi")
    with count_requests() as log:
        assert profiles.get(user.id).bio == "Hi"
    assert log.operations() == ["GetItem"]


@pattern("AP07")
def test_user_with_profile_is_one_batch_get(users: Any, profiles: Any, make_user: Any) -> None:
    user = make_user()
    profiles.create(user.id, website="https://example.com")
    with count_requests() as log:
        got, profile = users.get_with_profile(user.id)
    assert got == user
    assert profile is not None
    assert profile.website == "https://example.com"
    assert log.operations() == ["BatchGetItem"]


@pattern("AP08")
def test_sessions_of_user_is_one_query(sessions: Any, make_user: Any, clock: Any) -> None:
    user = make_user()
    for _ in range(2):
        sessions.create(user.id, token_hash="h", expires_at=clock() + timedelta(days=1))
    with count_requests() as log:
        assert len(sessions.list_for_user(user.id)) == 2
    assert log.operations() == ["Query"]
    assert log.indexes() == [None]


@pattern("AP09")
def test_session_by_id_is_one_get_item(sessions: Any, make_user: Any, clock: Any) -> None:
    user = make_user()
    session = sessions.create(user.id, token_hash="h", expires_at=clock() + timedelta(days=1))
    with count_requests() as log:
        assert sessions.get(user.id, session.id) == session
    assert log.operations() == ["GetItem"]


# ----------------------------------------------------------------------------- posts and categories
@pattern("AP10")
def test_post_by_id_is_one_get_item(posts: Any, make_user: Any) -> None:
    post = posts.create(author_id=make_user().id, title="T", slug="t")
    with count_requests() as log:
        assert posts.get(post.id) == post
    assert log.operations() == ["GetItem"]


@pattern("AP11")
def test_post_by_slug_is_one_query_on_gsi3(posts: Any, make_user: Any) -> None:
    post = posts.create(author_id=make_user().id, title="T", slug="Hello-World")
    with count_requests() as log:
        assert posts.get_by_slug("hello-world").id == post.id
    assert log.operations() == ["Query"]
    assert log.indexes() == ["GSI3"]


@pattern("AP12")
def test_posts_of_author_newest_first(posts: Any, make_user: Any) -> None:
    author = make_user()
    first = posts.create(author_id=author.id, title="1", slug="p-1")
    second = posts.create(author_id=author.id, title="2", slug="p-2", published=True)
    posts.create(author_id=make_user().id, title="other", slug="p-3")
    with count_requests() as log:
        page = posts.list_by_author(author.id, PageRequest())
    assert [p.id for p in page.items] == [second.id, first.id]
    assert page.meta.total == 2
    assert log.operations() == ["Query", "GetItem"]
    assert log.indexes() == ["GSI1", None]


@pattern("AP13")
def test_published_posts_by_publication_time(posts: Any, make_user: Any, clock: Any) -> None:
    author = make_user().id
    old = posts.create(author_id=author, title="old", slug="old", published=True, published_at=clock())
    posts.create(author_id=author, title="draft", slug="draft")
    new = posts.create(
        author_id=author, title="new", slug="new", published=True, published_at=clock() + timedelta(hours=1)
    )
    with count_requests() as log:
        page = posts.list_published(PageRequest())
    assert [p.id for p in page.items] == [new.id, old.id]
    assert page.meta.total == 2
    assert log.operations() == ["Query", "GetItem"]
    assert log.indexes() == ["GSI2", None]


@pattern("AP14")
def test_published_posts_of_a_category(posts: Any, make_user: Any, make_category: Any) -> None:
    author, tech, art = make_user().id, make_category().id, make_category().id
    in_tech = posts.create(author_id=author, title="a", slug="a", published=True, category_ids=[tech, art])
    posts.create(author_id=author, title="b", slug="b", published=False, category_ids=[tech])
    posts.create(author_id=author, title="c", slug="c", published=True, category_ids=[art])
    with count_requests() as log:
        page = posts.list_published_in_category(tech, PageRequest())
    assert [p.id for p in page.items] == [in_tech.id]
    assert page.meta.total == 1
    assert log.operations() == ["Query", "BatchGetItem", "GetItem"]
    assert log.indexes() == ["GSI2", None, None]


@pattern("AP15")
def test_categories_of_a_post_is_one_batch_get(
    categories: Any, posts: Any, make_user: Any, make_category: Any
) -> None:
    cats = [make_category() for _ in range(3)]
    post = posts.create(author_id=make_user().id, title="t", slug="t", category_ids=[cats[2].id, cats[0].id])
    with count_requests() as log:
        found = categories.get_many(post.category_ids)
    assert [c.id for c in found] == [cats[2].id, cats[0].id]
    assert log.operations() == ["BatchGetItem"]


@pattern("AP16")
def test_all_categories_is_one_query(categories: Any, make_category: Any) -> None:
    make_category(name="beta")
    make_category(name="Alpha")
    with count_requests() as log:
        found = categories.list_all()
    assert [c.name for c in found] == ["Alpha", "beta"]
    assert log.operations() == ["Query"]
    assert log.indexes() == [None]


@pattern("AP17")
def test_category_by_slug_is_one_query_on_gsi3(categories: Any, make_category: Any) -> None:
    category = make_category(name="Science", slug="science")
    with count_requests() as log:
        assert categories.get_by_slug("science") == category
    assert log.operations() == ["Query"]
    assert log.indexes() == ["GSI3"]


@pattern("AP18")
def test_category_by_id_is_one_get_item(categories: Any, make_category: Any) -> None:
    category = make_category()
    with count_requests() as log:
        assert categories.get(category.id) == category
    assert log.operations() == ["GetItem"]


# ----------------------------------------------------------------------------- products and orders
@pattern("AP19")
def test_product_by_id_is_one_get_item(products: Any, make_product: Any) -> None:
    product = make_product()
    with count_requests() as log:
        assert products.get(product.id) == product
    assert log.operations() == ["GetItem"]


@pattern("AP20")
def test_active_products_newest_first(products: Any, make_product: Any) -> None:
    first = make_product()
    make_product(active=False)
    second = make_product()
    with count_requests() as log:
        page = products.list_active(PageRequest())
    assert [p.id for p in page.items] == [second.id, first.id]
    assert page.meta.total == 2
    assert log.operations() == ["Query", "GetItem"]
    assert log.indexes() == ["GSI1", None]


@pattern("AP21")
def test_products_of_a_category(products: Any, make_product: Any, make_category: Any) -> None:
    category = make_category().id
    mine = make_product(category_id=category)
    make_product(category_id=category, active=False)
    make_product()
    with count_requests() as log:
        page = products.list_by_category(category, PageRequest())
    assert [p.id for p in page.items] == [mine.id]
    assert page.meta.total == 1
    assert log.operations() == ["Query", "GetItem"]
    assert log.indexes() == ["GSI2", None]


@pattern("AP22")
def test_products_by_ids_is_one_batch_get(products: Any, make_product: Any) -> None:
    wanted = [make_product(), make_product()]
    with count_requests() as log:
        found = products.get_many([p.id for p in wanted] + ["missing"])
    assert set(found) == {p.id for p in wanted}
    assert log.operations() == ["BatchGetItem"]


def _place(orders: Any, user_id: str, product: Any, quantity: int = 1) -> Any:
    line = OrderLine(
        product_id=product.id, product_name=product.name, quantity=quantity, unit_price=product.price
    )
    return orders.create(user_id, [line])


@pattern("AP23")
def test_order_with_items_is_one_query(orders: Any, make_user: Any, make_product: Any) -> None:
    user, a, b = make_user(), make_product(), make_product()
    lines = [
        OrderLine(product_id=a.id, product_name=a.name, quantity=2, unit_price=a.price),
        OrderLine(product_id=b.id, product_name=b.name, quantity=1, unit_price=b.price),
    ]
    order = orders.create(user.id, lines)
    with count_requests() as log:
        got = orders.get(order.id)
    assert got == order
    assert [i.product_id for i in got.items] == [a.id, b.id]
    assert log.operations() == ["Query"]
    assert log.indexes() == [None]


@pattern("AP24")
def test_orders_of_a_user_newest_first(orders: Any, make_user: Any, make_product: Any) -> None:
    user, product = make_user(), make_product()
    first, second = _place(orders, user.id, product), _place(orders, user.id, product)
    _place(orders, make_user().id, product)
    with count_requests() as log:
        page = orders.list_for_user(user.id, PageRequest())
    assert [o.id for o in page.items] == [second.id, first.id]
    assert page.meta.total == 2
    assert log.operations() == ["Query", "GetItem"]
    assert log.indexes() == ["GSI1", None]


@pattern("AP25")
def test_orders_by_status_oldest_first_queries_each_shard(
    orders: Any, make_user: Any, make_product: Any
) -> None:
    user, product = make_user(), make_product(stock=100)
    placed = [_place(orders, user.id, product) for _ in range(6)]
    shipped = orders.update_status(placed[2], OrderStatus.SHIPPED)
    with count_requests() as log:
        page = orders.list_by_status(OrderStatus.PENDING, PageRequest())
    assert [o.id for o in page.items] == [o.id for o in placed if o.id != shipped.id]
    assert page.meta.total == 5
    assert log.operations() == ["Query"] * 4 + ["BatchGetItem"]
    assert log.indexes() == ["GSI2"] * 4 + [None]


@pattern("AP35")
def test_all_orders_newest_first_queries_each_shard_of_gsi3(
    orders: Any, make_user: Any, make_product: Any
) -> None:
    product = make_product(stock=100)
    placed = [_place(orders, make_user().id, product) for _ in range(5)]
    orders.update_status(placed[0], OrderStatus.CANCELLED)
    with count_requests() as log:
        page = orders.list_all(PageRequest())
    assert [o.id for o in page.items] == [o.id for o in reversed(placed)]
    assert page.meta.total == 5
    assert log.operations() == ["Query"] * 4 + ["BatchGetItem"]
    assert log.indexes() == ["GSI3"] * 4 + [None]
    assert log.sizes()[-1] == 4 * len(OrderStatus)  # every shard of every status counter


@pattern("AP37")
def test_orders_of_a_user_in_one_status_newest_first(orders: Any, make_user: Any, make_product: Any) -> None:
    user, product = make_user(), make_product(stock=100)
    placed = [_place(orders, user.id, product) for _ in range(4)]
    orders.update_status(placed[1], OrderStatus.CANCELLED)
    _place(orders, make_user().id, product)
    with count_requests() as log:
        page = orders.list_for_user_with_status(user.id, OrderStatus.PENDING, PageRequest())
    assert [o.id for o in page.items] == [placed[3].id, placed[2].id, placed[0].id]
    assert page.meta.total == 3
    assert log.operations() == ["Query", "BatchGetItem", "GetItem"]
    assert log.indexes() == ["GSI4", None, None]
    assert log.sizes()[1] == 3  # the page's orders, by the keys the index gave


@pattern("AP36")
def test_low_stock_products_is_one_filtered_query(make_product: Any) -> None:
    from backend.repositories.inventory import low_stock_products

    low = make_product(stock=2)
    make_product(stock=50)
    with count_requests() as log:
        assert [p.id for p in low_stock_products(5)] == [low.id]
    assert log.operations() == ["Query"]
    assert log.indexes() == ["GSI1"]


@pattern("AP26")
def test_a_listing_total_is_one_counter_read(counters: Any, make_user: Any) -> None:
    from backend.repositories import counters as refs

    for _ in range(3):
        make_user()
    with count_requests() as log:
        assert counters.total(refs.USERS) == 3
    assert log.operations() == ["GetItem"]
    with count_requests() as log:
        assert counters.totals([refs.USERS, refs.users_with_role(Role.USER), refs.POSTS_PUBLISHED]) == {
            refs.USERS: 3,
            refs.users_with_role(Role.USER): 3,
            refs.POSTS_PUBLISHED: 0,
        }
    assert log.operations() == ["BatchGetItem"]


@pattern("AP27")
def test_rate_limit_hit_is_one_update_item(rate_limits: Any) -> None:
    with count_requests() as log:
        result = rate_limits.hit("login:203.0.113.7", limit=5, window_seconds=60)
    assert result.allowed
    assert result.remaining == 4
    assert log.operations() == ["UpdateItem"]


@pattern("AP28")
def test_user_with_session_is_one_consistent_batch_get(
    users: Any, sessions: Any, make_user: Any, clock: Any
) -> None:
    from backend.errors import NotFoundError

    user = make_user()
    from backend.models.clock import utcnow

    # the users repository runs on the real clock: the session must be live by it
    session = sessions.create(user.id, token_hash="h" * 64, expires_at=utcnow() + timedelta(days=1))
    with count_requests() as log:
        found_user, found_session = users.get_with_session(user.id, session.id)
    assert (found_user.id, found_session.id) == (user.id, session.id)
    assert log.operations() == ["BatchGetItem"]
    with pytest.raises(NotFoundError):
        users.get_with_session(user.id, "01ARZ3NDEKTSV4RRFFQ69G5FAV")


@pattern("AP29")
def test_action_token_by_hash_is_one_consistent_get_item(make_user: Any) -> None:
    from backend.errors import BadRequestError
    from backend.repositories.action_tokens import VERIFY_EMAIL, ActionTokensRepository

    tokens_repo = ActionTokensRepository()
    user = make_user()
    tokens_repo.issue(
        token_hash="a" * 64, purpose=VERIFY_EMAIL, user_id=user.id, email=user.email, ttl=timedelta(hours=1)
    )
    with count_requests() as log:
        found = tokens_repo.find("a" * 64, VERIFY_EMAIL)
    assert found.user_id == user.id
    assert log.operations() == ["GetItem"]
    with pytest.raises(BadRequestError):
        tokens_repo.find("a" * 64, "password-reset")  # another purpose reads as absent


@pattern("AP30")
def test_suppression_check_is_one_get_item(make_user: Any) -> None:
    from backend.repositories.suppressions import SuppressionsRepository

    suppressions = SuppressionsRepository()
    user = make_user()
    with count_requests() as log:
        assert suppressions.is_suppressed(user.email) is False
    assert log.operations() == ["GetItem"]
    assert suppressions.suppress(user.email, reason="BOUNCED") == user.id
    assert suppressions.is_suppressed(user.email.upper()) is True


def test_suppressing_an_address_updates_the_users_updated_at(make_user: Any, users: Any) -> None:
    from datetime import timedelta

    from backend.repositories.suppressions import SuppressionsRepository

    user = make_user()
    later = user.updated_at + timedelta(minutes=5)
    assert SuppressionsRepository(clock=lambda: later).suppress(user.email, reason="BOUNCED") == user.id
    marked = users.get(user.id, consistent=True)
    assert (marked.email_status, marked.updated_at) == ("BOUNCED", later)


@pattern("AP31")
def test_every_product_newest_first(products: Any, make_product: Any) -> None:
    first = make_product()
    hidden = make_product(active=False)
    last = make_product()
    with count_requests() as log:
        page = products.list_all(PageRequest())
    assert [p.id for p in page.items] == [last.id, hidden.id, first.id]
    assert page.meta.total == 3
    assert log.operations() == ["Query", "GetItem"]
    assert log.indexes() == ["GSI3", None]


@pattern("AP32")
def test_every_product_of_a_category(products: Any, make_product: Any, make_category: Any) -> None:
    category = make_category().id
    active = make_product(category_id=category)
    hidden = make_product(category_id=category, active=False)
    make_product()
    with count_requests() as log:
        page = products.list_all_by_category(category, PageRequest())
    assert [p.id for p in page.items] == [hidden.id, active.id]
    assert page.meta.total == 2
    assert log.operations() == ["Query", "BatchGetItem", "GetItem"]
    assert log.indexes() == ["GSI4", None, None]


@pattern("AP33")
def test_published_posts_of_an_author(posts: Any, make_user: Any, clock: Any) -> None:
    author, other = make_user().id, make_user().id
    early = posts.create(author_id=author, title="A", slug="a", published=True, published_at=clock())
    posts.create(author_id=author, title="Draft", slug="d")
    posts.create(author_id=other, title="O", slug="o", published=True)
    clock.advance(minutes=1)
    late = posts.create(author_id=author, title="B", slug="b", published=True, published_at=clock())
    with count_requests() as log:
        page = posts.list_published_by_author(author, PageRequest())
    assert [p.id for p in page.items] == [late.id, early.id]
    assert page.meta.total == 2
    assert log.operations() == ["Query", "BatchGetItem", "GetItem"]
    assert log.indexes() == ["GSI4", None, None]
    unpublished = posts.update(posts.get(late.id), published=False)
    assert [p.id for p in posts.list_published_by_author(author, PageRequest()).items] == [early.id]
    posts.delete(posts.get(early.id))
    assert posts.list_published_by_author(author, PageRequest()).meta.total == 0
    assert unpublished.published_at is None


@pattern("AP34")
def test_cache_stamps_are_one_get_item_and_one_update_item(db: Any) -> None:
    from backend.repositories.cache_stamps import CacheStampsRepository

    stamps = CacheStampsRepository()
    assert stamps.read() == {}
    with count_requests() as write:
        stamps.write({"products": 1_700_000_000_000, "posts": 5})
    assert write.operations() == ["UpdateItem"]
    with count_requests() as read:
        assert stamps.read() == {"products": 1_700_000_000_000, "posts": 5}
    assert read.operations() == ["GetItem"]
    stamps.write({"posts": 6})
    assert stamps.read() == {"products": 1_700_000_000_000, "posts": 6}
    with pytest.raises(ValueError, match="unknown"):
        stamps.write({"orders": 1})


@pytest.mark.parametrize("reader", ["user", "post", "product", "category", "order"])
def test_missing_items_cost_one_request_and_raise_not_found(
    *, reader: str, users: Any, posts: Any, products: Any, categories: Any, orders: Any
) -> None:
    from backend.errors import NotFoundError

    get = {"user": users.get, "post": posts.get, "product": products.get, "category": categories.get}.get(
        reader, orders.get
    )
    with count_requests() as log, pytest.raises(NotFoundError):
        get("01ARZ3NDEKTSV4RRFFQ69G5FAV")
    assert log.total == 1
