"""The SQS worker: email jobs end to end against moto (SQS event → SES), partial failures, idempotency."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from backend.errors import ValidationError
from backend.services.email_templates import render
from tests.support.apigw import FakeContext

MAIL_FROM = "no-reply@example.com"


@pytest.fixture
def worker(table: Any, monkeypatch: pytest.MonkeyPatch, fresh_process: Callable[[], None]) -> Any:
    monkeypatch.setenv("MAIL_FROM", MAIL_FROM)
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "worker")
    fresh_process()
    boto3.client("ses").verify_email_identity(EmailAddress=MAIL_FROM)
    from backend.jobs.worker import create_worker_handler

    return create_worker_handler()


def sent_messages() -> list[Any]:
    return list(ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages)


def sqs_record(body: str, message_id: str | None = None) -> dict[str, Any]:
    return {
        "messageId": message_id or str(uuid.uuid4()),
        "receiptHandle": "handle",
        "body": body,
        "attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": "1795600000000",
            "SenderId": "AIDAIENQZJOLO23YVJ4VO",
            "ApproximateFirstReceiveTimestamp": "1795600000001",
        },
        "messageAttributes": {},
        "md5OfBody": "x",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:app-backend-email-test",
        "awsRegion": "us-east-1",
    }


def email_job(job_id: str, to: str = "ada@example.com", **data: Any) -> str:
    return json.dumps(
        {
            "type": "email.send",
            "jobId": job_id,
            "to": to,
            "template": "welcome",
            "data": {"name": "Ada", **data},
        }
    )


def test_email_job_is_rendered_and_sent(worker: Any) -> None:
    result = worker({"Records": [sqs_record(email_job("job-1"))]}, FakeContext())
    assert result == {"batchItemFailures": []}
    [message] = sent_messages()
    assert message.source == MAIL_FROM
    assert message.destinations["ToAddresses"] == ["ada@example.com"]
    assert message.subject == "Welcome, Ada!"


def test_poison_message_fails_alone(worker: Any) -> None:
    records = [
        sqs_record(email_job("job-a", to="a@example.com"), "m-a"),
        sqs_record("{not json", "m-poison"),
        sqs_record(
            json.dumps({"type": "email.send", "jobId": "job-x", "to": "not-an-email", "template": "welcome"}),
            "m-bad-to",
        ),
        sqs_record(
            json.dumps(
                {"type": "email.send", "jobId": "job-y", "to": "y@example.com", "template": "welcome"}
            ),
            "m-missing-data",
        ),
        sqs_record(email_job("job-b", to="b@example.com"), "m-b"),
    ]
    result = worker({"Records": records}, FakeContext())
    failed = {item["itemIdentifier"] for item in result["batchItemFailures"]}
    assert failed == {"m-poison", "m-bad-to", "m-missing-data"}
    assert sorted(m.destinations["ToAddresses"][0] for m in sent_messages()) == [
        "a@example.com",
        "b@example.com",
    ]


def test_job_outcomes_are_counted_per_job_type(worker: Any, capsys: pytest.CaptureFixture[str]) -> None:
    retried = sqs_record(email_job("job-r", to="r@example.com"), "m-r")
    retried["attributes"]["ApproximateReceiveCount"] = "3"
    records = [
        sqs_record(email_job("job-a", to="a@example.com"), "m-a"),
        sqs_record("{not json", "m-x"),
        retried,
    ]
    worker({"Records": records}, FakeContext())
    counted: dict[tuple[str, str], float] = {}
    for line in capsys.readouterr().out.splitlines():
        document = json.loads(line) if line.startswith("{") else {}
        for declaration in document.get("_aws", {}).get("CloudWatchMetrics", []):
            for metric in declaration["Metrics"]:
                if "job_type" in document:
                    key = (metric["Name"], document["job_type"])
                    counted[key] = counted.get(key, 0) + sum(document[metric["Name"]])
    assert counted == {
        ("JobsProcessed", "email.send"): 2,
        ("JobsRetried", "email.send"): 1,
        ("JobsFailed", "invalid"): 1,
    }


def test_redelivered_job_is_not_sent_twice(worker: Any) -> None:
    body = email_job("job-once")
    assert worker({"Records": [sqs_record(body, "first")]}, FakeContext()) == {"batchItemFailures": []}
    assert worker({"Records": [sqs_record(body, "redelivery")]}, FakeContext()) == {"batchItemFailures": []}
    assert len(sent_messages()) == 1


def test_ses_rejection_fails_the_record(
    worker: Any, monkeypatch: pytest.MonkeyPatch, fresh_process: Callable[[], None]
) -> None:
    monkeypatch.setenv("MAIL_FROM", "unverified@example.com")
    fresh_process()
    result = worker({"Records": [sqs_record(email_job("job-unverified"), "m-1")]}, FakeContext())
    assert result == {"batchItemFailures": [{"itemIdentifier": "m-1"}]}
    assert sent_messages() == []


def test_render_escapes_html_and_keeps_subject_single_line() -> None:
    rendered = render("welcome", {"name": "<script>x</script>\nBcc: evil@example.com"})
    assert "<script>" not in rendered.html
    assert "&lt;script&gt;" in rendered.html
    assert "\n" not in rendered.subject


def test_render_requires_every_placeholder() -> None:
    with pytest.raises(ValidationError, match="resetUrl"):
        render("password-reset", {"name": "Ada"})
