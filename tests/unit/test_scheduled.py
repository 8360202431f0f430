"""The scheduled housekeeping function (DLQ monitor) against moto SQS."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from backend.errors import ValidationError
from tests.support.apigw import FakeContext


@pytest.fixture
def queues(aws: None, monkeypatch: pytest.MonkeyPatch, fresh_process: Callable[[], None]) -> dict[str, str]:
    sqs = boto3.client("sqs")
    urls = {  # named as template.yaml names them with Stage=test (the IAM contract checks the requests)
        name: sqs.create_queue(QueueName=f"app-backend-{name}-test")["QueueUrl"]
        for name in ("email", "email-dlq", "order-dlq")
    }
    monkeypatch.setenv("EMAIL_QUEUE_URL", urls["email"])
    monkeypatch.setenv("OPS_EMAIL", "ops@example.com")
    monkeypatch.setenv("MONITORED_DLQ_URLS", f"{urls['email-dlq']},{urls['order-dlq']}")
    fresh_process()
    return urls


def email_jobs(url: str) -> list[dict[str, Any]]:
    messages = boto3.client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(m["Body"]) for m in messages]


def test_quiet_dlqs_send_no_alert(queues: dict[str, str]) -> None:
    from backend.jobs.scheduled import create_scheduled_handler

    result = create_scheduled_handler()({"task": "dlq-monitor"}, FakeContext())
    assert result["depths"] == {"app-backend-email-dlq-test": 0, "app-backend-order-dlq-test": 0}
    assert result["alertJobId"] is None
    assert email_jobs(queues["email"]) == []


def test_stuck_messages_alert_ops_once_per_hour(queues: dict[str, str]) -> None:
    from backend.services.housekeeping import monitor_dead_letter_queues

    sqs = boto3.client("sqs")
    for _ in range(2):
        sqs.send_message(QueueUrl=queues["order-dlq"], MessageBody="{}")
    now = datetime(2026, 11, 26, 10, 5, tzinfo=UTC)
    first = monitor_dead_letter_queues(now)
    second = monitor_dead_letter_queues(now.replace(minute=20))
    assert first["depths"] == {"app-backend-email-dlq-test": 0, "app-backend-order-dlq-test": 2}
    assert first["alertJobId"] == second["alertJobId"]  # the worker's idempotency sends it once
    [job, _] = email_jobs(queues["email"])
    assert job["type"] == "email.send"
    assert job["to"] == "ops@example.com"
    assert job["template"] == "dlq-alert"
    assert job["data"]["queues"] == "app-backend-order-dlq-test (2)"


def test_unknown_task_is_rejected(queues: dict[str, str]) -> None:
    from backend.jobs.scheduled import run_task

    with pytest.raises(ValidationError, match="dlq-monitor"):
        run_task({"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}})
