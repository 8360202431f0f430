"""The HTTP gateway: API Gateway HTTP API on loopback, plus the local cloud's own endpoints.

Template routes → payload 2.0 events → the function's instances → the function's response. Where
API Gateway answers by itself, the gateway does too, in the API's error envelope
(``{"error", "code", "requestId"}``, with ``apigw-requestid``): 404 ``NOT_FOUND`` when no route
matches, 500 ``INTERNAL_ERROR`` when the function fails (an exception, a timeout, a malformed
response), 503 ``SERVICE_UNAVAILABLE`` past the integration timeout (30 s, waiting for a free
instance included); CORS is handled from the HttpApi's CorsConfiguration. Every reply carries the
security headers (``local.server.secure``); the gateway's HTML pages get a content security
policy that lets them work.

Local endpoints: /_local (index), /_local/health, /_local/stats, /_local/routes, /_local/queues,
/_local/schedules (+ POST /_local/schedules/<Function>/<Event>/fire), /_local/mail(.json) (DELETE
clears it), POST /_local/functions/<Function>/recycle (fresh instances next time), GET and PUT
/_local/faults (the DynamoDB faults the functions meet: local.faults), /openapi.json
and /docs. ``HEAD`` is answered as ``GET`` (without the body) on all of them.

The HTTP server itself (uvicorn, h11, framing and size limits) is in ``local.server``.
"""

from __future__ import annotations

import html
import json
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from local.console import safe_target
from local.events import (
    HttpRequest,
    HttpResponse,
    MalformedResponse,
    http_event,
    http_response,
    new_api_request_id,
)
from local.faults import FaultSpec, FaultSpecError
from local.mailbox import mail_html, mail_json
from local.openapi import CDN, docs_page, swagger_assets_dir
from local.server import GatewayServer, PortInUseError, secure

if TYPE_CHECKING:
    from local.cloud import LocalCloud
    from local.routes import RouteMatch

__all__ = ["Gateway", "GatewayServer", "PortInUseError"]

_CDN = "{0.scheme}://{0.netloc}".format(urlsplit(CDN))
_PAGE_POLICY = "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
#: The local pages (index, mailbox): inline styles, and the mails' HTML in sandboxed srcdoc frames.
PAGE_CSP = f"default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-src 'self'; {_PAGE_POLICY}"
#: Swagger UI at /docs: its assets (local, or the CDN), an inline start-up script, /openapi.json.
DOCS_CSP = (
    f"default-src 'none'; script-src 'self' 'unsafe-inline' {_CDN}; style-src 'self' 'unsafe-inline' {_CDN}; "
    f"img-src 'self' data: {_CDN}; font-src 'self' data:; connect-src 'self'; {_PAGE_POLICY}"
)


def _not_found(message: str = "Not Found", request_id: str | None = None) -> HttpResponse:
    return HttpResponse.error(404, "NOT_FOUND", message, request_id=request_id)


def _internal_error(request_id: str) -> HttpResponse:
    return HttpResponse.error(500, "INTERNAL_ERROR", "Internal Server Error", request_id=request_id)


