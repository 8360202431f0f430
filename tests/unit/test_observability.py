from __future__ import annotations

import json
import logging
import os
import subprocess
import sys

import pytest

from backend.observability import REDACTED, RedactingFormatter, redact


def test_redacts_sensitive_keys_at_any_depth() -> None:
    record = {
        "message": "login",
        "password": "hunter2",
        "body": {"email": "a@example.com", "newPassword": "x", "refresh_token": "abc"},
        "headers": [{"Authorization": "Bearer abc.def.ghi"}, {"Cookie": "session=1"}],
        "cold_start": True,
    }
    cleaned = redact(record)
    assert cleaned["password"] == REDACTED
    assert cleaned["body"] == {"email": "a@example.com", "newPassword": REDACTED, "refresh_token": REDACTED}
    assert cleaned["headers"] == [{"Authorization": REDACTED}, {"Cookie": REDACTED}]
    assert cleaned["cold_start"] is True


def test_redacts_credentials_inside_strings() -> None:
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NSJ9.c2lnbmF0dXJlLXZhbHVl"  # pragma: allowlist secret (a made-up token: the signature is "signature-value")
    text = redact(f"calling with Bearer abc123 and token {jwt}")
    assert "abc123" not in text
    assert jwt not in text


def test_formatter_output_has_no_secret(caplog: pytest.LogCaptureFixture) -> None:
    formatter = RedactingFormatter()
    record = logging.LogRecord("t", logging.INFO, __file__, 1, "user signed in", None, None)
    record.password = "hunter2"  # what `logger.info(..., extra={"password": ...})` produces
    line = formatter.format(record)
    assert "hunter2" not in line
    assert json.loads(line)["password"] == REDACTED


def test_an_exceptions_stack_trace_is_redacted_too() -> None:
    """Powertools puts the exception object itself in ``stack_trace.value`` (JSON-encoded with str)."""
    jwt = (
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NSJ9.c2lnbmF0dXJlLXZhbHVl"  # pragma: allowlist secret (made up)
    )
    formatter = RedactingFormatter(serialize_stacktrace=True)
    try:
        raise RuntimeError(f"upstream refused Bearer {jwt}")
    except RuntimeError:
        record = logging.LogRecord("t", logging.ERROR, __file__, 1, "unhandled error", None, sys.exc_info())
    line = formatter.format(record)
    assert jwt not in line
    assert json.loads(line)["stack_trace"]["value"] == f"upstream refused Bearer {REDACTED}"


# ------------------------------------------------------------------ the X-Ray SDK is opt-in


def _run(code: str, **env: str) -> str:
    """Run code in a fresh interpreter (what a cold start imports is per process)."""
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return done.stdout.strip()


def test_a_function_imports_nothing_from_the_xray_sdk_by_default() -> None:
    code = (
        "import sys\n"
        "from backend.http.app import create_app, create_handler\n"
        "from backend.jobs.worker import create_worker_handler\n"
        "create_handler(create_app('t', routers=[]))\n"
        "create_worker_handler()\n"
        "print(sorted(m for m in sys.modules if m.startswith('aws_xray_sdk')))"
    )
    assert _run(code, XRAY_SDK_TRACING="false") == "[]"


def test_the_template_parameter_turns_sdk_subsegments_on() -> None:
    code = (
        "import sys\n"
        "from backend.observability import tracer\n"
        "@tracer.capture_method\n"
        "def f():\n"
        "    return 1\n"
        "print(f(), type(tracer.real).__name__, 'aws_xray_sdk.core' in sys.modules)"
    )
    assert _run(code, XRAY_SDK_TRACING="true") == "1 Tracer True"


def test_xray_sdk_flag_values() -> None:
    from backend.observability import xray_sdk_enabled

    assert not xray_sdk_enabled({})
    assert not xray_sdk_enabled({"XRAY_SDK_TRACING": "false"})
    assert xray_sdk_enabled({"XRAY_SDK_TRACING": "true"})
    assert xray_sdk_enabled({"XRAY_SDK_TRACING": " TRUE "})


def test_disabled_tracer_returns_functions_unchanged() -> None:
    from backend.observability import LazyTracer

    tracer = LazyTracer()
    tracer.reset(enabled=False)

    def handler(event: dict[str, object], context: object) -> dict[str, object]:
        return event

    def method() -> int:
        return 1

    assert tracer.capture_lambda_handler(handler) is handler
    assert tracer.capture_lambda_handler(capture_response=False)(handler) is handler
    assert tracer.capture_method(method) is method
    assert tracer.capture_method(capture_response=False)(method) is method
    tracer.put_annotation("k", "v")  # no-ops
    tracer.put_metadata("k", {"v": 1})
    assert tracer._tracer is None


def test_enabled_tracer_delegates_to_powertools(monkeypatch: pytest.MonkeyPatch) -> None:
    from backend.observability import LazyTracer

    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")  # no segment to write to in tests
    tracer = LazyTracer()
    tracer.reset(enabled=True)

    @tracer.capture_method(capture_response=False)
    def method() -> int:
        return 41

    @tracer.capture_lambda_handler
    def handler(event: dict[str, object], context: object) -> int:
        return method() + 1

    assert handler({}, None) == 42
    assert tracer._tracer is not None
    assert tracer.disabled is True  # any other attribute comes from Powertools' Tracer


def test_a_business_event_with_a_dimension_is_its_own_emf_line(capsys: pytest.CaptureFixture[str]) -> None:
    from backend import observability

    observability.count(observability.JOBS_PROCESSED, job_type="email.send")
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    declaration = line["_aws"]["CloudWatchMetrics"][0]
    assert declaration["Metrics"] == [{"Name": "JobsProcessed", "Unit": "Count"}]
    assert sorted(declaration["Dimensions"][0]) == ["job_type", "service"]
    assert (line["job_type"], line["JobsProcessed"]) == ("email.send", [1.0])


def test_a_business_event_refuses_an_unknown_dimension() -> None:
    from backend import observability

    with pytest.raises(ValueError, match="user_id"):
        observability.count(observability.SIGN_UPS, user_id="01J0000000000000000000000")


def test_a_cache_answer_counts_as_a_hit_or_a_miss() -> None:
    from dataclasses import dataclass

    from backend import observability

    @dataclass
    class Answer:
        hit: bool

    observability.metrics.clear_metrics()
    hit, miss = Answer(hit=True), Answer(hit=False)
    assert observability.cache_outcome(hit) is hit
    observability.cache_outcome(miss)
    observability.cache_outcome(miss)
    recorded = observability.metrics.metric_set
    assert (recorded["CacheHits"]["Value"], recorded["CacheMisses"]["Value"]) == ([1.0], [1.0, 1.0])
    observability.metrics.clear_metrics()
