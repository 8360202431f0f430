"""Scheduled housekeeping tasks."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit, single_metric

from backend import aws
from backend.observability import logger
from backend.services.queues import enqueue_email
from backend.settings import get_settings


def _queue_name(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1]


def monitor_dead_letter_queues(now: datetime | None = None) -> dict[str, Any]:
    """Publish each DLQ's depth as a metric and email ops when any holds messages.

    The alert's job id is derived from the hour and the depths, so repeated runs within an hour
    over an unchanged backlog send one email, not one per run.
    """
    settings = get_settings()
    now = now or datetime.now(UTC)
    depths: dict[str, int] = {}
    for url in settings.monitored_dlq_urls:
        attributes = aws.sqs().get_queue_attributes(
            QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"]
        )
        depth = int(attributes["Attributes"].get("ApproximateNumberOfMessages", "0"))
        name = _queue_name(url)
        depths[name] = depth
        with single_metric(name="DeadLetterMessages", unit=MetricUnit.Count, value=depth) as metric:
            metric.add_dimension(name="queue", value=name)
    stuck = {name: depth for name, depth in depths.items() if depth > 0}
    alert_job_id = None
    if stuck:
        summary = ", ".join(f"{name} ({depth})" for name, depth in sorted(stuck.items()))
        digest = hashlib.sha256(summary.encode()).hexdigest()[:16]
        job = enqueue_email(
            to=settings.require("ops_email"),
            template="dlq-alert",
            data={"stage": settings.stage, "count": sum(stuck.values()), "queues": summary},
            job_id=f"dlq-alert-{now:%Y%m%d%H}-{digest}",
        )
        alert_job_id = job.job_id
        logger.warning("messages waiting in dead-letter queues", extra={"queues": stuck})
    return {"task": "dlq-monitor", "depths": depths, "alertJobId": alert_job_id}
