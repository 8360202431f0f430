"""The optional error reporting (backend.error_reporting), with a transport that keeps the events.

- off (no SENTRY_DSN_PARAMETER_NAME): importing every function and invoking a handler, even one
  that fails, never imports ``sentry_sdk``;
- on: an unexpected error in a handler is one event; a 4xx domain error is none; the event carries
  no Authorization header, cookie, query string, body, user, email address or token;
- the SDK missing, or the DSN unreadable: one warning, and the function carries on.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from backend import error_reporting, errors
from backend.settings import Settings, load_settings
from tests.support.apigw import FakeContext, http_event

ROOT = Path(__file__).resolve().parents[2]
DSN = "https://public@sentry.example.invalid/1"
EMAIL = "alice@example.com"
JWT = (
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIwMUhaWCJ9.c2lnbmF0dXJlc2lnbmF0dXJl"  # pragma: allowlist secret (made up)
)
COOKIE = "refresh-token=r3fr3sh-s3cr3t; auth-token=" + JWT
BODY_SECRET = "body-password-hunter2"


class LambdaContext(FakeContext):
    """What Sentry's Lambda integration reads of the context besides the Powertools' fields."""

    log_group_name = "/aws/lambda/test-function"
    log_stream_name = "2026/12/07/[$LATEST]0123456789abcdef"
    function_version = "$LATEST"


def reporting_settings(**env: str) -> Settings:
    return load_settings(
        {
            "TABLE_NAME": "app-table",
            "APP_STAGE": "test",
            "APP_VERSION": "1.2.3",
            "SENTRY_DSN_PARAMETER_NAME": "/app-backend/test/sentry-dsn",
            **env,
        }
    )


@pytest.fixture
def events() -> Iterator[list[dict[str, Any]]]:
    """Reporting on, into this list (a Transport that keeps each envelope's event)."""
    from sentry_sdk.transport import Transport

    kept: list[dict[str, Any]] = []

    class Keep(Transport):
        def capture_envelope(self, envelope: Any) -> None:
            event = envelope.get_event()
            if event is not None:
                kept.append(event)

    error_reporting.stop()
    assert error_reporting.start(reporting_settings(), read_dsn=lambda _name: DSN, transport=Keep)
    yield kept
    error_reporting.stop()


def failing_app() -> Any:
    """An API function as functions/<group>/app.py makes one, with a route per kind of failure."""
    from backend.http.app import create_app
    from backend.http.auth import enforce_authentication
    from backend.http.routes import api_router

    router = api_router()

    @router.post("/api/boom")
    def boom() -> dict[str, str]:
        # (no token here: pytest's own log capture would print it; test_the_scrubber... covers that)
        raise RuntimeError(f"could not save the order of {EMAIL}")

    @router.post("/api/missing")
    def missing() -> dict[str, str]:
        raise errors.NotFoundError("Order")

    @router.post("/api/misconfigured")
    def misconfigured() -> dict[str, str]:
        raise errors.ConfigurationError("Missing setting ORDER_QUEUE_URL")

    app = create_app("t", routers=[router])
    app.dependency_overrides[enforce_authentication] = lambda: None
    return app


def request(path: str) -> dict[str, Any]:
    return http_event(
        "POST",
        path,
        body={"email": EMAIL, "password": BODY_SECRET},
        headers={"authorization": f"Bearer {JWT}", "cookie": COOKIE, "x-api-key": "k3y"},
        query=f"email={EMAIL}&token=qs-token-value",
    )


def as_lambda_runs_it(handler: Any) -> Any:
    """The handler as the Lambda runtime calls it with Sentry's integration installed (which adds
    the request from the event to every event of the invocation)."""
    from sentry_sdk.integrations.aws_lambda import _wrap_handler

    return _wrap_handler(handler)


# ----------------------------------------------------------------------------- on
def test_an_unexpected_error_in_an_api_handler_is_one_scrubbed_event(events: list[dict[str, Any]]) -> None:
    from backend.http.app import create_handler

    handler = as_lambda_runs_it(create_handler(failing_app()))
    response = handler(request("/api/boom"), LambdaContext())
    assert response["statusCode"] == 500

    (event,) = events
    assert event["environment"] == "test"
    assert event["release"] == "1.2.3"
    # Lambda's integration described the invocation, so it had the request (headers, query) too
    assert event["extra"]["lambda"]["function_name"] == "test-function"
    (exception,) = event["exception"]["values"]
    assert exception["type"] == "RuntimeError"
    text = json.dumps(event)
    for leaked in (EMAIL, JWT, "r3fr3sh-s3cr3t", BODY_SECRET, "qs-token-value", "k3y"):
        assert leaked not in text, leaked
    assert "user" not in event
    assert "breadcrumbs" not in event or not event["breadcrumbs"].get("values")
    request_seen = event.get("request", {})
    assert set(request_seen) <= {"method", "url"}, request_seen
    assert "?" not in str(request_seen.get("url", ""))
    for frame in exception["stacktrace"]["frames"]:
        assert "vars" not in frame


def test_a_4xx_domain_error_is_no_event_and_an_internal_one_is(events: list[dict[str, Any]]) -> None:
    from backend.http.app import create_handler

    handler = as_lambda_runs_it(create_handler(failing_app()))
    assert handler(request("/api/missing"), LambdaContext())["statusCode"] == 404
    assert events == []
    assert handler(request("/api/misconfigured"), LambdaContext())["statusCode"] == 500
    (event,) = events
    assert event["exception"]["values"][0]["type"] == "ConfigurationError"


def test_an_error_escaping_a_job_handler_is_one_event_and_a_bad_event_is_none(
    events: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    from backend.jobs import scheduled

    def crash(_task: Any) -> dict[str, Any]:
        raise RuntimeError(f"digest for {EMAIL} failed")

    monkeypatch.setitem(scheduled.TASKS, "dlq-monitor", crash)
    handler = as_lambda_runs_it(scheduled.create_scheduled_handler())
    with pytest.raises(errors.ValidationError):
        handler({"task": "no-such-task"}, LambdaContext())
    assert events == []
    with pytest.raises(RuntimeError):
        handler({"task": "dlq-monitor"}, LambdaContext())
    (event,) = events  # reported once, though both our wrapper and Lambda's integration saw it
    assert EMAIL not in json.dumps(event)


def test_the_scrubber_keeps_nothing_personal_of_a_full_event() -> None:
    """``before_send`` on an event carrying every field the SDK can fill in."""
    event: dict[str, Any] = {
        "message": f"failed for {EMAIL}",
        "logentry": {"message": f"token {JWT}"},
        "user": {"email": EMAIL, "ip_address": "203.0.113.9"},
        "request": {
            "method": "POST",
            "url": f"https://api.example.com/api/orders?email={EMAIL}",
            "query_string": f"email={EMAIL}",
            "headers": {"Authorization": f"Bearer {JWT}", "Cookie": COOKIE},
            "cookies": {"auth-token": JWT},
            "data": {"password": BODY_SECRET},
            "env": {"REMOTE_ADDR": "203.0.113.9"},
        },
        "breadcrumbs": {"values": [{"message": EMAIL}]},
        "extra": {"authorization": "x", "note": f"see {EMAIL}"},
        "exception": {
            "values": [
                {
                    "type": "RuntimeError",
                    "value": f"{EMAIL} Bearer {JWT}",
                    "stacktrace": {"frames": [{"function": "f", "vars": {"password": BODY_SECRET}}]},
                }
            ]
        },
    }
    scrubbed = error_reporting.scrub(event, {"exc_info": (RuntimeError, RuntimeError("x"), None)})
    assert scrubbed is not None
    text = json.dumps(scrubbed)
    for leaked in (EMAIL, JWT, "r3fr3sh-s3cr3t", BODY_SECRET, "203.0.113.9"):
        assert leaked not in text, leaked
    assert scrubbed["request"] == {"method": "POST", "url": "https://api.example.com/api/orders"}
    assert "user" not in scrubbed
    assert "breadcrumbs" not in scrubbed
    assert error_reporting.scrub({}, {"exc_info": (None, errors.ForbiddenError(), None)}) is None
    assert error_reporting.scrub({}, {"exc_info": (None, errors.BusyError(), None)}) is None


def test_the_errors_not_reported_are_the_ones_the_api_answers_with_a_4xx_or_a_503() -> None:
    from backend.http.errors import STATUS_BY_ERROR

    expected = {cls for cls, status in STATUS_BY_ERROR.items() if status < 500 or status == 503}
    assert set(error_reporting.EXPECTED_ERRORS) <= expected
    assert all(issubclass(cls, error_reporting.EXPECTED_ERRORS) for cls in expected)
    assert all(status < 500 or status == 503 for status in STATUS_BY_ERROR.values())
    assert error_reporting.reportable(errors.ConfigurationError("x"))
    assert error_reporting.reportable(errors.AppError())
    assert error_reporting.reportable(KeyError("x"))
    assert not error_reporting.reportable(errors.RateLimitedError(5))


# ----------------------------------------------------------------------------- never fails
class Warnings:
    """Stands in for the Logger: what was warned."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    def warning(self, message: str, **_kwargs: Any) -> None:
        self.messages.append(message)


@pytest.fixture
def warned(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    logger = Warnings()
    monkeypatch.setattr(error_reporting, "logger", logger)
    return logger.messages


def test_without_the_sdk_a_configured_function_logs_one_warning_and_carries_on(
    monkeypatch: pytest.MonkeyPatch, warned: list[str]
) -> None:
    error_reporting.stop()
    monkeypatch.setitem(sys.modules, "sentry_sdk", None)  # import sentry_sdk raises ImportError
    try:
        assert not error_reporting.start(reporting_settings(), read_dsn=lambda _name: DSN)
        assert not error_reporting.enabled()
        error_reporting.capture(RuntimeError("x"))  # nothing happens
        handler = object()
        assert error_reporting.wrap(handler) is handler  # type: ignore[arg-type]
    finally:
        error_reporting.stop()
    assert len(warned) == 1
    assert "sentry_sdk is not installed" in warned[0]


def test_an_unreadable_dsn_logs_one_warning_and_carries_on(warned: list[str]) -> None:
    def denied(_name: str) -> str:
        raise PermissionError("AccessDeniedException")

    error_reporting.stop()
    try:
        assert not error_reporting.start(reporting_settings(), read_dsn=denied)
        assert not error_reporting.start(reporting_settings(), read_dsn=denied)  # once per process
    finally:
        error_reporting.stop()
    assert len(warned) == 1
    assert "the DSN cannot be read" in warned[0]


# ----------------------------------------------------------------------------- off
OFF = """
import importlib.util, json, sys
from pathlib import Path

root = Path(sys.argv[1])
for app in sorted(root.glob("functions/*/app.py")):  # every function, imported as Lambda would
    spec = importlib.util.spec_from_file_location(f"app_{app.parent.name}", app)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

import backend.coldstart
from backend.http.app import create_app, create_handler
from backend.http.auth import enforce_authentication
from backend.http.routes import api_router
from tests.support.apigw import FakeContext, http_event

router = api_router()

@router.get("/api/boom")
def boom() -> dict[str, str]:
    raise RuntimeError("boom")

app = create_app("t", routers=[router])
app.dependency_overrides[enforce_authentication] = lambda: None
handler = create_handler(app)
status = handler(http_event("GET", "/api/boom"), FakeContext())["statusCode"]
print(json.dumps([status, "sentry_sdk" in sys.modules]))
"""


@pytest.mark.parametrize("name", ["", None])
def test_off_nothing_of_sentry_is_imported(name: str | None) -> None:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("SENTRY_", "AWS_LAMBDA_"))}
    environment |= {
        "PYTHONPATH": f"{ROOT / 'layers' / 'shared'}{os.pathsep}{ROOT}",
        "TABLE_NAME": "app-table",
    }
    if name is not None:
        environment["SENTRY_DSN_PARAMETER_NAME"] = name  # what the template gives with the parameter empty
    done = subprocess.run(
        [sys.executable, "-c", OFF, str(ROOT)],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    status, imported = json.loads(done.stdout.strip().splitlines()[-1])
    assert status == 500
    assert imported is False
