"""The read cache and the idempotency store on a cluster-mode Redis (ElastiCache Serverless is one),
and every writer invalidating the cache the readers use.

The cluster is one ``redis-server --cluster-enabled yes`` holding every slot
(``tests/support/redis_cluster.py``): it refuses a command whose keys hash to different slots with
``CROSSSLOT``, as ElastiCache does. The writer tests run against it and against the single-node
server on 6379: a write made by one container (orders placing or cancelling, users deleting an
account, the worker's purge) is never served stale by another container once the write returned.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest

from backend.cache import ReadCache
from backend.cache.core import CacheUnavailableError
from backend.cache.redis_backend import RedisBackend, connect
from local.events import sqs_record
from tests.support import redis_server
from tests.support.apigw import FakeContext
from tests.support.catalog import Catalog, make_catalog
from tests.support.ddb import count_requests
from tests.support.identity import Api
from tests.support.redis_cluster import redis_cluster_url  # noqa: F401 - the session fixture

type Failures = list[tuple[str, BaseException]]

MAINTENANCE_QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:app-backend-maintenance-test"


def _plain(url: str) -> Any:
    import redis

    return redis.Redis.from_url(url)


def _keys_of(url: str, prefix: str) -> dict[str, int]:
    """Every key holding ``prefix`` and its TTL in seconds (-1: none) (a SCAN, in test code only)."""
    client = _plain(url)
    try:
        return {k.decode(): int(client.ttl(k)) for k in client.scan_iter(match=f"*{prefix}*", count=500)}
    finally:
        client.close()


def _delete_keys(url: str, prefix: str) -> None:
    client = _plain(url)
    try:
        for key in client.scan_iter(match=f"*{prefix}*", count=500):
            client.delete(key)  # one key per command: they live in different slots
    finally:
        client.close()


@pytest.fixture
def prefix(redis_cluster_url: str) -> Iterator[str]:  # noqa: F811 - the imported fixture
    chosen = redis_server.unique_prefix()
    yield chosen
    _delete_keys(redis_cluster_url, chosen)


def _cache(url: str, prefix: str, failures: Failures, *, cluster: bool, **options: Any) -> ReadCache:
    backend = RedisBackend(lambda: connect(url, timeout_ms=200, cluster=cluster), prefix=prefix, settle_ms=0)
    return ReadCache(backend, settle_ms=0, report=lambda op, exc: failures.append((op, exc)), **options)


class Computations:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> bytes:
        self.calls += 1
        return json.dumps({"n": self.calls}).encode()


# ----------------------------------------------------------------------------- the cluster itself
def test_the_cluster_refuses_a_read_across_slots(redis_cluster_url: str) -> None:  # noqa: F811
    """What ElastiCache Serverless does, and what the old read (stamps and entry in one MGET) met:
    CROSSSLOT, even though one node holds both slots. Keys under one hash tag share a slot."""
    import redis

    client = _plain(redis_cluster_url)
    try:
        from redis.crc import key_slot

        assert key_slot(b"t:ns:products") != key_slot(b"t:e:products:item:1")
        assert client.execute_command("CLUSTER", "KEYSLOT", "t:ns:products") == key_slot(b"t:ns:products")
        with pytest.raises(redis.ResponseError, match="hash to the same slot"):  # CROSSSLOT
            client.mget(["t:ns:products", "t:e:products:item:1"])
        assert client.mget(["{t:}ns:products", "{t:}ns:categories"]) == [None, None]  # one hash tag
    finally:
        client.close()


# ----------------------------------------------------------------------------- the read cache on it
@pytest.mark.parametrize("cluster", [True, False], ids=["RedisCluster", "plain-client-one-shard"])
def test_the_read_cache_works_on_a_cluster_and_every_key_expires(
    redis_cluster_url: str,  # noqa: F811
    prefix: str,
    cluster: bool,
) -> None:
    failures: Failures = []
    reader = _cache(redis_cluster_url, prefix, failures, cluster=cluster)
    writer = _cache(redis_cluster_url, prefix, failures, cluster=cluster)  # another container
    compute = Computations()
    namespaces = ("products", "categories")  # two stamps (one slot) and the entry (another)
    assert reader.fetch("products:item:1", namespaces, compute).hit is False
    time.sleep(0.005)  # a fill is trusted from the next millisecond on
    assert reader.fetch("products:item:1", namespaces, compute).hit is True
    assert compute.calls == 1
    time.sleep(0.005)
    writer.invalidate("products")
    time.sleep(0.005)
    again = reader.fetch("products:item:1", namespaces, compute)
    assert again.hit is False
    assert json.loads(again.body) == {"n": 2}
    assert failures == []
    keys = _keys_of(redis_cluster_url, prefix)
    assert set(keys) == {
        f"{{{prefix}}}ns:products",
        f"{{{prefix}}}ns:categories",
        f"{prefix}e:products:item:1",
    }
    assert all(ttl > 0 for ttl in keys.values()), keys  # nothing lives forever
    assert keys[f"{prefix}e:products:item:1"] <= 60
    assert keys[f"{{{prefix}}}ns:products"] > 3600


def test_a_refused_read_degrades_to_dynamodb_with_the_metric(
    redis_cluster_url: str,  # noqa: F811
    prefix: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A command the cluster refuses (here: the old read, one MGET of stamps and entry) serves the
    read from the computation, counts ``CacheUnavailable`` and opens the breaker; nothing raises."""
    from aws_lambda_powertools.metrics import MetricUnit

    from backend.cache.core import Entry
    from backend.cache.redis_backend import _translated
    from backend.observability import metrics

    class OneMget(RedisBackend):
        def get(self, key: str, namespaces: Any, *, strict: bool) -> Entry | None:
            with _translated():
                self._redis().mget([f"{prefix}ns:{ns}" for ns in namespaces] + [f"{prefix}e:{key}"])
            return None

    added: list[tuple[str, Any, float]] = []
    monkeypatch.setattr(metrics, "add_metric", lambda name, unit, value: added.append((name, unit, value)))
    # a plain client against the endpoint (a cluster client would split the MGET by slot itself)
    backend = OneMget(lambda: _plain(redis_cluster_url), prefix=prefix)
    cache = ReadCache(backend, settle_ms=0)  # the default report: the metric and a warning
    compute = Computations()
    served = cache.fetch("k", ("products", "categories"), compute)
    assert served.body == b'{"n": 1}'
    assert served.hit is False
    assert added == [("CacheUnavailable", MetricUnit.Count, 1)]
    assert cache.is_available() is False  # the breaker: Redis is skipped for a few seconds
    assert cache.fetch("k", ("products", "categories"), compute).body == b'{"n": 2}'
    assert len(added) == 1


