"""The HTTP spine every API function shares: envelope, errors, middleware, handler."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import Field

from backend import errors
from backend.http.app import create_app, create_handler
from backend.http.auth import enforce_authentication
from backend.http.routes import api_router
from backend.schemas.common import CamelModel, Envelope
from tests.support.apigw import FakeContext, http_event, json_body


class ThingIn(CamelModel):  # a deferred body model (tests/unit/test_http_routes.py)
    display_name: str = Field(min_length=2, max_length=20)
    password: str = Field(min_length=8)


router = api_router()


@router.post("/api/things", status_code=201, response_model=Envelope[dict[str, Any]])
def create_thing(thing: ThingIn) -> Envelope[dict[str, Any]]:
    return Envelope(data={"displayName": thing.display_name})


@router.get("/api/boom")
def boom() -> None:
    raise RuntimeError("database password is hunter2")  # must never reach the client


@router.get("/api/errors/{kind}")
def raise_error(kind: str) -> None:
    match kind:
        case "conflict":
            raise errors.ConflictError("Email already exists", details=[{"field": "email"}])
        case "stale":
            raise errors.ConcurrentModificationError()
        case "limited":
            raise errors.RateLimitedError(retry_after_seconds=42)
        case "unauthorized":
            raise errors.UnauthorizedError()
        case "forbidden":
            raise errors.ForbiddenError()
        case "missing":
            raise errors.NotFoundError("Order")
        case "config":
            raise errors.ConfigurationError("Missing setting SECRET_THING")
    raise errors.ValidationError("bad kind")


@pytest.fixture(scope="module")
def handler() -> Any:
    app = create_app("test", routers=[router])
    # These routes test the envelope, not authentication (tests/unit/test_auth_*.py do that).
    app.dependency_overrides[enforce_authentication] = lambda: None
    return create_handler(app)


def call(handler: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
    response: dict[str, Any] = handler(http_event(*args, **kwargs), FakeContext())
    return response


def assert_envelope(response: dict[str, Any], status: int, code: str) -> dict[str, Any]:
    assert response["statusCode"] == status, response
    body = json_body(response)
    assert body["code"] == code
    assert isinstance(body["error"], str)
    assert body["error"]
    assert body["requestId"] == response["headers"]["x-request-id"]
    return dict(body)


def test_success_body_is_camel_case_data_envelope(handler: Any) -> None:
    response = call(handler, "POST", "/api/things", body={"displayName": "Ada", "password": "correct horse"})
    assert response["statusCode"] == 201
    assert json_body(response) == {"data": {"displayName": "Ada"}}


def test_request_id_comes_from_the_api_gateway_context(handler: Any) -> None:
    response = call(handler, "GET", "/api/errors/missing", request_id="req-123")
    body = assert_envelope(response, 404, "NOT_FOUND")
    assert body["requestId"] == "req-123"
    assert body["error"] == "Order not found"


def test_security_headers_on_success_and_error(handler: Any) -> None:
    for response in (
        call(handler, "POST", "/api/things", body={"displayName": "Ada", "password": "correct horse"}),
        call(handler, "GET", "/api/boom"),
        call(handler, "GET", "/nowhere"),
    ):
        headers = response["headers"]
        assert headers["strict-transport-security"].startswith("max-age=")
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"
        assert "default-src 'none'" in headers["content-security-policy"]
        assert headers["referrer-policy"] == "no-referrer"
        assert headers["cache-control"] == "no-store"


def test_unknown_route_and_wrong_method(handler: Any) -> None:
    assert_envelope(call(handler, "GET", "/api/nothing-here"), 404, "NOT_FOUND")
    response = call(handler, "DELETE", "/api/things")
    assert_envelope(response, 405, "METHOD_NOT_ALLOWED")
    assert "POST" in response["headers"]["allow"]


def test_malformed_json_is_400(handler: Any) -> None:
    response = call(
        handler, "POST", "/api/things", body='{"displayName": ', headers={"content-type": "application/json"}
    )
    assert_envelope(response, 400, "MALFORMED_JSON")


def test_validation_error_lists_fields_without_echoing_input(handler: Any) -> None:
    response = call(handler, "POST", "/api/things", body={"displayName": "A", "password": "pw-7x"})
    body = assert_envelope(response, 400, "VALIDATION_ERROR")
    fields = {detail["field"] for detail in body["details"]}
    assert fields == {"displayName", "password"}
    assert "pw-7x" not in response["body"]


def test_oversized_body_is_413_before_the_route_runs(handler: Any) -> None:
    big = {"displayName": "Ada", "password": "x" * 2_000_000}
    assert_envelope(call(handler, "POST", "/api/things", body=big), 413, "PAYLOAD_TOO_LARGE")


def test_oversized_body_without_content_length_is_413(handler: Any) -> None:
    event = http_event("POST", "/api/things", body="[" + "1," * 700_000 + "1]")
    del event["headers"]["content-length"]
    assert_envelope(handler(event, FakeContext()), 413, "PAYLOAD_TOO_LARGE")


def test_non_json_body_is_415(handler: Any) -> None:
    response = call(
        handler,
        "POST",
        "/api/things",
        body="a=b",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert_envelope(response, 415, "UNSUPPORTED_MEDIA_TYPE")


def test_base64_json_body_is_accepted(handler: Any) -> None:
    response = call(
        handler,
        "POST",
        "/api/things",
        body='{"displayName": "Ada", "password": "correct horse"}',
        headers={"content-type": "application/json; charset=utf-8"},
        binary=True,
    )
    assert response["statusCode"] == 201


def test_unhandled_exception_is_500_without_internals(
    handler: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    response = call(handler, "GET", "/api/boom")
    body = assert_envelope(response, 500, "INTERNAL_ERROR")
    assert body["error"] == "Internal server error"
    assert "hunter2" not in response["body"]
    assert "RuntimeError" not in response["body"]


@pytest.mark.parametrize(
    ("kind", "status", "code"),
    [
        ("conflict", 409, "CONFLICT"),
        ("stale", 409, "CONCURRENT_MODIFICATION"),
        ("limited", 429, "RATE_LIMITED"),
        ("unauthorized", 401, "UNAUTHORIZED"),
        ("forbidden", 403, "FORBIDDEN"),
        ("missing", 404, "NOT_FOUND"),
        ("other", 400, "VALIDATION_ERROR"),
    ],
)
def test_domain_errors_map_to_status(handler: Any, kind: str, status: int, code: str) -> None:
    response = call(handler, "GET", f"/api/errors/{kind}")
    assert_envelope(response, status, code)
    if kind == "limited":
        assert response["headers"]["retry-after"] == "42"
    if kind == "unauthorized":
        assert response["headers"]["www-authenticate"].startswith("Bearer")
    if kind == "conflict":
        assert json_body(response)["details"] == [{"field": "email"}]


def test_configuration_error_is_500_and_hides_the_setting(handler: Any) -> None:
    response = call(handler, "GET", "/api/errors/config")
    assert_envelope(response, 500, "INTERNAL_ERROR")
    assert "SECRET_THING" not in response["body"]


def test_cors_allows_only_configured_origins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORS_ALLOWED_ORIGINS", "https://app.example.com, https://admin.example.com")
    handler = create_handler(create_app("cors", routers=[router]))
    preflight = {"origin": "https://app.example.com", "access-control-request-method": "POST"}
    allowed = call(handler, "OPTIONS", "/api/things", headers=preflight)
    assert allowed["statusCode"] == 200
    assert allowed["headers"]["access-control-allow-origin"] == "https://app.example.com"
    denied = call(handler, "OPTIONS", "/api/things", headers={**preflight, "origin": "https://evil.example"})
    assert "access-control-allow-origin" not in denied["headers"]
    simple = call(handler, "GET", "/api/errors/missing", headers={"origin": "https://admin.example.com"})
    assert simple["headers"]["access-control-allow-origin"] == "https://admin.example.com"
    assert simple["headers"]["x-frame-options"] == "DENY"


def test_cors_exposes_the_headers_the_template_exposes(monkeypatch: pytest.MonkeyPatch) -> None:
    """A browser may read every header the API sends besides the safelisted ones, whichever answers
    CORS (API Gateway from template.yaml, or the app's own middleware): both lists are the same."""
    from local.template import load_template

    cors = load_template()["Resources"]["HttpApi"]["Properties"]["CorsConfiguration"]
    exposed = [name.lower() for name in cors["ExposeHeaders"]]
    for header in ("x-request-id", "retry-after", "etag", "location", "idempotent-replayed"):
        assert header in exposed
    monkeypatch.setenv("CORS_ALLOWED_ORIGINS", "https://app.example.com")
    handler = create_handler(create_app("cors", routers=[router]))
    simple = call(handler, "GET", "/api/errors/missing", headers={"origin": "https://app.example.com"})
    app_exposed = simple["headers"]["access-control-expose-headers"].lower().replace(" ", "").split(",")
    assert sorted(app_exposed) == sorted(exposed)


def _jwt_shaped() -> str:
    """Something shaped like a JWT, made here (a literal one would trip the committed-secrets scan)."""
    import base64

    parts = (b'{"alg":"HS256"}', b'{"sub":"someone"}', b"not-a-signature")
    return ".".join(base64.urlsafe_b64encode(part).rstrip(b"=").decode() for part in parts)


def test_the_request_log_line_carries_the_gateway_request_id_and_no_credentials(
    handler: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import io
    import json

    from backend.observability import logger

    stream = io.StringIO()
    monkeypatch.setattr(logger.registered_handler, "stream", stream)
    event = http_event(
        "POST",
        "/api/things",
        body={"displayName": "Ada", "password": "correct horse"},
        headers={"authorization": f"Bearer {_jwt_shaped()}"},
        request_id="gw-request-42",
    )
    logger.setLevel("DEBUG")  # a success is logged at DEBUG (the gateway's access log has it)
    try:
        assert handler(event, FakeContext())["statusCode"] == 201
    finally:
        logger.setLevel("INFO")
    lines = [json.loads(line) for line in stream.getvalue().splitlines() if line.startswith("{")]
    request = next(line for line in lines if line.get("message") == "request")
    assert request["correlation_id"] == "gw-request-42"
    assert (request["http_method"], request["path"], request["status"]) == ("POST", "/api/things", 201)
    assert "eyJ" not in json.dumps(lines)
    assert "correct horse" not in json.dumps(lines)


def test_errors_are_logged_at_info_and_successes_only_at_debug(
    handler: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import io
    import json

    from backend.observability import logger

    stream = io.StringIO()
    monkeypatch.setattr(logger.registered_handler, "stream", stream)
    logger.setLevel("INFO")
    assert (
        handler(
            http_event("POST", "/api/things", body={"displayName": "Ada", "password": "correct horse"}),
            FakeContext(),
        )["statusCode"]
        == 201
    )
    assert (
        handler(http_event("POST", "/api/things", body={"displayName": "A"}), FakeContext())["statusCode"]
        == 400
    )
    lines = [json.loads(line) for line in stream.getvalue().splitlines() if line.startswith("{")]
    assert [(line["level"], line["status"]) for line in lines if line.get("message") == "request"] == [
        ("INFO", 400)
    ]
