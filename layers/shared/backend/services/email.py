"""Sending transactional email through SES, exactly once per job id."""

from __future__ import annotations

from functools import cache
from typing import Any

from backend import aws
from backend.models import keys
from backend.observability import logger
from backend.schemas.jobs import EmailJob
from backend.services.email_templates import render
from backend.settings import get_settings

IDEMPOTENCY_TTL_SECONDS = 24 * 3600


def _send(job: dict[str, Any]) -> dict[str, Any]:
    email = EmailJob.model_validate(job)
    rendered = render(email.template, email.data)
    if _suppressions().is_suppressed(email.to):
        # SES reported this address as bouncing or complaining: sending again harms our reputation.
        from aws_lambda_powertools.metrics import MetricUnit, single_metric

        with single_metric(name="EmailSuppressed", unit=MetricUnit.Count, value=1) as metric:
            metric.add_dimension(name="template", value=email.template)
        logger.warning(
            "email not sent: address suppressed", extra={"job_id": email.job_id, "template": email.template}
        )
        return {"messageId": None, "jobId": email.job_id, "skipped": "suppressed"}
    settings = get_settings()
    extra: dict[str, Any] = {}
    if settings.ses_configuration_set:
        extra["ConfigurationSetName"] = settings.ses_configuration_set
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
    # The recipient is personal data: log the job and template, not the address.
    logger.info("email sent", extra={"job_id": email.job_id, "template": email.template})
    return {"messageId": response["MessageId"], "jobId": email.job_id}


@cache
def _suppressions() -> Any:
    from backend.repositories.suppressions import SuppressionsRepository

    return SuppressionsRepository()


@cache
def _idempotency() -> tuple[Any, Any]:
    from aws_lambda_powertools.utilities.idempotency import (
        DynamoDBPersistenceLayer,
        IdempotencyConfig,
        idempotent_function,
    )

    settings = get_settings()
    persistence = DynamoDBPersistenceLayer(
        table_name=settings.table_name,
        key_attr="PK",
        sort_key_attr="SK",
        static_pk_value=keys.idempotency_pk(settings.service),
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


def register_lambda_context(context: Any) -> None:
    """Lets idempotency expire an in-progress record when the invocation times out."""
    _, config = _idempotency()
    config.register_lambda_context(context)


def send_email_job(job: EmailJob) -> dict[str, Any]:
    """Render and send; a job id already sent returns the first result without sending again."""
    send, _ = _idempotency()
    result: dict[str, Any] = send(job=job.model_dump(by_alias=True, mode="json"))
    return result