@pytest.mark.parametrize("where", ["refused", "silent"])
def test_an_unreachable_cluster_degrades_within_the_timeout(where: str) -> None:
    """The cluster client reads the slot map when it is built: a refused or silent endpoint fails
    that, within the short timeout, and the read is served from the computation."""
    failures: Failures = []
    if where == "refused":
        url = f"redis://127.0.0.1:{redis_server.free_port()}/0"
        context: Any = None
    else:
        context = redis_server.silent_server()
        url = context.__enter__()
    try:
        cache = _cache(url, "t:", failures, cluster=True)
        started = time.monotonic()
        served = cache.fetch("k", ("products",), Computations())
        elapsed = time.monotonic() - started
    finally:
        if context is not None:
            context.__exit__(None, None, None)
    assert served.body == b'{"n": 1}'
    assert [op for op, _ in failures] == ["get"]
    assert isinstance(failures[0][1], Exception)
    assert elapsed < 2.0
    cache.invalidate("products")  # never raises: remembered until Redis answers again
    assert failures[-1][0] == "get"  # the breaker is open: no second attempt, no second report


def test_backend_failures_are_cache_unavailable_errors(redis_cluster_url: str, prefix: str) -> None:  # noqa: F811
    import redis

    class CrossSlot(RedisBackend):
        def put(self, key: str, entry: Any, ttl_seconds: int) -> None:
            from backend.cache.redis_backend import _translated

            with _translated():
                self._redis().mget([f"{prefix}a", f"{prefix}b"])

    backend = CrossSlot(lambda: _plain(redis_cluster_url), prefix=prefix)
    with pytest.raises(CacheUnavailableError, match="hash to the same slot") as raised:
        backend.put("k", None, 60)
    assert isinstance(raised.value.__cause__, redis.ResponseError)


