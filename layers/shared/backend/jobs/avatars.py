"""AvatarFunction: the upload bucket's ``s3:ObjectCreated:*`` events, one upload per record.

S3 delivers the event asynchronously (Lambda retries a failed invocation twice). A record whose
upload is refused (not an image, too big, a bomb...) is not a failure: the upload is deleted and
the old avatar stays. An error (S3 or DynamoDB unavailable) fails the invocation and keeps the
upload, so Lambda's two retries, then a redrive from AvatarDLQ, can still process it; an event
delivered again after its upload was processed finds it gone and does nothing.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.data_classes import S3Event

from backend import coldstart, error_reporting
from backend.observability import logger, metrics, tracer
from backend.wiring import get_container


def handle_uploads(event: dict[str, Any]) -> dict[str, Any]:
    from datetime import datetime
    from urllib.parse import unquote_plus

    from aws_lambda_powertools.metrics import MetricUnit

    from backend.services import avatars

    deps = get_container().avatar_deps
    results: list[dict[str, Any]] = []
    for record in S3Event(event).records:
        if not record.event_name.startswith("ObjectCreated:"):
            continue
        s3 = record.s3
        size = s3.get_object.get("size")
        outcome = avatars.process_upload(
            deps,
            bucket=s3.bucket.name,
            # S3 sends the key URL-encoded (form encoding: a space is "+"), as AWS documents
            key=unquote_plus(s3.get_object.key),
            size=None if size is None else int(size),
            event_time=datetime.fromisoformat(record.event_time.replace("Z", "+00:00")),
        )
        metrics.add_metric(name=f"AvatarUploads{outcome.status.capitalize()}", unit=MetricUnit.Count, value=1)
        results.append({"key": outcome.key, "status": outcome.status, "reason": outcome.reason})
    return {"results": results}


def create_avatar_handler() -> Any:
    error_reporting.start()  # Sentry, when SENTRY_DSN_PARAMETER_NAME is set (else nothing is imported)

    @logger.inject_lambda_context(clear_state=True)
    @tracer.capture_lambda_handler(capture_response=False)
    @metrics.log_metrics(capture_cold_start_metric=True)
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        try:
            return handle_uploads(event)
        finally:
            coldstart.end()  # the first invocation ends initialization's pause of the collector

    return error_reporting.wrap(handler)
