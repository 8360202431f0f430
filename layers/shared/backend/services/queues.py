"""Enqueueing jobs for the worker."""

from __future__ import annotations

import uuid

from backend import aws
from backend.schemas.jobs import EmailJob, EmailTemplateName
from backend.settings import get_settings


def enqueue_email(
    *,
    to: str,
    template: EmailTemplateName,
    data: dict[str, str | int | float | bool],
    job_id: str | None = None,
) -> EmailJob:
    """Validate and put an email job on the email queue. Returns the job (with its id)."""
    job = EmailJob(job_id=job_id or f"email-{uuid.uuid4().hex}", to=to, template=template, data=data)
    aws.sqs().send_message(
        QueueUrl=get_settings().require("email_queue_url"),
        MessageBody=job.model_dump_json(by_alias=True),
        MessageAttributes={"type": {"DataType": "String", "StringValue": job.type}},
    )
    return job