# ----------------------------------------------------------------------------- writers, through the API
@pytest.fixture(params=["single-node", "cluster"])
def shared_redis(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[str, str]]:
    """The Redis every container of the test uses (CACHE_URL, CACHE_CLUSTER_MODE, a test prefix)."""
    if request.param == "cluster":
        url = request.getfixturevalue("redis_cluster_url")
        monkeypatch.setenv("CACHE_CLUSTER_MODE", "true")
    else:
        url = redis_server.shared_redis_or_skip()
        monkeypatch.setenv("CACHE_CLUSTER_MODE", "false")
    monkeypatch.setenv("CACHE_IDEMPOTENCY", "true")  # Powertools' Redis store on the same server
    chosen = redis_server.unique_prefix()
    yield url, chosen
    _delete_keys(url, chosen)


@pytest.fixture
def catalog(
    api: Api,
    monkeypatch: pytest.MonkeyPatch,
    shared_redis: tuple[str, str],
    fresh_process: Callable[[], None],
) -> Catalog:
    made = make_catalog(api, monkeypatch)
    url, chosen = shared_redis
    monkeypatch.setenv("CACHE_URL", url)
    monkeypatch.setenv("CACHE_KEY_PREFIX", chosen)
    fresh_process()
    return made


def _hit(catalog: Catalog, path: str) -> dict[str, Any]:
    """Read ``path`` anonymously until it is served from the cache; its data."""
    catalog.get(path)
    time.sleep(0.005)
    with count_requests() as log:
        response = catalog.get(path)
    assert response.status == 200, response.body
    assert log.total == 0, f"{path} was not served from the cache"
    return response.body["data"]  # type: ignore[no-any-return]


def _stock(data: Any, product_id: str) -> int:
    items = data if isinstance(data, list) else [data]
    [product] = [p for p in items if p["id"] == product_id]
    return int(product["stock"])


def test_a_changed_stock_is_never_served_after_the_order_returns(
    catalog: Catalog, orders_api: Any, fresh_process: Callable[[], None], shared_redis: tuple[str, str]
) -> None:
    catalog.category("Kitchen")
    product = catalog.product(stock=3)
    item, listing = f"/api/products/{product['id']}", "/api/products"
    assert _stock(_hit(catalog, item), product["id"]) == 3
    assert _stock(_hit(catalog, listing), product["id"]) == 3
    buyer = catalog.api.account()

    fresh_process()  # the orders function: another container, the same Redis
    body = {"items": [{"productId": product["id"], "quantity": 2}]}
    placed = catalog.api.call(
        orders_api, "POST", "/api/orders", body=body, token=buyer.token, headers={"idempotency-key": "k-1"}
    )
    assert placed.status == 201, placed.body
    replayed = catalog.api.call(
        orders_api, "POST", "/api/orders", body=body, token=buyer.token, headers={"idempotency-key": "k-1"}
    )
    assert replayed.body == placed.body  # the idempotency store (Redis here) replays, stock moves once
    records = {k: ttl for k, ttl in _keys_of(*shared_redis).items() if "IDEMPOTENCY#" in k}
    assert [k.removeprefix(shared_redis[1]).split("#")[:3] for k in records] == [
        ["IDEMPOTENCY", "test", "orders.place"]
    ]
    assert all(ttl > 0 for ttl in records.values())

    fresh_process()  # a reader's container
    assert _stock(catalog.get(item).data, product["id"]) == 1
    assert _stock(catalog.get(listing).data, product["id"]) == 1
    assert _stock(_hit(catalog, item), product["id"]) == 1

    fresh_process()
    cancelled = catalog.api.call(
        orders_api, "POST", f"/api/orders/{placed.data['id']}/cancel", token=buyer.token
    )
    assert cancelled.status == 200, cancelled.body

    fresh_process()
    assert _stock(catalog.get(item).data, product["id"]) == 3
    assert _stock(catalog.get(listing).data, product["id"]) == 3


