"""The budgets, the verdicts, and the report (printed, and written to docs/benchmarks.md)."""

from __future__ import annotations

import math
import os
import platform
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from scripts import postbuild
from scripts.bench import cost
from scripts.bench.build import DeployedSizes
from scripts.bench.contenders import AwsCall
from scripts.bench.load import LoadResult
from scripts.bench.requests import SCAN_OPERATIONS, Minimum, expected_for, same_operations

# The budgets (issue #6, DESIGN.md).
COLD_B0 = 2.5
COLD_B1 = 1.15
WARM_B1 = 1.1
WARM_HELLO = 1.5
RSS_MB = 100.0
RSS_REQUESTS = 1000
LAYER_MB = postbuild.LAYER_BUDGET / 1_000_000
ALL_PHASES = frozenset({"size", "cold", "warm", "load"})


@dataclass
class ColdRow:
    """Judged on CPU time (see Results._cold); wall time is shown alongside."""

    function: str
    event: str
    route: str | None
    status: int
    calls: str
    ms: float
    cpu_ms: float
    b0: str
    b0_ms: float
    b0_cpu_ms: float
    b1: str
    b1_ms: float
    b1_cpu_ms: float

    @property
    def x_b0(self) -> float:
        return self.cpu_ms / self.b0_cpu_ms

    @property
    def x_b1(self) -> float:
        return self.cpu_ms / self.b1_cpu_ms

    @property
    def wall_x_b0(self) -> float:
        return self.ms / self.b0_ms

    @property
    def wall_x_b1(self) -> float:
        return self.ms / self.b1_ms

    @property
    def over(self) -> bool:
        return self.x_b0 > COLD_B0 or self.x_b1 > COLD_B1


@dataclass
class OtherRow:
    """A baseline or a calibration contender."""

    label: str
    what: str
    ms: float
    cpu_ms: float


@dataclass
class WarmRow:
    function: str
    route: str
    calls: str
    ms: float
    cpu_ms: float
    baseline: str
    baseline_ms: float
    baseline_cpu_ms: float
    budget: float
    requests: int
    log_bytes: float = float("nan")  # what the function logged per timed request
    warm_calls: list[AwsCall] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        return self.cpu_ms / self.baseline_cpu_ms

    @property
    def wall_ratio(self) -> float:
        return self.ms / self.baseline_ms

    @property
    def over(self) -> bool:
        return self.ratio > self.budget


@dataclass
class MemoryRow:
    function: str
    served: int
    statuses: dict[str, int]
    rss_kb: int  # peak (the budget)
    current_kb: int = 0  # at the end

    @property
    def rss_mb(self) -> float:
        return self.rss_kb / 1024

    @property
    def over(self) -> bool:
        return self.rss_mb > RSS_MB or self.served < RSS_REQUESTS


@dataclass
class RequestRow:
    function: str
    event: str  # <group>/<file>
    route: str
    status: int
    first: list[str]  # DynamoDB operations of the event's first request in the process
    repeat: list[str]  # ... of the same event served again
    other: list[str]  # other services' requests (first)
    first_calls: list[AwsCall] = field(default_factory=list)
    repeat_calls: list[AwsCall] = field(default_factory=list)

    @property
    def first_units(self) -> cost.Units:
        return cost.units_of_calls(self.first_calls)

    @property
    def repeat_units(self) -> cost.Units:
        return cost.units_of_calls(self.repeat_calls)

    @property
    def expected(self) -> Minimum | None:
        return expected_for(self.route, self.event)

    @property
    def scans(self) -> int:
        return sum(op in SCAN_OPERATIONS for op in [*self.first, *self.repeat])

    @property
    def over(self) -> bool:
        expected = self.expected
        if self.scans > 0 or expected is None:
            return True
        if not same_operations(self.first, expected.first):
            return True
        return expected.repeat is not None and not same_operations(self.repeat, expected.repeat)


