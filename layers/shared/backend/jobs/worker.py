"""The SQS worker: validates each job message and runs it, reporting partial batch failures.

Uses Powertools' BatchProcessor, so a batch with one poison message only retries that message;
after the queue's maxReceiveCount SQS moves it to the dead-letter queue.

A job whose email SES throttled (``EmailThrottledError``: after the SES client's own retries) is not
a failure: the worker puts the same message back on the queue it came from, delayed, and reports
the original as done, so throttling never counts a receive towards the dead-letter queue. The
number of such deferrals travels with the message (attribute ``sesDeferrals``); after
``MAX_DEFERRALS`` the job fails like any other (a quota exhausted for hours needs a person, and the
DLQ monitor tells one). The job id is unchanged, so the send stays idempotent.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from typing import Any, Final

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from pydantic import TypeAdapter
from pydantic import ValidationError as PydanticValidationError

from backend import coldstart, error_reporting, observability
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
from backend.services.email import EmailThrottledError
from backend.wiring import get_container

_job_adapter: TypeAdapter[AnyJob] = TypeAdapter(Job)
#: The message attribute counting how often a job was put back because SES throttled it.
DEFERRALS_ATTRIBUTE: Final = "sesDeferrals"
#: How often a throttled job is put back before it fails like any other (about an hour of delays).
MAX_DEFERRALS: Final = 12
#: The n-th deferral waits between half and all of min(FIRST * 2**n, LONGEST) seconds (jitter, so
#: a throttled burst does not come back at once). SES asks to retry a throttled send "after an
#: interval of up to 10 minutes".
FIRST_DEFERRAL_SECONDS: Final = 30
LONGEST_DEFERRAL_SECONDS: Final = 600
#: The settings naming the queues the worker reads that carry jobs which send email.
_JOB_QUEUE_SETTINGS: Final = ("email_queue_url", "order_queue_url", "maintenance_queue_url")
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def _purge_user_posts(job: AnyJob, _context: Any) -> dict[str, Any]:
    from backend.services import maintenance, queues

    assert isinstance(job, PurgeUserPostsJob)
    container = get_container()
    return maintenance.purge_user_posts(
        job,
        posts=container.posts,
        enqueue_follow_up=queues.enqueue_purge_user_posts,
        invalidate=container.cache.invalidate,
    )


def _password_reset_request(job: AnyJob, _context: Any) -> dict[str, Any]:
    from backend.services import account

    assert isinstance(job, PasswordResetRequestJob)
    container = get_container()

    def send_now(**email: Any) -> Any:
        return container.email.send(EmailJob(**email))

    return account.handle_reset_request(
        container.identity, email=job.email, job_id=job.job_id, send_now=send_now
    )


def _ses_notification(envelope: SnsEnvelope) -> dict[str, Any]:
    """A bounce or complaint from SES (configuration set → SNS → the email-events queue)."""
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


def _send_email(job: AnyJob, _context: Any) -> dict[str, Any]:
    assert isinstance(job, EmailJob)
    return get_container().email.send(job)


def _process_order(job: AnyJob, lambda_context: Any) -> dict[str, Any]:
    """Once per job id: a redelivered or re-enqueued ``order.process`` returns the first outcome."""
    from backend.services.idempotency import IdempotencyInProgressError

    assert isinstance(job, OrderProcessJob)
    container = get_container()
    try:
        result: dict[str, Any] = container.order_process(
            container.order_jobs,
            data=job.model_dump(by_alias=True, mode="json"),
            lambda_context=lambda_context,
        )
    except IdempotencyInProgressError:
        # The same job is running in another invocation (a duplicate message): that one decides,
        # and its own message comes back if it fails, so this copy is done.
        logger.info("order.process already running elsewhere; duplicate dropped")
        return {"jobId": job.job_id, "orderId": job.order_id, "outcome": "duplicate-in-flight"}
    return result


def _send_order_confirmation(job: AnyJob, _context: Any) -> dict[str, Any]:
    from backend.services import orders

    assert isinstance(job, OrderConfirmationJob)
    return orders.send_confirmation(get_container().order_jobs, job)


#: The use case behind each job type (services import lazily: an email batch never loads posts).
#: Each takes the job and the invocation's Lambda context (idempotency expires an in-progress job
#: when its invocation would time out).
HANDLERS: dict[str, Callable[[AnyJob, Any], dict[str, Any]]] = {
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
def handle_record(record: SQSRecord, lambda_context: Any = None) -> dict[str, Any]:
    """One SQS record (Powertools' batch processor passes the invocation's context)."""
    if '"Type"' in record.body and '"Notification"' in record.body:  # an SNS envelope, not a job
        try:
            envelope = SnsEnvelope.model_validate_json(record.body)
        except PydanticValidationError:
            _count_job(record, SES_NOTIFICATION, observability.JOBS_FAILED)
            raise ValidationError("Invalid SNS notification") from None
        outcome = _ses_notification(envelope)
        _count_job(record, SES_NOTIFICATION, observability.JOBS_PROCESSED)
        return outcome
    try:
        job = parse_job(record.body)
    except ValidationError:
        _count_job(record, INVALID_JOB, observability.JOBS_FAILED)
        raise
    logger.append_keys(job_id=job.job_id, job_type=job.type)
    try:
        try:
            result = HANDLERS[job.type](job, lambda_context)
        except EmailThrottledError as throttled:
            result = _defer(record, job, throttled)
    except Exception as exc:
        _count_job(record, job.type, observability.JOBS_FAILED)
        error_reporting.capture(exc)  # the batch processor keeps it from escaping the handler
        raise
    finally:
        logger.remove_keys(["job_id", "job_type"])
    _count_job(record, job.type, observability.JOBS_PROCESSED)
    return result


#: The ``job_type`` of the metrics of an SES notification (not a job) and of an unreadable message.
SES_NOTIFICATION: Final = "ses.notification"
INVALID_JOB: Final = "invalid"


def _count_job(record: SQSRecord, job_type: str, outcome: str) -> None:
    """Count a message's outcome per job type (``JobsProcessed``/``JobsFailed``), and ``JobsRetried``
    when SQS delivered it before (a failed or timed-out earlier receive)."""
    observability.count(outcome, job_type=job_type)
    receives = str((record.raw_event.get("attributes") or {}).get("ApproximateReceiveCount", "1"))
    if receives.isdigit() and int(receives) > 1:
        observability.count(observability.JOBS_RETRIED, job_type=job_type)


def deferral_delay(deferrals: int) -> int:
    """Seconds before the ``deferrals``-th put-back (0-based) of a throttled job comes back."""
    ceiling: int = min(FIRST_DEFERRAL_SECONDS * 2 ** min(deferrals, 16), LONGEST_DEFERRAL_SECONDS)
    return ceiling // 2 + random.randint(0, ceiling - ceiling // 2)  # noqa: S311  # nosec B311  # jitter of a retry delay, not a secret


def _queue_url_of(queue_arn: str) -> str | None:
    """The URL (from the settings) of the job queue with this ARN, if the worker has one."""
    name = queue_arn.rsplit(":", 1)[-1]
    settings = get_container().settings
    for setting in _JOB_QUEUE_SETTINGS:
        url = getattr(settings, setting)
        if url and str(url).rstrip("/").rsplit("/", 1)[-1] == name:
            return str(url)
    return None


def _defer(record: SQSRecord, job: AnyJob, throttled: Exception) -> dict[str, Any]:
    """Put a job SES throttled back on its queue, delayed; the original is then done. Raises (the
    message fails as usual) after MAX_DEFERRALS, or when the job's queue is not known."""
    from aws_lambda_powertools.metrics import MetricUnit

    from backend.services import queues

    # the message's own attributes (Lambda's shape: {"type": {"stringValue": ..., "dataType": ...}})
    attributes = {
        name: (str(value.get("dataType") or "String"), str(value["stringValue"]))
        for name, value in (record.raw_event.get("messageAttributes") or {}).items()
        if isinstance(value, dict) and value.get("stringValue") is not None
    }
    counted = attributes.get(DEFERRALS_ATTRIBUTE, ("Number", "0"))[1]
    deferrals = int(counted) if counted.isdigit() else 0
    url = _queue_url_of(record.event_source_arn)
    if deferrals >= MAX_DEFERRALS or url is None:
        logger.error(
            "email throttled: not deferred again, the message fails",
            extra={"deferrals": deferrals, "queue_known": url is not None},
        )
        raise throttled
    delay = deferral_delay(deferrals)
    queues.requeue(
        record.body,
        queue_url=url,
        delay_seconds=delay,
        attributes={**attributes, DEFERRALS_ATTRIBUTE: ("Number", str(deferrals + 1))},
    )
    metrics.add_metric(name="EmailDeferred", unit=MetricUnit.Count, value=1)
    logger.warning(
        "email throttled by SES: job deferred", extra={"deferrals": deferrals + 1, "delay_seconds": delay}
    )
    return {"jobId": job.job_id, "outcome": "deferred", "deferrals": deferrals + 1, "delaySeconds": delay}


def create_worker_handler() -> Any:
    error_reporting.start()  # Sentry, when SENTRY_DSN_PARAMETER_NAME is set (else nothing is imported)

    @logger.inject_lambda_context(clear_state=True)
    @tracer.capture_lambda_handler(capture_response=False)
    @metrics.log_metrics(capture_cold_start_metric=True)
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        get_container().email.register_lambda_context(context)
        try:
            response = process_partial_response(
                event=event, record_handler=handle_record, processor=processor, context=context
            )
        finally:
            coldstart.end()  # the first invocation ends initialization's pause of the collector
        return dict(response)

    return error_reporting.wrap(handler)
