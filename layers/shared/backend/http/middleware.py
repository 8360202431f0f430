"""The edge middleware every API function runs behind (pure ASGI: no per-request task overhead).

For every request it:
- takes the request id from the API Gateway request context (or makes one), publishes it to the
  logger's correlation id and echoes it in ``X-Request-Id``;
- rejects bodies over the limit (413), non-JSON bodies (415) and malformed JSON (400) before any
  route runs. JSON is read strictly (RFC 8259): UTF-8 only, at most ``MAX_JSON_DEPTH`` levels of
  nesting (checked before parsing, so a nesting bomb never reaches the recursive parser), no
  ``NaN``/``Infinity`` and no number that overflows to infinity, no lone surrogates in strings;
- answers ``HEAD`` as ``GET`` without the body (same status and headers, Content-Length included);
- adds the security headers to every response, errors included, and ``Cache-Control: no-store``
  unless the route set its own;
- turns any exception that escaped the app into the 500 envelope, without internals.
"""

from __future__ import annotations

import email.message
import json
import math
import re
import time
import uuid
from collections.abc import Iterable
from itertools import accumulate
from typing import Any, NoReturn

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend import errors
from backend.http.context import request_id_var
from backend.http.errors import app_error_response, unexpected_error_response
from backend.http.headers import SECURITY_HEADERS
from backend.observability import logger

__all__ = ["MAX_JSON_DEPTH", "SECURITY_HEADERS", "EdgeMiddleware", "json_too_deep", "parse_json_strictly"]

#: The deepest nesting of arrays and objects a request body may have (documented in docs/architecture.md).
MAX_JSON_DEPTH = 64
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
REQUEST_ID_HEADER = "x-request-id"


def _is_json(content_type: str) -> bool:
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


def _fastapi_reads_as_json(content_type: str) -> bool:
    """FastAPI's own test (fastapi.routing) for parsing a body as JSON: whatever it parses, we checked."""
    message = email.message.Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (
        subtype == "json" or subtype.endswith("+json")
    )


# ---------------------------------------------------------------------------------- strict JSON

_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_A_BRACKET = re.compile(r"[^\[\]{}]+")
_DEPTH_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SCAN_CHUNK = 65_536


def json_too_deep(text: str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether ``text`` nests arrays/objects deeper than ``limit``, brackets inside strings aside.

    A linear scan, without recursion: it runs before ``json.loads``, whose C parser recurses once
    per level. Where the text is malformed the answer may be too high (an unterminated string's
    brackets count), never too low for the part a parser would read before failing.
    """
    if text.count("[") + text.count("{") <= limit:  # cannot nest deeper than it has openers
        return False
    structure = _NOT_A_BRACKET.sub("", _JSON_STRING.sub("", text))
    depth = 0
    for start in range(0, len(structure), _SCAN_CHUNK):  # in chunks, to stop early on a bomb
        depths = list(
            accumulate(map(_DEPTH_STEP.__getitem__, structure[start : start + _SCAN_CHUNK]), initial=depth)
        )
        if max(depths) > limit:
            return True
        depth = depths[-1]
    return False


class JsonTooDeepError(ValueError):
    """The body nests arrays/objects deeper than the limit."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"nested deeper than {limit} levels")


def _not_json(name: str) -> NoReturn:
    raise ValueError(f"{name} is not a JSON value")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number {text[:20]} is out of range")
    return value


def _has_lone_surrogate(document: Any) -> bool:
    stack = [document]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return False


def parse_json_strictly(body: bytes, *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """Parse a request body as RFC 8259 JSON, or raise ``ValueError`` saying why it is not.

    Stricter than ``json.loads``: UTF-8 only (no BOM, no UTF-16/32, no encoded surrogates), at
    most ``max_depth`` levels of nesting, no ``NaN``/``Infinity``/``-Infinity``, no number that
    overflows to infinity (``1e999999``), no escaped lone surrogate (``"\\ud800"``).
    """
    text = body.decode("utf-8")  # strict: raises UnicodeDecodeError (a ValueError)
    if json_too_deep(text, max_depth):
        raise JsonTooDeepError(max_depth)
    try:
        document = json.loads(text, parse_constant=_not_json, parse_float=_finite_float)
    except RecursionError:  # not reachable past the depth check; kept so a deep body is never a 500
        raise JsonTooDeepError(max_depth) from None
    if _SURROGATE_ESCAPE.search(text) and _has_lone_surrogate(document):
        raise ValueError("a string holds a lone surrogate (not Unicode text)")
    return document


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
        method = scope.get("method")
        if method == "HEAD":
            # Answered as GET without the body: same status and headers (Content-Length included).
            await self._head(scope, receive, send)
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
            # Every request is in the HTTP API's access log (request id, route, status, latency), so
            # the function logs its own line at INFO only for an error response, DEBUG otherwise: the
            # same line for every request would double the log volume (and its cost) for nothing.
            log = logger.info if status_holder["status"] >= 400 else logger.debug
            log(
                "request",
                extra={
                    "http_method": scope.get("edge.original_method", method),
                    "path": scope.get("path"),
                    "status": status_holder["status"],
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                },
            )
            request_id_var.reset(token)

    async def _head(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        await self({**scope, "method": "GET", "edge.original_method": "HEAD"}, receive, send_without_body)

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
        if not body:
            return body
        content_type = _header(scope, b"content-type") or ""
        is_json = _is_json(content_type)
        if scope.get("method") in BODY_METHODS and scope.get("path") not in self.exempt_paths and not is_json:
            raise errors.UnsupportedMediaTypeError()
        if is_json or _fastapi_reads_as_json(content_type):
            # Checked here, before routing, so every route (and an unknown one) answers alike, and
            # strictly, so whatever FastAPI parses again afterwards (leniently) is JSON.
            try:
                parse_json_strictly(body)
            except JsonTooDeepError as exc:
                raise errors.BadRequestError(
                    f"Request body is not valid JSON: {exc}", code="MALFORMED_JSON"
                ) from None
            except ValueError:
                raise errors.BadRequestError(
                    "Request body is not valid JSON", code="MALFORMED_JSON"
                ) from None
        return body
