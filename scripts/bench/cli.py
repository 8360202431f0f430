"""`make bench`: the performance report, measured in one run. See scripts/bench/__init__.py."""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scripts.bench import contenders as gen
from scripts.bench import cost
from scripts.bench import jobs as job_events
from scripts.bench.build import DeployedSizes, deployed_sizes, host_build, runtime_dir
from scripts.bench.load import Target, run_load
from scripts.bench.measure import (
    BenchError,
    Contender,
    EventRecord,
    Session,
    cold_rounds,
    cold_sample,
    median_ms,
    record,
    record_once,
)
from scripts.bench.report import (
    RSS_REQUESTS,
    WARM_B1,
    WARM_HELLO,
    ColdRow,
    MemoryRow,
    OtherRow,
    RequestRow,
    Results,
    WarmRow,
    WorkerRow,
)
from scripts.bench.stack import ROOT, BenchStack

#: Where a run writes its report: a build output (git-ignored), so `make bench` leaves the tree
#: clean; `make bench-record` writes the committed docs/benchmarks.md on purpose.
DEFAULT_OUTPUT = ROOT / ".bench" / "benchmarks.md"
RECORDED_OUTPUT = ROOT / "docs" / "benchmarks.md"
PHASES = ("size", "cold", "warm", "load")  # "warm" includes memory and the requests table


def _say(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="make bench",
        description="Cold start, layer size, warm path, memory, DynamoDB requests per route and load, "
        "measured in one run; prints the report and writes it to .bench/benchmarks.md "
        "(--record: docs/benchmarks.md, the committed one).",
    )
    parser.add_argument("--rounds", type=int, help="cold-start rounds (default 9; 3 with --quick)")
    parser.add_argument("--quick", action="store_true", help="fewer rounds and samples, a 10 s load test")
    parser.add_argument("--check", action="store_true", help="exit 1 when any row is over budget")
    parser.add_argument("--no-load", action="store_true", help="skip the load test")
    parser.add_argument(
        "--only",
        type=lambda text: set(text.split(",")),
        default=set(PHASES),
        metavar="PHASES",
        help=f"run only these phases (comma separated: {','.join(PHASES)}); the report shows what ran",
    )
    parser.add_argument("--load-seconds", type=float, help="load test duration (default 30; 10 with --quick)")
    parser.add_argument(
        "--output",
        type=Path,
        default=DEFAULT_OUTPUT,
        help="where to write the report (default .bench/benchmarks.md, git-ignored)",
    )
    parser.add_argument(
        "--record", action="store_true", help="write the committed docs/benchmarks.md (make bench-record)"
    )
    parser.add_argument("--no-write", action="store_true", help="print the report only")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if unknown := args.only - set(PHASES):
        _parser().error(f"unknown phase(s): {', '.join(sorted(unknown))}")
    rounds = args.rounds or (3 if args.quick else 9)
    started_at, started = datetime.now(UTC), time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        work = Path(tmp)
        if "size" in args.only:
            _say("sam build (arm64) + postbuild, for the deployed sizes")
            sizes = deployed_sizes(work)
        else:
            sizes = DeployedSizes({}, {}, 0.0, [], error="not measured (--only)")
        results = Results(started_at, 0.0, rounds, args.quick, sizes, phases=args.only)
        stack = BenchStack()
        _say("provisioning template.yaml in the emulator; building the functions for this machine")
        stack.start()
        try:
            targets = Bench(stack, work, results, quick=args.quick).run(rounds, args.only)
        finally:
            stack.stop()
    if args.no_load or "load" not in args.only:
        results.load = None
    else:
        seconds = args.load_seconds or (10.0 if args.quick else 30.0)
        _say(f"load: {seconds:.0f} s through the local cloud on {len(targets)} route(s)")
        results.load = run_load(targets, seconds=seconds, concurrency=4, max_instances=2, max_requests=50_000)
    results.seconds = time.monotonic() - started
    report = results.markdown()
    print(report)
    if not args.no_write:
        output: Path = RECORDED_OUTPUT if args.record else args.output
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(report, encoding="utf-8")
        _say(f"written to {output}")
    over = results.over_budget()
    if over:
        _say(
            f"{len(over)} row(s) over budget (see above)" + ("" if args.check else "; exit 0 without --check")
        )
    return 1 if over and args.check else 0


def _write(work: Path, name: str, source: str) -> Path:
    folder = work / "contenders" / name
    folder.mkdir(parents=True)
    (folder / "app.py").write_text(source, encoding="utf-8")
    return folder


def _median(values: Sequence[float]) -> float:
    return float(statistics.median(values)) if values else float("nan")


