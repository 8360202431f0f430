"""Merging the functions' OpenAPI documents, and the /docs page."""

from __future__ import annotations

from typing import Any

from local.functions import HttpRoute
from local.openapi import docs_page, merge_openapi, swagger_assets_dir
from local.routes import Router

ROUTER = Router(
    [
        HttpRoute("Users", "Users", "ANY", "/api/users"),
        HttpRoute("Users", "UsersProxy", "ANY", "/api/users/{proxy+}"),
        HttpRoute("Auth", "Health", "GET", "/api/health"),
        HttpRoute("Auth", "Auth", "ANY", "/api/auth/{proxy+}"),
    ]
)


def operation(summary: str, ref: str | None = None) -> dict[str, Any]:
    op: dict[str, Any] = {"summary": summary, "responses": {"200": {"description": "ok"}}}
    if ref:
        op["responses"]["200"]["content"] = {"application/json": {"schema": {"$ref": ref}}}
    return op


USERS = {
    "openapi": "3.1.0",
    "info": {"title": "users", "version": "0.1.0"},
    "paths": {
        "/api/users/{user_id}": {"get": operation("Get a user", "#/components/schemas/User")},
        "/api/users/me": {"get": operation("Me", "#/components/schemas/Error")},
        "/api/health": {"get": operation("Health from the wrong app")},
    },
    "components": {
        "schemas": {
            "User": {"type": "object", "properties": {"id": {"type": "string"}}},
            "Error": {"type": "object", "properties": {"code": {"type": "string"}}},
        }
    },
    "tags": [{"name": "users"}],
}
AUTH = {
    "openapi": "3.1.0",
    "info": {"title": "auth", "version": "0.1.0"},
    "paths": {
        "/api/health": {
            "get": operation("Health"),
            "post": operation("Not routed: the template only routes GET"),
        },
        "/api/auth/login": {"post": operation("Log in", "#/components/schemas/Error")},
        "/api/users": {"get": operation("Users from the wrong app")},
    },
    "components": {"schemas": {"Error": {"type": "object", "properties": {"message": {"type": "string"}}}}},
    "tags": [{"name": "auth"}, {"name": "users"}],
}


def test_merge_keeps_only_operations_routed_to_each_function() -> None:
    merged = merge_openapi({"Users": USERS, "Auth": AUTH}, ROUTER, title="API")
    assert merged["openapi"] == "3.1.0"
    assert merged["info"]["version"] == "0.1.0"
    paths = merged["paths"]
    assert set(paths) == {"/api/users/{user_id}", "/api/users/me", "/api/health", "/api/auth/login"}
    assert paths["/api/health"]["get"]["summary"] == "Health"
    assert "post" not in paths["/api/health"]
    assert [tag["name"] for tag in merged["tags"]] == ["users", "auth"]


def test_conflicting_components_are_renamed_and_refs_follow() -> None:
    merged = merge_openapi({"Users": USERS, "Auth": AUTH}, ROUTER, title="API")
    schemas = merged["components"]["schemas"]
    assert set(schemas) == {"User", "Error", "Auth_Error"}
    assert schemas["Error"] == USERS["components"]["schemas"]["Error"]  # type: ignore[index]
    login = merged["paths"]["/api/auth/login"]["post"]
    assert login["responses"]["200"]["content"]["application/json"]["schema"]["$ref"] == (
        "#/components/schemas/Auth_Error"
    )
    me = merged["paths"]["/api/users/me"]["get"]
    assert (
        me["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        == "#/components/schemas/Error"
    )


def test_identical_components_merge_into_one() -> None:
    same = {**AUTH, "components": USERS["components"]}
    merged = merge_openapi({"Users": USERS, "Auth": same}, ROUTER, title="API")
    assert set(merged["components"]["schemas"]) == {"User", "Error"}


def test_docs_page_uses_local_swagger_assets_when_installed() -> None:
    assert swagger_assets_dir() is not None  # Powertools (a runtime dependency) ships them
    local = docs_page(True)
    assert "/docs/assets/swagger-ui-bundle.min.js" in local
    assert "renderFallback" in local
    online = docs_page(False)
    assert "cdn.jsdelivr.net" in online
    assert 'onerror="start()"' in online
