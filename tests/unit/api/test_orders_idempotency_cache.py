"""With CACHE_URL set and CACHE_IDEMPOTENCY=true, idempotency records live in Redis/Valkey (Powertools'
cache store), not the table; with CACHE_URL alone they stay in the table."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.support.ddb import count_requests
from tests.support.identity import Api


class FakeRedis:
    """The part of redis.Redis that Powertools' cache persistence uses (SET NX EX, GET, DEL)."""

    def __init__(self) -> None:
        self.values: dict[str, tuple[str, float | None]] = {}

    def get(self, name: str) -> str | None:
        value = self.values.get(name)
        if value is None or (value[1] is not None and value[1] < time.time()):
            return None
        return value[0]

    def set(self, name: str, value: str, ex: int | None = None, nx: bool = False, **_: Any) -> bool | None:
        if nx and self.get(name) is not None:
            return None
        self.values[name] = (value, time.time() + ex if ex else None)
        return True

    def delete(self, *names: str) -> int:
        return sum(1 for name in names if self.values.pop(name, None) is not None)

    def close(self) -> None:
        """The container closes its client when the process is reset."""

    def pipeline(self, transaction: bool = True) -> FakePipeline:
        """What the read cache's invalidation uses (placing an order changes stock)."""
        return FakePipeline(self)


class FakePipeline:
    def __init__(self, redis: FakeRedis) -> None:
        self.redis, self.calls = redis, list[Callable[[], Any]]()

    def set(self, name: str, value: Any, **options: Any) -> None:
        self.calls.append(lambda: self.redis.set(name, str(value), **options))

    def get(self, name: str) -> None:
        self.calls.append(lambda: self.redis.get(name))

    def execute(self) -> list[Any]:
        return [call() for call in self.calls]


@pytest.fixture
def cache(api: Api, monkeypatch: pytest.MonkeyPatch, fresh_process: Callable[[], None]) -> FakeRedis:
    import redis

    fake = FakeRedis()
    urls: list[str] = []
    monkeypatch.setattr(redis.Redis, "from_url", lambda url, **_: urls.append(url) or fake)
    monkeypatch.setenv("CACHE_URL", "rediss://cache.example.com:6379/0")
    monkeypatch.setenv("CACHE_IDEMPOTENCY", "true")
    fresh_process()
    return fake


def test_records_live_in_the_cache_and_replays_validate_the_body(
    api: Api, orders_api: Any, make_product: Any, cache: FakeRedis
) -> None:
    user, product = api.account(), make_product(stock=5)
    body = {"items": [{"productId": product.id, "quantity": 2}]}
    headers = {"idempotency-key": "cache-1"}
    with count_requests() as log:
        first = api.call(orders_api, "POST", "/api/orders", body=body, token=user.token, headers=headers)
    assert first.status == 201, first.body
    assert log.operations() == ["BatchGetItem", "BatchGetItem", "TransactWriteItems"]  # none for idempotency
    [key] = [k for k in cache.values if "IDEMPOTENCY#" in k]
    assert [k for k in cache.values if k != key] == [f"{{{api.container.cache_key_prefix}}}ns:products"]
    # under the stack's prefix of Redis keys (two stacks sharing a server never replay each other's)
    assert key.startswith(api.container.cache_key_prefix + "IDEMPOTENCY#test#orders.place#")
    assert api.container.cache_key_prefix.startswith(api.container.settings.table_name)
    # Read back from the cache (no local copy): the same body replays, even though Powertools itself
    # would drop the payload hash when completing the record.
    again = api.call(orders_api, "POST", "/api/orders", body=body, token=user.token, headers=headers)
    assert again.status == 201
    assert again.body == first.body
    assert "idempotent-replayed" not in first.headers
    assert again.headers["idempotent-replayed"] == "true"  # Powertools' response hook, with this store too
    other = {"items": [{"productId": product.id, "quantity": 1}]}
    reused = api.call(orders_api, "POST", "/api/orders", body=other, token=user.token, headers=headers)
    assert reused.status == 422
    assert reused.body["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert api.container.products.get(product.id).stock == 3


def test_with_the_cache_url_alone_records_stay_in_the_table(
    api: Api,
    orders_api: Any,
    make_product: Any,
    cache: FakeRedis,
    *,
    monkeypatch: pytest.MonkeyPatch,
    fresh_process: Callable[[], None],
) -> None:
    """The orders function has CACHE_URL to invalidate the product views; its records stay durable."""
    monkeypatch.delenv("CACHE_IDEMPOTENCY")
    fresh_process()
    user, product = api.account(), make_product(stock=5)
    body = {"items": [{"productId": product.id, "quantity": 2}]}
    with count_requests() as log:
        placed = api.call(
            orders_api, "POST", "/api/orders", body=body, token=user.token, headers={"idempotency-key": "t-1"}
        )
    assert placed.status == 201, placed.body
    # auth, the record (in progress), products, the transaction, the record (completed)
    assert log.operations() == ["BatchGetItem", "PutItem", "BatchGetItem", "TransactWriteItems", "UpdateItem"]
    assert list(cache.values) == [f"{{{api.container.cache_key_prefix}}}ns:products"]  # the invalidation


def test_the_placement_is_hashed_as_before_the_typed_input() -> None:
    """Powertools hashes the use case's input in its JSON form: the typed ``PlaceOrder`` must give the
    dict the records were keyed by before it (else a retry across a deploy looks like a reused key)."""
    from aws_lambda_powertools.utilities.idempotency.base import _prepare_data

    from backend.schemas.orders import OrderLineIn, PlaceOrder

    order = PlaceOrder(user_id="u1", key="k1", items=[OrderLineIn(product_id="p1", quantity=2)])
    assert _prepare_data(order) == {
        "userId": "u1",
        "key": "k1",
        "items": [{"productId": "p1", "quantity": 2}],
    }
