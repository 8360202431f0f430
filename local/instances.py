"""Function instances: one child process per execution environment, pooled per function.

An instance serves one event at a time, as a Lambda execution environment does. A function's pool
starts instances on demand (a cold start, logged with its duration) up to `max_instances`; beyond
that, requests wait for a free instance. An invocation that outlives the function's Timeout kills
its instance, as Lambda does.
"""

from __future__ import annotations

import json
import os
import queue
import secrets
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from local.console import Console
from local.emulator import FAKE_CREDENTIALS
from local.functions import FunctionSpec
from local.intrinsics import REGION

RUNTIME_SCRIPT = Path(__file__).with_name("runtime.py")
INIT_TIMEOUT_SECONDS = 30.0
"""How long an instance may take to import its handler (Lambda allows 10 s; local disks are slower)."""

_PASSED_THROUGH = ("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR", "TEMP", "TMP", "SYSTEMROOT")


def instance_environment(
    spec: FunctionSpec, endpoint_url: str, *, region: str = REGION, base: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The environment of the function's processes: the template's variables plus Lambda's own.

    Nothing else leaks in from the local cloud's environment, as on Lambda.
    """
    base = os.environ if base is None else base
    env = {key: base[key] for key in _PASSED_THROUGH if key in base}
    env.setdefault("LANG", "en_US.UTF-8")
    # test instrumentation, not Lambda's: bytecode off, and the IAM contract's request log (local/runtime.py)
    for key in ("PYTHONDONTWRITEBYTECODE", "AWS_REQUEST_LOG_DIR"):
        if key in base:
            env[key] = base[key]
    env.update(spec.environment)
    env.update(FAKE_CREDENTIALS)
    env.update(
        {
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
            "AWS_ENDPOINT_URL": endpoint_url,
            "AWS_LAMBDA_FUNCTION_NAME": spec.function_name,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_size),
            "AWS_LAMBDA_FUNCTION_TIMEOUT": str(spec.timeout),
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.function_name}",
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.runtime}",
            "AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "LAMBDA_TASK_ROOT": str(spec.code_dir),
            "_HANDLER": spec.handler,
            "TZ": "UTC",
            "PYTHONUNBUFFERED": "1",
            "PYTHONPATH": os.pathsep.join(str(path) for path in spec.python_path),
        }
    )
    return env


@dataclass
class InvokeOutcome:
    """What one invocation gave: the result, or the error document Lambda would report."""

    ok: bool
    request_id: str
    result: Any = None
    error: dict[str, Any] | None = None
    timed_out: bool = False
    duration_ms: float = 0.0
    init_ms: float | None = None
    instance: int = 0


class InitFailure(Exception):
    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(error.get("errorMessage", "init failed"))
        self.error = error


class QueueTimeout(Exception):
    """No instance became free in time (every instance busy, at the pool's limit)."""


class _InstanceTimeout(Exception):
    pass


class _InstanceDied(Exception):
    pass


class FunctionInstance:
    """One child process running `local/runtime.py` for a function."""

    def __init__(self, spec: FunctionSpec, number: int, env: dict[str, str], console: Console) -> None:
        self.spec = spec
        self.number = number
        self.label = f"{spec.logical_id}:{number}"
        self.generation = 0
        self._console = console
        stream = f"{datetime.now(UTC):%Y/%m/%d}/[$LATEST]{secrets.token_hex(16)}"
        self._env = {**env, "AWS_LAMBDA_LOG_STREAM_NAME": stream}
        self._replies: queue.Queue[str | None] = queue.Queue()
        self._process: subprocess.Popen[str] | None = None

    @property
    def alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> tuple[float, float]:
        """Start the process and import the handler: (total cold start ms, handler init ms)."""
        started = time.perf_counter()
        popen_args: dict[str, Any] = {}
        if os.name == "posix":
            popen_args["start_new_session"] = True  # Ctrl-C goes to the local cloud, which stops us
        else:  # pragma: no cover - Windows
            popen_args["creationflags"] = subprocess.CREATE_NEW_PROCESS_GROUP  # type: ignore[attr-defined]
        cwd = self.spec.code_dir if self.spec.code_dir.is_dir() else None
        self._process = subprocess.Popen(
            [sys.executable, "-P", "-u", str(RUNTIME_SCRIPT)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=self._env,
            cwd=cwd,
            text=True,
            encoding="utf-8",
            errors="replace",
            **popen_args,
        )
        assert self._process.stdout is not None
        assert self._process.stderr is not None
        threading.Thread(target=self._read_replies, args=(self._process.stdout,), daemon=True).start()
        threading.Thread(target=self._forward_output, args=(self._process.stderr,), daemon=True).start()
        try:
            reply = self._next_reply(INIT_TIMEOUT_SECONDS)
        except _InstanceTimeout:
            self.kill()
            raise InitFailure(
                {
                    "errorType": "Runtime.InitTimeout",
                    "errorMessage": f"init took over {INIT_TIMEOUT_SECONDS:.0f} s",
                }
            ) from None
        except _InstanceDied:
            raise InitFailure(
                {"errorType": "Runtime.ExitError", "errorMessage": self.exit_message()}
            ) from None
        if reply.get("type") != "ready":
            self.kill()
            raise InitFailure(
                reply.get("error") or {"errorType": "Runtime.Unknown", "errorMessage": str(reply)}
            )
        return (time.perf_counter() - started) * 1000, float(reply.get("initMs", 0.0))

    def request(self, message: dict[str, Any], timeout: float) -> dict[str, Any]:
        process = self._process
        if process is None or process.stdin is None or not self.alive:
            raise _InstanceDied()
        try:
            process.stdin.write(json.dumps(message, separators=(",", ":")) + "\n")
            process.stdin.flush()
        except (BrokenPipeError, OSError, ValueError):
            raise _InstanceDied() from None
        return self._next_reply(timeout)

    def _next_reply(self, timeout: float) -> dict[str, Any]:
        try:
            line = self._replies.get(timeout=timeout)
        except queue.Empty:
            raise _InstanceTimeout() from None
        if line is None:
            raise _InstanceDied()
        reply: dict[str, Any] = json.loads(line)
        return reply

    def _read_replies(self, stream: IO[str]) -> None:
        for line in stream:
            if line.strip():
                self._replies.put(line)
        self._replies.put(None)

    def _forward_output(self, stream: IO[str]) -> None:
        for line in stream:
            self._console.line(self.label, line)

    def exit_message(self) -> str:
        code = self._process.wait(timeout=5) if self._process is not None else None
        return f"the instance process exited (code {code})"

    def kill(self) -> None:
        process = self._process
        if process is None or process.poll() is not None:
            return
        try:
            if os.name == "posix":
                os.killpg(process.pid, signal.SIGKILL)  # the function's own subprocesses too
            else:  # pragma: no cover - Windows
                process.kill()
        except ProcessLookupError:
            pass
        process.wait(timeout=5)

    def stop(self, grace: float = 2.0) -> None:
        """Let the runtime exit (stdin closed), then kill what is left."""
        process = self._process
        if process is None or process.poll() is not None:
            return
        try:
            if process.stdin is not None:
                process.stdin.close()
            process.wait(timeout=grace)
        except (OSError, subprocess.TimeoutExpired):
            self.kill()


class FunctionPool:
    """The instances of one function."""

    def __init__(
        self,
        spec: FunctionSpec,
        env: dict[str, str],
        console: Console,
        *,
        max_instances: int = 4,
    ) -> None:
        self.spec = spec
        self.max_instances = max(1, max_instances)
        self._env = env
        self._console = console
        self._cond = threading.Condition()
        self._instances: set[FunctionInstance] = set()
        self._idle: list[FunctionInstance] = []
        self._busy: set[FunctionInstance] = set()
        self._starting = 0
        self._waiting = 0
        self._numbers = 0
        self._generation = 0
        self._closed = False
        self._counters = {"coldStarts": 0, "invocations": 0, "errors": 0, "timeouts": 0, "peakConcurrency": 0}

    # ------------------------------------------------------------------ invoking

    def invoke(
        self, event: Any, *, queue_timeout: float | None = None, request_id: str | None = None
    ) -> InvokeOutcome:
        """Run the handler on one event in a free (or new) instance; never raises for function errors."""
        request_id = request_id or str(uuid.uuid4())
        try:
            instance, init_ms = self._acquire(queue_timeout)
        except InitFailure as failure:
            self._count("errors")
            return InvokeOutcome(False, request_id, error=failure.error)
        except QueueTimeout:
            error = {"errorType": "Local.QueueTimeout", "errorMessage": "every instance stayed busy"}
            return InvokeOutcome(False, request_id, error=error, timed_out=True)
        started = time.perf_counter()
        deadline_ms = int(time.time() * 1000) + self.spec.timeout * 1000
        message = {
            "type": "invoke",
            "requestId": request_id,
            "event": event,
            "deadlineMs": deadline_ms,
            "invokedFunctionArn": self.spec.arn,
            "traceId": f"Root=1-{int(time.time()):08x}-{secrets.token_hex(12)};Sampled=0",
        }
        self._count("invocations")
        try:
            reply = instance.request(message, timeout=self.spec.timeout + 0.05)
        except _InstanceTimeout:
            instance.kill()
            elapsed = time.perf_counter() - started
            self._console.line(instance.label, f"{request_id} Task timed out after {elapsed:.2f} seconds")
            self._count("timeouts")
            self._count("errors")
            error = {
                "errorType": "Sandbox.Timedout",
                "errorMessage": f"Task timed out after {elapsed:.2f} seconds",
            }
            return InvokeOutcome(
                False,
                request_id,
                error=error,
                timed_out=True,
                duration_ms=elapsed * 1000,
                init_ms=init_ms,
                instance=instance.number,
            )
        except _InstanceDied:
            self._count("errors")
            error = {"errorType": "Runtime.ExitError", "errorMessage": instance.exit_message()}
            self._console.line(instance.label, f"{request_id} Error: {error['errorMessage']}")
            return InvokeOutcome(False, request_id, error=error, init_ms=init_ms, instance=instance.number)
        finally:
            self._release(instance)
        duration = (time.perf_counter() - started) * 1000
        report = (
            f"REPORT RequestId: {request_id} Duration: {duration:.2f} ms Billed Duration: {int(duration) + 1} ms "
            f"Memory Size: {self.spec.memory_size} MB Max Memory Used: {reply.get('maxMemoryMb') or '?'} MB"
        )
        if init_ms is not None:
            report += f" Init Duration: {init_ms:.2f} ms"
        self._console.line(instance.label, report)
        ok = bool(reply.get("ok"))
        if not ok:
            self._count("errors")
        return InvokeOutcome(
            ok,
            request_id,
            result=reply.get("result") if ok else None,
            error=None if ok else reply.get("error"),
            duration_ms=duration,
            init_ms=init_ms,
            instance=instance.number,
        )

    def openapi(self, timeout: float = INIT_TIMEOUT_SECONDS) -> Any:
        """The OpenAPI document of the function's `app` (None when it has none or cannot start)."""
        try:
            instance, _ = self._acquire(timeout)
        except (InitFailure, QueueTimeout):
            return None
        try:
            reply = instance.request({"type": "openapi"}, timeout=timeout)
        except (_InstanceTimeout, _InstanceDied):
            instance.kill()
            return None
        finally:
            self._release(instance)
        return reply.get("result") if reply.get("ok") else None

    # ------------------------------------------------------------------ the pool

    def _acquire(self, queue_timeout: float | None) -> tuple[FunctionInstance, float | None]:
        end = None if queue_timeout is None else time.monotonic() + queue_timeout
        with self._cond:
            self._waiting += 1
            try:
                while True:
                    if self._closed:
                        raise QueueTimeout()
                    while self._idle:
                        instance = self._idle.pop()  # the most recently used, as Lambda prefers
                        if instance.alive and instance.generation == self._generation:
                            self._mark_busy(instance)
                            return instance, None
                        self._instances.discard(instance)
                        instance.kill()
                    if len(self._instances) + self._starting < self.max_instances:
                        self._starting += 1
                        self._note_concurrency()
                        self._numbers += 1
                        number, generation = self._numbers, self._generation
                        break
                    remaining = None if end is None else end - time.monotonic()
                    if remaining is not None and remaining <= 0:
                        raise QueueTimeout()
                    self._cond.wait(remaining)
            finally:
                self._waiting -= 1
        if not self.spec.code_dir.is_dir():
            with self._cond:
                self._starting -= 1
                self._cond.notify_all()
            raise InitFailure(
                {
                    "errorType": "Runtime.ImportModuleError",
                    "errorMessage": f"{self.spec.logical_id}: CodeUri {self.spec.code_dir} does not exist",
                }
            )
        instance = FunctionInstance(self.spec, number, self._env, self._console)
        instance.generation = generation
        try:
            total_ms, init_ms = instance.start()
        except InitFailure as failure:
            self._console.line(instance.label, f"init failed: {failure.error.get('errorMessage')}")
            with self._cond:
                self._starting -= 1
                self._cond.notify_all()
            raise
        self._console.line(
            instance.label,
            f"cold start: instance {number} ready in {total_ms:.0f} ms (handler init {init_ms:.0f} ms)",
        )
        with self._cond:
            self._starting -= 1
            self._instances.add(instance)
            self._counters["coldStarts"] += 1
            self._mark_busy(instance)
            closed = self.closed
        if closed:
            instance.stop()
            raise QueueTimeout()
        return instance, total_ms

    @property
    def closed(self) -> bool:
        return self._closed

    def _mark_busy(self, instance: FunctionInstance) -> None:
        self._busy.add(instance)
        self._note_concurrency()

    def _note_concurrency(self) -> None:
        # As Lambda's ConcurrentExecutions: environments serving an event or starting up for one.
        current = len(self._busy) + self._starting
        self._counters["peakConcurrency"] = max(self._counters["peakConcurrency"], current)

    def _release(self, instance: FunctionInstance) -> None:
        keep = False
        with self._cond:
            self._busy.discard(instance)
            if instance.alive and instance.generation == self._generation and not self._closed:
                self._idle.append(instance)
                keep = True
            else:
                self._instances.discard(instance)
            self._cond.notify_all()
        if not keep:
            instance.stop()

    def _count(self, name: str) -> None:
        with self._cond:
            self._counters[name] += 1

    def recycle(self) -> int:
        """Retire every instance (code changed): idle ones stop now, busy ones when they finish."""
        with self._cond:
            self._generation += 1
            idle, self._idle = self._idle, []
            for instance in idle:
                self._instances.discard(instance)
            busy = len(self._busy)
        for instance in idle:
            instance.stop()
        return len(idle) + busy

    def stats(self) -> dict[str, Any]:
        with self._cond:
            return {
                "function": self.spec.logical_id,
                "functionName": self.spec.function_name,
                "maxInstances": self.max_instances,
                "instances": len(self._instances),
                "busy": len(self._busy),
                "idle": len(self._idle),
                "waiting": self._waiting,
                **self._counters,
            }

    def shutdown(self) -> None:
        with self._cond:
            self._closed = True
            instances = list(self._instances)
            self._instances.clear()
            self._idle.clear()
            self._cond.notify_all()
        for instance in instances:
            instance.stop(grace=0.5)
