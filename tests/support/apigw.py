"""Build API Gateway HTTP API (payload 2.0) events and a fake Lambda context for handler tests."""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass
from typing import Any

ACCOUNT_ID = "123456789012"


@dataclass
class FakeContext:
    function_name: str = "test-function"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:test-function"
    aws_request_id: str = "00000000-0000-0000-0000-000000000000"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


def http_event(
    method: str,
    path: str,
    *,
    body: Any = None,
    headers: dict[str, str] | None = None,
    query: str = "",
    binary: bool = False,
    request_id: str | None = None,
    route_key: str = "$default",
) -> dict[str, Any]:
    """The payload 2.0 event API Gateway sends for this request, built by the local cloud's own
    builder (``local.events.http_event``: cookies in ``cookies``, query parameters, forwarding and
    trace headers, base64 for non-text bodies), so handler tests and the local cloud see one shape.

    ``body``: bytes or text as sent, or any other value as JSON (``content-type`` defaults to JSON).
    ``path``: as on the wire (percent-encoded where it must be). ``binary``: the body arrives base64
    encoded whatever its type (API Gateway does so for a type it does not treat as text).
    """
    from local.events import HttpRequest
    from local.events import http_event as gateway_event
    from local.functions import HttpRoute
    from local.routes import RouteMatch

    headers = {k.lower(): v for k, v in (headers or {}).items()}
    data: bytes
    if body is None:
        data = b""
    elif isinstance(body, bytes):
        data = body
    elif isinstance(body, str):
        data = body.encode("utf-8")
    else:
        data = json.dumps(body).encode()
        headers.setdefault("content-type", "application/json")
    request = HttpRequest(
        method=method.upper(),
        target=f"{path}?{query}" if query else path,
        headers=[("host", "api.example.com"), ("user-agent", "pytest"), *headers.items()],
        body=data,
        source_ip="203.0.113.9",
    )
    method_of_route, _, path_of_route = route_key.partition(" ")
    route = HttpRoute(
        function="test", event="test", method=method_of_route or "ANY", path=path_of_route or "$default"
    )
    event = gateway_event(
        request, RouteMatch(route, {}), request_id=request_id or uuid.uuid4().hex, account_id=ACCOUNT_ID
    )
    if binary and data:
        event["body"] = base64.b64encode(data).decode()
        event["isBase64Encoded"] = True
    return event


def json_body(response: dict[str, Any]) -> Any:
    return json.loads(response["body"])
