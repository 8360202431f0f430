"""Load: concurrent requests through the local cloud (`python -m local`) on loopback, bounded.

The local cloud runs every function in its own processes (up to ``--max-instances`` per function),
behind its API Gateway emulation, against its embedded emulator, as `make dev` does. Only the
routes that exist are requested: each API function's sample events whose route the recording pass
found, as HTTP requests built from the events. A request is an error when it fails in transport,
answers 5xx, or answers another status than the same event did when recorded.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from local.emulator import AwsClients
from local.functions import load_functions
from local.provision import provision
from local.sample_identity import placeholders, render, seed_identity
from local.stack import Stack
from local.template import TEMPLATE_PATH

START_TIMEOUT = 90.0


@dataclass(frozen=True)
class Target:
    """One route to request: the sample event it comes from and the status it answered."""

    function: str
    name: str
    route: str
    event: dict[str, Any]  # with placeholders, rendered against the load cloud's own accounts
    expected_status: int


@dataclass
class RouteResult:
    route: str
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)

    @property
    def requests(self) -> int:
        return len(self.latencies_ms) + self.errors


@dataclass
class LoadResult:
    seconds: float
    concurrency: int
    max_instances: int
    routes: dict[str, RouteResult]
    error: str | None = None

    @property
    def requests(self) -> int:
        return sum(r.requests for r in self.routes.values())

    @property
    def errors(self) -> int:
        return sum(r.errors for r in self.routes.values())

    def percentile(self, q: float, route: str | None = None) -> float:
        values = sorted(
            ms for name, r in self.routes.items() if route in (None, name) for ms in r.latencies_ms
        )
        if not values:
            return float("nan")
        if len(values) == 1:
            return values[0]
        return float(statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _request_of(event: dict[str, Any]) -> tuple[str, str, dict[str, str], bytes]:
    http = event["requestContext"]["http"]
    path = quote(event.get("rawPath") or http["path"], safe="/%:@!$&'()*+,;=-._~")
    if event.get("rawQueryString"):
        path += "?" + event["rawQueryString"]
    headers = {
        k: v for k, v in (event.get("headers") or {}).items() if k.lower() not in ("host", "content-length")
    }
    if event.get("cookies"):
        headers["cookie"] = "; ".join(event["cookies"])
    body = event.get("body") or ""
    data = base64.b64decode(body) if event.get("isBase64Encoded") else str(body).encode()
    return http["method"], path, headers, data


class _Cloud:
    def __init__(self, max_instances: int, log: Path) -> None:
        self.port = _free_port()
        self.log = log
        with open(log, "wb") as output:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "local",
                    "--port",
                    str(self.port),
                    "--no-reload",
                    "--max-instances",
                    str(max_instances),
                ],
                cwd=TEMPLATE_PATH.parent,
                stdout=output,
                stderr=subprocess.STDOUT,
                env={k: v for k, v in os.environ.items() if k != "AWS_ENDPOINT_URL"},
            )
        self.health = self._wait()

    def _wait(self) -> dict[str, Any]:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                url = f"http://127.0.0.1:{self.port}/_local/health"
                with urllib.request.urlopen(url, timeout=2) as response:  # nosec B310  # http://127.0.0.1 URL built here
                    health: dict[str, Any] = json.load(response)
                    return health
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"the local cloud did not start:\n{self.log.read_text(errors='replace')[-3000:]}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _rendered(targets: Sequence[Target], endpoint: str) -> list[Target]:
    """The targets' events with placeholders filled from accounts seeded in this cloud's emulator."""
    if not any(placeholders(t.event) for t in targets):
        return list(targets)
    stack = Stack.from_file(TEMPLATE_PATH)
    provision(stack, AwsClients(endpoint), mode="ensure")
    functions = load_functions(stack)
    rendered = []
    for t in targets:  # accounts of its own for each target, as in the measurements
        event = (
            render(t.event, seed_identity(endpoint, functions[t.function].environment).values)
            if placeholders(t.event)
            else t.event
        )
        rendered.append(Target(t.function, t.name, t.route, event, t.expected_status))
    return rendered


def run_load(
    targets: Sequence[Target],
    *,
    seconds: float,
    concurrency: int,
    max_instances: int,
    max_requests: int,
) -> LoadResult:
    """``concurrency`` clients, each sending the targets round-robin, for ``seconds`` (or until
    ``max_requests`` in all), through a local cloud started for the purpose."""
    routes = {t.route: RouteResult(t.route) for t in targets}
    if not targets:
        return LoadResult(0.0, concurrency, max_instances, routes, error="no route exists yet")
    with tempfile.TemporaryDirectory() as tmp:
        try:
            cloud = _Cloud(max_instances, Path(tmp) / "local-cloud.log")
        except RuntimeError as exc:
            return LoadResult(0.0, concurrency, max_instances, routes, error=str(exc))
        try:
            ready = _rendered(targets, str(cloud.health["endpointUrl"]))
            requests = [(t, _request_of(t.event)) for t in ready]
            for _target, request in requests:  # every function's first instance: cold, not counted
                _send(cloud.port, request)
            lock = threading.Lock()
            budget = [max_requests]
            deadline = time.monotonic() + seconds

            def client(offset: int) -> None:
                connection = http.client.HTTPConnection("127.0.0.1", cloud.port, timeout=30)
                index = offset
                while time.monotonic() < deadline:
                    with lock:
                        if budget[0] <= 0:
                            return
                        budget[0] -= 1
                    target, request = requests[index % len(requests)]
                    index += 1
                    started = time.perf_counter()
                    try:
                        status = _send(cloud.port, request, connection)
                        problem = None if status == target.expected_status else f"status {status}"
                    except (OSError, http.client.HTTPException) as exc:
                        problem = f"{type(exc).__name__}: {exc}"
                        connection.close()
                        connection = http.client.HTTPConnection("127.0.0.1", cloud.port, timeout=30)
                    elapsed = (time.perf_counter() - started) * 1000
                    with lock:
                        result = routes[target.route]
                        if problem is None:
                            result.latencies_ms.append(elapsed)
                        else:
                            result.errors += 1
                            if len(result.error_samples) < 3:
                                result.error_samples.append(problem)
                connection.close()

            started = time.monotonic()
            threads = [threading.Thread(target=client, args=(n,)) for n in range(concurrency)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            elapsed = time.monotonic() - started
        finally:
            cloud.stop()
    return LoadResult(elapsed, concurrency, max_instances, routes)


def _send(
    port: int,
    request: tuple[str, str, dict[str, str], bytes],
    connection: http.client.HTTPConnection | None = None,
) -> int:
    own = connection is None
    connection = connection or http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    method, path, headers, body = request
    try:
        connection.request(method, path, body=body or None, headers=headers)
        response = connection.getresponse()
        response.read()
        return int(response.status)
    finally:
        if own:
            connection.close()
