"""Build API Gateway HTTP API (payload 2.0) events and a fake Lambda context for handler tests."""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass
from typing import Any


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
) -> dict[str, Any]:
    headers = {k.lower(): v for k, v in (headers or {}).items()}
    raw_body: str | None
    if body is None:
        raw_body = None
    elif isinstance(body, bytes | str):
        raw_body = body if isinstance(body, str) else body.decode("latin-1")
    else:
        raw_body = json.dumps(body)
        headers.setdefault("content-type", "application/json")
    if raw_body is not None and binary:
        raw_body = base64.b64encode(raw_body.encode("latin-1")).decode()
    if raw_body is not None:
        headers.setdefault("content-length", str(len(raw_body)))
    return {
        "version": "2.0",
        "routeKey": f"{method} {path}",
        "rawPath": path,
        "rawQueryString": query,
        "headers": {"host": "api.example.com", "user-agent": "pytest", **headers},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "api",
            "domainName": "api.example.com",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.9",
                "userAgent": "pytest",
            },
            "requestId": request_id or uuid.uuid4().hex,
            "routeKey": f"{method} {path}",
            "stage": "$default",
            "time": "26/Nov/2026:10:00:00 +0000",
            "timeEpoch": 1795600000000,
        },
        "body": raw_body,
        "isBase64Encoded": binary,
    }


def json_body(response: dict[str, Any]) -> Any:
    return json.loads(response["body"])
