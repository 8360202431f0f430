"""Messages on the job queues. The worker validates every message against these before acting."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from backend.schemas.common import CamelModel
from backend.values import EMAIL_MAX_LENGTH, EMAIL_PATTERN

EmailAddress = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=EMAIL_MAX_LENGTH, pattern=EMAIL_PATTERN)
]
JobId = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9:._-]+$")]
TemplateValue = Annotated[str, StringConstraints(max_length=2000)] | int | float | bool

EmailTemplateName = Literal[
    "welcome",
    "verify-email",
    "password-reset",
    "password-changed",
    "email-change",
    "email-changed",
    "order-confirmation",
    "dlq-alert",
]


class EmailJob(CamelModel):
    """Send one templated email. ``jobId`` makes the send idempotent: a redelivered job is not re-sent."""

    type: Literal["email.send"] = "email.send"
    job_id: JobId
    to: EmailAddress
    template: EmailTemplateName
    data: dict[Annotated[str, StringConstraints(max_length=64)], TemplateValue] = Field(
        default_factory=dict, max_length=50
    )


class PurgeUserPostsJob(CamelModel):
    """Delete the posts of a deleted account that did not fit in its deletion transaction.

    Naturally idempotent: a redelivered job finds fewer (or no) posts left to delete.
    """

    type: Literal["user.purge-posts"] = "user.purge-posts"
    job_id: JobId
    user_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]


class PasswordResetRequestJob(CamelModel):
    """Someone asked to reset the password of ``email``: the worker emails a link if an account has
    that address. Done in the worker so the request costs the same whether or not it exists."""

    type: Literal["account.password-reset-request"] = "account.password-reset-request"
    job_id: JobId
    email: Annotated[str, StringConstraints(max_length=EMAIL_MAX_LENGTH)]


#: Every job the worker runs, told apart by ``type``. A new job type joins this union and
#: ``backend.jobs.worker.HANDLERS``.
Job = Annotated[EmailJob | PurgeUserPostsJob | PasswordResetRequestJob, Field(discriminator="type")]


class ScheduledTask(CamelModel):
    """The constant ``Input`` of an EventBridge schedule in template.yaml."""

    task: Literal["dlq-monitor"]
