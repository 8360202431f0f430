"""Move messages from a dead-letter queue back to the queue they failed in.

Against AWS this is SQS's own message-move task (``StartMessageMoveTask``: SQS moves every message
to its source queue, in the background). The emulator (moto) does not implement that API, so the
local cloud gets the same semantics by hand: receive from the DLQ, send each message (body and
message attributes) to the source queue, delete it from the DLQ, until the DLQ is empty. A moved
message is a new message there: its receive count starts again at zero.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

#: How long a message being moved stays invisible in the DLQ (if the move dies, it reappears).
_MOVE_VISIBILITY_SECONDS = 30
_FINAL_STATUSES = frozenset({"COMPLETED", "CANCELLED", "FAILED"})


@dataclass(frozen=True, slots=True)
class Moved:
    source: str
    destination: str
    moved: int


def source_queue_of(sqs: Any, dlq_url: str) -> str:
    """The one queue whose redrive policy sends its failures to ``dlq_url``."""
    sources = sqs.list_dead_letter_source_queues(QueueUrl=dlq_url).get("queueUrls", [])
    if len(sources) != 1:
        found = ", ".join(sources) or "none"
        raise ValueError(f"{dlq_url} is the dead-letter queue of {found}: name the destination with --to")
    return str(sources[0])


def move_messages(sqs: Any, dlq_url: str, destination_url: str, *, limit: int | None = None) -> Moved:
    """Move every message of ``dlq_url`` (at most ``limit``) to ``destination_url``."""
    moved = 0
    while limit is None or moved < limit:
        batch = min(10, limit - moved) if limit is not None else 10
        messages = sqs.receive_message(
            QueueUrl=dlq_url,
            MaxNumberOfMessages=batch,
            VisibilityTimeout=_MOVE_VISIBILITY_SECONDS,
            WaitTimeSeconds=0,
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            break
        for message in messages:
            attributes = {
                name: {k: v for k, v in value.items() if k in ("DataType", "StringValue", "BinaryValue")}
                for name, value in (message.get("MessageAttributes") or {}).items()
            }
            request: dict[str, Any] = {"QueueUrl": destination_url, "MessageBody": message["Body"]}
            if attributes:
                request["MessageAttributes"] = attributes
            sqs.send_message(**request)
            sqs.delete_message(QueueUrl=dlq_url, ReceiptHandle=message["ReceiptHandle"])
            moved += 1
    return Moved(source=dlq_url, destination=destination_url, moved=moved)


def start_move_task(
    sqs: Any,
    dlq_arn: str,
    *,
    destination_arn: str | None = None,
    per_second: int | None = None,
    wait: bool = False,
    poll_seconds: float = 5.0,
) -> dict[str, Any]:
    """SQS's message-move task (AWS): returns its handle, and with ``wait`` its final status."""
    request: dict[str, Any] = {"SourceArn": dlq_arn}
    if destination_arn:
        request["DestinationArn"] = destination_arn
    if per_second:
        request["MaxNumberOfMessagesPerSecond"] = per_second
    handle = str(sqs.start_message_move_task(**request)["TaskHandle"])
    result: dict[str, Any] = {"source": dlq_arn, "taskHandle": handle}
    while wait:
        tasks = sqs.list_message_move_tasks(SourceArn=dlq_arn, MaxResults=1).get("Results", [])
        task = tasks[0] if tasks else {}
        if task.get("Status") in _FINAL_STATUSES:
            result.update(
                status=task["Status"],
                moved=task.get("ApproximateNumberOfMessagesMoved"),
                failureReason=task.get("FailureReason"),
            )
            break
        time.sleep(poll_seconds)
    return result
