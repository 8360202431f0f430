"""SQS event source mappings: long-poll a queue, batch, invoke, delete what succeeded.

As Lambda's poller does: a batch closes at BatchSize messages or when
MaximumBatchingWindowInSeconds has passed since its first message. A successful invocation
deletes the whole batch, unless ReportBatchItemFailures is on and the response lists failed
message ids, which stay. A function error or timeout (or an invalid batchItemFailures response)
fails the whole batch: nothing is deleted, and the messages come back after the queue's
visibility timeout. The emulator moves a message to the DLQ once it has been received
maxReceiveCount times.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from local.console import Console
from local.emulator import AwsClients
from local.events import batch_item_failures, sqs_event, sqs_record
from local.functions import SqsSubscription
from local.instances import FunctionPool

LONG_POLL_SECONDS = 5
"""WaitTimeSeconds of each receive (Lambda uses 20; shorter stops faster)."""


class SqsPoller:
    def __init__(
        self,
        subscription: SqsSubscription,
        queue_url: str,
        pool: FunctionPool,
        clients: AwsClients,
        console: Console,
        *,
        wait_seconds: int = LONG_POLL_SECONDS,
    ) -> None:
        self.subscription = subscription
        self.queue_url = queue_url
        self._pool = pool
        self._client = clients.sqs()
        self._console = console
        self._wait_seconds = wait_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.batches = 0
        self.label = f"sqs {subscription.function}.{subscription.event}"

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=self.label, daemon=True)
        self._thread.start()

    def stop(self, *, wait: bool = True) -> None:
        """Stop polling; a receive in flight is abandoned (its messages return after the visibility timeout)."""
        self._stop.set()
        if wait and self._thread is not None:
            self._thread.join(timeout=0.5)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll_once()
            except (ClientError, BotoCoreError) as exc:
                if self._stop.is_set():
                    return
                self._console.line(self.label, f"polling failed: {exc}; retrying in 1 s")
                self._stop.wait(1)

    def _receive(self, count: int, wait: int) -> list[dict[str, Any]]:
        response = self._client.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=max(1, min(10, count)),
            WaitTimeSeconds=wait,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        return [dict(message) for message in response.get("Messages", [])]

    def collect(self) -> list[dict[str, Any]]:
        """One batch: the first messages of a long poll, then more until the batch or window closes."""
        size = self.subscription.batch_size
        messages = self._receive(size, self._wait_seconds)
        if not messages:
            return []
        window_end = time.monotonic() + self.subscription.batching_window
        while len(messages) < size and not self._stop.is_set():
            remaining = window_end - time.monotonic()
            if remaining <= 0:
                break
            more = self._receive(size - len(messages), int(remaining))
            if not more and remaining < 1:
                self._stop.wait(min(0.1, remaining))
            messages.extend(more)
        # A visibility timeout shorter than the batching window lets a message come back into the
        # batch it is already in: keep its latest receipt (Lambda refuses such a mapping outright).
        latest = {message["MessageId"]: message for message in messages}
        return list(latest.values())

    def poll_once(self) -> tuple[int, int] | None:
        """Receive one batch and deliver it: (delivered, deleted), or None if the queue was empty."""
        messages = self.collect()
        if not messages:
            return None
        records = [sqs_record(message, self.subscription.queue_arn) for message in messages]
        outcome = self._pool.invoke(sqs_event(records))
        ids = {message["MessageId"] for message in messages}
        if not outcome.ok:
            failed = ids
            reason = "the invocation failed" + (" (timed out)" if outcome.timed_out else "")
        elif self.subscription.report_batch_item_failures:
            listed = batch_item_failures(outcome.result, ids)
            failed = ids if listed is None else listed
            reason = (
                "invalid batchItemFailures: whole batch failed" if listed is None else "reported failures"
            )
        else:
            failed, reason = set(), ""
        done = [message for message in messages if message["MessageId"] not in failed]
        for start in range(0, len(done), 10):
            chunk = done[start : start + 10]
            self._client.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[
                    {"Id": str(index), "ReceiptHandle": message["ReceiptHandle"]}
                    for index, message in enumerate(chunk)
                ],
            )
        self.batches += 1
        summary = f"batch of {len(messages)} → {self.subscription.function}: {len(done)} done"
        if failed:
            summary += f", {len(failed)} back to the queue after its visibility timeout ({reason})"
        self._console.line(self.label, summary)
        return len(messages), len(done)