@pytest.fixture
def maintenance_queue(api: Api, monkeypatch: pytest.MonkeyPatch) -> str:
    url: str = boto3.client("sqs").create_queue(QueueName="app-backend-maintenance-test")["QueueUrl"]
    monkeypatch.setenv("MAINTENANCE_QUEUE_URL", url)
    return url


def test_a_deleted_post_is_never_served_after_the_deletion_returns(
    maintenance_queue: str, catalog: Catalog, users: Any, fresh_process: Callable[[], None]
) -> None:
    """Users deletes an account with its posts when they fit in its transaction, else the worker
    purges them: after either returns, no reader is served a deleted post from the cache."""
    from backend.records import PageRequest

    posts = catalog.api.container.posts
    solo, prolific = catalog.api.account(), catalog.api.account()
    posts.update(posts.create(author_id=solo.id, title="Solo", slug="solo"), published=True)
    slugs = [f"gone-{index}" for index in range(60)]  # more than one transaction holds
    for slug in slugs:
        posts.update(posts.create(author_id=prolific.id, title=slug, slug=slug), published=True)

    def stored(author_id: str) -> set[str]:
        return {p.slug for p in posts.list_by_author(author_id, PageRequest(limit=100)).items}

    def listed() -> set[str]:
        return {p["slug"] for p in catalog.get("/api/posts?limit=100").data}

    _hit(catalog, "/api/posts/by-slug/solo")
    for slug in slugs[:5]:
        _hit(catalog, f"/api/posts/by-slug/{slug}")
    assert {p["slug"] for p in _hit(catalog, "/api/posts?limit=100")} == {"solo", *slugs}

    fresh_process()  # the users function: the post fits in the account's transaction
    assert catalog.api.call(users, "DELETE", "/api/me", token=solo.token).status == 204
    fresh_process()  # a reader
    assert stored(solo.id) == set()
    assert catalog.get("/api/posts/by-slug/solo").status == 404
    assert listed() == set(slugs)

    fresh_process()  # the users function: 60 posts are left to the purge job
    assert catalog.api.call(users, "DELETE", "/api/me", token=prolific.token).status == 204
    assert stored(prolific.id) == set(slugs)
    [message] = boto3.client("sqs").receive_message(QueueUrl=maintenance_queue, MaxNumberOfMessages=10)[
        "Messages"
    ]
    fresh_process()  # the worker
    from backend.jobs.worker import create_worker_handler

    record = sqs_record(message, MAINTENANCE_QUEUE_ARN)
    assert create_worker_handler()({"Records": [record]}, FakeContext()) == {"batchItemFailures": []}

    fresh_process()  # a reader
    assert stored(prolific.id) == set()
    assert [catalog.get(f"/api/posts/by-slug/{slug}").status for slug in slugs[:5]] == [404] * 5
    assert listed() == set()


# ----------------------------------------------------------------------------- settings
def test_cluster_settings_are_validated() -> None:
    from backend.cache.settings import load_cache_settings
    from backend.errors import ConfigurationError

    url = "rediss://app@cache.example.com:6379"
    assert load_cache_settings({"CACHE_URL": url, "CACHE_CLUSTER_MODE": "true"}).cluster_mode is True
    assert load_cache_settings({"CACHE_URL": url + "/0"}).cluster_mode is False
    with pytest.raises(ConfigurationError, match="database 0"):
        load_cache_settings({"CACHE_URL": url + "/2", "CACHE_CLUSTER_MODE": "true"})
    with pytest.raises(ConfigurationError, match="CACHE_CLUSTER_MODE"):
        load_cache_settings({"CACHE_URL": url, "CACHE_CLUSTER_MODE": "sometimes"})
    with pytest.raises(ConfigurationError, match="CACHE_KEY_PREFIX"):
        load_cache_settings({"CACHE_URL": url, "CACHE_KEY_PREFIX": "{stack}:"})
