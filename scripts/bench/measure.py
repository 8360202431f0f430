"""Running the measured processes (scripts/bench/child.py): cold samples, recordings, warm sessions."""

from __future__ import annotations

import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

from scripts.bench.contenders import AwsCall

CHILD = Path(__file__).with_name("child.py")
SAMPLE_TIMEOUT = 120.0

Kind = Literal["function", "B0", "B1", "calibration"]


class BenchError(RuntimeError):
    """A measured process failed (carries the end of its stderr)."""


@dataclass
class Contender:
    """One kind of process measured: its sys.path, environment, handler and first event."""

    label: str
    kind: Kind
    path: list[Path]
    env: dict[str, str]
    event: dict[str, Any]
    handler: str = "app.handler"
    note: str = ""

    def config(self, mode: str, **extra: Any) -> dict[str, Any]:
        return {"mode": mode, "path": [str(p) for p in self.path], "handler": self.handler, **extra}


def _command(config: dict[str, Any]) -> list[str]:
    # -S: no site-packages (only the path Lambda gives); -I: no user environment, no script dir.
    return [sys.executable, "-S", "-I", str(CHILD), json.dumps(config)]


def _reply(stdout: str) -> dict[str, Any]:
    lines = [line for line in stdout.splitlines() if line.strip()]
    if not lines:
        raise BenchError("no reply")
    reply: dict[str, Any] = json.loads(lines[-1])
    return reply


@dataclass
class Sample:
    wall_ms: float
    cpu_ms: float
    status: int


