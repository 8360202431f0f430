"""Every writer invalidates the cache the readers use, through the local cloud over real HTTP, with
the functions configured by template.yaml and the read cache on a cluster-mode Redis
(``CacheUrl`` + ``CacheClusterMode=true``: ElastiCache Serverless's mode; tests/support/redis_cluster.py).

The orders function changes stock, the users function deletes an account and its posts: after
each answers, an anonymous reader of the products and content functions never gets the old view.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest

from tests.integration.conftest import LocalCloud, wait_until
from tests.support.redis_cluster import redis_cluster_url  # noqa: F401 - the session fixture

pytestmark = pytest.mark.integration

PASSWORD = "correct horse battery staple 42"


@pytest.fixture(scope="module")
def cluster_cloud(
    local_cloud_factory: Callable[..., LocalCloud],
    redis_cluster_url: str,  # noqa: F811 - the imported fixture
) -> LocalCloud:
    return local_cloud_factory(
        "--parameter-overrides",
        f"CacheUrl={redis_cluster_url}",
        "CacheClusterMode=true",
        name="cluster-cache",
    )


def sign_up(cloud: LocalCloud) -> dict[str, str]:
    body = {"email": f"cache-{uuid.uuid4().hex[:8]}@example.com", "password": PASSWORD, "name": "Cache"}
    response = cloud.post("/api/auth/sign-up", json=body)
    assert response.status_code == 201, response.text
    return {"authorization": f"Bearer {response.json()['data']['accessToken']}"}


def stock(cloud: LocalCloud, product_id: str) -> tuple[int, int]:
    """The product's stock on its page and in the list (anonymous reads, cacheable)."""
    page = cloud.get(f"/api/products/{product_id}")
    assert page.status_code == 200, page.text
    listed = cloud.get("/api/products", params={"limit": 100})
    [in_list] = [p for p in listed.json()["data"] if p["id"] == product_id]
    return int(page.json()["data"]["stock"]), int(in_list["stock"])


def test_a_changed_stock_is_never_served_after_the_order_returns(cluster_cloud: LocalCloud) -> None:
    cloud = cluster_cloud
    assert "read cache: Redis at 127.0.0.1:" in cloud.output()
    products = wait_until(
        lambda: (r := cloud.get("/api/products", params={"limit": 100})).json()["meta"]["total"] >= 5 and r,
        timeout=10,
        what="the seeded products",
    ).json()["data"]
    product = max(products, key=lambda p: p["stock"])
    before = int(product["stock"])
    assert before >= 2
    assert stock(cloud, product["id"]) == (before, before)
    second = cloud.get(f"/api/products/{product['id']}")
    assert second.headers["etag"] == cloud.get(f"/api/products/{product['id']}").headers["etag"]

    buyer = sign_up(cloud)
    headers = {**buyer, "idempotency-key": uuid.uuid4().hex}
    placed = cloud.post(
        "/api/orders", json={"items": [{"productId": product["id"], "quantity": 2}]}, headers=headers
    )
    assert placed.status_code == 201, placed.text
    assert stock(cloud, product["id"]) == (before - 2, before - 2)

    cancelled = cloud.post(f"/api/orders/{placed.json()['data']['id']}/cancel", headers=buyer)
    assert cancelled.status_code == 200, cancelled.text
    assert stock(cloud, product["id"]) == (before, before)
    assert "read cache unavailable" not in cloud.output()  # no CROSSSLOT, no fall-back


def test_a_deleted_post_is_never_served_after_the_account_deletion_returns(cluster_cloud: LocalCloud) -> None:
    cloud = cluster_cloud
    author = sign_up(cloud)
    slug = f"short-lived-{uuid.uuid4().hex[:8]}"
    created = cloud.post("/api/posts", json={"title": "Short-lived", "slug": slug}, headers=author)
    assert created.status_code == 201, created.text
    published = cloud.post(f"/api/posts/{created.json()['data']['id']}/publish", headers=author)
    assert published.status_code == 200, published.text
    for _ in range(2):  # filled, then served from the cache
        assert cloud.get(f"/api/posts/by-slug/{slug}").status_code == 200
        assert slug in [p["slug"] for p in cloud.get("/api/posts", params={"limit": 100}).json()["data"]]

    deleted = cloud.request("DELETE", "/api/me", headers=author)
    assert deleted.status_code == 204, deleted.text
    assert cloud.get(f"/api/posts/by-slug/{slug}").status_code == 404
    assert slug not in [p["slug"] for p in cloud.get("/api/posts", params={"limit": 100}).json()["data"]]
    assert "read cache unavailable" not in cloud.output()
