"""Asynchronous invocation in the local cloud (local/async_invoke.py): retries, then the DLQ, as AWS."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import boto3
import pytest

from local.async_invoke import AsyncInvoker, AsyncTarget
from local.instances import InvokeOutcome


class Flaky:
    """A function that fails its first ``failures`` invocations."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls: list[Any] = []

    def __call__(self, function: str, event: Any) -> InvokeOutcome:
        self.calls.append(event)
        if len(self.calls) <= self.failures:
            error = {"errorType": "RuntimeError", "errorMessage": f"boom {len(self.calls)}"}
            return InvokeOutcome(ok=False, request_id=f"req-{len(self.calls)}", error=error)
        return InvokeOutcome(ok=True, request_id=f"req-{len(self.calls)}", result=None)


@pytest.fixture
def dlq(aws: None) -> tuple[Any, str, str]:
    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName="fn-dlq")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return sqs, url, arn


def invoker(function: Flaky, target: AsyncTarget, sqs: Any, lines: list[str]) -> AsyncInvoker:
    return AsyncInvoker(
        function,
        {target.function: target},
        lambda: sqs,
        lambda name, text: lines.append(f"{name}: {text}"),
        delays=(0.01, 0.02),
    )


def test_a_failure_is_retried_and_a_later_success_ends_it(dlq: tuple[Any, str, str]) -> None:
    sqs, url, arn = dlq
    function, lines = Flaky(failures=2), []
    outcome = invoker(function, AsyncTarget("Fn", dead_letter_arn=arn), sqs, lines)(
        "Fn", {"n": 1}, source="s3 event"
    )
    assert outcome.ok
    assert function.calls == [{"n": 1}] * 3  # the first attempt and Lambda's two retries
    assert sqs.receive_message(QueueUrl=url).get("Messages", []) == []
    assert [line.split(": ", 2)[2] for line in lines] == [
        "attempt 1 failed (boom 1); retry in 0.01 s",
        "attempt 2 failed (boom 2); retry in 0.02 s",
    ]


def test_every_attempt_failed_sends_the_event_to_the_dead_letter_queue(dlq: tuple[Any, str, str]) -> None:
    sqs, url, arn = dlq
    function, lines = Flaky(failures=5), []
    run = invoker(function, AsyncTarget("Fn", dead_letter_arn=arn), sqs, lines)
    outcome = run("Fn", {"Records": [{"s3": {}}]}, source="s3 event")
    assert not outcome.ok
    assert len(function.calls) == 3
    message = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"])["Messages"][0]
    assert json.loads(message["Body"]) == {"Records": [{"s3": {}}]}  # the event as sent, as AWS does
    attributes = {name: value["StringValue"] for name, value in message["MessageAttributes"].items()}
    assert attributes == {"RequestID": "req-3", "ErrorCode": "200", "ErrorMessage": "boom 3"}
    assert run.dead_lettered == 1
    assert lines[-1] == "Fn: s3 event: failed every attempt → dead-letter queue fn-dlq"


def test_maximum_retry_attempts_and_no_queue(dlq: tuple[Any, str, str]) -> None:
    sqs, _, _ = dlq
    function, lines = Flaky(failures=5), []
    run = invoker(function, AsyncTarget("Fn", retries=0), sqs, lines)
    assert not run("Fn", {}, source="schedule Nightly").ok
    assert len(function.calls) == 1
    assert run.dropped == 1
    assert lines == ["Fn: schedule Nightly: failed every attempt; no DeadLetterQueue: event dropped"]


def test_stopping_the_cloud_ends_the_wait_between_attempts(dlq: tuple[Any, str, str]) -> None:
    sqs, _, arn = dlq
    function = Flaky(failures=5)
    run = AsyncInvoker(
        function,
        {"Fn": AsyncTarget("Fn", dead_letter_arn=arn)},
        lambda: sqs,
        lambda *_: None,
        delays=(30, 30),
    )
    threading.Timer(0.1, run.stop).start()
    started = time.monotonic()
    run("Fn", {}, source="s3 event")
    assert time.monotonic() - started < 5
    assert len(function.calls) == 1
