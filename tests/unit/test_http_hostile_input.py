"""Hostile input at the edge, as Lambda sees it (Mangum handler): nesting bombs, non-JSON numbers, HEAD.

Each test here failed before the fix it names (issue #10):
- a body nested 100,000 levels deep answered 500 (RecursionError in the edge middleware);
- NaN, Infinity, -Infinity and 1e999999 were accepted as JSON;
- HEAD on a GET route answered 405.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi import Body
from pydantic import BaseModel

from backend.http.app import create_app, create_handler
from backend.http.auth import enforce_authentication
from backend.http.middleware import MAX_JSON_DEPTH, json_too_deep, parse_json_strictly
from backend.http.routes import api_router
from backend.schemas.common import Envelope
from tests.support.apigw import FakeContext, http_event, json_body


class PriceIn(BaseModel):
    price: float


router = api_router()
seen: list[Any] = []


@router.post("/api/echo")
def echo(document: Any = Body(None)) -> dict[str, Any]:
    seen.append(document)
    return {"data": "ok"}


@router.get("/api/search")
def search_with_a_body(query: Any = Body(None)) -> dict[str, Any]:
    seen.append(query)
    return {"data": "searched"}


@router.post("/api/prices", status_code=201)
def create_price(price: PriceIn) -> dict[str, Any]:
    seen.append(price.price)
    return {"data": price.price}


@router.get("/api/things/{thing_id}", response_model=Envelope[dict[str, Any]])
def get_thing(thing_id: str) -> Envelope[dict[str, Any]]:
    return Envelope(data={"id": thing_id, "name": "a thing"})


@router.post("/api/things")
def post_thing() -> dict[str, Any]:
    return {"data": "posted"}


@pytest.fixture(scope="module")
def handler() -> Any:
    app = create_app("hostile", routers=[router])
    # These routes test the edge, not authentication (tests/unit/test_auth_*.py do that).
    app.dependency_overrides[enforce_authentication] = lambda: None
    return create_handler(app)


@pytest.fixture(autouse=True)
def _clear_seen() -> None:
    seen.clear()


def post_raw(handler: Any, path: str, body: str, content_type: str = "application/json") -> dict[str, Any]:
    event = http_event("POST", path, body=body, headers={"content-type": content_type})
    response: dict[str, Any] = handler(event, FakeContext())
    return response


def assert_malformed(response: dict[str, Any]) -> dict[str, Any]:
    assert response["statusCode"] == 400, response
    body = json_body(response)
    assert body["code"] == "MALFORMED_JSON"
    assert body["requestId"] == response["headers"]["x-request-id"]
    assert response["headers"]["x-content-type-options"] == "nosniff"
    return dict(body)


# ------------------------------------------------------------------------------ nesting depth


@pytest.mark.parametrize("opener", ["[", '{"a":'])
def test_a_body_nested_100000_levels_is_400_not_500(handler: Any, opener: str) -> None:
    closer = "]" if opener == "[" else "}"
    body = opener * 100_000 + "1" + closer * 100_000
    response = post_raw(handler, "/api/echo", body)
    document = assert_malformed(response)
    assert str(MAX_JSON_DEPTH) in document["error"]
    assert seen == []  # the route never ran


def test_nesting_up_to_the_documented_depth_is_accepted(handler: Any) -> None:
    at_limit = "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH
    assert post_raw(handler, "/api/echo", at_limit)["statusCode"] == 200
    one_more = "[" + at_limit + "]"
    assert_malformed(post_raw(handler, "/api/echo", one_more))


def test_brackets_inside_strings_do_not_count_as_nesting(handler: Any) -> None:
    body = json.dumps({"text": "[" * 10_000 + '\\"{' * 100, "list": [[["ok"]]]})
    response = post_raw(handler, "/api/echo", body)
    assert response["statusCode"] == 200, response
    assert seen[0]["list"] == [[["ok"]]]


def test_deep_bodies_are_refused_on_any_route_even_unknown_ones(handler: Any) -> None:
    body = "[" * 5_000 + "]" * 5_000
    assert_malformed(post_raw(handler, "/api/nowhere", body))


@pytest.mark.parametrize(
    ("text", "deeper"),
    [
        ("[]", False),
        ('"[[[[[[[["', False),
        ('["\\"[[[["]', False),
        ("[" * 3 + "]" * 3, False),
        ("[" * 4 + "]" * 4, True),
        ('{"a":{"b":{"c":{"d":1}}}}', True),
        ("[[1],[2],[3],[4],[5],[6]]", False),
        ('[[[ "unterminated', False),
        ("[" * 4 + '"unterminated', True),
    ],
)
def test_depth_scan(text: str, deeper: bool) -> None:
    assert json_too_deep(text, 3) is deeper


# ------------------------------------------------------------------------------ not JSON numbers


@pytest.mark.parametrize(
    "body",
    [
        "NaN",
        "Infinity",
        "-Infinity",
        "1e999999",
        "-1e999999",
        '{"price": NaN}',
        '{"price": Infinity}',
        '{"price": -Infinity}',
        '{"price": 1e999999}',
        '{"price": 1E400}',
        "[1, 2, NaN]",
    ],
)
def test_non_finite_numbers_are_not_json(handler: Any, body: str) -> None:
    for path in ("/api/prices", "/api/echo"):
        assert_malformed(post_raw(handler, path, body))
    assert seen == []


@pytest.mark.parametrize("content_type", ["application/json", "application/problem+json; charset=utf-8"])
def test_fastapi_never_parses_what_the_edge_did_not_check(handler: Any, content_type: str) -> None:
    """FastAPI parses JSON bodies again, leniently (NaN passes json.loads), for any method."""
    event = http_event("GET", "/api/search", body='{"q": NaN}', headers={"content-type": content_type})
    assert_malformed(handler(event, FakeContext()))
    assert seen == []


def test_finite_numbers_still_parse(handler: Any) -> None:
    response = post_raw(handler, "/api/prices", '{"price": 1e-999999}')
    assert response["statusCode"] == 201, response
    response = post_raw(handler, "/api/prices", '{"price": 12.5}')
    assert json_body(response) == {"data": 12.5}


@pytest.mark.parametrize(
    "body",
    [
        '"\\ud800"',  # a lone high surrogate
        '{"\\udc00": 1}',  # a lone low surrogate, in a key
        '["ok", {"x": ["\\ud83d"]}]',  # half an emoji
    ],
)
def test_escaped_lone_surrogates_are_not_text(handler: Any, body: str) -> None:
    assert_malformed(post_raw(handler, "/api/echo", body))


def test_surrogate_pairs_and_escaped_backslashes_are_fine(handler: Any) -> None:
    body = '{"emoji": "\\ud83d\\ude00", "literal": "\\\\ud800"}'
    response = post_raw(handler, "/api/echo", body)
    assert response["statusCode"] == 200, response
    assert seen[0] == {"emoji": "\U0001f600", "literal": "\\ud800"}


@pytest.mark.parametrize(
    "raw",
    [
        b'"\xed\xa0\x80"',  # a surrogate encoded in UTF-8 bytes
        b'"\xff"',  # not UTF-8
        '"\u00e9"'.encode("utf-16"),  # JSON must be UTF-8 (RFC 8259 8.1)
    ],
)
def test_bodies_that_are_not_utf_8_are_malformed(raw: bytes) -> None:
    with pytest.raises(ValueError, match=r".+"):
        parse_json_strictly(raw)


def test_huge_integers_are_malformed_not_a_crash(handler: Any) -> None:
    assert_malformed(post_raw(handler, "/api/echo", "1" * 5000))


# ------------------------------------------------------------------------------ HEAD


def test_head_on_a_get_route_answers_like_get_without_a_body(handler: Any) -> None:
    get = handler(http_event("GET", "/api/things/42", request_id="get-1"), FakeContext())
    head = handler(http_event("HEAD", "/api/things/42", request_id="head-1"), FakeContext())
    assert get["statusCode"] == head["statusCode"] == 200
    assert head["body"] in ("", None)
    assert json_body(get) == {"data": {"id": "42", "name": "a thing"}}
    assert head["headers"]["content-length"] == get["headers"]["content-length"] == str(len(get["body"]))
    assert head["headers"]["content-type"] == get["headers"]["content-type"]
    assert head["headers"]["x-frame-options"] == "DENY"
    assert head["headers"]["x-request-id"] == "head-1"


def test_head_on_errors_has_the_error_status_and_no_body(handler: Any) -> None:
    missing = handler(http_event("HEAD", "/api/nowhere"), FakeContext())
    assert missing["statusCode"] == 404
    assert missing["body"] in ("", None)
    post_only = handler(http_event("HEAD", "/api/things"), FakeContext())
    assert post_only["statusCode"] == 405
    assert "POST" in post_only["headers"]["allow"]


def test_head_adds_no_operation_to_the_openapi_document() -> None:
    app = create_app("hostile", routers=[router])
    paths = app.openapi()["paths"]
    assert set(paths["/api/things/{thing_id}"]) == {"get"}
