"""Integration fixtures: the local cloud as a real subprocess, driven over HTTP and boto3.

`local_cloud` (session) runs `python -m local` on the project's template.yaml with fast-test options:
a 2 s visibility timeout for every queue (retries and DLQ moves within seconds) and a one-minute
housekeeping schedule. `local_cloud_factory` starts more clouds (other templates, other options).
Each cloud's output is captured to a file and attached to the report of any test that fails.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 60.0

APP_CLOUD_ARGS = (
    "--sqs-visibility-override",
    "2",
    "--parameter-overrides",
    "HousekeepingSchedule=rate(1 minute)",
)

_RUNNING: list[LocalCloud] = []


def wait_until(condition: Callable[[], Any], timeout: float = 15, what: str = "condition") -> Any:
    """Poll ``condition`` until it returns something truthy (returned) or fail after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.1)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LocalCloud:
    """A running `python -m local`: its URLs, its resources, and helpers to talk to it."""

    base_url: str
    endpoint_url: str
    health: dict[str, Any]
    log_path: Path
    process: subprocess.Popen[bytes]
    http: httpx.Client = field(repr=False)

    # ------------------------------------------------------------------ resources

    def ref(self, logical_id: str) -> str:
        """The resolved `Ref` of a provisioned resource (table name, queue URL, secret ARN...)."""
        return str(self.health["resources"][logical_id]["ref"])

    def attribute(self, logical_id: str, name: str) -> str:
        return str(self.health["resources"][logical_id]["attributes"][name])

    @property
    def queue_urls(self) -> dict[str, str]:
        return {
            name: str(res["ref"])
            for name, res in self.health["resources"].items()
            if res["type"] == "AWS::SQS::Queue"
        }

    @property
    def table_name(self) -> str:
        tables = [
            res["ref"] for res in self.health["resources"].values() if res["type"] == "AWS::DynamoDB::Table"
        ]
        return str(tables[0])

    def client(self, service: str) -> Any:
        """A boto3 client for the cloud's emulator."""
        return boto3.client(
            service,  # type: ignore[call-overload]
            endpoint_url=self.endpoint_url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    # ------------------------------------------------------------------ HTTP

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.http.get(path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.http.post(path, **kwargs)

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return self.http.request(method, path, **kwargs)

    def stats(self, function: str) -> dict[str, Any]:
        return dict(self.get("/_local/stats").json()["functions"][function])

    # ------------------------------------------------------------------ mailbox

    def mail(self) -> list[dict[str, Any]]:
        """Every email the emulated SES accepted, oldest first (/_local/mail.json lists newest first)."""
        return list(reversed(self.get("/_local/mail.json").json()))

    def wait_for_mail(
        self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 20
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            found = [mail for mail in self.mail() if predicate(mail)]
            if found:
                return found[-1]
            if time.monotonic() > deadline:
                raise AssertionError(f"no matching email within {timeout} s; mailbox: {self.mail()}")
            time.sleep(0.2)

    # ------------------------------------------------------------------ process

    def output(self, tail: int | None = None) -> str:
        text = self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-tail:]) if tail else text

    def stop(self) -> int:
        """SIGTERM, as Ctrl-C would; returns the exit code."""
        self.http.close()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self in _RUNNING:
            _RUNNING.remove(self)
        return int(self.process.returncode)


def start_local_cloud(args: list[str], log_path: Path, *, port: int | None = None) -> LocalCloud:
    """Start `python -m local` and wait until /_local/health answers."""
    port = port or free_port()
    base_url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "local", "--port", str(port), "--no-reload", *args]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=dict(os.environ)
        )
    deadline = time.monotonic() + START_TIMEOUT
    health: dict[str, Any] | None = None
    while health is None:
        if process.poll() is not None or time.monotonic() > deadline:
            if process.poll() is None:
                process.kill()
                process.wait()
            output = log_path.read_text(encoding="utf-8", errors="replace")
            raise RuntimeError(f"the local cloud did not start ({' '.join(command)}):\n{output}")
        try:
            response = httpx.get(f"{base_url}/_local/health", timeout=2)
            if response.status_code == 200:
                health = response.json()
        except httpx.HTTPError:
            time.sleep(0.2)
    cloud = LocalCloud(
        base_url=base_url,
        endpoint_url=str(health["endpointUrl"]),
        health=health,
        log_path=log_path,
        process=process,
        http=httpx.Client(base_url=base_url, timeout=60),
    )
    _RUNNING.append(cloud)
    return cloud


@pytest.fixture(scope="session")
def local_cloud_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., LocalCloud]]:
    """Start a local cloud with the given command-line arguments; all are stopped at session end."""
    started: list[LocalCloud] = []

    def start(*args: str, name: str = "cloud") -> LocalCloud:
        log_path = tmp_path_factory.mktemp(name) / "local-cloud.log"
        cloud = start_local_cloud(list(args), log_path)
        started.append(cloud)
        return cloud

    yield start
    for cloud in started:
        cloud.stop()
    # Every function's log lines went to the clouds' output: none may hold a credential or a hash.
    from tests.support.identity import KNOWN_PASSWORDS
    from tests.support.plugin import find_secrets

    leaks = {str(cloud.log_path): find_secrets(cloud.output(), KNOWN_PASSWORDS) for cloud in started}
    leaks = {path: found for path, found in leaks.items() if found}
    if leaks:
        pytest.fail(f"secret material in the local cloud output: {leaks}")


@pytest.fixture(scope="session")
def local_cloud(local_cloud_factory: Callable[..., LocalCloud]) -> LocalCloud:
    """The project's template.yaml running locally, with fast retries and a one-minute schedule."""
    return local_cloud_factory(*APP_CLOUD_ARGS, name="app")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A failing test's report shows the output of the local clouds it used."""
    report = yield
    if report.failed:
        funcargs = getattr(item, "funcargs", {})
        used = [value for value in funcargs.values() if isinstance(value, LocalCloud)] or list(_RUNNING)
        for cloud in used:
            report.sections.append(
                (f"local cloud {cloud.base_url} ({cloud.log_path})", cloud.output(tail=300))
            )
    return report
