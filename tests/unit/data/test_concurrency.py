"""Races: concurrent writers in threads; DynamoDB (here moto, serialized like DynamoDB) picks one."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from backend.errors import ConcurrentModificationError, ConflictError
from backend.records import PageRequest
from backend.records.orders import OrderLine
from backend.repositories import counters as refs
from tests.support.ddb import run_concurrently, serializable_moto

THREADS = 8


@pytest.fixture(autouse=True)
def isolated(db: Any) -> Iterator[None]:
    with serializable_moto():
        yield


def _outcomes(results: list[Any]) -> tuple[list[Any], list[BaseException]]:
    won = [r for r in results if not isinstance(r, BaseException)]
    lost = [r for r in results if isinstance(r, BaseException)]
    return won, lost


def test_concurrent_signups_with_one_email_exactly_one_wins(users: Any, counters: Any) -> None:
    results = run_concurrently(
        [
            lambda i=i: users.create(email="race@example.com", password_hash="h", name=f"n{i}")
            for i in range(THREADS)
        ]
    )
    won, lost = _outcomes(results)
    assert len(won) == 1
    assert all(isinstance(e, ConflictError) and e.details[0]["field"] == "email" for e in lost), lost
    assert users.get_by_email("race@example.com").id == won[0].id
    assert counters.total(refs.USERS) == 1
    assert users.list(PageRequest()).meta.total == 1


def test_concurrent_posts_with_one_slug_exactly_one_wins(posts: Any, make_user: Any) -> None:
    authors = [make_user().id for _ in range(THREADS)]
    results = run_concurrently(
        [lambda a=a: posts.create(author_id=a, title="t", slug="same-slug") for a in authors]
    )
    won, lost = _outcomes(results)
    assert len(won) == 1
    assert all(isinstance(e, ConflictError) and e.details[0]["field"] == "slug" for e in lost), lost


def test_concurrent_categories_with_one_name_exactly_one_wins(categories: Any) -> None:
    results = run_concurrently(
        [
            lambda i=i: categories.create(name="Same" if i % 2 else "SAME", slug=f"slug-{i}")
            for i in range(THREADS)
        ]
    )
    won, lost = _outcomes(results)
    assert len(won) == 1
    assert all(isinstance(e, ConflictError) for e in lost), lost
    assert len(categories.list_all()) == 1


def test_concurrent_updates_of_one_read_exactly_one_wins(users: Any, make_user: Any) -> None:
    user = make_user()
    results = run_concurrently([lambda i=i: users.update(user, name=f"writer {i}") for i in range(THREADS)])
    won, lost = _outcomes(results)
    assert len(won) == 1
    assert all(isinstance(e, ConcurrentModificationError) for e in lost), lost
    assert users.get(user.id).name == won[0].name


def test_concurrent_orders_never_oversell(
    orders: Any, products: Any, make_user: Any, make_product: Any
) -> None:
    product = make_product(stock=3)
    buyers = [make_user().id for _ in range(THREADS)]
    line = [OrderLine(product_id=product.id, product_name=product.name, quantity=1, unit_price=product.price)]
    won, lost = _outcomes(run_concurrently([lambda b=b: orders.create(b, line) for b in buyers]))
    assert len(won) == 3
    assert all(isinstance(e, ConflictError) and e.code == "INSUFFICIENT_STOCK" for e in lost), lost
    assert products.get(product.id).stock == 0
