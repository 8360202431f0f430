"""Lambda's asynchronous invocation, as AWS runs it for S3 events and schedules (docs/local-cloud.md).

An event that the function fails (an error it raises or returns, a timeout) is retried
``MaximumRetryAttempts`` times (the template's ``EventInvokeConfig``; 2 by default), then sent to the
function's ``DeadLetterQueue``: the event itself as the message body, with the message attributes
``RequestID`` (String), ``ErrorCode`` (Number: the HTTP status of the invoke, 200 for a function
error) and ``ErrorMessage`` (String, the first 1 KB). Without a dead-letter queue the event is
dropped, and the console says so. AWS waits one minute before the first retry and two before the
second; the local cloud waits ``delays`` (1 s and 2 s by default) so a failure shows within seconds.

Source: https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html and
https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html (read 2026-12-07).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from local.instances import InvokeOutcome

#: Local stand-ins for AWS's 60 s and 120 s between attempts.
DEFAULT_DELAYS: tuple[float, ...] = (1.0, 2.0)
_MESSAGE_LIMIT = 1024


@dataclass(frozen=True)
class AsyncTarget:
    """What asynchronous invocation needs to know about one function."""

    function: str
    retries: int = 2
    dead_letter_arn: str | None = None


class AsyncInvoker:
    """Runs one asynchronous invocation to its end: attempts, waits, then the dead-letter queue."""

    def __init__(
        self,
        invoke: Callable[[str, Any], InvokeOutcome],
        targets: dict[str, AsyncTarget],
        sqs: Callable[[], Any],
        report: Callable[[str, str], None],
        *,
        delays: Sequence[float] = DEFAULT_DELAYS,
    ) -> None:
        self._invoke = invoke
        self._targets = targets
        self._sqs = sqs
        self._report = report
        self._delays = tuple(delays)
        self._stop = threading.Event()
        #: Events sent to a dead-letter queue, and dropped (no queue), since the start.
        self.dead_lettered = 0
        self.dropped = 0

    def stop(self) -> None:
        """Stop waiting between attempts (the cloud is stopping): the remaining attempts are skipped."""
        self._stop.set()

    def __call__(self, function: str, event: Any, *, source: str) -> InvokeOutcome:
        """Invoke until an attempt succeeds or the retries are spent; returns the last outcome."""
        target = self._targets.get(function) or AsyncTarget(function)
        attempts = 1 + max(0, min(2, target.retries))
        outcome = self._invoke(function, event)
        for attempt in range(2, attempts + 1):
            if outcome.ok or self._stop.is_set():
                break
            delay = self._delays[min(attempt - 2, len(self._delays) - 1)] if self._delays else 0.0
            self._report(
                function,
                f"{source}: attempt {attempt - 1} failed ({_message(outcome)}); retry in {delay:g} s",
            )
            if self._stop.wait(delay):
                break
            outcome = self._invoke(function, event)
        if not outcome.ok:
            self._dead_letter(target, event, outcome, source=source)
        return outcome

    def _dead_letter(self, target: AsyncTarget, event: Any, outcome: InvokeOutcome, *, source: str) -> None:
        if target.dead_letter_arn is None:
            self.dropped += 1
            self._report(
                target.function, f"{source}: failed every attempt; no DeadLetterQueue: event dropped"
            )
            return
        sqs = self._sqs()
        name = target.dead_letter_arn.rsplit(":", 1)[-1]
        url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
        sqs.send_message(
            QueueUrl=url,
            MessageBody=json.dumps(event),
            MessageAttributes={
                "RequestID": {"DataType": "String", "StringValue": outcome.request_id},
                "ErrorCode": {"DataType": "Number", "StringValue": "200"},
                "ErrorMessage": {
                    "DataType": "String",
                    "StringValue": _message(outcome)[:_MESSAGE_LIMIT] or "error",
                },
            },
        )
        self.dead_lettered += 1
        self._report(target.function, f"{source}: failed every attempt → dead-letter queue {name}")


def _message(outcome: InvokeOutcome) -> str:
    error = outcome.error or {}
    if outcome.timed_out:
        return str(error.get("errorMessage") or "Task timed out")
    return str(error.get("errorMessage") or error.get("errorType") or "error")
