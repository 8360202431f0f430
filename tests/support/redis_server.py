"""Redis for tests: the shared server on 127.0.0.1:6379, and private servers a test may stop.

The shared server is the machine's (CI's ``.ci/run`` starts it when absent); tests use it only
under a key prefix of their own and delete their keys afterwards. A test that stops Redis starts
its own ``redis-server`` on a free port instead, so it never disturbs anyone else.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest

SHARED_URL = "redis://127.0.0.1:6379/0"


def answers(url: str, timeout: float = 0.5) -> bool:
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
    try:
        return bool(client.ping())
    except (redis.RedisError, OSError):
        return False
    finally:
        client.close()


def shared_redis_or_skip() -> str:
    """The shared server's URL; without one the test is skipped (and fails on CI, which starts it)."""
    if answers(SHARED_URL):
        return SHARED_URL
    reason = "no Redis answers on 127.0.0.1:6379 (.ci/run starts one; locally: redis-server --daemonize yes)"
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


def unique_prefix() -> str:
    return f"test:{uuid.uuid4().hex[:12]}:"


def delete_prefix(url: str, prefix: str) -> None:
    """Remove a test's keys (a SCAN of the test's own prefix, in test code only)."""
    import redis

    client = redis.Redis.from_url(url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}*", count=500))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class PrivateRedis:
    """A redis-server of one test, on its own port: ``stop()`` and ``start()`` it at will."""

    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.skip("redis-server is not installed")
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while not answers(self.url, timeout=0.2):
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError(f"redis-server did not start on port {self.port}")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None


@contextmanager
def private_redis() -> Iterator[PrivateRedis]:
    server = PrivateRedis()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def silent_server() -> Iterator[str]:
    """A TCP port that accepts connections and never answers: a Redis that is hung or too slow."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield f"redis://127.0.0.1:{sock.getsockname()[1]}/0"
