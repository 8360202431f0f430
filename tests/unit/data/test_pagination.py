"""Paging: every item exactly once, page numbers, signed cursors, limits."""

from __future__ import annotations

from typing import Any

import pytest

from backend.errors import BadRequestError, ValidationError
from backend.models.enums import OrderStatus
from backend.records import PageRequest
from backend.records.orders import OrderLine
from backend.repositories.paging import MAX_OFFSET, CursorCodec, derive_cursor_key
from backend.repositories.users import UsersRepository
from tests.support.ddb import count_requests


def walk(list_page: Any, limit: int) -> tuple[list[str], list[Any]]:
    ids: list[str] = []
    pages = []
    cursor = None
    while True:
        page = list_page(PageRequest(limit=limit, cursor=cursor))
        pages.append(page)
        ids.extend(item.id for item in page.items)
        cursor = page.next_cursor
        if cursor is None:
            return ids, pages


def test_walking_every_page_returns_each_user_exactly_once_newest_first(users: Any, make_user: Any) -> None:
    created = [make_user().id for _ in range(23)]
    ids, pages = walk(users.list, limit=5)
    assert ids == list(reversed(created))
    assert [p.meta.page for p in pages] == [1, 2, 3, 4, 5]
    assert {(p.meta.total, p.meta.total_pages, p.meta.limit) for p in pages} == {(23, 5, 5)}
    assert len(pages[-1].items) == 3


def test_an_exact_multiple_ends_without_an_empty_page(users: Any, make_user: Any) -> None:
    for _ in range(6):
        make_user()
    ids, pages = walk(users.list, limit=3)
    assert len(ids) == 6
    assert len(pages) == 2


def test_walking_the_sharded_status_listing_merges_shards_oldest_first(
    orders: Any, make_user: Any, make_product: Any
) -> None:
    user, product = make_user(), make_product(stock=100)
    line = [OrderLine(product_id=product.id, product_name=product.name, quantity=1, unit_price=product.price)]
    created = [orders.create(user.id, line).id for _ in range(17)]
    ids, pages = walk(lambda request: orders.list_by_status(OrderStatus.PENDING, request), limit=4)
    assert ids == created
    assert len(pages) == 5
    assert pages[0].meta.total == 17


def test_walking_published_posts_of_a_category(
    posts: Any, make_user: Any, make_category: Any, clock: Any
) -> None:
    from datetime import timedelta

    author, category = make_user().id, make_category().id
    created = [
        posts.create(
            author_id=author,
            title=str(i),
            slug=f"walk-{i}",
            published=True,
            published_at=clock() + timedelta(minutes=i),
            category_ids=[category],
        ).id
        for i in range(7)
    ]
    ids, _ = walk(lambda request: posts.list_published_in_category(category, request), limit=3)
    assert ids == list(reversed(created))


def test_page_numbers_without_a_cursor_match_the_walk(users: Any, make_user: Any) -> None:
    for _ in range(11):
        make_user()
    walked, _ = walk(users.list, limit=4)
    third = users.list(PageRequest(limit=4, page=3))
    assert [u.id for u in third.items] == walked[8:]
    assert third.meta.page == 3
    assert third.next_cursor is None
    beyond = users.list(PageRequest(limit=4, page=9))
    assert beyond.items == ()
    assert beyond.meta.total == 11
    with count_requests() as log:
        users.list(PageRequest(limit=4, page=2))
    assert log.operations() == ["Query", "Query", "GetItem"]  # skip, page, total


def test_a_cursor_carries_its_page_number(users: Any, make_user: Any) -> None:
    for _ in range(5):
        make_user()
    first = users.list(PageRequest(limit=2))
    second = users.list(PageRequest(limit=2, cursor=first.next_cursor, page=7))  # the cursor wins
    assert second.meta.page == 2


class TestCursorIntegrity:
    @pytest.fixture
    def cursor(self, users: Any, make_user: Any) -> str:
        for _ in range(3):
            make_user()
        cursor = users.list(PageRequest(limit=1)).next_cursor
        assert cursor is not None
        return cursor

    def _assert_invalid(self, call: Any) -> None:
        with pytest.raises(BadRequestError) as caught:
            call()
        assert caught.value.code == "INVALID_CURSOR"

    def test_a_tampered_cursor_is_rejected(self, users: Any, cursor: str) -> None:
        import base64
        import json

        payload, signature = cursor.split(".")
        state = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        state["p"] = 99
        forged = base64.urlsafe_b64encode(json.dumps(state).encode()).rstrip(b"=").decode()
        self._assert_invalid(lambda: users.list(PageRequest(limit=1, cursor=f"{forged}.{signature}")))

    @pytest.mark.parametrize("garbage", ["", "abc", "a.b.c", "!!!.???", "eyJ2IjoxfQ.AAAA"])
    def test_garbage_is_rejected(self, users: Any, garbage: str) -> None:
        self._assert_invalid(lambda: users.list(PageRequest(limit=1, cursor=garbage)))

    def test_a_cursor_cannot_be_replayed_against_another_query(
        self, users: Any, posts: Any, cursor: str
    ) -> None:
        from backend.models.enums import Role

        self._assert_invalid(lambda: users.list(PageRequest(limit=1, cursor=cursor), role=Role.USER))
        self._assert_invalid(lambda: users.list(PageRequest(limit=2, cursor=cursor)))
        self._assert_invalid(lambda: posts.list_published(PageRequest(limit=1, cursor=cursor)))

    def test_a_cursor_signed_with_another_key_is_rejected(self, cursor: str, db: Any) -> None:
        other = UsersRepository(derive_cursor_key("another deployment's secret"))
        self._assert_invalid(lambda: other.list(PageRequest(limit=1, cursor=cursor)))

    def test_codec_round_trip_and_key_length(self) -> None:
        codec = CursorCodec(derive_cursor_key(b"secret"))
        assert codec.decode("q", codec.encode("q", {"p": 2})) == {"v": 1, "p": 2}
        with pytest.raises(ValueError, match="16 bytes"):
            CursorCodec(b"short")


@pytest.mark.parametrize(
    ("request_", "field"),
    [
        (PageRequest(limit=0), "limit"),
        (PageRequest(limit=101), "limit"),
        (PageRequest(page=0), "page"),
        (PageRequest(limit=100, page=MAX_OFFSET // 100 + 2), "page"),
    ],
)
def test_limits_are_validated(users: Any, request_: PageRequest, field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        users.list(request_)
    assert caught.value.details[0]["field"] == field
