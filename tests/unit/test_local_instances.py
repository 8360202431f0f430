"""Function instances: child processes with Lambda's runtime contract, pooled per function."""

from __future__ import annotations

import io
import sys
import threading
import time
from pathlib import Path

import pytest

from local.console import Console
from local.functions import FunctionSpec
from local.instances import FunctionPool, instance_environment

HANDLER = """
import os, sys, time

print("init output")

class App:
    def openapi(self):
        return {"openapi": "3.1.0", "paths": {"/x": {}}}

app = App()

def handler(event, context):
    action = event.get("action")
    if action == "boom":
        raise ValueError("boom!")
    if action == "sleep":
        time.sleep(event["seconds"])
    if action == "exit":
        os._exit(3)
    print("printed by the handler")
    sys.stdout.write("not a protocol line\\n")
    return {
        "event": event,
        "pid": os.getpid(),
        "name": context.function_name,
        "arn": context.invoked_function_arn,
        "memory": context.memory_limit_in_mb,
        "requestId": context.aws_request_id,
        "remaining": context.get_remaining_time_in_millis(),
        "env": {key: os.environ.get(key) for key in ("STAGE", "AWS_LAMBDA_FUNCTION_NAME", "SECRET_OF_PARENT")},
        "shared": __import__("shared_helper").VALUE,
    }
"""


@pytest.fixture
def spec(tmp_path: Path) -> FunctionSpec:
    code = tmp_path / "fn"
    code.mkdir()
    (code / "app.py").write_text(HANDLER)
    layer = tmp_path / "layer"
    layer.mkdir()
    (layer / "shared_helper.py").write_text("VALUE = 'from the layer'\n")
    return FunctionSpec(
        logical_id="TestFunction",
        function_name="test-fn",
        arn="arn:aws:lambda:us-east-1:123456789012:function:test-fn",
        code_dir=code,
        handler="app.handler",
        runtime=f"python{sys.version_info.major}.{sys.version_info.minor}",
        timeout=1,
        memory_size=256,
        environment={"STAGE": "unit"},
        layer_dirs=[layer],
    )


@pytest.fixture
def output() -> io.StringIO:
    return io.StringIO()


def make_pool(spec: FunctionSpec, output: io.StringIO, max_instances: int = 4) -> FunctionPool:
    env = instance_environment(
        spec, "http://127.0.0.1:1", base={"PATH": "/usr/bin:/bin", "SECRET_OF_PARENT": "x"}
    )
    return FunctionPool(spec, env, Console(output), max_instances=max_instances)


def test_invoke_runs_the_handler_with_context_environment_and_layers(
    spec: FunctionSpec, output: io.StringIO
) -> None:
    pool = make_pool(spec, output)
    try:
        outcome = pool.invoke({"hello": "world"}, request_id="req-1")
        assert outcome.ok, outcome.error
        result = outcome.result
        assert result["event"] == {"hello": "world"}
        assert result["name"] == "test-fn"
        assert result["arn"] == spec.arn
        assert result["memory"] == "256"
        assert result["requestId"] == "req-1"
        assert 0 < result["remaining"] <= 1000
        assert result["env"] == {
            "STAGE": "unit",
            "AWS_LAMBDA_FUNCTION_NAME": "test-fn",
            "SECRET_OF_PARENT": None,
        }
        assert result["shared"] == "from the layer"
        assert outcome.init_ms is not None  # a cold start
        second = pool.invoke({})
        assert second.ok
        assert second.init_ms is None  # warm
        assert second.result["pid"] == result["pid"]
        stats = pool.stats()
        assert stats["coldStarts"] == 1
        assert stats["invocations"] == 2
    finally:
        pool.shutdown()
    log = output.getvalue()
    assert "[TestFunction:1] init output" in log
    assert "[TestFunction:1] printed by the handler" in log
    assert "[TestFunction:1] not a protocol line" in log
    assert "cold start: instance 1 ready in" in log
    assert "REPORT RequestId: req-1" in log
    assert "Init Duration:" in log


