"""The SQS worker: validates each job message and runs it, reporting partial batch failures.

Uses Powertools' BatchProcessor, so a batch with one poison message only retries that message;
after the queue's maxReceiveCount SQS moves it to the dead-letter queue.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from pydantic import TypeAdapter
from pydantic import ValidationError as PydanticValidationError

from backend import coldstart
from backend.errors import ValidationError
from backend.observability import logger, metrics, tracer
from backend.schemas.jobs import (
    AnyJob,
    EmailJob,
    Job,
    OrderConfirmationJob,
    OrderProcessJob,
    PasswordResetRequestJob,
    PurgeUserPostsJob,
)
from backend.schemas.ses import SnsEnvelope
from backend.services import email as email_service

_job_adapter: TypeAdapter[AnyJob] = TypeAdapter(Job)
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
#: The invocation being served (idempotency expires an in-progress job when it would time out).
_invocation: dict[str, Any] = {}


def _purge_user_posts(job: AnyJob) -> dict[str, Any]:
    from backend.http.deps import get_container
    from backend.services import maintenance, queues

    assert isinstance(job, PurgeUserPostsJob)
    container = get_container()
    return maintenance.purge_user_posts(
        job,
        posts=container.posts,
        enqueue_follow_up=queues.enqueue_purge_user_posts,
        invalidate=container.cache.invalidate,
    )


def _password_reset_request(job: AnyJob) -> dict[str, Any]:
    from backend.http.deps import get_container
    from backend.services import account

    assert isinstance(job, PasswordResetRequestJob)

    def send_now(**email: Any) -> Any:
        return email_service.send_email_job(EmailJob(**email))

    return account.handle_reset_request(
        get_container().identity, email=job.email, job_id=job.job_id, send_now=send_now
    )


def _ses_notification(envelope: SnsEnvelope) -> dict[str, Any]:
    """A bounce or complaint from SES (configuration set → SNS → the email-events queue)."""
    from backend.http.deps import get_container
    from backend.services import account

    container = get_container()
    suppressed = []
    for address, reason, detail in envelope.message.suppressions():
        account.record_delivery_problem(
            container.identity,
            email=address,
            reason=reason,
            detail=detail,
            suppressions=container.suppressions,
        )
        suppressed.append(reason)
    return {
        "notification": envelope.message_id,
        "event": envelope.message.kind,
        "suppressed": len(suppressed),
    }


def _send_email(job: AnyJob) -> dict[str, Any]:
    assert isinstance(job, EmailJob)
    return email_service.send_email_job(job)


def _process_order(job: AnyJob) -> dict[str, Any]:
    """Once per job id: a redelivered or re-enqueued ``order.process`` returns the first outcome."""
    from backend.http.deps import get_container
    from backend.services.idempotency import IdempotencyInProgressError

    assert isinstance(job, OrderProcessJob)
    container = get_container()
    try:
        result: dict[str, Any] = container.order_process(
            container.order_jobs,
            data=job.model_dump(by_alias=True, mode="json"),
            lambda_context=_invocation.get("context"),
        )
    except IdempotencyInProgressError:
        # The same job is running in another invocation (a duplicate message): that one decides,
        # and its own message comes back if it fails, so this copy is done.
        logger.info("order.process already running elsewhere; duplicate dropped")
        return {"jobId": job.job_id, "orderId": job.order_id, "outcome": "duplicate-in-flight"}
    return result


def _send_order_confirmation(job: AnyJob) -> dict[str, Any]:
    from backend.http.deps import get_container
    from backend.services import orders

    assert isinstance(job, OrderConfirmationJob)
    return orders.send_confirmation(get_container().order_jobs, job)


#: The use case behind each job type (services import lazily: an email batch never loads posts).
HANDLERS: dict[str, Callable[[AnyJob], dict[str, Any]]] = {
    "email.send": _send_email,
    "user.purge-posts": _purge_user_posts,
    "account.password-reset-request": _password_reset_request,
    "order.process": _process_order,
    "order.send-confirmation": _send_order_confirmation,
}


def parse_job(body: str) -> AnyJob:
    try:
        return _job_adapter.validate_python(json.loads(body))
    except (json.JSONDecodeError, PydanticValidationError) as exc:
        raise ValidationError(f"Invalid job message: {type(exc).__name__}") from None


@tracer.capture_method(capture_response=False)
def handle_record(record: SQSRecord) -> dict[str, Any]:
    if '"Type"' in record.body and '"Notification"' in record.body:  # an SNS envelope, not a job
        try:
            envelope = SnsEnvelope.model_validate_json(record.body)
        except PydanticValidationError:
            raise ValidationError("Invalid SNS notification") from None
        return _ses_notification(envelope)
    job = parse_job(record.body)
    logger.append_keys(job_id=job.job_id, job_type=job.type)
    try:
        return HANDLERS[job.type](job)
    finally:
        logger.remove_keys(["job_id", "job_type"])


def create_worker_handler() -> Any:
    @logger.inject_lambda_context(clear_state=True)
    @tracer.capture_lambda_handler(capture_response=False)
    @metrics.log_metrics(capture_cold_start_metric=True)
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        email_service.register_lambda_context(context)
        _invocation["context"] = context
        try:
            response = process_partial_response(
                event=event, record_handler=handle_record, processor=processor, context=context
            )
        finally:
            coldstart.end()  # the first invocation ends initialization's pause of the collector
        return dict(response)

    return handler
