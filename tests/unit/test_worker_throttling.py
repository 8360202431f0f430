"""SES throttling in the worker: retried by the SES client, then deferred on the queue, never failed
towards the DLQ, never sent twice, eventually sent (backend/services/email.py, backend/jobs/worker.py).

moto does not throttle, so a throttle is injected where SES's answer would arrive: the worker's SES
client sends through a ``before-send`` handler that answers SendEmail with SES's own throttling
response (HTTP 400, ``Throttling``, "Maximum sending rate exceeded.") or hands the request to moto.
botocore parses that answer and its retry handler sees a real throttling error, so the client's
retry configuration is exercised, not bypassed.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSRequest, AWSResponse
from moto.core import DEFAULT_ACCOUNT_ID
from moto.core.models import botocore_stubber as moto_stubber
from moto.ses.models import ses_backends

from backend import aws as aws_clients
from local.events import sqs_record
from tests.support.apigw import FakeContext

MAIL_FROM = "no-reply@example.com"
QUEUE_NAME = "app-backend-email-test"
QUEUE_ARN = f"arn:aws:sqs:us-east-1:123456789012:{QUEUE_NAME}"
THROTTLING = (
    b'<ErrorResponse xmlns="http://ses.amazonaws.com/doc/2010-12-01/"><Error><Type>Sender</Type>'
    b"<Code>Throttling</Code><Message>Maximum sending rate exceeded.</Message></Error>"
    b"<RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>"
)


class _Body:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.data


@dataclass
class Ses:
    """SES as the worker's client sees it: ``throttle`` more SendEmail calls are refused."""

    throttle: int = 0
    attempts: int = 0
    throttled: int = 0
    sleeps: list[float] = field(default_factory=list)

    def __call__(self, event_name: str, request: AWSRequest, **kwargs: Any) -> AWSResponse | None:
        if event_name == "before-send.ses.SendEmail":
            self.attempts += 1
            if self.throttle > 0:
                self.throttle -= 1
                self.throttled += 1
                return AWSResponse(request.url, 400, {"Content-Type": "text/xml"}, _Body(THROTTLING))
        answer: AWSResponse | None = moto_stubber(event_name, request, **kwargs)
        return answer


@dataclass
class Worker:
    handler: Any
    ses: Ses
    queue_url: str
    delays: list[int]

    def __call__(self, *records: dict[str, Any]) -> set[str]:
        """One invocation; returns the ids of the messages reported failed."""
        result = self.handler({"Records": list(records)}, FakeContext())
        return {item["itemIdentifier"] for item in result["batchItemFailures"]}

    def queued(self) -> list[dict[str, Any]]:
        """Receive (and keep in flight) what is on the email queue, as Lambda records."""
        sqs = boto3.client("sqs")
        messages: list[dict[str, Any]] = []
        while batch := sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=10,
            MessageAttributeNames=["All"],
            MessageSystemAttributeNames=["All"],
        ).get("Messages", []):
            messages.extend(batch)
        return [sqs_record(message, QUEUE_ARN) for message in messages]


def sent() -> list[Any]:
    return list(ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages)


def email(job_id: str, to: str = "ada@example.com") -> dict[str, Any]:
    body = {"type": "email.send", "jobId": job_id, "to": to, "template": "welcome", "data": {"name": "Ada"}}
    return {
        "messageId": str(uuid.uuid4()),
        "receiptHandle": "handle",
        "body": json.dumps(body),
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1795600000000"},
        "messageAttributes": {"type": {"stringValue": "email.send", "dataType": "String"}},
        "md5OfBody": "x",
        "eventSource": "aws:sqs",
        "eventSourceARN": QUEUE_ARN,
        "awsRegion": "us-east-1",
    }


@pytest.fixture
def worker(table: Any, monkeypatch: pytest.MonkeyPatch, fresh_process: Callable[[], None]) -> Worker:
    queue_url = boto3.client("sqs").create_queue(QueueName=QUEUE_NAME)["QueueUrl"]
    monkeypatch.setenv("EMAIL_QUEUE_URL", queue_url)
    monkeypatch.setenv("MAIL_FROM", MAIL_FROM)
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "worker")
    fresh_process()
    from backend.jobs import worker as worker_module

    boto3.client("ses").verify_email_identity(EmailAddress=MAIL_FROM)
    ses = Ses()
    events = aws_clients.ses().meta.events
    events.unregister("before-send", moto_stubber)  # every request of this client goes through ses
    events.register("before-send", ses)
    # botocore's backoff between attempts, recorded instead of slept
    monkeypatch.setattr("botocore.endpoint.time.sleep", ses.sleeps.append)
    # the delay of each deferral as the worker computes it; the message itself is not delayed, so
    # the test can receive it at once
    delays: list[int] = []

    def no_delay(deferrals: int) -> int:
        delays.append(real_delay(deferrals))
        return 0

    real_delay = worker_module.deferral_delay
    monkeypatch.setattr(worker_module, "deferral_delay", no_delay)
    return Worker(worker_module.create_worker_handler(), ses, queue_url, delays)


