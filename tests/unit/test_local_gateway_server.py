"""The gateway's HTTP layer over raw sockets: framing, limits, keep-alive, its own error replies.

Whatever a client sends, it gets an HTTP reply (never a dropped connection), every reply carries
the security headers, and every error the gateway gives itself is the API's envelope
``{"error", "code", "requestId"}``. A stub stands in for the gateway logic (no cloud needed).
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from backend.http.headers import SECURITY_HEADERS
from local.console import Console
from local.events import HttpRequest, HttpResponse
from local.gateway import GatewayServer


@dataclass
class _Cloud:
    console: Console


@dataclass
class StubGateway:
    """Answers /echo with what it received, /boom by raising, anything else with a small JSON body."""

    cloud: _Cloud
    seen: list[HttpRequest] = field(default_factory=list)

    def handle(self, request: HttpRequest) -> HttpResponse:
        self.seen.append(request)
        if request.path == "/boom":
            raise RuntimeError("gateway bug")
        if request.path.startswith("/echo"):
            return HttpResponse.json(
                200,
                {
                    "method": request.method,
                    "target": request.target,
                    "body": request.body.decode("latin-1"),
                    "headers": request.headers,
                },
            )
        return HttpResponse(
            200, [("content-type", "application/json"), ("x-frame-options", "SAMEORIGIN")], b'{"ok":true}'
        )


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, StubGateway]]:
    log = (tmp_path_factory.mktemp("gateway") / "console.log").open("w+", encoding="utf-8")
    gateway = StubGateway(_Cloud(Console(log)))
    http = GatewayServer.bind("127.0.0.1", 0)
    http.gateway = gateway
    thread = threading.Thread(target=lambda: http.serve_forever(poll_interval=0.05), daemon=True)
    thread.start()
    yield http.server_address[1], gateway
    http.shutdown()
    http.server_close()
    thread.join(timeout=10)
    log.close()


def read_reply(sock: socket.socket, *, head_only: bool = False) -> Reply:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"the connection was dropped without a reply (got {data!r})"
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers: dict[str, str] = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = 0 if head_only else int(headers.get("content-length", "0"))
    while len(rest) < length:
        chunk = sock.recv(65536)
        assert chunk, "the connection was dropped in the middle of the body"
        rest += chunk
    return Reply(int(status_line.split(" ")[1]), headers, rest[:length])


def exchange(port: int, data: bytes, *, head_only: bool = False) -> Reply:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(data)
        return read_reply(sock, head_only=head_only)


def assert_secure(reply: Reply) -> None:
    for name, value in SECURITY_HEADERS:
        assert name in reply.headers, f"{name} missing from {reply.headers}"
        if name != "content-security-policy":
            assert reply.headers[name] == value or name == "x-frame-options"


def assert_envelope(reply: Reply, status: int, code: str) -> dict[str, Any]:
    assert reply.status == status, reply
    assert reply.headers["content-type"].startswith("application/json")
    body = reply.json()
    assert set(body) == {"error", "code", "requestId"}, body
    assert body["code"] == code
    assert body["error"]
    assert body["requestId"]
    assert_secure(reply)
    return dict(body)


# ------------------------------------------------------------------------------ malformed framing


def test_a_bad_chunk_size_is_a_400_envelope(server: tuple[int, StubGateway]) -> None:
    port, _ = server
    request = (
        b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n"
    )
    assert_envelope(exchange(port, request), 400, "BAD_REQUEST")


@pytest.mark.parametrize("length", [b"abc", b"-1", b"1, 2", b"0x10"])
def test_a_non_numeric_content_length_is_a_400_envelope(
    server: tuple[int, StubGateway], length: bytes
) -> None:
    port, _ = server
    request = b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: " + length + b"\r\n\r\n{}"
    assert_envelope(exchange(port, request), 400, "BAD_REQUEST")


def test_an_over_long_request_line_is_a_414_envelope(server: tuple[int, StubGateway]) -> None:
    port, _ = server
    request = b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"
    assert_envelope(exchange(port, request), 414, "URI_TOO_LONG")


def test_huge_headers_are_a_431_envelope(server: tuple[int, StubGateway]) -> None:
    port, _ = server
    headers = b"".join(b"X-Filler-%d: %s\r\n" % (index, b"v" * 1000) for index in range(100))
    request = b"GET /echo HTTP/1.1\r\nHost: x\r\n" + headers + b"\r\n"
    assert_envelope(exchange(port, request), 431, "HEADERS_TOO_LARGE")


def test_an_unsupported_transfer_coding_is_a_400_envelope_not_a_5xx(server: tuple[int, StubGateway]) -> None:
    port, _ = server
    request = b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n"
    assert_envelope(exchange(port, request), 400, "BAD_REQUEST")


@pytest.mark.parametrize(
    "request_line",
    [
        b"GET /caf\xc3\xa9 HTTP/1.1",  # raw non-ASCII in the target (uvicorn cannot decode it)
        b"GET /echo?q=\x1b[31m HTTP/1.1",  # a raw control character in the target
        b"GET  HTTP/1.1",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",  # a TLS ClientHello on the plain port
    ],
)
def test_garbage_request_lines_get_a_400_envelope(
    server: tuple[int, StubGateway], request_line: bytes
) -> None:
    port, _ = server
    reply = exchange(port, request_line + b"\r\nHost: x\r\n\r\n")
    assert_envelope(reply, 400, "BAD_REQUEST")


def test_a_missing_host_header_is_a_400_envelope(server: tuple[int, StubGateway]) -> None:
    port, _ = server
    assert_envelope(exchange(port, b"GET /echo HTTP/1.1\r\n\r\n"), 400, "BAD_REQUEST")


def test_a_body_over_the_limit_is_a_413_envelope(server: tuple[int, StubGateway]) -> None:
    port, gateway = server
    before = len(gateway.seen)
    request = b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 999999999\r\n\r\n"
    assert_envelope(exchange(port, request), 413, "PAYLOAD_TOO_LARGE")
    assert len(gateway.seen) == before  # never handed to a function


# ------------------------------------------------------------------------------ well-formed requests


def test_chunked_bodies_are_reassembled(server: tuple[int, StubGateway]) -> None:
    port, _ = server
    request = (
        b"POST /echo?x=1 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"3;ext=1\r\nabc\r\n4\r\ndefg\r\n0\r\nTrailer: t\r\n\r\n"
    )
    reply = exchange(port, request)
    assert reply.status == 200
    assert reply.json()["body"] == "abcdefg"
    assert reply.json()["target"] == "/echo?x=1"
    assert_secure(reply)


def test_keep_alive_serves_several_requests_on_one_connection(server: tuple[int, StubGateway]) -> None:
    port, _ = server
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        for index in range(3):
            sock.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\n%d" % index)
            reply = read_reply(sock)
            assert reply.json()["body"] == str(index)


def test_head_has_the_get_headers_and_no_body(server: tuple[int, StubGateway]) -> None:
    port, _ = server
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"HEAD /anything HTTP/1.1\r\nHost: x\r\n\r\n")
        head = read_reply(sock, head_only=True)
        sock.sendall(b"GET /anything HTTP/1.1\r\nHost: x\r\n\r\n")
        get = read_reply(sock)  # answered on the same connection: the HEAD reply had no body
    assert head.status == get.status == 200
    assert head.headers["content-length"] == get.headers["content-length"] == str(len(get.body))
    assert get.body == b'{"ok":true}'


def test_a_gateway_failure_is_a_500_envelope_logged_without_query_values(
    server: tuple[int, StubGateway],
) -> None:
    port, gateway = server
    reply = exchange(port, b"GET /boom?password=hunter2 HTTP/1.1\r\nHost: x\r\n\r\n")
    assert_envelope(reply, 500, "INTERNAL_ERROR")
    with open(gateway.cloud.console.stream.name, encoding="utf-8") as log:
        text = log.read()
    assert "error handling GET /boom?password=[REDACTED]: RuntimeError('gateway bug')" in text
    assert "hunter2" not in text


def test_security_headers_are_added_without_overriding_the_replys_own(
    server: tuple[int, StubGateway],
) -> None:
    port, _ = server
    reply = exchange(port, b"GET /anything HTTP/1.1\r\nHost: x\r\n\r\n")
    assert_secure(reply)
    assert reply.headers["x-frame-options"] == "SAMEORIGIN"  # the function's own value wins
    assert reply.headers["cache-control"] == "no-store"


def test_the_target_and_headers_reach_the_handler_as_sent(server: tuple[int, StubGateway]) -> None:
    port, _ = server
    reply = exchange(
        port, b"GET /echo/%1b%5B31m?q=%1b[31m&password=x HTTP/1.1\r\nHost: x\r\nX-Custom: One\r\n\r\n"
    )
    assert reply.status == 200
    body = reply.json()
    assert body["target"] == "/echo/%1b%5B31m?q=%1b[31m&password=x"
    assert ["x-custom", "One"] in body["headers"]


def test_an_absolute_form_target_is_reduced_to_its_path(server: tuple[int, StubGateway]) -> None:
    port, _ = server
    reply = exchange(port, b"GET http://x/echo?a=1 HTTP/1.1\r\nHost: x\r\n\r\n")
    assert reply.json()["target"] == "/echo?a=1"


@pytest.mark.parametrize("method", ["TRACE", "BREW", "PROPFIND"])
def test_any_method_reaches_the_routes_never_a_5xx(server: tuple[int, StubGateway], method: str) -> None:
    port, _ = server
    reply = exchange(port, f"{method} /echo HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    assert reply.status == 200
    assert reply.json()["method"] == method
