"""Sending transactional email through SES, exactly once per job id.

SES throttling (docs/deploy.md, "SES throttling"): SES refuses a send over the account's sending
rate or daily quota with a throttling error and drops it, so nothing was sent and the send may be
tried again. The SES client retries throttling errors itself (``backend.aws``: standard mode, with
exponential backoff). A send still throttled after those retries raises ``EmailThrottledError``, and
the rest of the invocation's sends raise it at once without calling SES (SES is saturated: sending
more only burns the invocation's time); the worker then puts the job back on its queue with a delay
(``backend.jobs.worker``) instead of failing the message towards the dead-letter queue. The
idempotency record of a job that raised is deleted, so the deferred copy sends it (once).

The sender is built once per container by the composition root (``backend.wiring``:
``Container.email``), with its idempotency store and the suppressions repository; it keeps nothing
in module globals.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING, Any, Final

from botocore.exceptions import ClientError

from backend import aws
from backend.errors import UnavailableError
from backend.models import keys
from backend.observability import logger
from backend.schemas.jobs import EmailJob
from backend.services.email_templates import render
from backend.settings import Settings

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig

    from backend.repositories.suppressions import SuppressionsRepository

IDEMPOTENCY_TTL_SECONDS = 24 * 3600
#: The error codes of a throttled send: the SES API's ``Throttling`` ("Maximum sending rate
#: exceeded", "Daily message quota exceeded"), and what the SES v2 API and the SDKs call it.
THROTTLING_CODES: Final = frozenset(
    {"Throttling", "ThrottlingException", "TooManyRequestsException", "LimitExceededException"}
)


class EmailThrottledError(UnavailableError):
    """SES refused the send for its sending rate or quota, after the client's retries: nothing was
    sent, and the job may be sent later."""

    code = "EMAIL_THROTTLED"
    default_message = "SES is throttling this account's sends"


def is_throttling(exc: BaseException) -> bool:
    return isinstance(exc, ClientError) and exc.response.get("Error", {}).get("Code") in THROTTLING_CODES


def _send(job: dict[str, Any], *, sender: EmailSender) -> dict[str, Any]:
    """The send itself, under idempotency (its module and name make the records' keys: keep them)."""
    email = EmailJob.model_validate(job)
    rendered = render(email.template, email.data)
    if sender.suppressions().is_suppressed(email.to):
        # SES reported this address as bouncing or complaining: sending again harms our reputation.
        from aws_lambda_powertools.metrics import MetricUnit, single_metric

        with single_metric(name="EmailSuppressed", unit=MetricUnit.Count, value=1) as metric:
            metric.add_dimension(name="template", value=email.template)
        logger.warning(
            "email not sent: address suppressed", extra={"job_id": email.job_id, "template": email.template}
        )
        return {"messageId": None, "jobId": email.job_id, "skipped": "suppressed"}
    settings = sender.settings
    extra: dict[str, Any] = {}
    if settings.ses_configuration_set:
        extra["ConfigurationSetName"] = settings.ses_configuration_set
    try:
        response = aws.ses().send_email(
            **extra,
            Source=settings.require("mail_from"),
            Destination={"ToAddresses": [email.to]},
            Message={
                "Subject": {"Data": rendered.subject, "Charset": "UTF-8"},
                "Body": {
                    "Text": {"Data": rendered.text, "Charset": "UTF-8"},
                    "Html": {"Data": rendered.html, "Charset": "UTF-8"},
                },
            },
        )
    except ClientError as exc:
        if not is_throttling(exc):
            raise
        sender.throttled = True
        logger.warning(
            "email not sent: SES throttled it past the retries",
            extra={"job_id": email.job_id, "template": email.template, "error": str(exc)},
        )
        raise EmailThrottledError() from exc
    # The recipient is personal data: log the job and template, not the address.
    logger.info("email sent", extra={"job_id": email.job_id, "template": email.template})
    return {"messageId": response["MessageId"], "jobId": email.job_id}


class EmailSender:
    """Sends email jobs: rendered, through SES, exactly once per job id, never to a suppressed address."""

    def __init__(self, settings: Settings, *, suppressions: Callable[[], SuppressionsRepository]) -> None:
        self.settings = settings
        self.suppressions = suppressions
        #: A send of the current invocation was throttled past its retries (reset per invocation).
        self.throttled = False

    @cached_property
    def _idempotent(self) -> tuple[Callable[..., dict[str, Any]], IdempotencyConfig]:
        from aws_lambda_powertools.utilities.idempotency import (
            DynamoDBPersistenceLayer,
            IdempotencyConfig,
            idempotent_function,
        )

        persistence = DynamoDBPersistenceLayer(
            table_name=self.settings.table_name,
            key_attr="PK",
            sort_key_attr="SK",
            static_pk_value=keys.idempotency_pk(self.settings.service),
            expiry_attr="expiresAt",
        )
        config = IdempotencyConfig(
            event_key_jmespath="jobId",
            expires_after_seconds=IDEMPOTENCY_TTL_SECONDS,
            raise_on_no_idempotency_key=True,
        )
        send = idempotent_function(data_keyword_argument="job", persistence_store=persistence, config=config)(
            _send
        )
        return send, config

    def register_lambda_context(self, context: Any) -> None:
        """At the start of an invocation: lets idempotency expire an in-progress record when the
        invocation times out, and tries SES again (a throttle only holds back the invocation it hit)."""
        _, config = self._idempotent
        config.register_lambda_context(context)
        self.throttled = False

    def send(self, job: EmailJob) -> dict[str, Any]:
        """Render and send; a job id already sent returns the first result without sending again.

        Raises ``EmailThrottledError`` when SES throttles the send past the client's retries, and at
        once, without calling SES, for every send after that in the same invocation.
        """
        if self.throttled:
            raise EmailThrottledError("SES throttled an earlier send of this invocation: not tried")
        send, _ = self._idempotent
        return send(job=job.model_dump(by_alias=True, mode="json"), sender=self)