class Bench:
    """One run's measurements against a started stack; fills ``results``."""

    def __init__(self, stack: BenchStack, work: Path, results: Results, *, quick: bool) -> None:
        self.work = work
        self.results = results
        self.quick = quick
        self.functions = stack.functions
        self.stack = stack
        results.memory_mb = dict(stack.memory_mb)
        results.snapstart = {
            name
            for name, resource in (stack.template.get("Resources") or {}).items()
            if isinstance(resource, dict) and "SnapStart" in (resource.get("Properties") or {})
        }
        results.alarm_metrics = cost.alarm_metrics(stack.template)
        code_dirs = {name: f.spec.code_dir for name, f in self.functions.items()}
        if stack.worker is not None:
            code_dirs[stack.worker.logical_id] = stack.worker.spec.code_dir
        self.layer, code = host_build(work, code_dirs)
        self.runtime = runtime_dir(work)
        self.worker: Contender | None = None
        if stack.worker is not None:
            worker_code = code[stack.worker.logical_id]
            self.worker = Contender(
                stack.worker.logical_id,
                "function",
                [worker_code, self.layer, self.runtime],
                {**stack.worker.environment, "LAMBDA_TASK_ROOT": str(worker_code)},
                {},
            )
        self.own = {
            name: Contender(
                name,
                "function",
                [code[name], self.layer, self.runtime],
                {**function.environment, "LAMBDA_TASK_ROOT": str(code[name])},
                function.first_event.event,
            )
            for name, function in self.functions.items()
        }
        self.records: dict[str, list[EventRecord]] = {}
        self.baseline_of: dict[str, tuple[str, str]] = {}  # function -> (B0 label, B1 label)

    def run(self, rounds: int, phases: set[str]) -> list[Target]:
        _say("recording the AWS requests of every sample event")
        for name, function in self.functions.items():
            try:
                self.records[name] = record(self.own[name], [(e.name, e.event) for e in function.events])
            except BenchError as exc:
                self.results.failures[name] = str(exc)
        contenders = [self.own[name] for name in self.records]
        contenders += self._baselines()
        reference = next(
            (n for n in self.records if self.records[n][0].route_exists), next(iter(self.records), None)
        )
        if reference is not None:
            contenders += self._calibration(reference)
        if "cold" in phases:
            self._cold(contenders, rounds, reference)
        if "warm" in phases:
            for name in self.records:
                self._warm_and_memory(name)
        if self.worker is not None and {"cold", "warm"} <= phases:
            try:
                self._worker(rounds)
            except (BenchError, RuntimeError, subprocess.TimeoutExpired) as exc:
                _say(f"worker: failed: {exc}")
                self.results.failures["WorkerFunction"] = str(exc)
        return self._requests_and_targets()

    # ------------------------------------------------------------------ contenders

    def _baselines(self) -> list[Contender]:
        """One B0 and one B1 per distinct list of requests (import + first event)."""
        by_calls: dict[str, list[str]] = {}
        for name in self.records:
            by_calls.setdefault(gen.calls_key(self.records[name][0].cold.calls), []).append(name)
        contenders = []
        for index, names in enumerate(by_calls.values(), start=1):
            calls = self.records[names[0]][0].cold.calls
            stands_for = ", ".join(names)
            title = f"#{index}" if len(by_calls) > 1 else ""
            env, event = self.own[names[0]].env, self.own[names[0]].event
            b0, b1 = f"B0{title}", f"B1{title}"
            note = f"{gen.summary(calls)} ({stands_for})"
            b0_dir = _write(self.work, f"b0-{index}", gen.b0_source(calls, f"for {stands_for}"))
            b1_dir = _write(self.work, f"b1-{index}", gen.b1_source(calls, f"for {stands_for}"))
            contenders += [
                Contender(b0, "B0", [b0_dir, self.runtime], env, event, note=note),
                Contender(b1, "B1", [b1_dir, self.layer, self.runtime], env, event, note=note),
            ]
            for name in names:
                self.baseline_of[name] = (b0, b1)
        return contenders

    def _calibration(self, reference: str) -> list[Contender]:
        """The FastAPI hello; Powertools' resolver and X-Ray SDK tracing for the reference function."""
        env, event = self.own[reference].env, self.own[reference].event
        http = event["requestContext"]["http"]
        hello = _write(self.work, "fastapi-hello", gen.FASTAPI_HELLO)
        resolver = _write(
            self.work,
            "powertools-resolver",
            gen.resolver_source(self.records[reference][0].cold.calls, http["method"], event["rawPath"]),
        )
        traced = {k: v for k, v in env.items() if k != "POWERTOOLS_TRACE_DISABLED"} | {
            "XRAY_SDK_TRACING": "true",
            "_X_AMZN_TRACE_ID": "Root=1-5e1b4151-5ac6c58f5b5daa6532e4bd5a;Parent=53995c3f42cd8ad8;Sampled=1",
        }
        return [
            Contender(
                "FastAPI+Mangum hello",
                "calibration",
                [hello, self.layer, self.runtime],
                env,
                event,
                note="no AWS SDK import, no request: the floor of any FastAPI function",
            ),
            Contender(
                "Powertools resolver",
                "calibration",
                [resolver, self.layer, self.runtime],
                env,
                event,
                note=f"{reference}'s requests served by APIGatewayHttpResolver instead of FastAPI",
            ),
            Contender(
                f"{reference} + X-Ray SDK",
                "calibration",
                self.own[reference].path,
                traced,
                event,
                note="XRaySdkTracing=true: Powertools Tracer, botocore patched",
            ),
        ]

    # ------------------------------------------------------------------ measurements

    def _cold(self, contenders: list[Contender], rounds: int, reference: str | None) -> None:
        _say(f"cold start: {len(contenders)} contenders x {rounds} rounds, interleaved")
        samples, failed = cold_rounds(contenders, rounds, progress=_say)
        self.results.failures |= failed

        def ms(label: str, attribute: str = "wall_ms") -> float:
            return median_ms(samples[label], attribute) if samples.get(label) else float("nan")

        for name in self.records:
            if name not in samples:
                continue
            first = self.records[name][0]
            b0, b1 = self.baseline_of[name]
            self.results.cold.append(
                ColdRow(
                    name,
                    self.functions[name].first_event.name,
                    first.route,
                    first.cold.status,
                    gen.summary(first.cold.calls),
                    ms(name),
                    ms(name, "cpu_ms"),
                    b0,
                    ms(b0),
                    ms(b0, "cpu_ms"),
                    b1,
                    ms(b1),
                    ms(b1, "cpu_ms"),
                )
            )
        for contender in contenders:
            if contender.label in samples and contender.kind != "function":
                row = OtherRow(
                    contender.label, contender.note, ms(contender.label), ms(contender.label, "cpu_ms")
                )
                (
                    self.results.baselines if contender.kind != "calibration" else self.results.calibration
                ).append(row)
        traced = f"{reference} + X-Ray SDK"
        if reference is not None and traced in samples and reference in samples:
            self.results.xray = (
                reference,
                ms(reference, "cpu_ms"),
                ms(traced, "cpu_ms"),
                ms(self.baseline_of[reference][0], "cpu_ms"),
            )

    def _warm_and_memory(self, name: str) -> None:
        _say(f"warm path and memory: {name}")
        function, first = self.functions[name], self.records[name][0]
        try:
            session = Session(
                self.own[name], [e.event for e in function.events], log=self.work / f"{name}.log"
            )
        except BenchError as exc:
            self.results.failures[f"{name} (warm)"] = str(exc)
            return
        try:
            if first.route_exists:
                self._warm(name, session, first)
            statuses, served, peak_kb, rss_kb = session.cycle(max(0, RSS_REQUESTS - session.served))
            self.results.memory.append(MemoryRow(name, served, statuses, peak_kb, rss_kb))
        except BenchError as exc:
            self.results.failures[f"{name} (warm)"] = str(exc)
        finally:
            session.close()

    def _warm(self, name: str, session: Session, first: EventRecord) -> None:
        """The function and its baseline, both warm, timed in alternating blocks of requests."""
        blocks, per_block = (5, 20) if self.quick else (10, 30)
        calls = first.warm.calls
        if calls:
            baseline, budget, source = (
                "B1 (same requests)",
                WARM_B1,
                gen.b1_source(calls, f"warm, for {name}"),
            )
        else:
            baseline, budget, source = "hello route", WARM_HELLO, gen.FASTAPI_HELLO
        folder = _write(self.work, f"warm-{name}", source)
        own = self.own[name]
        other = Session(
            Contender(baseline, "B1", [folder, self.layer, self.runtime], own.env, own.event), [own.event]
        )
        ours: tuple[list[float], list[float]] = ([], [])
        theirs: tuple[list[float], list[float]] = ([], [])

        def block(target: tuple[list[float], list[float]], process: Session) -> None:
            wall, cpu = process.time(per_block)
            target[0].extend(wall)
            target[1].extend(cpu)

        try:
            session.time(per_block)  # warm-up, not counted
            other.time(per_block)
            for index in range(blocks):
                pair = [(ours, session), (theirs, other)]
                for target, process in pair if index % 2 == 0 else reversed(pair):
                    block(target, process)
        finally:
            other.close()
        self.results.warm.append(
            WarmRow(
                name,
                first.route or "",
                gen.summary(calls),
                _median(ours[0]),
                _median(ours[1]),
                baseline,
                _median(theirs[0]),
                _median(theirs[1]),
                budget,
                len(ours[0]),
                session.logged / session.timed if session.timed else float("nan"),
                list(calls),
            )
        )

    def _worker(self, rounds: int) -> None:
        """The worker's jobs: recorded, cold (fresh processes), warm (one record, batches)."""
        assert self.worker is not None
        worker, stack = self.worker, self.stack
        assert stack.worker is not None
        singles, batches = (20, 5) if self.quick else (50, 15)
        batch = job_events.BATCH

        def queue(job_type: str) -> str:
            suffix = job_events.QUEUE_OF[job_type]
            for name, arn in stack.worker_queues.items():
                if name.rsplit("-", 1)[0].endswith(f"-{suffix}"):
                    return arn
            raise BenchError(f"the worker reads no {suffix} queue")

        needed = job_events.orders_needed(rounds, singles, batches)
        _say(f"worker: placing {needed} orders for its order jobs")
        seeded = job_events.seed_orders(stack.worker.environment, needed)
        orders = seeded.orders
        self.results.order_placement = seeded.place_calls
        sources = {
            kind.job_type: job_events.JobSource(
                kind.job_type, queue(kind.job_type), None if kind.job_type == job_events.EMAIL else orders
            )
            for kind in job_events.KINDS
        }
        recorded = {}
        for job_type, source in sources.items():
            _say(f"worker: recording {job_type}")
            recorded[job_type] = record_once(worker, [source.event(), source.event(), source.event(batch)])
        _say(f"worker: cold start, {len(sources)} jobs x {rounds} rounds")
        cold: dict[str, list[Any]] = {job_type: [] for job_type in sources}
        for index in range(rounds + 1):  # the first round is untimed (the OS file cache)
            for job_type, source in sources.items():
                sample = cold_sample(dataclasses.replace(worker, event=source.event()))
                if index:
                    cold[job_type].append(sample)
        for kind in job_events.KINDS:
            source = sources[kind.job_type]
            _say(f"worker: warm {kind.job_type}")
            session = Session(
                dataclasses.replace(worker, label=f"{worker.label} {kind.job_type}"),
                [source.event()],
                log=self.work / f"worker-{kind.job_type}.log",
            )
            try:
                one_ms, one_cpu, one_log = session.time_events([source.event() for _ in range(singles)])
                many_ms, many_cpu, many_log = session.time_events(
                    [source.event(batch) for _ in range(batches)]
                )
            finally:
                session.close()
            runs = recorded[kind.job_type]
            statuses = ", ".join(f"{r.status}" for r in runs)
            self.results.worker.append(
                WorkerRow(
                    kind.job_type,
                    kind.what,
                    stack.memory_mb.get(worker.label, 512),
                    median_ms(cold[kind.job_type]),
                    median_ms(cold[kind.job_type], "cpu_ms"),
                    _median(one_ms),
                    _median(one_cpu),
                    _median(many_ms),
                    _median(many_cpu),
                    batch,
                    len(one_ms),
                    len(many_ms),
                    one_log / max(1, len(one_ms)),
                    many_log / max(1, len(many_ms)),
                    runs[0].calls,
                    runs[1].calls,
                    runs[2].calls,
                    statuses,
                )
            )
            if any(r.status != 200 for r in runs):
                self.results.failures[f"WorkerFunction {kind.job_type}"] = (
                    f"statuses {statuses} (207: failed records)"
                )

    def _requests_and_targets(self) -> list[Target]:
        """The requests table; the load test's targets (read routes that exist)."""
        targets = []
        for name, records in self.records.items():
            for sample, rec in zip(self.functions[name].events, records, strict=True):
                if rec.route is None:
                    continue
                first = [c.operation for c in rec.cold.calls if c.service == "dynamodb"]
                again = [c.operation for c in rec.warm.calls if c.service == "dynamodb"]
                other = [c.label for c in rec.cold.calls if c.service != "dynamodb"]
                event = f"{self.functions[name].group}/{sample.name}"
                self.results.requests.append(
                    RequestRow(
                        name,
                        event,
                        rec.route,
                        rec.cold.status,
                        first,
                        again,
                        other,
                        [c for c in rec.cold.calls if c.service == "dynamodb"],
                        [c for c in rec.warm.calls if c.service == "dynamodb"],
                    )
                )
                if sample.method in ("GET", "HEAD") and rec.warm.status < 500:
                    targets.append(Target(name, sample.name, rec.route, sample.raw, rec.warm.status))
        if not targets:
            self.results.notes.append("No read route exists yet: the load test has nothing to request.")
        return targets