@dataclass
class WorkerRow:
    """One kind of job through the worker's handler: cold, warm one record, warm batches."""

    job_type: str
    what: str
    memory_mb: int
    cold_ms: float  # fresh process, one record (wall median)
    cold_cpu_ms: float
    single_ms: float  # warm invocation of one record (wall median)
    single_cpu_ms: float
    batch_ms: float  # warm invocation of a batch (wall median)
    batch_cpu_ms: float
    batch: int  # records per batch
    singles: int  # invocations timed
    batches: int
    single_log_bytes: float  # logged per invocation
    batch_log_bytes: float
    cold_calls: list[AwsCall]  # the first job in a fresh process
    warm_calls: list[AwsCall]  # a second job, warm
    batch_calls: list[AwsCall]  # a warm batch (all its jobs)
    statuses: str = ""

    @property
    def over(self) -> bool:
        return False  # measured, not budgeted (yet)


@dataclass
class Results:
    started: datetime
    seconds: float
    rounds: int
    quick: bool
    sizes: DeployedSizes
    cold: list[ColdRow] = field(default_factory=list)
    baselines: list[OtherRow] = field(default_factory=list)
    calibration: list[OtherRow] = field(default_factory=list)
    xray: tuple[str, float, float, float] | None = None  # (function, CPU ms without, with, its B0's)
    warm: list[WarmRow] = field(default_factory=list)
    memory: list[MemoryRow] = field(default_factory=list)
    requests: list[RequestRow] = field(default_factory=list)
    load: LoadResult | None = None
    worker: list[WorkerRow] = field(default_factory=list)
    memory_mb: dict[str, int] = field(default_factory=dict)  # template.yaml MemorySize per function
    snapstart: set[str] = field(default_factory=set)  # functions with SnapStart in prod
    alarm_metrics: int = 0  # metrics the template's alarms read (billed per metric)
    order_placement: list[AwsCall] = field(default_factory=list)  # OrdersRepository.create, 2 lines
    failures: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    phases: set[str] = field(default_factory=lambda: {"size", "cold", "warm", "load"})

    # ------------------------------------------------------------------ verdicts

    def over_budget(self) -> list[str]:
        over = []
        for c in self.cold:
            if c.over:
                over.append(
                    f"cold start: {c.function} is {c.x_b0:.2f}x B0 (budget {COLD_B0}x) and "
                    f"{c.x_b1:.2f}x B1 (budget {COLD_B1}x)"
                )
        if self.sizes.error and "size" in self.phases:
            over.append("layer size: not measured (sam build failed)")
        for name, size in self.sizes.layers.items():
            if size > postbuild.LAYER_BUDGET:
                over.append(f"layer size: {name} is {size / 1e6:.1f} MB (budget {LAYER_MB:.0f} MB)")
        over += [f"build: {problem}" for problem in self.sizes.problems]
        over += [
            f"warm: {w.function} {w.route} is {w.ratio:.2f}x {w.baseline} (budget {w.budget}x)"
            for w in self.warm
            if w.over
        ]
        over += [
            f"memory: {m.function} peaked at {m.rss_mb:.0f} MB after {m.served} requests "
            f"(budget {RSS_MB:.0f} MB after {RSS_REQUESTS})"
            for m in self.memory
            if m.over
        ]
        for r in self.requests:
            if r.scans:
                over.append(f"requests: {r.function} {r.route} issued {r.scans} Scan(s)")
            elif r.expected is None:
                over.append(
                    f"requests: {r.route} has no declared minimum (scripts/bench/requests.py EXPECTED_DYNAMODB)"
                )
            elif r.over:
                repeat = "" if r.expected.repeat is None else f" / {_ops(r.expected.repeat)} again"
                over.append(
                    f"requests: {r.route} made {_ops(r.first)} / {_ops(r.repeat)} again; the minimum is "
                    f"{_ops(r.expected.first)}{repeat}"
                )
        if self.load is not None:
            if self.load.error and self.load.error != "no route exists yet":
                over.append(f"load: not run ({self.load.error.splitlines()[0]})")
            elif self.load.errors:
                over.append(f"load: {self.load.errors} error(s) in {self.load.requests} requests")
        over += [f"failed: {label}: {error.splitlines()[0]}" for label, error in self.failures.items()]
        return over

    # ------------------------------------------------------------------ rendering

    def markdown(self) -> str:
        lines = [
            "# Benchmarks",
            "",
            "Written by `make bench` (scripts/bench/); methodology and budgets in "
            "[performance.md](performance.md). Ratios compare contenders measured in the same run; "
            "absolute times depend on the machine and its load.",
            "",
            f"- date: {self.started:%Y-%m-%d %H:%M} UTC; run took {self.seconds / 60:.1f} min"
            + (" (`--quick`)" if self.quick else ""),
            f"- machine: {machine()}",
            f"- commit: {commit()}",
            *(
                [f"- phases: {', '.join(sorted(self.phases))} only (`--only`)"]
                if self.phases != ALL_PHASES
                else []
            ),
            "",
        ]
        over = self.over_budget()
        if over:
            lines += ["**Over budget:**", "", *[f"- {item}" for item in over], ""]
        else:
            lines += ["**Every row is within budget.**", ""]
        lines += self._cold()
        lines += self._sizes()
        lines += self._warm()
        lines += self._memory()
        lines += self._requests()
        lines += self._worker()
        lines += self._load()
        lines += self._cost()
        if self.notes:
            lines += ["## Notes", "", *[f"- {note}" for note in self.notes], ""]
        return "\n".join(lines).rstrip() + "\n"

    def _cold(self) -> list[str]:
        lines = [
            "## Cold start",
            "",
            f"A fresh process per sample (import + first sample event), median of {self.rounds} rounds "
            f"interleaved. Budget: at most {COLD_B0}x B0 and {COLD_B1}x B1 making the same requests, judged on "
            "the CPU time of the process (wall-time ratios in parentheses: on a shared machine they carry "
            "the other processes' load; see performance.md).",
            "",
            "| function | first event | route | status | AWS requests (cold) | CPU ms | wall ms | B0 CPU ms "
            f"| B1 CPU ms | x B0 (<= {COLD_B0}) | x B1 (<= {COLD_B1}) | |",
            "| --- | --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
        ]
        for c in self.cold:
            lines.append(
                f"| {c.function} | {c.event} | {c.route or 'none (404)'} | {c.status} | {c.calls} | "
                f"{c.cpu_ms:.0f} | {c.ms:.0f} | {c.b0_cpu_ms:.0f} | {c.b1_cpu_ms:.0f} | "
                f"{c.x_b0:.2f} ({c.wall_x_b0:.2f}) | {c.x_b1:.2f} ({c.wall_x_b1:.2f}) | "
                f"{'**over budget**' if c.over else 'ok'} |"
            )
        lines += ["", "| baseline / calibration | what | CPU ms | wall ms |", "| --- | --- | ---: | ---: |"]
        for row in [*self.baselines, *self.calibration]:
            lines.append(f"| {row.label} | {row.what} | {row.cpu_ms:.0f} | {row.ms:.0f} |")
        if self.xray is not None:
            function, without, with_sdk, b0 = self.xray
            lines += [
                "",
                f"X-Ray SDK subsegments (XRaySdkTracing=true) add {with_sdk - without:.0f} ms of CPU to {function}'s "
                f"cold start here, {(with_sdk - without) / b0:.2f}x its B0 ({with_sdk:.0f} ms instead of "
                f"{without:.0f} ms).",
            ]
        return [*lines, ""]

    def _sizes(self) -> list[str]:
        lines = ["## Layer size", ""]
        if self.sizes.error:
            return [*lines, f"Not measured: `sam build` failed: {self.sizes.error.splitlines()[0]}", ""]
        lines += [
            f"`sam build` (arm64) + scripts/postbuild.py, as `make build` ships it ({self.sizes.seconds:.0f} s). "
            f"Budget: {LAYER_MB:.0f} MB unzipped.",
            "",
            "| artifact | unzipped | |",
            "| --- | ---: | --- |",
        ]
        for name, size in self.sizes.layers.items():
            verdict = "ok" if size <= postbuild.LAYER_BUDGET else "**over budget**"
            lines.append(f"| {name} (layer) | {size / 1e6:.1f} MB | {verdict} |")
        for name, size in sorted(self.sizes.functions.items()):
            lines.append(f"| {name} | {size / 1e3:.1f} kB | |")
        return [*lines, ""]

    def _warm(self) -> list[str]:
        lines = [
            "## Warm path",
            "",
            "In-process latency of a warm request (each function's first sample event), median, the "
            "function and its baseline timed in alternating blocks; judged on CPU time as the cold start "
            "(wall-time ratio in parentheses). Budget: "
            f"{WARM_B1}x a bare FastAPI + Mangum route making the same AWS requests; {WARM_HELLO}x a bare "
            "hello route when the request makes none (a cache hit).",
            "",
        ]
        if not self.warm:
            return [*lines, "No route exists yet.", ""]
        lines += [
            "| function | route | AWS requests (warm) | requests | ms | CPU ms | baseline | baseline ms "
            "| baseline CPU ms | ratio | |",
            "| --- | --- | --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | --- |",
        ]
        for w in self.warm:
            verdict = f"**over budget** (> {w.budget}x)" if w.over else f"ok (<= {w.budget}x)"
            lines.append(
                f"| {w.function} | {w.route} | {w.calls} | {w.requests} | {w.ms:.2f} | {w.cpu_ms:.2f} | "
                f"{w.baseline} | {w.baseline_ms:.2f} | {w.baseline_cpu_ms:.2f} | {w.ratio:.2f} ({w.wall_ratio:.2f}) "
                f"| {verdict} |"
            )
        return [*lines, ""]

    def _memory(self) -> list[str]:
        lines = [
            "## Memory",
            "",
            f"Peak RSS (VmHWM) of each API function's process over {RSS_REQUESTS} requests (its sample events "
            f"round-robin), and its RSS at the end. Budget: a peak of {RSS_MB:.0f} MB.",
            "",
            "| function | requests | statuses | peak RSS | RSS at the end | |",
            "| --- | ---: | --- | ---: | ---: | --- |",
        ]
        for m in self.memory:
            statuses = ", ".join(f"{k}: {v}" for k, v in sorted(m.statuses.items()))
            lines.append(
                f"| {m.function} | {m.served} | {statuses} | {m.rss_mb:.1f} MB | {m.current_kb / 1024:.1f} MB | "
                f"{'**over budget**' if m.over else 'ok'} |"
            )
        return [*lines, ""]

    def _requests(self) -> list[str]:
        lines = [
            "## DynamoDB requests per route",
            "",
            "Counted for every sample event whose route exists, the first time it is served in a fresh process "
            "and again; the minimum comes from the access patterns (docs/data-model.md), declared in "
            "scripts/bench/requests.py. No Scan anywhere. Request units (on-demand) from what each request "
            "asked and returned (scripts/bench/cost.py `units_of`: items' sizes, consistency, transactions "
            "2x, index entries written; updates and deletes assumed within 1 KB).",
            "",
        ]
        if not self.requests:
            return [*lines, "No route exists yet.", ""]
        lines += [
            "| function | event | route | status | DynamoDB (first) | DynamoDB (again) | other AWS (first) "
            "| Scans | minimum (first / again) | RRU / WRU (first) | RRU / WRU (again) | |",
            "| --- | --- | --- | ---: | --- | --- | --- | ---: | --- | ---: | ---: | --- |",
        ]
        for r in self.requests:
            if r.expected is None:
                expected = "undeclared"
            else:
                again = "not judged" if r.expected.repeat is None else _ops(r.expected.repeat)
                expected = f"{_ops(r.expected.first)} / {again}"
            lines.append(
                f"| {r.function} | {r.event} | {r.route} | {r.status} | {_ops(r.first)} | {_ops(r.repeat)} | "
                f"{_ops(r.other)} | {r.scans} | {expected} | {_units(r.first_units)} | {_units(r.repeat_units)} | "
                f"{'**over budget**' if r.over else 'ok'} |"
            )
        return [*lines, ""]

    def _load(self) -> list[str]:
        lines = ["## Load", ""]
        load = self.load
        if load is None:
            return [*lines, "Not run (`--no-load`).", ""]
        if load.error:
            return [*lines, f"Not run: {load.error.splitlines()[0]}", ""]
        lines += [
            f"{load.seconds:.0f} s of {load.concurrency} concurrent clients through the local cloud "
            f"(`python -m local`, up to {load.max_instances} instances per function) on loopback, on the "
            "read routes that exist. Budget: zero errors.",
            "",
            "| route | requests | req/s | p50 ms | p99 ms | errors |",
            "| --- | ---: | ---: | ---: | ---: | ---: |",
        ]
        for name, route in load.routes.items():
            rate = route.requests / load.seconds if load.seconds else 0.0
            errors = f"{route.errors} ({'; '.join(route.error_samples)})" if route.errors else "0"
            lines.append(
                f"| {name} | {route.requests} | {rate:.1f} | {_ms(load.percentile(50, name))} | "
                f"{_ms(load.percentile(99, name))} | {errors} |"
            )
        rate = load.requests / load.seconds if load.seconds else 0.0
        lines.append(
            f"| **all** | {load.requests} | {rate:.1f} | {_ms(load.percentile(50))} | "
            f"{_ms(load.percentile(99))} | {load.errors} |"
        )
        return [*lines, ""]

    def _worker(self) -> list[str]:
        lines = [
            "## Worker",
            "",
            "The queue worker (WorkerFunction) through its handler, as Lambda's event source mapping "
            "invokes it: SQS events of one record and of a batch, jobs built by scripts/bench/jobs.py "
            "(each job id used once; each `order.process` has a PENDING order of its own, placed through "
            "the repositories), against the same emulator. Cold: a fresh process (import + a one-record "
            "event), median of the rounds; warm: medians of the timed invocations. Logged: the bytes the "
            "function wrote to stdout (its CloudWatch log) per invocation. Measured, not budgeted.",
            "",
        ]
        if not self.worker:
            return [*lines, "Not measured (no WorkerFunction, or `--only` without cold and warm).", ""]
        lines += [
            "| job | what | memory | cold ms (CPU) | 1 record: ms (CPU) | batch: ms (CPU) | per job in a batch ms "
            "| invocations timed | logged / invocation (1 / batch) | AWS requests: first job (cold) | a job (warm) "
            "| per job in a batch |",
            "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | --- |",
        ]
        for w in self.worker:
            per_job = cost.units_of_calls(w.batch_calls).scaled(1 / w.batch)
            lines.append(
                f"| {w.job_type} | {w.what} | {w.memory_mb} MB | {w.cold_ms:.0f} ({w.cold_cpu_ms:.0f}) | "
                f"{w.single_ms:.2f} ({w.single_cpu_ms:.2f}) | {w.batch_ms:.2f} ({w.batch_cpu_ms:.2f}) x{w.batch} | "
                f"{w.batch_ms / w.batch:.2f} | {w.singles} + {w.batches} x{w.batch} | "
                f"{w.single_log_bytes:.0f} B / {w.batch_log_bytes:.0f} B | {_calls(w.cold_calls)} | "
                f"{_calls(w.warm_calls)} ({_units(cost.units_of_calls(w.warm_calls))} RRU / WRU) | "
                f"{_calls(w.batch_calls, w.batch)} ({_units(per_job)}) |"
            )
        return [*lines, ""]

    def _cost(self) -> list[str]:
        """Per million requests and jobs, priced from this run's figures (scripts/bench/cost.py)."""
        lines = [
            "## Cost",
            "",
            f"This run's figures priced with AWS's public prices, US East (N. Virginia), read on "
            f"{cost.PRICES_READ_ON} (scripts/bench/cost.py `PRICES`, sources there and in docs/operations.md). "
            f"Measured: durations (warm: in-process wall medians; cold: a fresh process, import + first "
            f"request, wall medians), the AWS requests and the items DynamoDB returned, the bytes the "
            f"functions logged. Assumed: a cold-start share of {cost.COLD_SHARE:.0%} (0.1% and 10% below), "
            f"Lambda's START/END/REPORT lines ({cost.PLATFORM_LOG_BYTES} B) and the access-log line "
            f"({cost.ACCESS_LOG_BYTES} B) per request, X-Ray sampling {cost.XRAY_SAMPLED:.0%}, updates and "
            "deletes within 1 KB; durations in AWS differ from this machine's (DynamoDB round trips, "
            "arm64 CPU at 512 MB: about a third of a vCPU).",
            "",
        ]
        figures = self._api_figures()
        if figures:
            lines += [
                "Per million API requests of each function's typical request (its first sample event, warm "
                "DynamoDB requests: a cache hit for the public reads). dev: cold starts billed their init; "
                "prod: SnapStart, a cold start is a restore (the warm duration + the restore charge).",
                "",
                "| function | route | memory | warm ms | cold ms | billed ms (1% cold) | cold share of the duration "
                "| Lambda dev | Lambda prod | DynamoDB RRU / WRU | DynamoDB | API Gateway | logs | X-Ray "
                "| **total dev** | **total prod** | total prod at 0.1% / 10% cold |",
                "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: "
                "| ---: | ---: | ---: |",
            ]
            for f in figures:
                c = cost.api_cost(f)
                low, high = (
                    cost.api_cost(f, share)
                    for share in (cost.COLD_SHARES_SHOWN[0], cost.COLD_SHARES_SHOWN[-1])
                )
                lines.append(
                    f"| {f.function} | {f.route} | {f.memory_mb} MB | {f.warm_ms:.2f} | {f.cold_ms:.0f} | "
                    f"{c.billed_ms:.2f} | {c.cold_part:.0%} | {cost.money(c.lambda_usd)} | "
                    f"{cost.money(c.lambda_prod_usd)} | {_units(c.dynamodb)} | {cost.money(c.dynamodb_usd)} | "
                    f"{cost.money(c.api_usd)} | {cost.money(c.logs_usd)} ({f.log_bytes:.0f} B logged) | "
                    f"{cost.money(c.xray_usd)} | **{cost.money(c.total)}** | **{cost.money(c.total_prod)}** | "
                    f"{cost.money(low.total_prod)} / {cost.money(high.total_prod)} |"
                )
            lines.append("")
        if self.requests:
            lines += [
                "DynamoDB per million requests of every sample event (the first time in a process / again), "
                "from the request units above:",
                "",
                "| route | event | status | RRU / WRU | per million (first) | per million (again) |",
                "| --- | --- | ---: | ---: | ---: | ---: |",
            ]
            for r in self.requests:
                lines.append(
                    f"| {r.route} | {r.event} | {r.status} | {_units(r.first_units)} | "
                    f"{cost.money(r.first_units.usd * cost.MILLION)} | {cost.money(r.repeat_units.usd * cost.MILLION)} |"
                )
            lines.append("")
        if self.order_placement:
            placing = cost.units_of_calls(self.order_placement)
            lines += [
                f"Placing an order of 2 lines (OrdersRepository.create, recorded while the worker's orders are "
                f"placed: {_calls(self.order_placement)}): {_units(placing)} RRU / WRU, "
                f"{cost.money(placing.usd * cost.MILLION)} per million. POST /api/orders adds to it its "
                "authentication, the idempotency record and the prices' BatchGetItem (the sample event's "
                "requests above, which stop at an unknown product).",
                "",
            ]
        jobs = self._job_figures()
        if jobs:
            lines += [
                "Per million jobs through the worker (no SnapStart: a cold invocation is billed its init). "
                "SQS: the job's own message (SendMessage, plus the mapping's ReceiveMessage and "
                "DeleteMessageBatch shared by the batch); a message the job sends is the next job's.",
                "",
                "| job | delivered | ms per job (1% cold) | Lambda | SQS | SES (emails / job) | DynamoDB RRU / WRU per job "
                "| DynamoDB | logs | X-Ray | **total** |",
                "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
            ]
            for j in jobs:
                jc = cost.job_cost(j)
                lines.append(
                    f"| {j.job_type} | {'1 per invocation' if j.records == 1 else f'batches of {j.records}'} | "
                    f"{jc.ms_per_job:.2f} | {cost.money(jc.lambda_usd)} | {cost.money(jc.sqs_usd)} | "
                    f"{cost.money(jc.ses_usd)} ({jc.emails_per_job:g}) | {_units(jc.dynamodb)} | "
                    f"{cost.money(jc.dynamodb_usd)} | {cost.money(jc.logs_usd)} | {cost.money(jc.xray_usd)} | "
                    f"**{cost.money(jc.total)}** |"
                )
            lines.append("")
        fixed = cost.FixedCosts(
            snapstart_functions={f: self.memory_mb.get(f, 512) for f in sorted(self.snapstart)},
            alarm_metrics=self.alarm_metrics,
        )
        lines += [
            "A month, whatever the traffic (prod):",
            "",
            "| item | count | a month |",
            "| --- | --- | ---: |",
            f"| SnapStart cache | {len(fixed.snapstart_functions)} functions x their memory x 730 h | "
            f"{cost.money(fixed.snapstart_cache)} |",
            f"| alarms | {fixed.alarm_metrics} metrics read by the template's alarms | {cost.money(fixed.alarms)} |",
            f"| idle polling of the queues | ~{cost.IDLE_POLLS_A_MONTH / 1e6:.1f} million empty receives (assumed) | "
            f"{cost.money(fixed.idle_polls)} |",
            f"| dashboard | 1 (free within an account's first 3) | {cost.money(fixed.dashboard)} |",
            "",
        ]
        return lines

    def _api_figures(self) -> list[cost.ApiFigures]:
        cold = {c.function: c for c in self.cold}
        figures = []
        for w in self.warm:
            if w.function not in cold:
                continue
            figures.append(
                cost.ApiFigures(
                    w.function,
                    w.route,
                    self.memory_mb.get(w.function, 512),
                    w.ms,
                    cold[w.function].ms,
                    w.warm_calls,
                    0.0 if math.isnan(w.log_bytes) else w.log_bytes,
                    w.function in self.snapstart,
                )
            )
        return figures

    def _job_figures(self) -> list[cost.JobFigures]:
        figures = []
        for w in self.worker:
            figures.append(
                cost.JobFigures(
                    w.job_type, 1, w.memory_mb, w.single_ms, w.cold_ms, w.warm_calls, 1, w.single_log_bytes
                )
            )
            figures.append(
                cost.JobFigures(
                    w.job_type,
                    w.batch,
                    w.memory_mb,
                    w.batch_ms,
                    w.cold_ms,
                    w.batch_calls,
                    w.batch,
                    w.batch_log_bytes,
                )
            )
        return figures


def _calls(calls: Sequence[AwsCall], per: int = 1) -> str:
    """``dynamodb.GetItem, ses.SendEmail x2`` (``per``: divided by the jobs of a batch)."""
    counts: dict[str, int] = {}
    for call in calls:
        counts[call.label] = counts.get(call.label, 0) + 1
    if not counts:
        return "none"
    return ", ".join(
        f"{label.split('.', 1)[1] if label.startswith('dynamodb.') else label}"
        + (f" x{n / per:g}" if n / per != 1 else "")
        for label, n in counts.items()
    )


def _units(units: cost.Units) -> str:
    return f"{units.rru:g} / {units.wru:g}"


def _ops(operations: Sequence[str]) -> str:
    return ", ".join(operations) or "none"


def _ms(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.1f}"


def machine() -> str:
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{platform.machine()} (uname -m), {cpu}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()} ({sys.implementation.name}), {platform.system()} {platform.release()}"
    )


def commit() -> str:
    root = Path(__file__).resolve().parents[2]
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{head}{' (with uncommitted changes)' if dirty else ''}"