class Gateway:
    """Turns HTTP requests into responses (no sockets here: see GatewayServer)."""

    def __init__(self, cloud: LocalCloud) -> None:
        self.cloud = cloud
        self._assets = swagger_assets_dir()

    def handle(self, request: HttpRequest) -> HttpResponse:
        """The reply to one request; every reply carries the security headers."""
        path = request.path
        if path == "/_local" or path.startswith("/_local/"):
            return secure(self.local_endpoint(request), content_security_policy=PAGE_CSP)
        cors = self.cloud.cors
        if cors is not None and cors.is_preflight(request):
            return secure(cors.preflight(request))
        match = self.cloud.router.match(request.method, path)
        if (match is None or match.route.path == "$default") and request.method in ("GET", "HEAD"):
            docs = self.docs_endpoint(path)
            if docs is not None:
                return secure(docs, content_security_policy=DOCS_CSP)
        response = _not_found() if match is None else self.invoke_route(request, match)
        return secure(cors.apply(request, response) if cors is not None else response)

    def invoke_route(self, request: HttpRequest, match: RouteMatch) -> HttpResponse:
        route = match.route
        request_id = new_api_request_id()
        event = http_event(request, match, request_id=request_id)
        budget = route.timeout_ms / 1000
        started = time.monotonic()
        outcome = self.cloud.invoke(route.function, event, queue_timeout=budget)
        elapsed = time.monotonic() - started
        if elapsed > budget or (outcome.error or {}).get("errorType") == "Local.QueueTimeout":
            response = HttpResponse.error(
                503, "SERVICE_UNAVAILABLE", "Service Unavailable", request_id=request_id
            )
        elif not outcome.ok:
            response = _internal_error(request_id)
        else:
            try:
                response = http_response(outcome.result)
                response.headers.append(("apigw-requestid", request_id))
            except MalformedResponse as exc:
                self.cloud.console.line(route.function, f"malformed HTTP API response: {exc}")
                response = _internal_error(request_id)
        self.cloud.console.line(
            "http",
            f"{request.method} {safe_target(request.target)} → {route.function} {response.status} "
            f"({elapsed * 1000:.0f} ms)",
        )
        return response

    # ------------------------------------------------------------------ /openapi.json, /docs

    def docs_endpoint(self, path: str) -> HttpResponse | None:
        if path == "/openapi.json":
            return HttpResponse.json(200, with_gateway_responses(self.cloud.openapi()))
        if path in ("/docs", "/docs/"):
            page = docs_page(self._assets is not None)
            return HttpResponse(200, [("content-type", "text/html; charset=utf-8")], page.encode())
        if path.startswith("/docs/assets/") and self._assets is not None:
            name = path.rsplit("/", 1)[-1]
            asset = self._assets / name
            if name in ("swagger-ui-bundle.min.js", "swagger-ui.min.css") and asset.is_file():
                ctype = "text/css" if name.endswith(".css") else "application/javascript"
                return HttpResponse(
                    200, [("content-type", ctype), ("cache-control", "max-age=3600")], asset.read_bytes()
                )
        return None

    # ------------------------------------------------------------------ /_local

    def local_endpoint(self, request: HttpRequest) -> HttpResponse:
        method, path = request.method.upper(), request.path.rstrip("/")
        if method == "HEAD":
            method = "GET"  # the server sends the headers only
        parts = [unquote(part) for part in path.split("/")[2:]]
        cloud = self.cloud
        pages: dict[tuple[str, str], Callable[[], HttpResponse]] = {
            ("GET", "/_local"): lambda: _html(_index_page(cloud.gateway_url)),
            ("GET", "/_local/health"): lambda: HttpResponse.json(200, cloud.health()),
            ("GET", "/_local/stats"): lambda: HttpResponse.json(200, cloud.stats()),
            ("GET", "/_local/routes"): lambda: HttpResponse.json(
                200, [_route_json(route) for route in cloud.router.routes]
            ),
            ("GET", "/_local/queues"): lambda: HttpResponse.json(200, cloud.queues()),
            ("GET", "/_local/schedules"): lambda: HttpResponse.json(
                200, cloud.scheduler.listing() if cloud.scheduler else []
            ),
            ("GET", "/_local/mail"): lambda: _html(mail_html(cloud.mailbox.messages())),
            ("GET", "/_local/mail.json"): lambda: HttpResponse(
                200, [("content-type", "application/json")], mail_json(cloud.mailbox.messages())
            ),
            ("DELETE", "/_local/mail"): lambda: HttpResponse.json(200, {"deleted": cloud.mailbox.clear()}),
            ("GET", "/_local/faults"): lambda: HttpResponse.json(200, cloud.emulator.faults.stats()),
            ("PUT", "/_local/faults"): lambda: self.set_faults(request),
        }
        page = pages.get((method, path))
        if page is not None:
            return page()
        if method == "POST" and len(parts) == 4 and parts[0] == "schedules" and parts[3] == "fire":
            return self.fire(parts[1], parts[2])
        if method == "POST" and len(parts) == 3 and parts[0] == "functions" and parts[2] == "recycle":
            pool = cloud.pools.get(parts[1])
            if pool is None:
                return _not_found(f"no function {parts[1]}")
            return HttpResponse.json(200, {"function": parts[1], "retired": pool.recycle()})
        return _not_found()

    def set_faults(self, request: HttpRequest) -> HttpResponse:
        """``PUT /_local/faults`` with ``{"spec": "conflict:0.2,index-lag:1s"}`` (``""``: none)."""
        try:
            body = json.loads(request.body or b"{}")
            text = body["spec"] if isinstance(body, dict) else None
            if not isinstance(text, str):
                raise ValueError
        except (ValueError, KeyError):
            return HttpResponse.error(
                400,
                "VALIDATION_ERROR",
                'expected a JSON body {"spec": "conflict:0.2,throttle:0.1,index-lag:500ms"}',
            )
        try:
            spec = FaultSpec.parse(text)
        except FaultSpecError as exc:
            return HttpResponse.error(
                400, "VALIDATION_ERROR", str(exc), details=[{"field": "spec", "message": str(exc)}]
            )
        self.cloud.emulator.faults.configure(spec)
        self.cloud.console.line("faults", f"DynamoDB faults for the functions: {spec or 'none'}")
        return HttpResponse.json(200, self.cloud.emulator.faults.stats())

    def fire(self, function: str, event: str) -> HttpResponse:
        scheduler = self.cloud.scheduler
        entry = scheduler.get(function, event) if scheduler else None
        if scheduler is None or entry is None:
            known = [
                f"{item['function']}/{item['event']}" for item in (scheduler.listing() if scheduler else [])
            ]
            return HttpResponse.error(
                404,
                "NOT_FOUND",
                f"no schedule {function}/{event}",
                details=[{"schedule": name} for name in known],
            )
        outcome = scheduler.fire_now(function, event)
        body: dict[str, Any] = {
            "function": function,
            "event": event,
            "rule": entry.event.rule_name,
            "ok": outcome.ok,
            "requestId": outcome.request_id,
            "durationMs": round(outcome.duration_ms, 1),
        }
        body["result" if outcome.ok else "error"] = outcome.result if outcome.ok else outcome.error
        return HttpResponse.json(200, body)


