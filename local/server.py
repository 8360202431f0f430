"""The gateway's HTTP server: uvicorn (h11) in a thread, under a small Starlette app.

uvicorn and h11 do the HTTP/1.1 work (framing, chunked bodies, keep-alive, pipelining, size
limits). What is ours:

- ``GatewayProtocol`` (uvicorn's h11 protocol) answers what h11 refuses, and what uvicorn itself
  would drop, in the envelope with the security headers: malformed framing → 400, request line
  over the head limit → 414, headers over it → 431, a transfer coding other than chunked → 400
  (RFC 9112 suggests 501, but no input may give a 5xx), a request target uvicorn cannot decode → 400. After such a reply it half-closes and drains what
  the client is still sending for a moment (a lingering close), so the client reads the reply
  instead of a connection reset.
- The Starlette app reads the body (413 past ``MAX_BODY_BYTES`` — API Gateway's payload limit),
  hands an ``HttpRequest`` to the gateway logic on a worker thread (it blocks while a function
  runs) and writes its ``HttpResponse``, adding the security headers the reply lacks.
"""

from __future__ import annotations

import asyncio
import http
import logging
import socket
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol
from urllib.parse import urlsplit

import h11
import uvicorn
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.types import Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from local.console import Console, safe_target
from local.events import HttpRequest, HttpResponse, new_api_request_id

#: API Gateway's payload limit (10 MB); bigger bodies are answered 413 before any function runs.
MAX_BODY_BYTES = 10 * 1024 * 1024
#: Request line plus headers. A request line alone over it is 414, headers over it 431.
MAX_HEAD_BYTES = 16 * 1024
#: How long a connection answered with a framing error keeps draining the client's data.
LINGER_SECONDS = 2.0

# Framing errors the gateway answers itself: status → (code, message).
_FRAMING_ERRORS: dict[int, tuple[str, str]] = {
    400: ("BAD_REQUEST", "Malformed HTTP request"),
    413: ("PAYLOAD_TOO_LARGE", f"Request body exceeds {MAX_BODY_BYTES} bytes"),
    414: ("URI_TOO_LONG", f"Request line exceeds {MAX_HEAD_BYTES} bytes"),
    431: ("HEADERS_TOO_LARGE", f"Request headers exceed {MAX_HEAD_BYTES} bytes"),
}
_NO_BODY_STATUSES = frozenset({204, 304})
_HOP_BY_HOP = frozenset({"content-length", "connection", "transfer-encoding", "keep-alive", "date", "server"})


class PortInUseError(OSError):
    def __init__(self, host: str, port: int) -> None:
        super().__init__(f"port {port} on {host} is already in use")
        self.host = host
        self.port = port


class _Cloud(Protocol):
    @property
    def console(self) -> Console: ...


class Handler(Protocol):
    """What the server serves: the gateway logic (local.gateway.Gateway), or a stand-in in tests."""

    @property
    def cloud(self) -> _Cloud: ...

    def handle(self, request: HttpRequest) -> HttpResponse: ...


def framing_error(status: int, *, request_id: str | None = None) -> HttpResponse:
    code, message = _FRAMING_ERRORS.get(status, _FRAMING_ERRORS[400])
    return secure(HttpResponse.error(status, code, message, request_id=request_id))


def secure(response: HttpResponse, *, content_security_policy: str | None = None) -> HttpResponse:
    """Add the security headers (and ``Cache-Control: no-store``) the response does not set itself."""
    from backend.http.headers import SECURITY_HEADERS

    present = {name.lower() for name, _ in response.headers}
    for name, value in SECURITY_HEADERS:
        if name not in present:
            own = content_security_policy if name == "content-security-policy" else None
            response.headers.append((name, own or value))
    if "cache-control" not in present:
        response.headers.append(("cache-control", "no-store"))
    return response


def _wire_headers(response: HttpResponse, *, body_length: int) -> list[tuple[bytes, bytes]]:
    headers = [
        (name.encode("latin-1"), value.encode("latin-1", "replace"))
        for name, value in response.headers
        if name.lower() not in _HOP_BY_HOP
    ]
    if response.status not in _NO_BODY_STATUSES:
        headers.append((b"content-length", str(body_length).encode()))
    return headers


# ---------------------------------------------------------------------------------- the protocol


