"""The read cache: one suite run against both backends (in-process, and a real Redis on
127.0.0.1:6379), then Redis failures (down, hung, stopped mid-test) and the API over a Redis that
stops: reads fall back to DynamoDB, with a metric and a warning, and never fail."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from backend.cache import NotCached, ReadCache
from backend.cache.core import CacheUnavailableError, Entry, now_ms
from backend.cache.memory import MemoryBackend
from backend.cache.redis_backend import RedisBackend, connect
from tests.support import redis_server
from tests.support.catalog import Catalog, make_catalog
from tests.support.ddb import count_requests
from tests.support.identity import Api

SETTLE_MS = 1_000
STAMP_MAX_AGE_MS = 1_000


class Clock:
    """Milliseconds that only move when told (starts at the real time: Redis TTLs stay sensible)."""

    def __init__(self) -> None:
        self.now = now_ms()

    def __call__(self) -> int:
        return self.now

    def advance(self, ms: int) -> None:
        self.now += ms


class Computations:
    """A compute function that counts its calls and returns a new body each time."""

    def __init__(self, text: str = "body") -> None:
        self.calls = 0
        self.text = text

    def __call__(self) -> bytes:
        self.calls += 1
        return json.dumps({"data": self.text, "n": self.calls}).encode()


type Containers = Callable[..., ReadCache]


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(params=["memory", "redis"])
def containers(request: pytest.FixtureRequest, clock: Clock) -> Iterator[Containers]:
    """Builds the read cache of a new "container" (its own backend instance) on the chosen backend;
    every container of one test shares the same stamps (the table, or the same Redis prefix)."""
    failures: list[tuple[str, BaseException]] = []
    made: list[ReadCache] = []
    if request.param == "memory":
        request.getfixturevalue("table")
        from backend.repositories.cache_stamps import CacheStampsRepository

        def build(**options: Any) -> ReadCache:
            backend = MemoryBackend(
                CacheStampsRepository(),
                stamp_max_age_ms=options.pop("stamp_max_age_ms", STAMP_MAX_AGE_MS),
                settle_ms=SETTLE_MS,
                clock=clock,
                **options,
            )
            cache = ReadCache(
                backend, settle_ms=SETTLE_MS, clock=clock, report=lambda op, e: failures.append((op, e))
            )
            made.append(cache)
            return cache

        yield build
        return
    url = redis_server.shared_redis_or_skip()
    prefix = redis_server.unique_prefix()

    def build_redis(**options: Any) -> ReadCache:
        options.pop("stamp_max_age_ms", None)
        backend = RedisBackend(
            lambda: connect(url, timeout_ms=200), prefix=prefix, settle_ms=SETTLE_MS, clock=clock
        )
        cache = ReadCache(
            backend, settle_ms=SETTLE_MS, clock=clock, report=lambda op, e: failures.append((op, e))
        )
        made.append(cache)
        return cache

    try:
        yield build_redis
    finally:
        for cache in made:
            if isinstance(cache.backend, RedisBackend):
                cache.backend.close()
        redis_server.delete_prefix(url, prefix)
    assert failures == []


def _warm(
    cache: ReadCache, clock: Clock, key: str = "k", namespaces: tuple[str, ...] = ("products",)
) -> Computations:
    """Fill ``key`` once, settle-margin after any write, so that the next read can hit."""
    compute = Computations()
    clock.advance(SETTLE_MS + 1)
    cache.fetch(key, namespaces, compute)
    return compute


# ----------------------------------------------------------------------------- both backends
def test_miss_then_hit(containers: Containers, clock: Clock) -> None:
    cache = containers()
    compute = Computations()
    first = cache.fetch("products:item:1", ("products",), compute)
    assert (first.hit, compute.calls) == (False, 1)
    clock.advance(10)
    second = cache.fetch("products:item:1", ("products",), compute)
    assert second.hit
    assert compute.calls == 1
    assert (second.body, second.etag) == (first.body, first.etag)
    assert first.etag.startswith('"')
    other = cache.fetch("products:item:2", ("products",), Computations("other"))
    assert not other.hit
    assert other.etag != first.etag


def test_a_write_in_one_container_is_read_in_another(containers: Containers, clock: Clock) -> None:
    writer, reader = containers(), containers()
    compute = _warm(reader, clock)
    clock.advance(10)
    assert reader.fetch("k", ("products",), compute).hit
    writer.invalidate("products")
    # a caller with credentials sees it at once, whichever container serves it
    clock.advance(10)
    assert not reader.fetch("k", ("products",), compute, strict=True).hit
    assert compute.calls == 2


def test_anonymous_readers_see_another_containers_write_within_the_stamp_age(
    containers: Containers, clock: Clock
) -> None:
    writer, reader = containers(), containers()
    compute = _warm(reader, clock)
    clock.advance(STAMP_MAX_AGE_MS + 1)
    reader.fetch("k", ("products",), compute)  # (in-process: the reader learns the stamps now)
    calls = compute.calls
    writer.invalidate("products")
    clock.advance(STAMP_MAX_AGE_MS + 1)
    assert not reader.fetch("k", ("products",), compute).hit
    assert compute.calls == calls + 1


def test_the_writers_own_container_sees_its_write_at_once(containers: Containers, clock: Clock) -> None:
    cache = containers()
    compute = _warm(cache, clock)
    cache.invalidate("products")
    clock.advance(1)
    assert not cache.fetch("k", ("products",), compute).hit


def test_invalidation_is_per_namespace(containers: Containers, clock: Clock) -> None:
    cache = containers()
    products = _warm(cache, clock, "p", ("products", "categories"))
    posts = Computations()
    cache.fetch("q", ("posts", "categories"), posts)
    clock.advance(SETTLE_MS + 1)
    cache.invalidate("posts")
    clock.advance(1)
    assert cache.fetch("p", ("products", "categories"), products).hit
    assert not cache.fetch("q", ("posts", "categories"), posts).hit
    cache.invalidate("categories")  # a category change reaches both
    clock.advance(1)
    assert not cache.fetch("p", ("products", "categories"), products).hit


def test_results_computed_right_after_a_write_are_not_trusted(containers: Containers, clock: Clock) -> None:
    """The settle margin: a list read just after a write may miss it (GSI lag); keep it briefly not."""
    cache = containers()
    cache.invalidate("products")
    compute = Computations()
    clock.advance(SETTLE_MS // 2)
    cache.fetch("k", ("products",), compute)
    clock.advance(1)
    assert not cache.fetch("k", ("products",), compute).hit  # filled within the margin: recomputed
    clock.advance(SETTLE_MS)
    cache.fetch("k", ("products",), compute)
    clock.advance(1)
    assert cache.fetch("k", ("products",), compute).hit
    assert compute.calls == 3


def test_a_write_during_the_computation_invalidates_its_result(containers: Containers, clock: Clock) -> None:
    writer, reader = containers(), containers()
    clock.advance(SETTLE_MS + 1)

    def racing() -> bytes:
        clock.advance(5)
        writer.invalidate("products")  # commits while the reader is computing
        clock.advance(5)
        return b'{"data":"old"}'

    reader.fetch("k", ("products",), racing)
    clock.advance(SETTLE_MS + 1)
    assert not reader.fetch("k", ("products",), Computations(), strict=True).hit


def test_private_results_and_errors_are_not_stored(containers: Containers, clock: Clock) -> None:
    cache = containers()
    clock.advance(SETTLE_MS + 1)
    private = cache.fetch("draft", ("posts",), lambda: NotCached(b'{"data":"draft"}'))
    assert (private.hit, private.shared) == (False, False)
    compute = Computations()
    assert not cache.fetch("draft", ("posts",), compute).hit
    assert compute.calls == 1

    def failing() -> bytes:
        raise LookupError("not found")

    with pytest.raises(LookupError):
        cache.fetch("missing", ("posts",), failing)
    assert not cache.fetch("missing", ("posts",), compute).hit


def test_entries_expire_after_the_ttl(containers: Containers, clock: Clock) -> None:
    cache = containers()
    cache.ttl_seconds = 1
    compute = _warm(cache, clock)
    clock.advance(1_100)
    time.sleep(1.1)  # Redis expires by its own clock
    assert not cache.fetch("k", ("products",), compute).hit
    assert compute.calls == 2


# ----------------------------------------------------------------------------- in-process details
def test_in_process_hits_cost_no_request_and_stamps_are_read_at_most_once_a_second(
    table: Any, clock: Clock
) -> None:
    from backend.repositories.cache_stamps import CacheStampsRepository

    cache = ReadCache(
        MemoryBackend(CacheStampsRepository(), settle_ms=0, clock=clock), settle_ms=0, clock=clock
    )
    compute = Computations()
    with count_requests() as miss_and_hits:
        cache.fetch("k", ("products",), compute)  # a miss reads no stamps
        for _ in range(3):
            clock.advance(300)
            assert cache.fetch("k", ("products",), compute).hit  # the entry is young: no stamps
    assert miss_and_hits.total == 0
    with count_requests() as later:
        clock.advance(500)
        assert cache.fetch("k", ("products",), compute).hit  # entry older than 1 s: stamps once
        clock.advance(500)
        assert cache.fetch("k", ("products",), compute).hit  # stamps read 0.5 s ago: trusted
    assert later.operations() == ["GetItem"]
    with count_requests() as strict:
        assert cache.fetch("k", ("products",), compute, strict=True).hit
    assert strict.operations() == ["GetItem"]  # callers with credentials: stamps every time


def test_in_process_size_bound_evicts_the_least_recently_used(clock: Clock) -> None:
    backend = MemoryBackend(None, max_entries=3, max_bytes=10_000, settle_ms=0, clock=clock)
    cache = ReadCache(backend, settle_ms=0, clock=clock)
    for key in ("a", "b", "c"):
        cache.fetch(key, ("products",), lambda: b"x" * 100)
    clock.advance(1)
    assert cache.fetch("a", ("products",), Computations()).hit  # "a" is now the most recent
    cache.fetch("d", ("products",), lambda: b"x" * 100)
    assert len(backend) == 3
    assert not cache.fetch("b", ("products",), lambda: b"y").hit  # "b" was evicted
    cache.fetch("big", ("products",), lambda: b"z" * 5_000)  # over a quarter of the bound: not kept
    assert "big" not in backend._entries
    assert backend.size_bytes <= 10_000
    huge_count = MemoryBackend(None, max_entries=1000, max_bytes=2_000, settle_ms=0, clock=clock)
    bounded = ReadCache(huge_count, settle_ms=0, clock=clock)
    for n in range(100):
        bounded.fetch(f"k{n}", ("products",), lambda: b"x" * 300)
    assert huge_count.size_bytes <= 2_000


def test_entries_decode_strictly() -> None:
    entry = Entry(filled_at=123, etag='"abc"', body=b'{"data": "\\n x"}\nmore')
    assert Entry.decode(entry.encode()) == entry
    for raw in (b"", b"garbage", b"12 abc\n{}", b'x1 "a"\n{}', b'12 "a"'):
        assert Entry.decode(raw) is None


# ----------------------------------------------------------------------------- Redis failures
def _redis_cache(url: str, clock: Clock, failures: list[Any], **options: Any) -> ReadCache:
    backend = RedisBackend(
        lambda: connect(url, timeout_ms=200), prefix=redis_server.unique_prefix(), settle_ms=0, clock=clock
    )
    return ReadCache(
        backend, settle_ms=0, clock=clock, report=lambda op, e: failures.append((op, e)), **options
    )


def test_redis_down_falls_back_and_skips_redis_for_a_while(clock: Clock) -> None:
    failures: list[Any] = []
    port = redis_server.free_port()  # nothing listens there
    cache = _redis_cache(f"redis://127.0.0.1:{port}/0", clock, failures)
    compute = Computations()
    started = time.monotonic()
    assert not cache.fetch("k", ("products",), compute).hit
    assert compute.calls == 1
    assert [op for op, _ in failures] == ["get"]
    assert not cache.is_available()
    for _ in range(20):  # the breaker is open: no connection attempts, no timeouts
        cache.fetch("k", ("products",), compute)
    cache.invalidate("products")  # kept for later, not attempted now
    assert len(failures) == 1
    assert time.monotonic() - started < 2
    clock.advance(5_001)
    cache.fetch("k", ("products",), compute)  # tried again (the pending invalidation first)
    assert [op for op, _ in failures] == ["get", "invalidate"]


def test_a_hung_redis_costs_one_short_timeout(clock: Clock) -> None:
    failures: list[Any] = []
    with redis_server.silent_server() as url:
        cache = _redis_cache(url, clock, failures)
        started = time.monotonic()
        result = cache.fetch("k", ("products",), Computations())
        elapsed = time.monotonic() - started
    assert not result.hit
    assert elapsed < 1.5  # 200 ms connect/read timeout, no retries
    assert len(failures) == 1
    assert isinstance(failures[0][1], Exception)


def test_stopping_redis_mid_test_degrades_and_recovers(clock: Clock) -> None:
    failures: list[Any] = []
    with redis_server.private_redis() as server:
        cache = _redis_cache(server.url, clock, failures)
        compute = Computations()
        cache.fetch("k", ("products",), compute)
        clock.advance(1)
        assert cache.fetch("k", ("products",), compute).hit
        server.stop()
        clock.advance(1)
        down = cache.fetch("k", ("products",), compute)  # served from the computation
        assert not down.hit
        assert down.body == compute().replace(b'"n": 3', b'"n": 2')
        cache.invalidate("products")  # a write while Redis is down: remembered
        server.start()  # empty: a restarted Redis has lost its entries and stamps
        clock.advance(5_001)
        cache.fetch("k", ("products",), compute)  # the invalidation reaches Redis first
        clock.advance(1)
        cache.fetch("k", ("products",), compute)
        clock.advance(1)
        assert cache.fetch("k", ("products",), compute).hit
    assert [op for op, _ in failures] == ["get"]


def test_the_default_report_is_a_metric_and_a_warning(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from backend.cache.core import report_unavailable
    from backend.observability import logger, metrics

    warnings: list[tuple[str, dict[str, Any]]] = []
    monkeypatch.setattr(logger, "warning", lambda message, **kw: warnings.append((message, kw)))
    try:
        raise CacheUnavailableError("redis: ConnectionError: refused")
    except CacheUnavailableError as exc:
        report_unavailable("get", exc)
    metrics.flush_metrics()
    assert [message for message, _ in warnings] == ["read cache unavailable: serving from DynamoDB"]
    assert warnings[0][1]["extra"]["cache_operation"] == "get"
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    emf = next(line for line in lines if "_aws" in line)
    assert emf["CacheUnavailable"] == [1.0]


def test_settings_refuse_a_bad_url() -> None:
    from backend.cache.settings import default_prefix, load_cache_settings
    from backend.errors import ConfigurationError

    assert load_cache_settings({"CACHE_URL": ""}).backend == "memory"
    assert load_cache_settings({"CACHE_URL": "rediss://user@cache.example:6379/0"}).backend == "redis"
    with pytest.raises(ConfigurationError, match="CACHE_URL"):
        load_cache_settings({"CACHE_URL": "http://cache.example"})
    with pytest.raises(ConfigurationError, match="CACHE_TTL_SECONDS"):
        load_cache_settings({"CACHE_TTL_SECONDS": "0"})
    assert default_prefix("app-backend-dev", {}) == "app-backend-dev:"
    assert default_prefix("t", {"AWS_ENDPOINT_URL": "http://127.0.0.1:4566"}) == "t@127.0.0.1:4566:"


def test_redis_urls_are_logged_without_credentials() -> None:
    from backend.cache.redis_backend import describe

    # pragma: allowlist nextline secret (the password is made up: describe() must drop it)
    assert describe("rediss://app:s3cret@cache.example:6380/0") == "rediss://cache.example:6380/0"


# ----------------------------------------------------------------------------- the API over Redis
@pytest.fixture
def catalog(api: Api, monkeypatch: pytest.MonkeyPatch) -> Catalog:
    return make_catalog(api, monkeypatch)


def test_the_api_over_a_redis_that_stops_never_fails(
    catalog: Catalog, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    from backend.observability import logger

    with redis_server.private_redis() as server:
        monkeypatch.setenv("CACHE_URL", server.url)
        monkeypatch.setenv("CACHE_KEY_PREFIX", redis_server.unique_prefix())
        catalog.category("Kitchen")
        product = catalog.product()
        path = f"/api/products/{product['id']}"
        assert catalog.api.container.cache.name == "redis"
        catalog.get(path)
        with count_requests() as hit:
            assert catalog.get(path).status == 200
            assert catalog.get("/api/categories").status == 200
        catalog.get("/api/products")
        with count_requests() as list_hit:
            assert catalog.get("/api/products").status == 200
        assert hit.total == 0
        assert list_hit.total == 0
        capfd.readouterr()
        warnings: list[str] = []
        monkeypatch.setattr(logger, "warning", lambda message, **_: warnings.append(message))
        server.stop()
        with count_requests() as degraded:
            for read in (path, "/api/products", "/api/categories", "/api/categories/by-slug/kitchen"):
                response = catalog.get(read)
                assert response.status == 200, response.body
        assert degraded.total > 0  # served from DynamoDB
        changed = catalog.call("PATCH", path, as_=catalog.admin, body={"name": "Cup"})
        assert changed.status == 200  # a write while Redis is down still succeeds
        assert warnings == ["read cache unavailable: serving from DynamoDB"]  # once: the breaker opened
        assert '"CacheUnavailable"' in capfd.readouterr().out  # the metric, flushed by the handler
        server.start()
        catalog.api.container.cache._open_until = 0  # skip the 5 s pause before Redis is tried again
        assert catalog.get(path).data["name"] == "Cup"