def cold_sample(contender: Contender) -> Sample:
    """One fresh process: interpreter start, import, first request. Timed by this process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        _command(contender.config("cold", event=contender.event)),
        env=contender.env,
        capture_output=True,
        text=True,
        timeout=SAMPLE_TIMEOUT,
        check=False,
    )
    wall = (time.perf_counter() - started) * 1000
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise BenchError(f"{contender.label}: exit {done.returncode}\n{done.stderr[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000
    return Sample(wall, cpu, int(_reply(done.stdout)["status"]))


def cold_rounds(
    contenders: Sequence[Contender], rounds: int, *, progress: Any = None
) -> tuple[dict[str, list[Sample]], dict[str, str]]:
    """Samples per contender label, measured interleaved round after round (the order rotates each
    round), after one untimed sample each that warms the OS file cache. A contender that fails its
    untimed sample is left out (label -> error)."""
    failed: dict[str, str] = {}
    live = []
    for contender in contenders:
        try:
            cold_sample(contender)
            live.append(contender)
        except (BenchError, subprocess.TimeoutExpired) as exc:
            failed[contender.label] = str(exc)
    samples: dict[str, list[Sample]] = {c.label: [] for c in live}
    for index in range(rounds):
        shift = index % max(1, len(live))
        for contender in [*live[shift:], *live[:shift]]:
            samples[contender.label].append(cold_sample(contender))
        if progress is not None:
            progress(f"cold start: round {index + 1}/{rounds}")
    return samples, failed


def median_ms(samples: Sequence[Sample], attribute: str = "wall_ms") -> float:
    return float(statistics.median(getattr(s, attribute) for s in samples))


# ------------------------------------------------------------------ recording


@dataclass
class Run:
    status: int
    code: str | None
    calls: list[AwsCall]

    @classmethod
    def of(cls, result: dict[str, Any]) -> Run:
        """One served event as the child process reports it."""
        return cls(int(result["status"]), result["code"], [AwsCall.of(call) for call in result["calls"]])


@dataclass
class EventRecord:
    name: str
    route: str | None  # "GET /api/health"; None: no route of the app serves it (404)
    cold: Run
    warm: Run

    @property
    def route_exists(self) -> bool:
        return self.route is not None


def record(contender: Contender, events: Sequence[tuple[str, dict[str, Any]]]) -> list[EventRecord]:
    """Serve each event twice in a fresh process of its own, recording every AWS request (botocore
    hook): the first time is a cold start with nothing cached, the second what a repeat costs."""
    records = []
    for name, event in events:
        (result,) = _recorded(contender, contender.config("record", events=[event]), f"recording {name}")
        records.append(EventRecord(name, result["route"], Run.of(result["cold"]), Run.of(result["warm"])))
    return records


def record_once(contender: Contender, events: Sequence[dict[str, Any]]) -> list[Run]:
    """Serve the events once each, in order, in one fresh process, recording each one's AWS requests
    (the first includes the import's): a worker's jobs, where serving a job again is a redelivery."""
    config = contender.config("record", events=list(events), once=True)
    return [Run.of(result) for result in _recorded(contender, config, "recording")]


def _recorded(contender: Contender, config: dict[str, Any], what: str) -> list[dict[str, Any]]:
    """Run one recording child process; the events it reports."""
    done = subprocess.run(
        _command(config),
        env=contender.env,
        capture_output=True,
        text=True,
        timeout=SAMPLE_TIMEOUT,
        check=False,
    )
    if done.returncode != 0:
        raise BenchError(f"{contender.label} ({what}): exit {done.returncode}\n{done.stderr[-3000:]}")
    events: list[dict[str, Any]] = _reply(done.stdout)["events"]
    return events


# ------------------------------------------------------------------ warm sessions


@dataclass
class Session:
    """A live process of one contender that serves requests on command (child.py ``serve``)."""

    contender: Contender
    events: list[dict[str, Any]]
    log: Path | None = None  # where the function's stdout goes (None: /dev/null)
    process: subprocess.Popen[str] = field(init=False)
    first_status: int = field(init=False)
    served: int = field(init=False, default=0)
    logged: int = field(init=False, default=0)  # bytes logged during timed requests
    timed: int = field(init=False, default=0)  # requests timed
    _stderr: IO[str] = field(init=False)

    def __post_init__(self) -> None:
        self._stderr = tempfile.TemporaryFile("w+")  # noqa: SIM115 - closed in close()
        self.process = subprocess.Popen(
            _command(
                self.contender.config(
                    "serve", events=self.events, **({"log": str(self.log)} if self.log else {})
                )
            ),
            env=self.contender.env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
        )
        self.first_status = int(self._read()["status"])
        self.served = 1

    def _read(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            self.process.wait(timeout=10)
            self._stderr.seek(0)
            raise BenchError(f"{self.contender.label}: the process ended\n{self._stderr.read()[-3000:]}")
        reply: dict[str, Any] = json.loads(line)
        return reply

    def _ask(self, command: dict[str, Any]) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        return self._read()

    def time(self, count: int, event: int = 0) -> tuple[list[float], list[float]]:
        """(wall, CPU) durations in ms, in the process, of ``count`` requests with one event."""
        reply = self._ask({"time": count, "event": event})
        self.served += count
        self.timed += count
        self.logged += int(reply.get("log_bytes", 0))
        return [float(ms) for ms in reply["ms"]], [float(ms) for ms in reply["cpu_ms"]]

    def time_events(self, events: Sequence[dict[str, Any]]) -> tuple[list[float], list[float], int]:
        """(wall, CPU) durations in ms of serving each event once, and the bytes the function logged
        meanwhile (0 without ``log``)."""
        reply = self._ask({"time": 0, "events": list(events)})
        self.served += len(events)
        return (
            [float(ms) for ms in reply["ms"]],
            [float(ms) for ms in reply["cpu_ms"]],
            int(reply.get("log_bytes", 0)),
        )

    def cycle(self, count: int) -> tuple[dict[str, int], int, int, int]:
        """Serve ``count`` requests round-robin over the events: (statuses, served so far, peak RSS
        kB, current RSS kB)."""
        reply = self._ask({"cycle": count})
        self.served = int(reply["served"])
        return dict(reply["statuses"]), self.served, int(reply["maxrss_kb"]), int(reply["rss_kb"])

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()
        self._stderr.close()
