"""HTTP API route selection: most specific match wins, as in API Gateway."""

from __future__ import annotations

import pytest

from local.functions import HttpRoute
from local.routes import Router
from local.template import load_template


def route(path: str, method: str = "ANY", function: str = "Fn") -> HttpRoute:
    return HttpRoute(function=function, event=f"{method}{path}", method=method, path=path)


ROUTER = Router(
    [
        route("/items/{proxy+}", function="Greedy"),
        route("/items/{id}", function="Param"),
        route("/items/special", "GET", function="LiteralGet"),
        route("/items/special", function="LiteralAny"),
        route("/items/{id}/parts/{part}", "GET", function="Nested"),
        route("/a/{proxy+}", function="ShortGreedy"),
        route("/a/b/{proxy+}", function="LongGreedy"),
        route("/health", "GET", function="Health"),
        route("/", "GET", function="Root"),
    ]
)


@pytest.mark.parametrize(
    ("method", "path", "function", "params"),
    [
        ("GET", "/items/special", "LiteralGet", {}),
        ("POST", "/items/special", "LiteralAny", {}),
        ("DELETE", "/items/42", "Param", {"id": "42"}),
        ("GET", "/items/42/parts/7", "Nested", {"id": "42", "part": "7"}),
        ("POST", "/items/42/parts/7", "Greedy", {"proxy": "42/parts/7"}),
        ("GET", "/items/a/b/c", "Greedy", {"proxy": "a/b/c"}),
        ("GET", "/a/b/c", "LongGreedy", {"proxy": "c"}),
        ("GET", "/a/x/c", "ShortGreedy", {"proxy": "x/c"}),
        ("GET", "/a/b", "ShortGreedy", {"proxy": "b"}),
        ("GET", "/health", "Health", {}),
        ("GET", "/", "Root", {}),
    ],
)
def test_most_specific_route_wins(method: str, path: str, function: str, params: dict[str, str]) -> None:
    match = ROUTER.match(method, path)
    assert match is not None
    assert match.route.function == function
    assert match.path_parameters == params


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/health"),  # a GET route does not take other methods
        ("GET", "/items"),  # {proxy+} needs at least one segment
        ("GET", "/a"),
        ("GET", "/nothing/here"),
        ("POST", "/"),
    ],
)
def test_no_route_means_not_found(method: str, path: str) -> None:
    assert ROUTER.match(method, path) is None


def test_default_route_catches_the_rest_and_loses_to_any_other() -> None:
    router = Router([route("$default", function="Default"), route("/x", "GET", function="X")])
    assert router.match("GET", "/x").route.function == "X"  # type: ignore[union-attr]
    match = router.match("PATCH", "/anything/else")
    assert match is not None
    assert match.route.function == "Default"
    assert match.route.route_key == "$default"


def test_duplicate_route_keys_keep_the_first() -> None:
    router = Router([route("/x", "GET", function="First"), route("/x", "GET", function="Second")])
    assert router.match("GET", "/x").route.function == "First"  # type: ignore[union-attr]
    assert [dup.function for dup in router.duplicates] == ["Second"]


def test_greedy_must_be_last() -> None:
    with pytest.raises(ValueError, match="last segment"):
        Router([route("/a/{proxy+}/b")])


def test_the_project_routes() -> None:
    """The template's own events: exact resources and their {proxy+} children per function."""
    routes = []
    for logical_id, res in load_template()["Resources"].items():
        for name, event in (res.get("Properties", {}).get("Events") or {}).items():
            if event["Type"] == "HttpApi":
                props = event["Properties"]
                routes.append(HttpRoute(logical_id, name, props["Method"].upper(), props["Path"]))
    router = Router(routes)

    def target(method: str, path: str) -> str | None:
        match = router.match(method, path)
        return match.route.function if match else None

    def route_key(method: str, path: str) -> str | None:
        match = router.match(method, path)
        return match.route.route_key if match else None

    assert target("GET", "/api/health") == "AuthFunction"
    assert route_key("GET", "/api/health") == "GET /api/health"
    # a method no route takes falls through to the $default route (the app answers 405)
    assert route_key("POST", "/api/health") == "$default"
    assert target("POST", "/api/auth/login") == "AuthFunction"
    assert target("GET", "/api/users") == "UsersFunction"
    assert target("PATCH", "/api/users/me/profile") == "UsersFunction"
    assert target("GET", "/api/categories/c1") == "ContentFunction"
    assert target("DELETE", "/api/orders/o1") == "OrdersFunction"
    assert route_key("GET", "/api/unknown") == "$default"
    assert target("GET", "/api/unknown") == "AuthFunction"
