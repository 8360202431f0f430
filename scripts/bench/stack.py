"""The stack the measured processes talk to: the template provisioned in an in-process emulator.

Everything comes from template.yaml through the local cloud's own readers (local/): the table, the
queues, the token-signing secret and the configuration parameter are created as the template
declares them, and each function's environment is the one the template gives it (TABLE_NAME,
TOKEN_SECRET_NAME, CONFIG_PARAMETER_NAME, queue URLs...), plus what Lambda adds. Nothing about the
functions is written down here.

An API function is a function with an HttpApi event. Its sample events are ``events/<group>/*.json``
(group = the folder name of its CodeUri), in name order; the **first** is its typical read, the
request its cold start is measured with. Placeholders such as ``${ACCESS_TOKEN}`` are filled from
accounts seeded in the emulator (local/sample_identity.py); the emulator also holds what `make dev`
seeds (local/seed.py, local/seed_catalog.py): the local admin and demo accounts, which sample
events may sign in as, and the sample catalog they may read.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from local import seed
from local.emulator import Emulator
from local.functions import FunctionSpec, load_functions
from local.instances import instance_environment
from local.provision import provision
from local.sample_identity import placeholders, render, seed_identity
from local.seed_catalog import seed_catalog
from local.stack import Stack
from local.template import TEMPLATE_PATH

ROOT = TEMPLATE_PATH.parent

#: Variables of the measurement processes beyond the function's own (instance_environment): bytecode
#: is not writable on Lambda (read-only code folders), and nothing may pick up a user's setup.
_NOT_PASSED = ("PYTHONPATH", "PYTHONUNBUFFERED", "TZ")
WORKER = "WorkerFunction"


@dataclass(frozen=True)
class SampleEvent:
    name: str  # the file name
    raw: dict[str, Any]  # as written, placeholders included
    event: dict[str, Any]  # placeholders filled for this stack

    @property
    def method(self) -> str:
        return str(((self.raw.get("requestContext") or {}).get("http") or {}).get("method", "GET"))


@dataclass
class ApiFunction:
    logical_id: str
    group: str
    spec: FunctionSpec
    environment: dict[str, str]
    events: list[SampleEvent] = field(default_factory=list)

    @property
    def first_event(self) -> SampleEvent:
        return self.events[0]


def event_files(group: str) -> list[Path]:
    """The sample events of a function, in name order: the first is its typical read."""
    return sorted((ROOT / "events" / group).glob("*.json"))


class BenchStack:
    """The emulator, the provisioned template, the API functions with their environments."""

    def __init__(self) -> None:
        self.emulator = Emulator()
        self.functions: dict[str, ApiFunction] = {}
        #: The queue worker (WorkerFunction): its jobs are built by scripts/bench/jobs.py, not read
        #: from events/; the queue ARNs it reads, by queue name in the template (EmailQueue...).
        self.worker: ApiFunction | None = None
        self.worker_queues: dict[str, str] = {}
        self.seed_report: dict[str, Any] = {}
        self.template: dict[str, Any] = {}
        self.memory_mb: dict[str, int] = {}

    def start(self) -> None:
        self.emulator.start()
        stack = Stack.from_file(TEMPLATE_PATH)
        self.template = dict(stack.template)
        provision(stack, self.emulator.clients())
        endpoint = self.emulator.endpoint_url
        specs = load_functions(stack)
        # What `make dev` starts with: the local admin and demo accounts, then the sample catalog by
        # that admin (sample events sign in as them and read those posts and products).
        self.seed_report = seed.run(specs, endpoint, region=stack.region)
        table = stack.physical.get("AppTable")
        if table is not None and "ProductsFunction" in specs:
            seed_catalog(
                endpoint, str(table.ref), author_id=self.seed_report.get("adminId"), region=stack.region
            )
        self.memory_mb = {name: spec.memory_size for name, spec in specs.items()}
        worker = specs.get(WORKER)
        if worker is not None:
            self.worker = ApiFunction(WORKER, worker.code_dir.name, worker, self._environment(worker, stack))
            for subscription in worker.sqs:
                self.worker_queues[str(subscription.queue_arn).rsplit(":", 1)[-1]] = str(
                    subscription.queue_arn
                )
        for logical_id, spec in sorted(specs.items()):
            if not spec.http_routes:
                continue
            group = spec.code_dir.name
            environment = self._environment(spec, stack)
            function = ApiFunction(logical_id, group, spec, environment)
            files = event_files(group)
            if not files:
                raise SystemExit(f"error: {logical_id} has no sample event in events/{group}/")
            for path in files:
                raw = json.loads(path.read_text(encoding="utf-8"))
                event = raw
                if placeholders(raw):
                    # Accounts of its own for each event: one that signs out must not sign out the others.
                    event = render(raw, seed_identity(endpoint, spec.environment).values)
                function.events.append(SampleEvent(path.name, raw, event))
            self.functions[logical_id] = function

    def _environment(self, spec: FunctionSpec, stack: Stack) -> dict[str, str]:
        environment = instance_environment(spec, self.emulator.endpoint_url, region=stack.region, base={})
        for name in _NOT_PASSED:
            environment.pop(name, None)
        environment["PYTHONDONTWRITEBYTECODE"] = "1"
        environment["AWS_XRAY_DAEMON_ADDRESS"] = "127.0.0.1:2000"  # loopback, if SDK tracing is on
        return environment

    @property
    def endpoint_url(self) -> str:
        return self.emulator.endpoint_url

    def stop(self) -> None:
        self.emulator.stop()