def test_handler_errors_are_reported_and_the_instance_lives_on(
    spec: FunctionSpec, output: io.StringIO
) -> None:
    pool = make_pool(spec, output)
    try:
        failed = pool.invoke({"action": "boom"})
        assert not failed.ok
        assert failed.error is not None
        assert failed.error["errorType"] == "ValueError"
        assert failed.error["errorMessage"] == "boom!"
        assert failed.error["stackTrace"]
        assert pool.invoke({}).ok
        assert pool.stats()["coldStarts"] == 1
        assert pool.stats()["errors"] == 1
    finally:
        pool.shutdown()
    assert "[ERROR] ValueError: boom!" in output.getvalue()


def test_timeout_kills_the_instance_and_the_next_call_starts_a_new_one(
    spec: FunctionSpec, output: io.StringIO
) -> None:
    pool = make_pool(spec, output)
    try:
        started = time.monotonic()
        outcome = pool.invoke({"action": "sleep", "seconds": 30})
        assert time.monotonic() - started < 10  # the 1 s Timeout, not the 30 s sleep
        assert outcome.timed_out
        assert outcome.error is not None
        assert "Task timed out after 1.0" in outcome.error["errorMessage"]
        assert pool.stats()["instances"] == 0
        assert pool.invoke({}).ok
        assert pool.stats()["coldStarts"] == 2
    finally:
        pool.shutdown()
    assert "Task timed out" in output.getvalue()


def test_a_crashed_instance_is_an_error_and_is_replaced(spec: FunctionSpec, output: io.StringIO) -> None:
    pool = make_pool(spec, output)
    try:
        crashed = pool.invoke({"action": "exit"})
        assert not crashed.ok
        assert crashed.error is not None
        assert crashed.error["errorType"] == "Runtime.ExitError"
        assert pool.invoke({}).ok
    finally:
        pool.shutdown()


def test_import_errors_fail_the_invocation(spec: FunctionSpec, output: io.StringIO) -> None:
    (spec.code_dir / "app.py").write_text("import not_a_module_anywhere\n")
    pool = make_pool(spec, output)
    try:
        outcome = pool.invoke({})
    finally:
        pool.shutdown()
    assert not outcome.ok
    assert outcome.error is not None
    assert outcome.error["errorType"] == "Runtime.ImportModuleError"
    assert "Unable to import module 'app'" in outcome.error["errorMessage"]


def concurrently(pool: FunctionPool, count: int, seconds: float) -> float:
    threads = [
        threading.Thread(target=pool.invoke, args=({"action": "sleep", "seconds": seconds},))
        for _ in range(count)
    ]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.monotonic() - started


def test_concurrent_invocations_get_their_own_instances(spec: FunctionSpec, output: io.StringIO) -> None:
    pool = make_pool(spec, output, max_instances=4)
    try:
        pool.invoke({})  # one warm instance
        concurrently(pool, 2, 0.6)
        # They overlapped: two instances were busy at once (no wall-clock bound, which a slow
        # cold start on a loaded machine could break; serial execution shows as a peak of 1).
        stats = pool.stats()
        assert stats["coldStarts"] == 2
        assert stats["peakConcurrency"] == 2
    finally:
        pool.shutdown()


def test_beyond_max_instances_requests_wait_for_a_free_instance(
    spec: FunctionSpec, output: io.StringIO
) -> None:
    pool = make_pool(spec, output, max_instances=1)
    try:
        pool.invoke({})
        elapsed = concurrently(pool, 2, 0.4)
        assert elapsed >= 0.8
        assert pool.stats()["coldStarts"] == 1
    finally:
        pool.shutdown()


def test_recycle_replaces_instances_after_a_code_change(spec: FunctionSpec, output: io.StringIO) -> None:
    pool = make_pool(spec, output)
    try:
        first = pool.invoke({}).result["pid"]
        assert pool.recycle() == 1
        assert pool.invoke({}).result["pid"] != first
    finally:
        pool.shutdown()


def test_openapi_comes_from_the_modules_app(spec: FunctionSpec, output: io.StringIO) -> None:
    pool = make_pool(spec, output)
    try:
        assert pool.openapi() == {"openapi": "3.1.0", "paths": {"/x": {}}}
    finally:
        pool.shutdown()
