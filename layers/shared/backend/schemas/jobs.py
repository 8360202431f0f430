"""Messages on the job queues. The worker validates every message against these before acting."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from backend.schemas.common import CamelModel

EMAIL_PATTERN = r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"

EmailAddress = Annotated[str, StringConstraints(strip_whitespace=True, max_length=254, pattern=EMAIL_PATTERN)]
JobId = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9:._-]+$")]
TemplateValue = Annotated[str, StringConstraints(max_length=2000)] | int | float | bool

EmailTemplateName = Literal["welcome", "password-reset", "order-confirmation", "dlq-alert"]


class EmailJob(CamelModel):
    """Send one templated email. ``jobId`` makes the send idempotent: a redelivered job is not re-sent."""

    type: Literal["email.send"] = "email.send"
    job_id: JobId
    to: EmailAddress
    template: EmailTemplateName
    data: dict[Annotated[str, StringConstraints(max_length=64)], TemplateValue] = Field(
        default_factory=dict, max_length=50
    )


# Order jobs join this union when the orders service lands (see the orders issue).
Job = Annotated[EmailJob, Field(discriminator="type")]


class ScheduledTask(CamelModel):
    """The constant ``Input`` of an EventBridge schedule in template.yaml."""

    task: Literal["dlq-monitor"]
