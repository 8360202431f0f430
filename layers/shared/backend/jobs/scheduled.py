"""The scheduled function: runs the housekeeping task named in the schedule's Input.

Each task takes its collaborators from the composition root (``backend.wiring``) and calls one
service function. The function has no token-signing secret: the container signs the cursors of its
internal listings with a random key of its own (they never leave the process).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import ValidationError as PydanticValidationError

from backend import coldstart, error_reporting
from backend.errors import ValidationError
from backend.observability import logger, metrics, tracer
from backend.schemas.jobs import ScheduledTask, ScheduledTaskName
from backend.services import housekeeping
from backend.wiring import get_container


def _dlq_monitor(_task: ScheduledTask) -> dict[str, Any]:
    return housekeeping.monitor_dead_letter_queues()


def _order_sweeper(task: ScheduledTask) -> dict[str, Any]:
    from backend.services import queues

    container = get_container()
    settings = container.settings
    return housekeeping.sweep_pending_orders(
        container.orders,
        enqueue_job=queues.enqueue_order_job,
        requeue_after_seconds=_given(
            task.requeue_after_seconds, settings.pending_order_requeue_after_seconds
        ),
        cancel_after_seconds=_given(task.cancel_after_seconds, settings.pending_order_cancel_after_seconds),
        invalidate=container.invalidate,  # lazy: only a cancellation builds the cache
    )


def _low_stock_digest(task: ScheduledTask) -> dict[str, Any]:
    from backend.models.enums import Role
    from backend.records import PageRequest
    from backend.records.users import UserRecord
    from backend.repositories.inventory import low_stock_products

    container = get_container()
    settings, users = container.settings, container.users

    def admins() -> list[UserRecord]:
        found: list[UserRecord] = []
        cursor: str | None = None
        while True:  # AP04: users by role, a page of 100 at a time
            page = users.list(PageRequest(limit=100, cursor=cursor), role=Role.ADMIN)
            found.extend(page.items)
            cursor = page.next_cursor
            if cursor is None or len(found) >= 1_000:
                return found

    return housekeeping.low_stock_digest(
        low_stock=low_stock_products,
        admins=admins,
        threshold=_given(task.threshold, settings.low_stock_threshold),
        stage=settings.stage,
        fallback_to=settings.ops_email,
    )


def _given(value: int | None, default: int) -> int:
    return default if value is None else value


TASKS: dict[ScheduledTaskName, Callable[[ScheduledTask], dict[str, Any]]] = {
    "dlq-monitor": _dlq_monitor,
    "order-sweeper": _order_sweeper,
    "low-stock-digest": _low_stock_digest,
}


def run_task(event: dict[str, Any]) -> dict[str, Any]:
    try:
        task = ScheduledTask.model_validate(event)
    except PydanticValidationError:
        raise ValidationError(
            "Scheduled event must carry {'task': <name>} (the schedule's Input); known: " + ", ".join(TASKS)
        ) from None
    logger.append_keys(task=task.task)
    return TASKS[task.task](task)


def create_scheduled_handler() -> Any:
    error_reporting.start()  # Sentry, when SENTRY_DSN_PARAMETER_NAME is set (else nothing is imported)

    @logger.inject_lambda_context(clear_state=True)
    @tracer.capture_lambda_handler(capture_response=False)
    @metrics.log_metrics(capture_cold_start_metric=True)
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        try:
            return run_task(event)
        finally:
            coldstart.end()  # the first invocation ends initialization's pause of the collector

    return error_reporting.wrap(handler)
