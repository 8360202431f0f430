"""A cluster-mode Redis for tests: one ``redis-server --cluster-enabled yes`` node holding every slot.

ElastiCache Serverless is a cluster-mode endpoint: a command naming keys of different hash slots is
refused with ``CROSSSLOT`` even when one node holds both slots. A single node that holds all 16384
slots is enough to meet that refusal, and ``RedisCluster`` works against it as against a cluster.

``.ci/run`` starts such a node on 127.0.0.1:7001 (as it starts the single-node server on 6379); a
session that finds it uses it, else it starts a private one on a free port for the session (so two
test sessions on one machine never stop each other's server). Without ``redis-server`` the tests
that need it are skipped, or fail on CI.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.support.redis_server import free_port

#: Where .ci/run starts the cluster-mode node.
CI_PORT = 7001
ALL_SLOTS = (0, 16383)


def url_of(port: int) -> str:
    return f"redis://127.0.0.1:{port}/0"


def is_ready_cluster_node(port: int, timeout: float = 0.5) -> bool:
    """True when a cluster-mode node answers on ``port`` and the cluster's state is ``ok``."""
    import redis

    client = redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=timeout, socket_timeout=timeout)
    try:
        info = client.execute_command("CLUSTER", "INFO")
    except (redis.RedisError, OSError):
        return False
    finally:
        client.close()
    text = info.decode() if isinstance(info, bytes) else str(info)
    return "cluster_state:ok" in text


@contextmanager
def started_cluster_node(port: int) -> Iterator[str]:
    """Start a one-node cluster on ``port`` (its config file in a temporary folder), give it every
    slot, and stop it on exit."""
    binary = shutil.which("redis-server")
    if binary is None:
        reason = "redis-server is not installed: the cluster-mode Redis tests need it"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    import redis

    with tempfile.TemporaryDirectory(prefix="redis-cluster-") as folder:
        process = subprocess.Popen(
            [
                binary,
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                folder,
                "--cluster-enabled",
                "yes",
                "--cluster-config-file",
                str(Path(folder) / "nodes.conf"),
                # the cluster bus: port + 10000 by default, which a high free port cannot have
                "--cluster-port",
                str(free_port()),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            client = redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=0.2, socket_timeout=1)
            deadline = time.monotonic() + 10
            while True:
                try:
                    client.execute_command("CLUSTER", "ADDSLOTSRANGE", *ALL_SLOTS)
                    break
                except (redis.ConnectionError, OSError):
                    if time.monotonic() > deadline or process.poll() is not None:
                        raise RuntimeError(
                            f"cluster-mode redis-server did not start on port {port}"
                        ) from None
                    time.sleep(0.05)
            client.close()
            while not is_ready_cluster_node(port, timeout=0.2):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the one-node cluster on port {port} did not reach cluster_state:ok")
                time.sleep(0.05)
            yield url_of(port)
        finally:
            process.terminate()
            process.wait(timeout=10)


@pytest.fixture(scope="session")
def redis_cluster_url() -> Iterator[str]:
    """The URL of a cluster-mode node holding every slot (CI's on 7001, else a private one)."""
    if is_ready_cluster_node(CI_PORT):
        yield url_of(CI_PORT)
        return
    with started_cluster_node(free_port()) as url:
        yield url
