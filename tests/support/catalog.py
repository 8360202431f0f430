"""Helpers of the catalog and content API tests: the two handlers and a few ready-made things.

    @pytest.fixture
    def catalog(api: Api, monkeypatch: pytest.MonkeyPatch) -> Catalog:
        return make_catalog(api, monkeypatch)

    def test_something(catalog: Catalog) -> None:
        category = catalog.category("Kitchen")
        product = catalog.product(category="kitchen", price="12.50")
        response = catalog.get("/api/products")

``catalog`` builds on ``api`` (moto with the table, the secret and the queues; tests/unit/conftest.py)
and sets the read cache's settle margin to 0: moto's indexes are consistent at once, and a test
that writes and then reads in the same millisecond-scale window must still exercise the cache.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from backend.models.enums import Role
from tests.support.identity import Account, Api, Response


@dataclass
class Catalog:
    api: Api
    products_handler: Any
    content_handler: Any
    admin: Account
    _accounts: dict[str, Account] = field(default_factory=dict)

    def handler_for(self, path: str) -> Any:
        return self.products_handler if path.startswith("/api/products") else self.content_handler

    def call(self, method: str, path: str, *, as_: Account | None = None, **kwargs: Any) -> Response:
        token = as_.token if as_ is not None else None
        return self.api.call(self.handler_for(path), method, path, token=token, **kwargs)

    def get(self, path: str, *, as_: Account | None = None, **kwargs: Any) -> Response:
        return self.call("GET", path, as_=as_, **kwargs)

    # ------------------------------------------------------------------ ready-made things
    def category(self, name: str, slug: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"name": name}
        if slug is not None:
            body["slug"] = slug
        created = self.call("POST", "/api/categories", as_=self.admin, body=body)
        assert created.status == 201, created.body
        return dict(created.data)

    def product(self, **fields: Any) -> dict[str, Any]:
        body = {"name": "Mug", "price": "12.50", "category": "kitchen", "stock": 3, **fields}
        created = self.call("POST", "/api/products", as_=self.admin, body=body)
        assert created.status == 201, created.body
        return dict(created.data)

    def post(self, author: Account, *, publish: bool = False, **fields: Any) -> dict[str, Any]:
        body = {"title": "Notes", "content": "Hello", **fields}
        created = self.call("POST", "/api/posts", as_=author, body=body)
        assert created.status == 201, created.body
        if publish:
            published = self.call("POST", f"/api/posts/{created.data['id']}/publish", as_=author)
            assert published.status == 200, published.body
            return dict(published.data)
        return dict(created.data)


def make_catalog(api: Api, monkeypatch: pytest.MonkeyPatch) -> Catalog:
    """The ``catalog`` fixture's value (each test module declares the fixture with it)."""
    monkeypatch.setenv("CACHE_SETTLE_MS", "0")
    monkeypatch.delenv("CACHE_URL", raising=False)
    from functions.content import app as content
    from functions.products import app as products

    return Catalog(
        api=api,
        products_handler=products.handler,
        content_handler=content.handler,
        admin=api.account(Role.ADMIN),
    )
