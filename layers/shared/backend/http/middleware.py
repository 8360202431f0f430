"""The edge middleware every API function runs behind (pure ASGI: no per-request task overhead).

For every request it:
- takes the request id from the API Gateway request context (or makes one), publishes it to the
  logger's correlation id and echoes it in ``X-Request-Id``;
- rejects bodies over the limit (413), non-JSON bodies (415) and malformed JSON (400) before any
  route runs;
- adds the security headers to every response, errors included, and ``Cache-Control: no-store``
  unless the route set its own;
- turns any exception that escaped the app into the 500 envelope, without internals.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterable
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend import errors
from backend.http.context import request_id_var
from backend.http.errors import app_error_response, unexpected_error_response
from backend.observability import logger

SECURITY_HEADERS: tuple[tuple[str, str], ...] = (
    ("strict-transport-security", "max-age=63072000; includeSubDomains; preload"),
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    (
        "content-security-policy",
        "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    ),
    ("referrer-policy", "no-referrer"),
    ("cross-origin-opener-policy", "same-origin"),
    ("permissions-policy", "camera=(), microphone=(), geolocation=()"),
)
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
REQUEST_ID_HEADER = "x-request-id"


def _is_json(content_type: str) -> bool:
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


def _request_id(scope: Scope) -> str:
    event = scope.get("aws.event")
    if isinstance(event, dict):
        request_id = (event.get("requestContext") or {}).get("requestId")
        if isinstance(request_id, str) and request_id:
            return request_id
    return uuid.uuid4().hex


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value).decode("latin-1")
    return None


class EdgeMiddleware:
    def __init__(self, app: ASGIApp, *, max_body_bytes: int, exempt_paths: Iterable[str] = ()) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.exempt_paths = frozenset(exempt_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope)
        token = request_id_var.set(request_id)
        logger.set_correlation_id(request_id)
        started = time.perf_counter()
        status_holder: dict[str, Any] = {"started": False, "status": 500}

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["started"] = True
                status_holder["status"] = message["status"]
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS:
                    if name not in headers:
                        headers.append(name, value)
                if "cache-control" not in headers:
                    headers.append("cache-control", "no-store")
                headers[REQUEST_ID_HEADER] = request_id
            await send(message)

        try:
            body = await self._read_body(scope, receive)
            replayed = False

            async def replay() -> Message:
                nonlocal replayed
                if not replayed:
                    replayed = True
                    return {"type": "http.request", "body": body, "more_body": False}
                return await receive()

            await self.app(scope, replay, send_with_headers)
        except errors.AppError as exc:
            if status_holder["started"]:
                raise
            await app_error_response(exc)(scope, receive, send_with_headers)
        except Exception as exc:
            if status_holder["started"]:
                raise
            await unexpected_error_response(exc)(scope, receive, send_with_headers)
        finally:
            logger.info(
                "request",
                extra={
                    "http_method": scope.get("method"),
                    "path": scope.get("path"),
                    "status": status_holder["status"],
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                },
            )
            request_id_var.reset(token)

    async def _read_body(self, scope: Scope, receive: Receive) -> bytes:
        """Read the whole body (API Gateway delivers it in one piece), enforcing size and type."""
        declared = _header(scope, b"content-length")
        if declared is not None and declared.strip().isdigit() and int(declared) > self.max_body_bytes:
            raise errors.PayloadTooLargeError(f"Request body exceeds {self.max_body_bytes} bytes")
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                raise errors.PayloadTooLargeError(f"Request body exceeds {self.max_body_bytes} bytes")
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if body and scope.get("method") in BODY_METHODS and scope.get("path") not in self.exempt_paths:
            content_type = _header(scope, b"content-type") or ""
            if not _is_json(content_type):
                raise errors.UnsupportedMediaTypeError()
            try:
                json.loads(body)
            except ValueError:
                # Checked here, before routing, so every route (and an unknown one) answers alike.
                raise errors.BadRequestError(
                    "Request body is not valid JSON", code="MALFORMED_JSON"
                ) from None
        return body
