"""The catalog and content through the local cloud over real HTTP: the seeded public reads, the read
cache across two instances of a function (in-process and Redis), and a Redis that stops.

Admin-only routes are covered by the unit tests (there is no admin sign-up route); here writes are
a user's posts, which any signed-up account may write and publish.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.integration.conftest import LocalCloud, wait_until
from tests.support import redis_server

pytestmark = pytest.mark.integration

PASSWORD = "correct horse battery staple 42"


def sign_up(cloud: LocalCloud) -> str:
    body = {"email": f"writer-{uuid.uuid4().hex[:8]}@example.com", "password": PASSWORD, "name": "Writer"}
    response = cloud.post("/api/auth/sign-up", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["data"]["accessToken"])


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def concurrently(
    cloud: LocalCloud, count: int, request: Callable[[httpx.Client], httpx.Response]
) -> list[httpx.Response]:
    """``count`` requests at the same moment, each on its own connection (they overlap, so a
    function's pool serves them with as many instances as it may start)."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(index: int) -> None:
        with httpx.Client(base_url=cloud.base_url, timeout=60) as client:
            barrier.wait()
            results[index] = request(client)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def slugs(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [post["slug"] for post in response.json()["data"]]


# ----------------------------------------------------------------------------- public reads
def test_seeded_catalog_is_public_and_cacheable(local_cloud: LocalCloud) -> None:
    assert "  catalog    3 categories, 6 products, 4 posts" in local_cloud.output()
    products = wait_until(
        lambda: (r := local_cloud.get("/api/products")).json()["meta"]["total"] >= 5 and r,
        timeout=5,
        what="the seeded products to be read (the seed invalidates the read cache)",
    )
    assert products.status_code == 200
    assert all(p["active"] for p in products.json()["data"])
    etag = products.headers["etag"]
    assert products.headers["cache-control"] == "public, max-age=60"
    again = local_cloud.get("/api/products", headers={"if-none-match": etag})
    assert again.status_code == 304
    assert again.content == b""
    garden = local_cloud.get("/api/products", params={"category": "garden"})
    assert {p["category"] for p in garden.json()["data"]} == {"garden"}
    categories = local_cloud.get("/api/categories").json()["data"]
    assert {"kitchen", "garden", "science"} <= {c["slug"] for c in categories}
    assert local_cloud.get("/api/categories/by-slug/science").json()["data"]["name"] == "Science"
    welcome = local_cloud.get("/api/posts/by-slug/welcome")
    assert welcome.status_code == 200
    assert local_cloud.get("/api/posts/by-slug/teapot-review").status_code == 404  # a seeded draft
    product_id = products.json()["data"][0]["id"]
    one = local_cloud.get(f"/api/products/{product_id}")
    assert one.json()["data"]["id"] == product_id
    assert local_cloud.get("/api/products/01JNBC0000000000000000000A").status_code == 404


def test_writes_need_credentials(local_cloud: LocalCloud) -> None:
    body = {"name": "Mug", "price": "1.00", "category": "kitchen"}
    assert local_cloud.post("/api/products", json=body).status_code == 401
    token = sign_up(local_cloud)
    forbidden = local_cloud.post("/api/products", json=body, headers=bearer(token))
    assert forbidden.status_code == 403
    assert forbidden.json()["code"] == "FORBIDDEN"


# ----------------------------------------------------------------------------- across instances
def _write_then_read_across_instances(cloud: LocalCloud, *, anonymous_delay: float) -> None:
    token = sign_up(cloud)
    slug = f"across-{uuid.uuid4().hex[:8]}"
    # Two instances of ContentFunction, each with the post list in its cache.
    for _ in range(10):
        for response in concurrently(cloud, 2, lambda c: c.get("/api/posts")):
            assert response.status_code == 200
        if cloud.stats("ContentFunction")["instances"] >= 2:
            break
    assert cloud.stats("ContentFunction")["instances"] == 2
    created = cloud.post("/api/posts", json={"title": "Across", "slug": slug}, headers=bearer(token))
    assert created.status_code == 201, created.text
    published = cloud.post(f"/api/posts/{created.json()['data']['id']}/publish", headers=bearer(token))
    assert published.status_code == 200, published.text
    # The writer reads its write at once, whichever instance answers.
    for _ in range(5):
        for response in concurrently(cloud, 2, lambda c: c.get("/api/posts", headers=bearer(token))):
            assert slug in slugs(response)
    # Anonymous readers too, once the instances' stamps are due (in-process: 1 s; Redis: at once).
    time.sleep(anonymous_delay)
    for _ in range(5):
        for response in concurrently(cloud, 2, lambda c: c.get("/api/posts")):
            assert slug in slugs(response)
        for response in concurrently(cloud, 2, lambda c: c.get(f"/api/posts/by-slug/{slug}")):
            assert response.status_code == 200
    # Unpublishing reaches both instances the same way.
    unpublished = cloud.post(f"/api/posts/{created.json()['data']['id']}/unpublish", headers=bearer(token))
    assert unpublished.status_code == 200
    for response in concurrently(
        cloud, 2, lambda c: c.get(f"/api/posts/by-slug/{slug}", headers=bearer(token))
    ):
        assert response.status_code == 200  # the author still sees the draft
    time.sleep(anonymous_delay)
    for response in concurrently(cloud, 2, lambda c: c.get(f"/api/posts/by-slug/{slug}")):
        assert response.status_code == 404


def test_in_process_cache_write_in_one_instance_read_in_another(
    local_cloud_factory: Callable[..., LocalCloud],
) -> None:
    cloud = local_cloud_factory(
        "--max-instances", "2", "--parameter-overrides", "CacheUrl=", name="in-process-cache"
    )
    # The console says which cache it uses right after the cloud starts serving: wait for the line.
    deadline = time.monotonic() + 15
    while "read cache: in-process" not in cloud.output() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert "read cache: in-process" in cloud.output()
    _write_then_read_across_instances(cloud, anonymous_delay=1.2)


def test_redis_cache_write_in_one_instance_read_in_another(
    local_cloud_factory: Callable[..., LocalCloud],
) -> None:
    url = redis_server.shared_redis_or_skip()
    cloud = local_cloud_factory(
        "--max-instances", "2", "--parameter-overrides", f"CacheUrl={url}", name="redis-cache"
    )
    assert "read cache: Redis at 127.0.0.1:6379" in cloud.output()
    _write_then_read_across_instances(cloud, anonymous_delay=0)


def test_stopping_redis_degrades_to_dynamodb_without_errors(
    local_cloud_factory: Callable[..., LocalCloud],
) -> None:
    with redis_server.private_redis() as server:
        cloud = local_cloud_factory("--parameter-overrides", f"CacheUrl={server.url}", name="redis-stops")
        token = sign_up(cloud)
        for path in ("/api/products", "/api/categories", "/api/posts", "/api/posts/by-slug/welcome"):
            assert cloud.get(path).status_code == 200
        server.stop()
        started = time.monotonic()
        for _ in range(3):
            for path in ("/api/products", "/api/products?category=garden", "/api/categories", "/api/posts"):
                response = cloud.get(path)
                assert response.status_code == 200, (path, response.text)
        assert time.monotonic() - started < 20
        created = cloud.post("/api/posts", json={"title": "While Redis is down"}, headers=bearer(token))
        assert created.status_code == 201
        post_id = created.json()["data"]["id"]
        assert cloud.post(f"/api/posts/{post_id}/publish", headers=bearer(token)).status_code == 200
        assert "while-redis-is-down" in slugs(cloud.get("/api/posts", headers=bearer(token)))
        assert "read cache unavailable" in cloud.output()
        assert "CacheUnavailable" in cloud.output()
        server.start()
        time.sleep(5.5)  # the breaker tries Redis again after 5 s
        for path in ("/api/products", "/api/posts"):
            assert cloud.get(path).status_code == 200
        assert "while-redis-is-down" in slugs(cloud.get("/api/posts"))
