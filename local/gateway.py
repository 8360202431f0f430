"""The HTTP gateway: API Gateway HTTP API on loopback, plus the local cloud's own endpoints.

Template routes → payload 2.0 events → the function's instances → the function's response, with
API Gateway's own answers where it gives them: `404 {"message":"Not Found"}` when no route matches,
`500 {"message":"Internal Server Error"}` when the function fails (an exception, a timeout, a
malformed response), `503 {"message":"Service Unavailable"}` past the integration timeout (30 s,
waiting for a free instance included), and CORS handled from the HttpApi's CorsConfiguration.

Local endpoints: /_local (index), /_local/health, /_local/stats, /_local/routes, /_local/queues,
/_local/schedules (+ POST /_local/schedules/<Function>/<Event>/fire), /_local/mail(.json) (DELETE
clears it), POST /_local/functions/<Function>/recycle (fresh instances next time), /openapi.json
and /docs.
"""

from __future__ import annotations

import html
import sys
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from local.events import (
    HttpRequest,
    HttpResponse,
    MalformedResponse,
    http_event,
    http_response,
    new_api_request_id,
)
from local.mailbox import mail_html, mail_json
from local.openapi import docs_page, swagger_assets_dir

if TYPE_CHECKING:
    from local.cloud import LocalCloud
    from local.routes import RouteMatch

NOT_FOUND = {"message": "Not Found"}
INTERNAL_ERROR = {"message": "Internal Server Error"}
UNAVAILABLE = {"message": "Service Unavailable"}


class PortInUseError(OSError):
    def __init__(self, host: str, port: int) -> None:
        super().__init__(f"port {port} on {host} is already in use")
        self.host = host
        self.port = port


class Gateway:
    """Turns HTTP requests into responses (no sockets here: see GatewayServer)."""

    def __init__(self, cloud: LocalCloud) -> None:
        self.cloud = cloud
        self._assets = swagger_assets_dir()

    def handle(self, request: HttpRequest) -> HttpResponse:
        path = request.path
        if path == "/_local" or path.startswith("/_local/"):
            return self.local_endpoint(request)
        cors = self.cloud.cors
        if cors is not None and cors.is_preflight(request):
            return cors.preflight(request)
        match = self.cloud.router.match(request.method, path)
        if (match is None or match.route.path == "$default") and request.method in ("GET", "HEAD"):
            docs = self.docs_endpoint(path)
            if docs is not None:
                return docs
        if match is None:
            response = HttpResponse.json(404, NOT_FOUND, [("apigw-requestid", new_api_request_id())])
        else:
            response = self.invoke_route(request, match)
        return cors.apply(request, response) if cors is not None else response

    def invoke_route(self, request: HttpRequest, match: RouteMatch) -> HttpResponse:
        route = match.route
        request_id = new_api_request_id()
        event = http_event(request, match, request_id=request_id)
        budget = route.timeout_ms / 1000
        started = time.monotonic()
        outcome = self.cloud.invoke(route.function, event, queue_timeout=budget)
        elapsed = time.monotonic() - started
        extra = [("apigw-requestid", request_id)]
        if elapsed > budget or (outcome.error or {}).get("errorType") == "Local.QueueTimeout":
            response = HttpResponse.json(503, UNAVAILABLE, extra)
        elif not outcome.ok:
            response = HttpResponse.json(500, INTERNAL_ERROR, extra)
        else:
            try:
                response = http_response(outcome.result)
                response.headers.extend(extra)
            except MalformedResponse as exc:
                self.cloud.console.line(route.function, f"malformed HTTP API response: {exc}")
                response = HttpResponse.json(500, INTERNAL_ERROR, extra)
        self.cloud.console.line(
            "http",
            f"{request.method} {request.target} → {route.function} {response.status} ({elapsed * 1000:.0f} ms)",
        )
        return response

    # ------------------------------------------------------------------ /openapi.json, /docs

    def docs_endpoint(self, path: str) -> HttpResponse | None:
        if path == "/openapi.json":
            return HttpResponse.json(200, self.cloud.openapi())
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
        }
        page = pages.get((method, path))
        if page is not None:
            return page()
        if method == "POST" and len(parts) == 4 and parts[0] == "schedules" and parts[3] == "fire":
            return self.fire(parts[1], parts[2])
        if method == "POST" and len(parts) == 3 and parts[0] == "functions" and parts[2] == "recycle":
            pool = cloud.pools.get(parts[1])
            if pool is None:
                return HttpResponse.json(404, {"message": f"no function {parts[1]}"})
            return HttpResponse.json(200, {"function": parts[1], "retired": pool.recycle()})
        return HttpResponse.json(404, NOT_FOUND)

    def fire(self, function: str, event: str) -> HttpResponse:
        scheduler = self.cloud.scheduler
        entry = scheduler.get(function, event) if scheduler else None
        if scheduler is None or entry is None:
            known = [
                f"{item['function']}/{item['event']}" for item in (scheduler.listing() if scheduler else [])
            ]
            return HttpResponse.json(404, {"message": f"no schedule {function}/{event}", "schedules": known})
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


# ---------------------------------------------------------------------------------- the server


class GatewayServer(ThreadingHTTPServer):
    daemon_threads = True
    gateway: Gateway | None = None

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that hang up are not worth a traceback; anything else is."""
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError, TimeoutError)):
            super().handle_error(request, client_address)

    @classmethod
    def bind(cls, host: str, port: int) -> GatewayServer:
        """Bind now (a busy port fails here, before anything else starts)."""
        try:
            return cls((host, port), _Handler)
        except OSError as exc:
            if exc.errno in (98, 48, 10048):  # EADDRINUSE on Linux, macOS, Windows
                raise PortInUseError(host, port) from None
            raise


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "local-cloud"

    def version_string(self) -> str:
        return self.server_version

    timeout = 120
    server: GatewayServer

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("transfer-encoding") or "").lower():
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("content-length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _handle(self) -> None:
        gateway = self.server.gateway
        body = self._read_body()
        if gateway is None:
            response = HttpResponse.json(503, UNAVAILABLE)
        else:
            request = HttpRequest(
                method=self.command,
                target=self.path,
                headers=list(self.headers.items()),
                body=body,
                source_ip=self.client_address[0],
                protocol=self.request_version,
                port=self.server.server_address[1],
            )
            try:
                response = gateway.handle(request)
            except Exception as exc:  # noqa: BLE001 - a gateway bug answers 500, like API Gateway
                gateway.cloud.console.line("gateway", f"error handling {self.command} {self.path}: {exc!r}")
                response = HttpResponse.json(500, INTERNAL_ERROR)
        self.send_response(response.status)
        skip = {"content-length", "connection", "transfer-encoding", "date", "server"}
        for name, value in response.headers:
            if name.lower() not in skip:
                self.send_header(name, value)
        self.send_header("content-length", str(len(response.body)))
        try:
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(response.body)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up waiting
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _handle

    def log_message(self, format: str, *args: Any) -> None:
        """Requests are logged by the gateway with their function and timing instead."""
