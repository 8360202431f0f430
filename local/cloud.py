"""The local cloud: emulator, provisioning, function pools, gateway, SQS pollers and schedules."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from local import seed
from local.async_invoke import DEFAULT_DELAYS, AsyncInvoker, AsyncTarget
from local.console import Console
from local.cors import CorsConfig
from local.emulator import Emulator
from local.events import scheduled_event
from local.faults import FaultSpec
from local.functions import FunctionSpec, ScheduleEvent, load_functions
from local.gateway import Gateway, GatewayServer
from local.instances import FunctionPool, InvokeOutcome, instance_environment
from local.mailbox import Mailbox
from local.openapi import merge_openapi
from local.provision import ProvisionReport, provision
from local.routes import Router
from local.s3_events import S3Notifier, bucket_url_parameters, listen, unlisten
from local.scheduler import Scheduler
from local.sqs_poller import SqsPoller
from local.stack import Stack
from local.template import TEMPLATE_PATH


@dataclass
class CloudOptions:
    template: Path = TEMPLATE_PATH
    host: str = "127.0.0.1"
    port: int = 3000
    parameter_overrides: dict[str, str] = field(default_factory=dict)
    max_instances: int = 4
    sqs_visibility_override: int | None = None
    reload: bool = True
    seed: bool = True
    #: DynamoDB faults the functions meet (local.faults); none by default.
    faults: FaultSpec = field(default_factory=FaultSpec)
    #: Seconds between the attempts of a failed asynchronous invocation (AWS: 60 and 120).
    async_retry_delays: tuple[float, ...] = DEFAULT_DELAYS


class LocalCloud:
    def __init__(self, options: CloudOptions, console: Console | None = None) -> None:
        self.options = options
        self.console = console or Console()
        self.emulator = Emulator(faults=options.faults)
        self.mailbox = Mailbox()
        self.stack: Stack | None = None
        self.report = ProvisionReport()
        self.functions: dict[str, FunctionSpec] = {}
        self.pools: dict[str, FunctionPool] = {}
        self.router = Router([])
        self.cors: CorsConfig | None = None
        self.pollers: list[SqsPoller] = []
        self.scheduler: Scheduler | None = None
        self.s3_notifier: S3Notifier | None = None
        self.async_invoker: AsyncInvoker | None = None
        self._server: GatewayServer | None = None
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()
        self.started_at = 0.0
        self.seed_report: dict[str, Any] = {}
        self.catalog_seed: str | None = None

    @property
    def gateway_url(self) -> str:
        port = self._server.server_address[1] if self._server else self.options.port
        return f"http://{self.options.host}:{port}"

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Bind the port first (fails fast), then emulate, provision and serve."""
        started = time.perf_counter()
        self._server = GatewayServer.bind(self.options.host, self.options.port)
        try:
            self._start(started)
        except BaseException:
            self.stop()
            raise

    def _start(self, started: float) -> None:
        assert self._server is not None
        self.emulator.start()
        overrides = self.options.parameter_overrides
        overrides = {
            **bucket_url_parameters(self.options.template, self.emulator.endpoint_url, overrides),
            **overrides,
        }
        self.stack = Stack.from_file(self.options.template, overrides)
        self.report = provision(
            self.stack, self.emulator.clients(), visibility_timeout=self.options.sqs_visibility_override
        )
        self.mailbox.watch()
        self.functions = load_functions(self.stack)
        for spec in self.functions.values():
            env = instance_environment(spec, self.emulator.endpoint_url, region=self.stack.region)
            self.pools[spec.logical_id] = FunctionPool(
                spec, env, self.console, max_instances=self.options.max_instances
            )
        if self.options.seed:
            self.seed_report = seed.run(self.functions, self.emulator.endpoint_url, region=self.stack.region)
            self.catalog_seed = self._seed_catalog()
        self.router = Router(route for spec in self.functions.values() for route in spec.http_routes)
        self.cors = self._cors()
        queues = {
            res.attributes["Arn"]: res
            for res in self.stack.physical.values()
            if res.type == "AWS::SQS::Queue"
        }
        for spec in self.functions.values():
            for subscription in spec.sqs:
                queue = queues.get(subscription.queue_arn)
                if queue is None:
                    spec.warnings.append(
                        f"event {subscription.event}: queue {subscription.queue_arn} is not in the template"
                    )
                    continue
                url = str(queue.ref)
                visibility = self.options.sqs_visibility_override
                if visibility is None:
                    visibility = int(self.stack.prop(queue.logical_id, "VisibilityTimeout", 30))
                if visibility < spec.timeout:
                    spec.warnings.append(
                        f"event {subscription.event}: the queue's VisibilityTimeout ({visibility} s) is below the "
                        f"function's Timeout ({spec.timeout} s), which AWS refuses; slow batches come back early"
                    )
                if subscription.enabled:
                    self.pollers.append(
                        SqsPoller(
                            subscription,
                            url,
                            self.pools[spec.logical_id],
                            self.emulator.clients(),
                            self.console,
                        )
                    )
        self.async_invoker = AsyncInvoker(
            self.invoke,
            {
                name: AsyncTarget(name, retries=spec.async_retries, dead_letter_arn=spec.dead_letter_arn)
                for name, spec in self.functions.items()
            },
            lambda: self.emulator.clients().sqs(),
            self.console.line,
            delays=self.options.async_retry_delays,
        )
        self._listen_s3()
        schedules = [schedule for spec in self.functions.values() for schedule in spec.schedules]
        self.scheduler = Scheduler(
            schedules,
            lambda schedule: self.fire_schedule(schedule, asynchronous=True),
            self.console,
            fire_now=self.fire_schedule,
        )
        self._server.gateway = Gateway(self)
        server = self._server
        self._thread(lambda: server.serve_forever(poll_interval=0.1), "gateway")
        for poller in self.pollers:
            poller.start()
        self.scheduler.start()
        if self.options.reload:
            self._thread(self._watch_code, "reload")
        self.started_at = time.time()
        self.console.block(self.describe(time.perf_counter() - started))

    def _thread(self, target: Any, name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def stop(self) -> None:
        """Stop accepting requests, stop pollers and schedules, stop every instance, stop the emulator."""
        if self._stopping.is_set():
            return
        self._stopping.set()
        if self._server is not None:
            if self._server.gateway is not None:
                self._server.shutdown()
            self._server.server_close()
        if self.scheduler is not None:
            self.scheduler.stop()
        if self.async_invoker is not None:
            self.async_invoker.stop()
        for poller in self.pollers:
            poller.stop(wait=False)
        if self.s3_notifier is not None:
            unlisten(self._emulator_port())
        with ThreadPoolExecutor(max_workers=max(1, len(self.pools))) as executor:
            list(executor.map(lambda pool: pool.shutdown(), self.pools.values()))
        self.emulator.stop()

    # ------------------------------------------------------------------ S3 events

    def _listen_s3(self) -> None:
        """The template's S3 events: objects created in the emulator invoke their functions."""
        subscriptions = [sub for spec in self.functions.values() for sub in spec.s3]
        if not subscriptions:
            return
        assert self.stack is not None
        self.s3_notifier = S3Notifier(
            subscriptions,
            lambda function, event: self.async_invoke(function, event, source="s3 event"),
            self.console.line,
            region=self.stack.region,
        )
        listen(self._emulator_port(), self.s3_notifier)

    def _emulator_port(self) -> int:
        return int(self.emulator.endpoint_url.rsplit(":", 1)[1])

    # ------------------------------------------------------------------ invoking

    def invoke(self, function: str, event: Any, *, queue_timeout: float | None = None) -> InvokeOutcome:
        return self.pools[function].invoke(event, queue_timeout=queue_timeout)

    def async_invoke(self, function: str, event: Any, *, source: str) -> InvokeOutcome:
        """An asynchronous invocation (S3 events, schedules): local.async_invoke."""
        assert self.async_invoker is not None, "the cloud has not started"
        return self.async_invoker(function, event, source=source)

    def fire_schedule(self, schedule: ScheduleEvent, *, asynchronous: bool = False) -> InvokeOutcome:
        """A schedule's event to its function: on schedule as EventBridge does (an asynchronous
        invocation: retries, then the DeadLetterQueue); `make fire` once, synchronously."""
        assert self.stack is not None
        event = scheduled_event(
            schedule.rule_arn, schedule.input, region=self.stack.region, account_id=self.stack.account_id
        )
        if asynchronous:
            outcome = self.async_invoke(schedule.function, event, source=f"schedule {schedule.rule_name}")
        else:
            outcome = self.invoke(schedule.function, event)
        status = "ok" if outcome.ok else f"failed: {(outcome.error or {}).get('errorMessage')}"
        self.console.line("schedule", f"{schedule.rule_name} → {schedule.function}: {status}")
        return outcome

    def openapi(self) -> dict[str, Any]:
        """The merged document of every function that has HttpApi routes and an `app`."""
        api_functions = [name for name, spec in self.functions.items() if spec.http_routes]

        def document(name: str) -> tuple[str, Any]:
            spec = self.functions[name]
            return name, self.pools[name].openapi() if spec.code_dir.is_dir() else None

        with ThreadPoolExecutor(max_workers=max(1, len(api_functions))) as executor:
            documents = {
                name: doc for name, doc in executor.map(document, api_functions) if isinstance(doc, dict)
            }
        return merge_openapi(documents, self.router, title="API (local cloud)")

    # ------------------------------------------------------------------ information

    def _seed_catalog(self) -> str | None:
        """A few categories, products and posts by the seeded admin (local/seed_catalog.py)."""
        from local.seed_catalog import seed_catalog

        assert self.stack is not None
        table = self.stack.physical.get("AppTable")
        if table is None or table.type != "AWS::DynamoDB::Table" or "ProductsFunction" not in self.functions:
            return None
        try:
            report = seed_catalog(
                self.emulator.endpoint_url,
                str(table.ref),
                author_id=self.seed_report.get("adminId"),
                cache_url=str(self.stack.parameters.get("CacheUrl") or ""),
                region=self.stack.region,
            )
        except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
            return f"seeding failed: {exc}"
        return report.describe()

    def health(self) -> dict[str, Any]:
        assert self.stack is not None
        return {
            "status": "ok",
            "gatewayUrl": self.gateway_url,
            "endpointUrl": self.emulator.endpoint_url,
            "region": self.stack.region,
            "accountId": self.stack.account_id,
            "template": str(self.options.template),
            "startedAt": datetime.fromtimestamp(self.started_at, UTC).isoformat(),
            "seed": {k: v for k, v in self.seed_report.items() if k != "adminPassword"},
            **self.stack.summary(),
            "functions": {
                name: {
                    "functionName": spec.function_name,
                    "codeUri": str(spec.code_dir),
                    "timeout": spec.timeout,
                    "memorySize": spec.memory_size,
                    "routes": [route.route_key for route in spec.http_routes],
                    "environment": spec.environment,
                }
                for name, spec in self.functions.items()
            },
        }

    def stats(self) -> dict[str, Any]:
        return {
            "functions": {name: pool.stats() for name, pool in self.pools.items()},
            "sqs": {
                poller.label: {"queueUrl": poller.queue_url, "batches": poller.batches}
                for poller in self.pollers
            },
        }

    def queues(self) -> list[dict[str, Any]]:
        assert self.stack is not None
        client = self.emulator.clients().sqs()
        listing = []
        for res in self.stack.physical.values():
            if res.type != "AWS::SQS::Queue":
                continue
            try:
                attributes = client.get_queue_attributes(QueueUrl=str(res.ref), AttributeNames=["All"])[
                    "Attributes"
                ]
            except (ClientError, BotoCoreError):
                attributes = {}
            listing.append(
                {
                    "logicalId": res.logical_id,
                    "url": res.ref,
                    "arn": res.attributes["Arn"],
                    "messages": int(attributes.get("ApproximateNumberOfMessages", 0)),
                    "inFlight": int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0)),
                    "visibilityTimeout": int(attributes.get("VisibilityTimeout", 30)),
                    "redrivePolicy": attributes.get("RedrivePolicy"),
                    "subscribers": [
                        f"{poller.subscription.function}.{poller.subscription.event}"
                        for poller in self.pollers
                        if poller.queue_url == res.ref
                    ],
                }
            )
        return listing

    def _cors(self) -> CorsConfig | None:
        assert self.stack is not None
        for logical_id in self.stack.of_type("AWS::Serverless::HttpApi"):
            config = CorsConfig.from_template(self.stack.prop(logical_id, "CorsConfiguration"))
            if config is not None:
                return config
        return None

    def describe(self, seconds: float) -> str:
        """The start-up summary: what runs where."""
        assert self.stack is not None
        lines = [f"local cloud ready in {seconds:.1f} s ({self.options.template})"]
        lines.append(f"  gateway    {self.gateway_url}")
        lines.append(
            f"  emulator   {self.emulator.endpoint_url}  (moto; AWS_ENDPOINT_URL for boto3 and the AWS CLI)"
        )
        lines.append(f"  docs       {self.gateway_url}/docs  ·  {self.gateway_url}/openapi.json")
        lines.append(f"  mailbox    {self.gateway_url}/_local/mail")
        lines.append(f"  instances  up to {self.options.max_instances} per function")
        if self.seed_report:
            lines.extend(seed.describe(self.seed_report))
        if self.catalog_seed:
            lines.append(f"  catalog    {self.catalog_seed}")
        lines.append("  routes")
        routes = sorted(self.router.routes, key=lambda route: (route.path, route.method))
        width = max((len(route.route_key) for route in routes), default=0)
        for route in routes:
            lines.append(f"    {route.route_key:<{width}}  → {route.function}")
        if not self.router.routes:
            lines.append("    (none)")
        lines.append("  resources")
        for res in self.stack.physical.values():
            lines.append(f"    {res.logical_id:<24} {res.type:<28} {res.ref}")
        for identity in self.report.identities:
            lines.append(f"    {'SES identity':<24} {'(verified)':<28} {identity}")
        lines.append("  queues → subscribers")
        for poller in self.pollers:
            sub = poller.subscription
            mode = ", ReportBatchItemFailures" if sub.report_batch_item_failures else ""
            lines.append(
                f"    {poller.queue_url.rsplit('/', 1)[-1]} → {sub.function}.{sub.event} "
                f"(batch {sub.batch_size}, window {sub.batching_window:g} s{mode})"
            )
        if not self.pollers:
            lines.append("    (none)")
        lines.append("  schedules")
        for item in self.scheduler.listing() if self.scheduler else []:
            when = f"next {item['nextFire']}" if item["nextFire"] else (item["error"] or "disabled")
            lines.append(f"    {item['function']}.{item['event']}  {item['schedule']}  {when}")
        if not (self.scheduler and self.scheduler.entries):
            lines.append("    (none)")
        s3 = [upload for spec in self.functions.values() for upload in spec.s3]
        if s3:
            lines.append(
                "  s3 events (browser POSTs checked against their policy; images at <emulator>/_cdn/)"
            )
            for upload in s3:
                lines.append(
                    f"    {upload.bucket}/{upload.prefix}*{upload.suffix} {','.join(upload.events)} "
                    f"→ {upload.function}.{upload.event}"
                )
        warnings = [
            f"{name}: {warning}" for name, spec in self.functions.items() for warning in spec.warnings
        ]
        for name, spec in self.functions.items():
            if not spec.code_dir.is_dir():
                warnings.append(f"{name}: CodeUri {spec.code_dir} does not exist yet")
        for duplicate in self.router.duplicates:
            warnings.append(f"{duplicate.function}: route {duplicate.route_key} is already taken; ignored")
        if warnings:
            lines.append("  warnings")
            lines.extend(f"    {warning}" for warning in warnings)
        lines.append("Ctrl-C stops everything.")
        return "\n".join(lines)

    # ------------------------------------------------------------------ code reload

    def _watch_code(self) -> None:
        """Recycle a function's instances when its code or a layer it uses changes."""
        directories = {path for spec in self.functions.values() for path in spec.python_path}
        seen = {directory: _fingerprint(directory) for directory in directories}
        while not self._stopping.wait(1.0):
            for directory in directories:
                current = _fingerprint(directory)
                if current == seen[directory]:
                    continue
                seen[directory] = current
                for name, spec in self.functions.items():
                    if directory in spec.python_path and self.pools[name].recycle():
                        self.console.line(name, f"code changed in {directory}: new instances will start")


def _fingerprint(directory: Path) -> tuple[tuple[str, float], ...]:
    stamps = []
    for path in _python_files(directory):
        try:
            stamps.append((str(path), path.stat().st_mtime))
        except OSError:  # deleted while we looked
            continue
    return tuple(sorted(stamps))


def _python_files(directory: Path) -> Iterator[Path]:
    if not directory.is_dir():
        return
    for root, dirs, files in os.walk(directory):
        dirs[:] = [name for name in dirs if name != "__pycache__" and not name.startswith(".")]
        for name in files:
            if name.endswith(".py"):
                yield Path(root) / name