class GatewayProtocol(H11Protocol):
    """uvicorn's h11 protocol, with the gateway's replies for what h11 or uvicorn cannot handle."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head = bytearray()  # the current request's head, while h11 waits for it
        self._lingering = False

    def data_received(self, data: bytes) -> None:
        if self._lingering:
            return  # draining after an error reply
        if self.conn.their_state is h11.IDLE:
            if len(self._head) <= MAX_HEAD_BYTES:
                self._head += data[: MAX_HEAD_BYTES + 1 - len(self._head)]
        else:
            self._head.clear()
        super().data_received(data)

    def handle_events(self) -> None:
        try:
            super().handle_events()
        except Exception as exc:  # noqa: BLE001 - e.g. a request target uvicorn cannot decode: still answer
            self._log(f"malformed request: {exc!r}")
            self._reply_and_linger(400)

    def send_400_response(self, msg: str) -> None:
        """uvicorn calls this inside its ``except h11.RemoteProtocolError``: the error tells the status."""
        error = sys.exc_info()[1]
        status = getattr(error, "error_status_hint", 400)
        if status >= 500:  # h11 hints 501 for a transfer coding it does not know: still the client's fault
            status = 400
        if status == 431 and b"\n" not in self._head and len(self._head) > MAX_HEAD_BYTES:
            status = 414  # the request line alone is over the limit
        self._log(f"malformed request: {error or msg} → {status}")
        self._reply_and_linger(status)

    def _reply_and_linger(self, status: int) -> None:
        cycle = self.cycle
        if cycle is not None and cycle.response_started and not cycle.response_complete:
            self.transport.close()  # a reply is half-sent: nothing valid can follow it
            return
        if cycle is not None:  # the app (if any) sees a disconnect and sends nothing
            cycle.disconnected = True
            cycle.message_event.set()
        response = framing_error(status)
        lines = [f"HTTP/1.1 {status} {http.HTTPStatus(status).phrase}".encode()]
        for name, value in [
            *_wire_headers(response, body_length=len(response.body)),
            (b"connection", b"close"),
        ]:
            lines.append(name + b": " + value)
        self.transport.write(b"\r\n".join(lines) + b"\r\n\r\n" + response.body)
        self._lingering = True
        if self.transport.can_write_eof():
            self.transport.write_eof()
        if not self.transport.is_reading():
            self.transport.resume_reading()
        self.loop.call_later(LINGER_SECONDS, self.transport.close)

    def eof_received(self) -> None:
        if self._lingering:
            self.transport.close()

    def _log(self, text: str) -> None:
        logging.getLogger("uvicorn.error").warning("%s", text)


# ---------------------------------------------------------------------------------- the app


class _Endpoint:
    """Every request, whatever its path: read it, hand it to the gateway logic, write the reply."""

    def __init__(self, server: GatewayServer) -> None:
        self.server = server

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        request_id = new_api_request_id()
        method = str(scope["method"])
        oversized = _oversized_head(scope)
        if oversized is not None:  # h11 limits only heads that arrive in pieces; this, every head
            await self._send(scope, send, framing_error(oversized, request_id=request_id))
            return
        try:
            body = await self._read_body(scope, receive)
        except ClientDisconnect:
            return  # nobody to answer (or the protocol answered a framing error already)
        if body is None:
            response = framing_error(413, request_id=request_id)
        else:  # any method: the routes decide (the $default route's app answers 405 with Allow)
            response = await self._handle(scope, method, body, request_id)
        await self._send(scope, send, response)

    async def _read_body(self, scope: Scope, receive: Receive) -> bytes | None:
        """The whole body, or None when it is over the limit (declared, or as it arrives)."""
        request = Request(scope, receive)
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
            return None
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY_BYTES:
                return None
        return bytes(body)

    async def _handle(self, scope: Scope, method: str, body: bytes, request_id: str) -> HttpResponse:
        gateway = self.server.gateway
        if gateway is None:
            return secure(HttpResponse.error(503, "SERVICE_UNAVAILABLE", "Starting", request_id=request_id))
        target = _target(scope)
        request = HttpRequest(
            method=method,
            target=target,
            headers=[(name.decode("latin-1"), value.decode("latin-1")) for name, value in scope["headers"]],
            body=body,
            source_ip=(scope.get("client") or ("127.0.0.1", 0))[0],
            protocol=f"HTTP/{scope.get('http_version', '1.1')}",
            port=self.server.port,
        )
        loop = asyncio.get_running_loop()
        try:
            response = await loop.run_in_executor(self.server.executor, gateway.handle, request)
        except Exception as exc:  # noqa: BLE001 - a gateway bug answers 500, like API Gateway
            gateway.cloud.console.line("gateway", f"error handling {method} {safe_target(target)}: {exc!r}")
            response = HttpResponse.error(
                500, "INTERNAL_ERROR", "Internal Server Error", request_id=request_id
            )
        return secure(response)

    @staticmethod
    async def _send(scope: Scope, send: Send, response: HttpResponse) -> None:
        body = b"" if response.status in _NO_BODY_STATUSES else response.body
        declared = response.header("content-length")
        length = len(body)
        if scope["method"] == "HEAD" and not body and declared and declared.isdigit():
            length = int(declared)  # a function's answer to HEAD: the length GET would have
        headers = _wire_headers(response, body_length=length)
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})


def _oversized_head(scope: Scope) -> int | None:
    """414 when the request line alone is over ``MAX_HEAD_BYTES``, 431 when line and headers are."""
    target = len(scope.get("raw_path") or b"") + len(scope.get("query_string") or b"") + 1
    line = len(scope["method"]) + target + len(" HTTP/1.1\r\n") + 1
    if line > MAX_HEAD_BYTES:
        return 414
    if line + sum(len(name) + len(value) + 4 for name, value in scope["headers"]) > MAX_HEAD_BYTES:
        return 431
    return None


def _target(scope: Scope) -> str:
    """The request target as sent (origin form; an absolute-form target is reduced to it)."""
    raw_path = bytes(scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
    if raw_path.startswith(("http://", "https://")):
        parts = urlsplit(raw_path)
        raw_path = parts.path or "/"
    query = bytes(scope.get("query_string") or b"").decode("latin-1")
    return f"{raw_path}?{query}" if query else raw_path


async def _internal_error(request: Request, exc: Exception) -> Any:
    """Starlette's last resort (the endpoint catches what it can): the envelope, not a text page."""
    from starlette.responses import Response

    response = secure(HttpResponse.error(500, "INTERNAL_ERROR", "Internal Server Error"))
    return Response(response.body, status_code=500, headers=dict(response.headers))