#: What API Gateway (and so the local gateway) may answer for any operation, before or instead of
#: the function: the document declares them, so a client (and the fuzzing) knows every status.
GATEWAY_RESPONSES = {
    "413": "Body over the gateway's payload limit (PAYLOAD_TOO_LARGE)",
    "414": "Request line over the gateway's limit (URI_TOO_LONG)",
    "431": "Request headers over the gateway's limit (HEADERS_TOO_LARGE)",
    "500": "The function failed (INTERNAL_ERROR)",
    "503": "No answer within the integration timeout (SERVICE_UNAVAILABLE)",
}
_GATEWAY_ERROR_SCHEMA = {
    "type": "object",
    "title": "GatewayError",
    "required": ["error", "code"],
    "properties": {
        "error": {"type": "string"},
        "code": {"type": "string"},
        "details": {"type": "array", "items": {"type": "object"}},
        "requestId": {"type": "string"},
    },
}
_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def with_gateway_responses(document: dict[str, Any]) -> dict[str, Any]:
    """The merged document, with the gateway's own answers declared on every operation."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault("GatewayError", _GATEWAY_ERROR_SCHEMA)
    content = {"application/json": {"schema": {"$ref": "#/components/schemas/GatewayError"}}}
    for item in document.get("paths", {}).values():
        for method, operation in item.items():
            if method in _METHODS and isinstance(operation, dict):
                responses = operation.setdefault("responses", {})
                for status, description in GATEWAY_RESPONSES.items():
                    responses.setdefault(status, {"description": description, "content": content})
    return document


def _html(page: str) -> HttpResponse:
    return HttpResponse(200, [("content-type", "text/html; charset=utf-8")], page.encode())


def _route_json(route: Any) -> dict[str, Any]:
    return {"routeKey": route.route_key, "function": route.function, "event": route.event}


def _index_page(base: str) -> str:
    links = [
        ("/docs", "API docs (Swagger UI)"),
        ("/openapi.json", "merged OpenAPI document"),
        ("/_local/mail", "local mailbox"),
        ("/_local/health", "health, endpoints and resources (JSON)"),
        ("/_local/routes", "routes (JSON)"),
        ("/_local/queues", "queues and subscribers (JSON)"),
        ("/_local/schedules", "schedules (JSON)"),
        ("/_local/stats", "function instances (JSON)"),
    ]
    items = "".join(
        f'<li><a href="{href}">{html.escape(href)}</a>: {html.escape(text)}</li>' for href, text in links
    )
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Local cloud</title></head>'
        f"<body style='font-family:sans-serif;margin:2em'><h1>Local cloud</h1>"
        f"<p>Gateway at {html.escape(base)}</p><ul>{items}</ul></body></html>"
    )
