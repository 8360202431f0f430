"""Messages on the job queues. The worker validates every message against these before acting."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field, StringConstraints

from backend.schemas.common import CamelModel
from backend.values import EMAIL_MAX_LENGTH, EMAIL_PATTERN

EmailAddress = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=EMAIL_MAX_LENGTH, pattern=EMAIL_PATTERN)
]
JobId = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9:._-]+$")]
TemplateKey = Annotated[str, StringConstraints(max_length=64)]
TemplateScalar = Annotated[str, StringConstraints(max_length=2000)] | int | float | bool
#: A value of a template: a scalar, or the rows of a table (order lines, low-stock products).
TemplateValue = TemplateScalar | Annotated[list[dict[TemplateKey, TemplateScalar]], Field(max_length=100)]
#: What the row lists of a template may hold at most (the digest says how many it left out).
MAX_TEMPLATE_ROWS = 100

EmailTemplateName = Literal[
    "welcome",
    "verify-email",
    "password-reset",
    "password-changed",
    "email-change",
    "email-changed",
    "order-confirmation",
    "order-shipped",
    "low-stock-digest",
    "dlq-alert",
]
OrderIdValue = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9]+$")]


class EmailJob(CamelModel):
    """Send one templated email. ``jobId`` makes the send idempotent: a redelivered job is not re-sent."""

    type: Literal["email.send"] = "email.send"
    job_id: JobId
    to: EmailAddress
    template: EmailTemplateName
    data: dict[TemplateKey, TemplateValue] = Field(default_factory=dict, max_length=50)


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


class OrderProcessJob(CamelModel):
    """Move a PENDING order to PROCESSING (conditionally), then enqueue its confirmation.

    Enqueued after the order commits, and again by the sweeper for orders still PENDING; the job id
    is ``order-process-<orderId>`` either way, so Powertools idempotency runs it once.
    """

    type: Literal["order.process"] = "order.process"
    job_id: JobId
    order_id: OrderIdValue


class OrderConfirmationJob(CamelModel):
    """Email the order confirmation (lines, quantities, unit prices, total) to its owner, once."""

    type: Literal["order.send-confirmation"] = "order.send-confirmation"
    job_id: JobId
    order_id: OrderIdValue


type AnyJob = EmailJob | PurgeUserPostsJob | PasswordResetRequestJob | OrderProcessJob | OrderConfirmationJob

#: Every job the worker runs, told apart by ``type``. A new job type joins this union and
#: ``backend.jobs.worker.HANDLERS``.
Job = Annotated[
    EmailJob | PurgeUserPostsJob | PasswordResetRequestJob | OrderProcessJob | OrderConfirmationJob,
    Field(discriminator="type"),
]

ScheduledTaskName = Literal["dlq-monitor", "order-sweeper", "low-stock-digest"]


class ScheduledTask(CamelModel):
    """The constant ``Input`` of an EventBridge schedule in template.yaml.

    The optional fields override a setting for one run (e.g. ``python -m local invoke
    ScheduledFunction`` with ``{"task": "order-sweeper", "requeueAfterSeconds": 0}`` from the
    runbook); the schedules themselves carry only ``task``.
    """

    model_config = ConfigDict(extra="forbid")

    task: ScheduledTaskName
    requeue_after_seconds: int | None = Field(None, ge=0, le=86_400)
    cancel_after_seconds: int | None = Field(None, ge=60, le=30 * 86_400)
    threshold: int | None = Field(None, ge=1, le=1_000_000)