def asgi_app(server: GatewayServer) -> Starlette:
    app = Starlette(exception_handlers={Exception: _internal_error})
    # No routes: every request, whatever its path (even one a route pattern would not match), goes
    # to the endpoint; routing is the gateway's (API Gateway's rules), not Starlette's.
    app.router.default = _Endpoint(server)
    return app


# ---------------------------------------------------------------------------------- the server


class _ConsoleLogHandler(logging.Handler):
    def __init__(self, server: GatewayServer) -> None:
        super().__init__(logging.WARNING)
        self.server = server

    def emit(self, record: logging.LogRecord) -> None:
        gateway = self.server.gateway
        if record.msg == "Invalid HTTP request received.":  # GatewayProtocol logs the details
            return
        if gateway is not None:
            gateway.cloud.console.line("gateway", record.getMessage())


class GatewayServer:
    """A bound socket, served by uvicorn in a thread once ``serve_forever`` runs."""

    gateway: Handler | None

    def __init__(self, sock: socket.socket) -> None:
        self.socket = sock
        self.server_address: tuple[str, int] = sock.getsockname()[:2]
        self.port = self.server_address[1]
        self.gateway = None
        self.executor = ThreadPoolExecutor(max_workers=64, thread_name_prefix="gateway")
        config = uvicorn.Config(
            asgi_app(self),
            http=GatewayProtocol,
            ws="none",
            lifespan="off",
            log_config=None,
            access_log=False,
            server_header=False,
            headers=[("server", "local-cloud")],
            h11_max_incomplete_event_size=MAX_HEAD_BYTES,
            timeout_keep_alive=30,
            timeout_graceful_shutdown=2,
        )
        self._uvicorn = uvicorn.Server(config)
        self._stopped = threading.Event()
        _route_uvicorn_logs(self)

    @classmethod
    def bind(cls, host: str, port: int) -> GatewayServer:
        """Bind now (a busy port fails here, before anything else starts)."""
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            sock.close()
            if exc.errno in (98, 48, 10048):  # EADDRINUSE on Linux, macOS, Windows
                raise PortInUseError(host, port) from None
            raise
        sock.listen(128)
        return cls(sock)

    def serve_forever(self, poll_interval: float = 0.1) -> None:
        """Serve until ``shutdown`` (blocks: run it in a thread)."""
        try:
            self._uvicorn.run(sockets=[self.socket])
        finally:
            self._stopped.set()

    def shutdown(self) -> None:
        """Stop serving (in-flight requests get a moment to finish) and wait for the server thread."""
        self._uvicorn.should_exit = True
        self._stopped.wait(timeout=10)

    def server_close(self) -> None:
        self.socket.close()
        self.executor.shutdown(wait=False, cancel_futures=True)


_LOG_HANDLERS: dict[str, logging.Handler] = {}


def _route_uvicorn_logs(server: GatewayServer) -> None:
    """uvicorn's warnings (malformed requests...) go to the console of the latest server."""
    logger = logging.getLogger("uvicorn.error")
    previous = _LOG_HANDLERS.pop("uvicorn.error", None)
    if previous is not None:
        logger.removeHandler(previous)
    handler = _ConsoleLogHandler(server)
    logger.addHandler(handler)
    logger.propagate = False
    _LOG_HANDLERS["uvicorn.error"] = handler
