"""Scheduled housekeeping tasks: the DLQ monitor, the order sweeper, the low-stock digest.

Each is safe to run twice at once (two schedules overlapping, or a manual fire during a run): the
sweeper's re-enqueued jobs are idempotent by job id and its cancellations are optimistic (one
wins, the other skips), and every email's job id is derived from what it reports, so the worker
sends it once. Each reports what it did as metrics and one log line.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from aws_lambda_powertools.metrics import MetricUnit, single_metric

from backend import aws
from backend.errors import ConcurrentModificationError, NotFoundError
from backend.models.enums import OrderStatus
from backend.observability import logger, metrics
from backend.records import PageRequest
from backend.records.catalog import ProductRecord
from backend.records.users import UserRecord
from backend.schemas.jobs import MAX_TEMPLATE_ROWS, OrderProcessJob
from backend.services.queues import enqueue_email
from backend.settings import get_settings

if TYPE_CHECKING:
    from backend.repositories.orders import OrdersRepository

#: Orders one sweep handles at most, and how long it may take (the function times out at 60 s);
#: the rest waits for the next run, five minutes later.
SWEEP_MAX_ORDERS: Final = 2_000
SWEEP_TIME_BUDGET_SECONDS: Final = 40.0


def _queue_name(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1]


def monitor_dead_letter_queues(now: datetime | None = None) -> dict[str, Any]:
    """Publish each DLQ's depth as a metric and email ops when any holds messages.

    The alert's job id is derived from the hour and the depths, so repeated runs within an hour
    over an unchanged backlog send one email, not one per run.
    """
    settings = get_settings()
    now = now or datetime.now(UTC)
    depths: dict[str, int] = {}
    for url in settings.monitored_dlq_urls:
        attributes = aws.sqs().get_queue_attributes(
            QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"]
        )
        depth = int(attributes["Attributes"].get("ApproximateNumberOfMessages", "0"))
        name = _queue_name(url)
        depths[name] = depth
        with single_metric(name="DeadLetterMessages", unit=MetricUnit.Count, value=depth) as metric:
            metric.add_dimension(name="queue", value=name)
    stuck = {name: depth for name, depth in depths.items() if depth > 0}
    alert_job_id = None
    if stuck:
        summary = ", ".join(f"{name} ({depth})" for name, depth in sorted(stuck.items()))
        digest = hashlib.sha256(summary.encode()).hexdigest()[:16]
        job = enqueue_email(
            to=settings.require("ops_email"),
            template="dlq-alert",
            data={"stage": settings.stage, "count": sum(stuck.values()), "queues": summary},
            job_id=f"dlq-alert-{now:%Y%m%d%H}-{digest}",
        )
        alert_job_id = job.job_id
        logger.warning("messages waiting in dead-letter queues", extra={"queues": stuck})
    return {"task": "dlq-monitor", "depths": depths, "alertJobId": alert_job_id}


# ----------------------------------------------------------------------------- order sweeper
def sweep_pending_orders(
    orders: OrdersRepository,
    *,
    enqueue_job: Callable[[OrderProcessJob], Any],
    requeue_after_seconds: int,
    cancel_after_seconds: int,
    now: datetime | None = None,
    max_orders: int = SWEEP_MAX_ORDERS,
    time_budget: float = SWEEP_TIME_BUDGET_SECONDS,
    invalidate: Callable[..., None] = lambda *namespaces: None,
) -> dict[str, Any]:
    """PENDING orders older than ``requeue_after_seconds`` get their ``order.process`` job again (so
    an order whose enqueue failed after it committed is still processed); those older than
    ``cancel_after_seconds`` are cancelled with their stock restored, and then the product views of
    the read cache are invalidated once (``invalidate`` is ``ReadCache.invalidate``: the pages show
    ``stock``).

    Reads the orders-by-status index (AP25: one Query per shard, oldest first, bounded by creation
    time), never a Scan. Re-enqueueing uses the order's one job id, so a job that already ran is
    not run again, and a duplicate of one still queued is harmless.
    """
    from backend.services.orders import process_job_id

    started = time.monotonic()
    now = now or datetime.now(UTC)
    requeue_before = now - timedelta(seconds=requeue_after_seconds)
    cancel_before = now - timedelta(seconds=cancel_after_seconds)
    counts = {"requeued": 0, "cancelled": 0, "skipped": 0, "failed": 0}
    seen = 0
    cursor: str | None = None
    truncated = False
    while True:
        page = orders.list_by_status(
            OrderStatus.PENDING,
            PageRequest(limit=100, cursor=cursor),
            created_before=max(requeue_before, cancel_before),
        )
        for order in page.items:
            seen += 1
            if order.created_at <= cancel_before:
                counts[_cancel_stale(orders, order.id)] += 1
                continue
            try:
                enqueue_job(OrderProcessJob(job_id=process_job_id(order.id), order_id=order.id))
                counts["requeued"] += 1
            except Exception:  # noqa: BLE001 - counted and logged; the next run tries again
                logger.exception("could not re-enqueue order.process", extra={"order_id": order.id})
                counts["failed"] += 1
        cursor = page.next_cursor
        if cursor is None:
            break
        if seen >= max_orders or time.monotonic() - started > time_budget:
            truncated = True
            break
    if counts["cancelled"]:
        from backend.services.orders import stock_changed

        stock_changed(invalidate)
    for name, key in (
        ("OrdersRequeued", "requeued"),
        ("OrdersCancelled", "cancelled"),
        ("OrdersSweepFailures", "failed"),
    ):
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=counts[key])
    result = {"task": "order-sweeper", "pending": seen, **counts, "truncated": truncated}
    logger.info("order sweeper", extra={"result": result})
    return result


def _cancel_stale(orders: OrdersRepository, order_id: str) -> str:
    """Cancel one stale PENDING order (stock restored); "skipped" if it moved meanwhile."""
    try:
        order = orders.get(order_id, consistent=True)
        if order.status is not OrderStatus.PENDING:
            return "skipped"
        orders.update_status(order, OrderStatus.CANCELLED, restock=True)
    except (ConcurrentModificationError, NotFoundError):
        return "skipped"  # processed, cancelled or deleted by someone else in the meantime
    except Exception:  # noqa: BLE001 - counted and logged; the next run tries again
        logger.exception("could not cancel a stale order", extra={"order_id": order_id})
        return "failed"
    logger.info("stale order cancelled", extra={"order_id": order_id})
    return "cancelled"


# ----------------------------------------------------------------------------- low-stock digest
def low_stock_digest(
    *,
    low_stock: Callable[[int], Sequence[ProductRecord]],
    admins: Callable[[], Sequence[UserRecord]],
    enqueue: Callable[..., Any] = enqueue_email,
    threshold: int,
    stage: str,
    today: date | None = None,
    fallback_to: str | None = None,
) -> dict[str, Any]:
    """Email every admin the active products with less than ``threshold`` in stock (one email per
    admin and day: its job id carries both, so a second run the same day sends nothing new).

    Without admins, the digest goes to ``fallback_to`` (the ops address) if there is one.
    """
    today = today or datetime.now(UTC).date()
    products = list(low_stock(threshold))
    metrics.add_metric(name="LowStockProducts", unit=MetricUnit.Count, value=len(products))
    result: dict[str, Any] = {"task": "low-stock-digest", "threshold": threshold, "products": len(products)}
    if not products:
        logger.info("low-stock digest", extra={"result": {**result, "emails": 0}})
        return {**result, "emails": 0, "jobIds": []}
    recipients = [(admin.id, admin.email) for admin in admins()]
    if not recipients and fallback_to:
        recipients = [("ops", fallback_to)]
    shown = products[:MAX_TEMPLATE_ROWS]
    data: dict[str, Any] = {
        "stage": stage,
        "count": len(products),
        "threshold": threshold,
        "date": today.isoformat(),
        "more": f"... and {len(products) - len(shown)} more." if len(products) > len(shown) else "",
        "products": [{"name": p.name, "productId": p.id, "stock": p.stock} for p in shown],
    }
    job_ids = []
    for recipient_id, address in recipients:
        job = enqueue(
            to=address,
            template="low-stock-digest",
            data=data,
            job_id=f"low-stock-{today:%Y%m%d}-{recipient_id}",
        )
        job_ids.append(job.job_id)
    metrics.add_metric(name="LowStockDigestEmails", unit=MetricUnit.Count, value=len(job_ids))
    result = {**result, "emails": len(job_ids), "jobIds": job_ids}
    logger.info("low-stock digest", extra={"result": result})
    return result
