"""The scheduled function: runs the housekeeping task named in the schedule's Input."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import ValidationError as PydanticValidationError

from backend.errors import ValidationError
from backend.observability import logger, metrics, tracer
from backend.schemas.jobs import ScheduledTask
from backend.services import housekeeping

TASKS: dict[str, Callable[[], dict[str, Any]]] = {
    "dlq-monitor": housekeeping.monitor_dead_letter_queues,
}


def run_task(event: dict[str, Any]) -> dict[str, Any]:
    try:
        task = ScheduledTask.model_validate(event)
    except PydanticValidationError:
        raise ValidationError(
            "Scheduled event must carry {'task': <name>} (the schedule's Input); known: " + ", ".join(TASKS)
        ) from None
    logger.append_keys(task=task.task)
    return TASKS[task.task]()


def create_scheduled_handler() -> Any:
    @logger.inject_lambda_context(clear_state=True)
    @tracer.capture_lambda_handler(capture_response=False)
    @metrics.log_metrics(capture_cold_start_metric=True)
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return run_task(event)

    return handler
