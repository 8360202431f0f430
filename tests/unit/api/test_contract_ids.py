"""One id rule in every group (docs/api.md, "Identifiers"): a malformed id in any ``{...Id}`` path is
400 VALIDATION_ERROR naming the parameter, a lowercase ULID included; a well-formed unknown one is 404."""

from __future__ import annotations

import re

import pytest

from tests.support.identity import Api

MALFORMED = (
    "not-an-id",
    "01arz3ndektsv4rrffq69g5fav",
    "01ARZ3NDEKTSV4RRFFQ69G5FA",
    "01ARZ3NDEKTSV4RRFFQ69G5FAU0",
)
UNKNOWN = "01ARZ3NDEKTSV4RRFFQ69G5FAV"

#: (function module, method, path with {id}, parameter name, admin?)
ROUTES = [
    ("products", "GET", "/api/products/{id}", "productId", False),
    ("products", "PUT", "/api/products/{id}", "productId", True),
    ("products", "PATCH", "/api/products/{id}", "productId", True),
    ("products", "DELETE", "/api/products/{id}", "productId", True),
    ("content", "GET", "/api/posts/{id}", "postId", False),
    ("content", "PATCH", "/api/posts/{id}", "postId", False),
    ("content", "DELETE", "/api/posts/{id}", "postId", False),
    ("content", "POST", "/api/posts/{id}/publish", "postId", False),
    ("content", "POST", "/api/posts/{id}/unpublish", "postId", False),
    ("content", "GET", "/api/categories/{id}", "categoryId", False),
    ("content", "PATCH", "/api/categories/{id}", "categoryId", True),
    ("content", "DELETE", "/api/categories/{id}", "categoryId", True),
    ("orders", "GET", "/api/orders/{id}", "orderId", False),
    ("orders", "POST", "/api/orders/{id}/cancel", "orderId", False),
    ("orders", "PATCH", "/api/orders/{id}/status", "orderId", True),
    ("users", "GET", "/api/users/{id}", "userId", True),
    ("users", "PATCH", "/api/users/{id}", "userId", True),
    ("users", "DELETE", "/api/users/{id}", "userId", True),
    ("users", "DELETE", "/api/me/sessions/{id}", "sessionId", False),
]
BODIES = {"PUT": {"name": "x"}, "PATCH": {}}


@pytest.fixture(autouse=True)
def _no_shared_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CACHE_URL", raising=False)


def _handler(module: str) -> object:
    import importlib

    return importlib.import_module(f"functions.{module}.app").handler


def test_every_operation_with_an_id_in_its_path_is_listed(api: Api) -> None:
    """A new ``{...Id}`` route cannot escape the rule: the documents' operations are the list."""
    import importlib

    listed = {(method, path.replace("{id}", "{" + name + "}")) for _, method, path, name, _ in ROUTES}
    documented = set()
    for module in ("auth", "content", "orders", "products", "users"):
        document = importlib.import_module(f"functions.{module}.app").app.openapi()
        for path, item in document["paths"].items():
            if re.search(r"\{\w+Id\}", path):
                documented |= {(method.upper(), path) for method in item}
    assert documented == listed


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r[1]} {r[2]}")
def test_a_malformed_id_is_400_in_every_group(api: Api, route: tuple[str, str, str, str, bool]) -> None:
    module, method, path, name, admin = route
    from backend.models.enums import Role

    token = api.account(role=Role.ADMIN if admin else Role.USER).token
    for bad in MALFORMED:
        response = api.call(
            _handler(module), method, path.format(id=bad), token=token, body=BODIES.get(method)
        )
        assert response.status == 400, (bad, response.body)
        assert response.body["code"] == "VALIDATION_ERROR"
        assert {"field": name, "in": "path"}.items() <= response.body["details"][0].items()
        assert response.body["details"][0]["message"].startswith("must be an id")


@pytest.mark.parametrize("route", [r for r in ROUTES if r[1] == "GET"], ids=lambda r: f"{r[1]} {r[2]}")
def test_a_well_formed_unknown_id_is_404(api: Api, route: tuple[str, str, str, str, bool]) -> None:
    module, method, path, _, admin = route
    from backend.models.enums import Role

    token = api.account(role=Role.ADMIN if admin else Role.USER).token
    response = api.call(_handler(module), method, path.format(id=UNKNOWN), token=token)
    assert response.status == 404, response.body


@pytest.mark.parametrize(
    ("module", "path", "admin"),
    [
        ("products", "/api/products", False),
        ("content", "/api/posts", False),
        ("orders", "/api/orders", False),
        ("users", "/api/users", True),
    ],
)
def test_a_cursor_and_a_page_together_are_400(api: Api, module: str, path: str, admin: bool) -> None:
    from backend.models.enums import Role

    token = api.account(role=Role.ADMIN if admin else Role.USER).token
    response = api.call(_handler(module), "GET", f"{path}?page=2&cursor=abc", token=token)
    assert response.status == 400, response.body
    assert response.body["code"] == "VALIDATION_ERROR"
    assert response.body["details"] == [
        {"field": "cursor", "message": "send either page or cursor, not both", "in": "query"}
    ]
