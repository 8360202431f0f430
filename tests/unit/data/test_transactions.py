"""The Transaction wrapper: one request per commit, failures mapped to the operation that failed."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from backend.errors import ConcurrentModificationError, ConflictError, NotFoundError, UnavailableError
from backend.models import keys
from backend.models.enums import OrderStatus
from backend.models.system import CounterModel, UniqueGuardModel
from backend.repositories import guards
from backend.repositories.dynamo import translated_errors
from backend.repositories.transaction import (
    MAX_TRANSACTION_ITEMS,
    Transaction,
    TransactionTooLargeError,
    conflict,
    unexpected,
)
from tests.support.ddb import count_requests


def _counter(name: str) -> CounterModel:
    return CounterModel(keys.counter_pk(name), keys.counter_sk(0))


def test_one_operation_is_a_plain_write_and_many_are_one_transaction(db: Any) -> None:
    with count_requests() as log:
        tx = Transaction()
        tx.update(_counter("a"), [CounterModel.value.add(1)], on_fail=unexpected)
        tx.commit()
        tx = Transaction()
        tx.update(_counter("a"), [CounterModel.value.add(1)], on_fail=unexpected)
        tx.update(_counter("b"), [CounterModel.value.add(1)], on_fail=unexpected)
        tx.commit()
        Transaction().commit()  # nothing to do: no request
    assert log.operations() == ["UpdateItem", "TransactWriteItems"]


def test_failures_name_the_operation_that_failed_whatever_its_position(db: Any) -> None:
    held = Transaction()
    guards.claim(held, guards.POST_SLUG, "taken", owner="POST#1", field="slug")
    held.commit()
    tx = Transaction()  # updates, a check and puts: PynamoDB reorders them by kind
    tx.update(_counter("x"), [CounterModel.value.add(1)], on_fail=unexpected)
    guards.claim(tx, guards.EMAIL, "free@example.com", owner="USER#2", field="email")
    tx.check(keys.counter_pk("y"), keys.counter_sk(0), CounterModel.pk.does_not_exist(), on_fail=unexpected)
    guards.claim(tx, guards.POST_SLUG, "taken", owner="POST#2", field="slug")
    with pytest.raises(ConflictError) as caught:
        tx.commit()
    assert caught.value.details == [{"field": "slug", "message": "slug is already in use"}]


def test_not_found_wins_over_conflicts(db: Any) -> None:
    held = Transaction()
    guards.claim(held, guards.EMAIL, "a@example.com", owner="USER#1", field="email")
    held.commit()
    tx = Transaction()
    guards.claim(tx, guards.EMAIL, "a@example.com", owner="USER#2", field="email")
    from backend.repositories.checks import require_user

    require_user(tx, "01ARZ3NDEKTSV4RRFFQ69G5FAV")
    with pytest.raises(NotFoundError, match="User"):
        tx.commit()


def test_single_write_failures_are_mapped_too(db: Any) -> None:
    tx = Transaction()
    tx.put(UniqueGuardModel(keys.unique_pk("EMAIL", "x"), keys.UNIQUE_SK, owner="USER#1"), on_fail=unexpected)
    tx.commit()
    tx = Transaction()
    guard = UniqueGuardModel(keys.unique_pk("EMAIL", "x"), keys.UNIQUE_SK, owner="USER#2")
    tx.put(guard, condition=UniqueGuardModel.pk.does_not_exist(), on_fail=conflict("email"))
    with count_requests() as log, pytest.raises(ConflictError):
        tx.commit()
    assert log.operations() == ["PutItem"]


def test_the_old_item_tells_deleted_from_changed(db: Any, users: Any, make_user: Any) -> None:
    user = make_user()
    users.update(user, name="changed")
    with pytest.raises(ConcurrentModificationError):
        users.update(user, name="stale")
    current = users.get(user.id)
    users.delete(current)
    with pytest.raises(NotFoundError):
        users.update(current, name="deleted")


def test_more_than_100_operations_is_refused_before_any_request(db: Any) -> None:
    tx = Transaction()
    for index in range(MAX_TRANSACTION_ITEMS + 1):
        tx.update(_counter(f"c{index}"), [CounterModel.value.add(1)], on_fail=unexpected)
    with count_requests() as log, pytest.raises(TransactionTooLargeError):
        tx.commit()
    assert log.total == 0


@pytest.mark.parametrize(
    "error",
    [
        ClientError(
            {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"}}, "GetItem"
        ),
        ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "Query"),
        EndpointConnectionError(endpoint_url="http://localhost:1"),
    ],
)
def test_throttling_and_connection_errors_become_unavailable(error: Exception) -> None:
    with pytest.raises(UnavailableError), translated_errors():
        raise error


def test_other_errors_pass_through() -> None:
    error = ClientError({"Error": {"Code": "ValidationException", "Message": "bad"}}, "Query")
    with pytest.raises(ClientError), translated_errors():
        raise error


def test_throttled_reads_through_a_repository_become_unavailable(users: Any, monkeypatch: Any) -> None:
    from botocore.client import BaseClient

    def throttled(self: Any, operation: str, params: Any) -> Any:
        raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow"}}, operation)

    monkeypatch.setattr(BaseClient, "_make_api_call", throttled)
    with pytest.raises(UnavailableError):
        users.get("01ARZ3NDEKTSV4RRFFQ69G5FAV")


def test_documented_worst_cases_fit_in_one_transaction(
    posts: Any, orders: Any, make_user: Any, make_category: Any, make_product: Any
) -> None:
    """docs/data-model.md: a full category swap of a published post is 73 operations, a 40-line order
    85, its cancellation 45."""
    from backend.records.orders import MAX_ORDER_LINES, OrderLine
    from backend.repositories.posts import MAX_CATEGORIES_PER_POST

    user = make_user()
    first = [make_category().id for _ in range(MAX_CATEGORIES_PER_POST)]
    second = [make_category().id for _ in range(MAX_CATEGORIES_PER_POST)]
    post = posts.create(author_id=user.id, title="t", slug="wide", published=True, category_ids=first)
    with count_requests() as log:
        posts.update(post, category_ids=second, slug="wider")
    assert log.operations() == ["TransactWriteItems"]
    assert log.sizes() == [73]

    lines = [
        OrderLine(product_id=p.id, product_name=p.name, quantity=1, unit_price=p.price)
        for p in (make_product() for _ in range(MAX_ORDER_LINES))
    ]
    with count_requests() as log:
        order = orders.create(user.id, lines)
    assert log.sizes() == [2 * MAX_ORDER_LINES + 5]
    with count_requests() as log:
        orders.update_status(order, OrderStatus.CANCELLED, restock=True)
    # the order, two status-counter shards, two of the owner's status counters, a restock per line
    assert log.sizes() == [MAX_ORDER_LINES, 5 + MAX_ORDER_LINES]  # which products exist, then the transaction
