"""Enqueueing jobs for the worker."""

from __future__ import annotations

import uuid

from backend import aws
from backend.schemas.common import CamelModel
from backend.schemas.jobs import (
    EmailJob,
    EmailTemplateName,
    OrderConfirmationJob,
    OrderProcessJob,
    PasswordResetRequestJob,
    PurgeUserPostsJob,
    TemplateValue,
)
from backend.settings import get_settings


def enqueue(job: CamelModel, *, queue_setting: str) -> None:
    """Put a validated job on the queue named by a setting (e.g. ``order_queue_url``)."""
    aws.sqs().send_message(
        QueueUrl=get_settings().require(queue_setting),
        MessageBody=job.model_dump_json(by_alias=True),
        MessageAttributes={"type": {"DataType": "String", "StringValue": str(getattr(job, "type", "job"))}},
    )


def requeue(body: str, *, queue_url: str, delay_seconds: int, attributes: dict[str, tuple[str, str]]) -> None:
    """Put a message back on a queue as it was (same body, so the same job id), hidden for
    ``delay_seconds`` (SQS allows 0 to 900), with these message attributes: name → (data type,
    value), e.g. ``{"type": ("String", "email.send")}``."""
    aws.sqs().send_message(
        QueueUrl=queue_url,
        MessageBody=body,
        DelaySeconds=max(0, min(900, int(delay_seconds))),
        MessageAttributes={
            name: {"DataType": data_type, "StringValue": value}
            for name, (data_type, value) in attributes.items()
        },
    )


def enqueue_email(
    *,
    to: str,
    template: EmailTemplateName,
    data: dict[str, TemplateValue],
    job_id: str | None = None,
) -> EmailJob:
    """Validate and put an email job on the email queue. Returns the job (with its id)."""
    job = EmailJob(job_id=job_id or f"email-{uuid.uuid4().hex}", to=to, template=template, data=data)
    enqueue(job, queue_setting="email_queue_url")
    return job


def enqueue_purge_user_posts(user_id: str, *, sequence: int = 0) -> PurgeUserPostsJob:
    """Ask the worker to delete a deleted account's remaining posts (maintenance queue)."""
    job = PurgeUserPostsJob(job_id=f"purge-posts-{user_id}-{sequence}", user_id=user_id)
    enqueue(job, queue_setting="maintenance_queue_url")
    return job


def enqueue_reset_request(*, email: str) -> PasswordResetRequestJob:
    """Ask the worker to email a password-reset link to ``email`` if it has an account."""
    job = PasswordResetRequestJob(job_id=f"reset-{uuid.uuid4().hex}", email=email)
    enqueue(job, queue_setting="email_queue_url")
    return job


def enqueue_order_job(job: OrderProcessJob | OrderConfirmationJob) -> OrderProcessJob | OrderConfirmationJob:
    """Put an order job (``order.process``, ``order.send-confirmation``) on the order queue."""
    enqueue(job, queue_setting="order_queue_url")
    return job