def test_a_throttle_the_client_retries_away_is_sent_once_and_not_deferred(worker: Worker) -> None:
    worker.ses.throttle = 2
    assert worker(email("job-1")) == set()
    assert worker.ses.attempts == 3
    assert len(worker.ses.sleeps) == 2  # botocore backed off twice
    assert len(sent()) == 1
    assert worker.queued() == []


def test_a_send_throttled_past_the_retries_is_deferred_not_failed(worker: Worker) -> None:
    from backend import aws

    worker.ses.throttle = 1_000
    batch = [
        email("job-a", "a@example.com"),
        email("job-b", "b@example.com"),
        email("job-c", "c@example.com"),
    ]
    assert worker(*batch) == set()  # nothing reported failed: no receive counts towards the DLQ
    # the first send used every attempt the SES client has; the others were not even tried
    assert worker.ses.attempts == aws.MAX_ATTEMPTS["ses"]
    assert sent() == []
    requeued = worker.queued()
    assert sorted(r["body"] for r in requeued) == sorted(r["body"] for r in batch)  # same jobs, same ids
    for record in requeued:
        assert record["messageAttributes"]["sesDeferrals"]["stringValue"] == "1"
        assert record["messageAttributes"]["type"]["stringValue"] == "email.send"
    assert len(worker.delays) == 3
    assert all(15 <= delay <= 30 for delay in worker.delays)


def test_a_deferred_email_is_eventually_sent_once(worker: Worker) -> None:
    original = email("job-later")
    worker.ses.throttle = 1_000
    assert worker(original) == set()
    [first] = worker.queued()
    assert worker(first) == set()  # still throttled: deferred again, with a longer delay
    [second] = worker.queued()
    assert second["messageAttributes"]["sesDeferrals"]["stringValue"] == "2"
    assert 30 <= worker.delays[1] <= 60
    assert sent() == []

    worker.ses.throttle = 0  # SES takes sends again: the next invocation tries it
    assert worker(second) == set()
    assert [m.destinations["ToAddresses"] for m in sent()] == [["ada@example.com"]]
    # the same job delivered again (the original, or a copy SQS delivered twice) is not re-sent
    assert worker(original) == set()
    assert worker(second) == set()
    assert len(sent()) == 1
    assert worker.queued() == []


def test_a_throttle_holds_back_only_its_own_invocation(worker: Worker) -> None:
    from backend import aws

    worker.ses.throttle = aws.MAX_ATTEMPTS["ses"]  # exactly one send's attempts
    assert worker(email("job-x")) == set()
    assert worker.ses.throttled == aws.MAX_ATTEMPTS["ses"]
    assert worker(email("job-y")) == set()  # a new invocation tries SES again, and it answers
    assert len(sent()) == 1
    assert len(worker.queued()) == 1  # job-x, deferred


def test_deferrals_are_bounded_then_the_message_fails_as_usual(worker: Worker) -> None:
    from backend.jobs.worker import MAX_DEFERRALS

    worker.ses.throttle = 1_000
    record = email("job-forever")
    record["messageAttributes"]["sesDeferrals"] = {"stringValue": str(MAX_DEFERRALS), "dataType": "Number"}
    assert worker(record) == {record["messageId"]}  # SQS retries it, then dead-letters it (alerted)
    assert worker.queued() == []
    assert sent() == []


def test_a_throttled_job_from_a_queue_the_worker_cannot_name_fails_as_usual(worker: Worker) -> None:
    worker.ses.throttle = 1_000
    record = email("job-elsewhere")
    record["eventSourceARN"] = "arn:aws:sqs:us-east-1:123456789012:some-other-queue"
    assert worker(record) == {record["messageId"]}
    assert worker.queued() == []


def test_other_ses_errors_are_not_deferred(
    worker: Worker, monkeypatch: pytest.MonkeyPatch, fresh_process: Callable[[], None]
) -> None:
    monkeypatch.setenv("MAIL_FROM", "unverified@example.com")  # SES: MessageRejected
    fresh_process()
    record = email("job-rejected")
    assert worker(record) == {record["messageId"]}
    assert worker.queued() == []


def test_the_deferral_delay_grows_with_jitter_up_to_ten_minutes() -> None:
    from backend.jobs.worker import deferral_delay

    for deferrals, ceiling in [
        (0, 30),
        (1, 60),
        (2, 120),
        (3, 240),
        (4, 480),
        (5, 600),
        (11, 600),
        (40, 600),
    ]:
        delays = {deferral_delay(deferrals) for _ in range(200)}
        assert min(delays) >= ceiling // 2, deferrals
        assert max(delays) <= ceiling <= 900, deferrals  # 900: SQS's longest DelaySeconds
        assert len(delays) > 1, deferrals  # jitter
