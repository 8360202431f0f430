"""Environment files for `sam local invoke` / `sam local start-api` against a running local cloud.

SAM CLI runs each function in a Docker container and takes variable values from `--env-vars FILE`,
a JSON object keyed by function logical id. `python -m local invoke-env` writes one from the local
cloud's own code: for every function, the environment the local cloud gives its function processes
(`instance_environment`: the template's Globals and own variables resolved against the running
cloud's resources and parameters, then the endpoint, the fake credentials and the region), without
what only describes this machine (paths, the handler, the variables the Lambda container sets
itself), and with the emulator (and a loopback read cache) addressed as a container reaches it:
`host.docker.internal` by default.

SAM applies an `--env-vars` value only to a variable the template declares for that function, so
the variables every function gets from the local cloud and the template does not declare
(`AWS_ENDPOINT_URL`, the credentials, the region…) are also written to a flat file for
`--container-env-vars`, which SAM puts in every container (it reads that file in debug mode only,
that is with `--debug-port`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from local.cache_probe import PARAMETER as CACHE_URL_PARAMETER
from local.functions import load_functions
from local.instances import instance_environment
from local.stack import PhysicalResource, Stack

DEFAULT_OUT = Path(".aws-sam/env.json")
DEFAULT_CONTAINER_OUT = Path(".aws-sam/container-env.json")
DEFAULT_ENDPOINT_HOST = "host.docker.internal"
"""How a container reaches the machine that runs it (Docker Desktop; on Linux, `--add-host`)."""

_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
# What instance_environment adds that only fits a process on this machine, or that the Lambda
# container sets itself (AWS_LAMBDA_* too); a variable the template declares is always kept.
MACHINE_ONLY = frozenset(
    {
        "PATH",
        "HOME",
        "LANG",
        "LC_ALL",
        "LC_CTYPE",
        "TMPDIR",
        "TEMP",
        "TMP",
        "SYSTEMROOT",
        "PYTHONPATH",
        "PYTHONUNBUFFERED",
        "PYTHONDONTWRITEBYTECODE",
        "AWS_REQUEST_LOG_DIR",
        "LAMBDA_TASK_ROOT",
        "_HANDLER",
        "TZ",
        "AWS_EXECUTION_ENV",
    }
)


@dataclass(frozen=True)
class InvokeEnv:
    """The two files: `functions` for `--env-vars`, `container` for `--container-env-vars`."""

    functions: dict[str, dict[str, str]]
    container: dict[str, str]
    endpoint_url: str
    """The emulator as the containers reach it."""


def attached_stack(template: Path, overrides: Mapping[str, str], running: Mapping[str, Any]) -> Stack:
    """The template with the running cloud's resources (its `/_local/health` document), read-only:
    `Ref`/`GetAtt` give the tables, queues, secrets and parameters that cloud provisioned."""
    stack = Stack.from_file(template, overrides)
    for logical_id, resource in (running.get("resources") or {}).items():
        stack.record(
            PhysicalResource(
                str(logical_id),
                str(resource.get("type")),
                resource.get("ref"),
                dict(resource.get("attributes") or {}),
            )
        )
    return stack


def container_address(url: str, host: str) -> str:
    """`url` with its host replaced by `host` (scheme, port and path kept)."""
    parts = urlsplit(url)
    netloc = f"[{host}]" if ":" in host else host
    if parts.port is not None:
        netloc = f"{netloc}:{parts.port}"
    return parts._replace(netloc=netloc).geturl()


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _loopback_services(stack: Stack, endpoint_url: str) -> list[str]:
    """The origins of what the local cloud serves its functions on loopback: the emulator, and the
    read cache when `CacheUrl` points at this machine (a Redis the local cloud found)."""
    origins = [_origin(endpoint_url)]
    cache_url = str(stack.parameters.get(CACHE_URL_PARAMETER) or "")
    if cache_url and urlsplit(cache_url).hostname in _LOOPBACK:
        origins.append(_origin(cache_url))
    return origins


def build(stack: Stack, endpoint_url: str, *, endpoint_host: str = DEFAULT_ENDPOINT_HOST) -> InvokeEnv:
    """Every function's environment as a container gets it, the emulator at `endpoint_url` being
    reached at `endpoint_host` (its port kept)."""
    replacements = {
        origin: container_address(origin, endpoint_host) for origin in _loopback_services(stack, endpoint_url)
    }
    pattern = re.compile("|".join(f"{re.escape(origin)}(?=[/,?]|$)" for origin in replacements))

    def rehost(value: str) -> str:
        return pattern.sub(lambda match: replacements[match.group(0)], value)

    functions: dict[str, dict[str, str]] = {}
    declared: set[str] = set()
    for logical_id, spec in load_functions(stack).items():
        # base={}: nothing of this shell's environment, exactly the local cloud's own variables
        env = instance_environment(spec, endpoint_url, region=stack.region, base={})
        functions[logical_id] = {
            key: rehost(value)
            for key, value in env.items()
            if key in spec.environment or not (key in MACHINE_ONLY or key.startswith("AWS_LAMBDA_"))
        }
        declared.update(spec.environment)
    container: dict[str, str] = {}
    if functions:
        first, *others = functions.values()
        container = {
            key: value
            for key, value in first.items()
            if key not in declared and all(other.get(key) == value for other in others)
        }
    return InvokeEnv(functions, container, container_address(endpoint_url, endpoint_host))


def write_json(path: Path, document: Mapping[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n", encoding="utf-8")
