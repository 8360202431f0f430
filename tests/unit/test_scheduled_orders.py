"""The order sweeper and the low-stock digest through the scheduled handler (moto in-process)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from backend.models.enums import OrderStatus, Role
from backend.records.catalog import ProductRecord
from backend.records.orders import OrderLine, OrderRecord
from backend.services import housekeeping, queues
from tests.support.apigw import FakeContext
from tests.support.ddb import count_requests, run_concurrently, serializable_moto
from tests.support.identity import Api
from tests.unit.api.conftest import drain


@pytest.fixture
def scheduled(api: Api, monkeypatch: pytest.MonkeyPatch, fresh_process: Callable[[], None]) -> Any:
    monkeypatch.setenv("OPS_EMAIL", "ops@example.com")
    fresh_process()
    from backend.jobs.scheduled import create_scheduled_handler
    from backend.observability import metrics

    metrics.clear_metrics()  # nothing left over from service calls outside a handler

    return create_scheduled_handler()


def product(api: Api, *, stock: int = 10, name: str = "Mug", active: bool = True) -> ProductRecord:
    return api.container.products.create(name=name, price=Decimal("5.00"), stock=stock, active=active)


def order(api: Api, item: ProductRecord, quantity: int = 1) -> OrderRecord:
    line = OrderLine(product_id=item.id, product_name=item.name, quantity=quantity, unit_price=item.price)
    return api.container.orders.create(api.account().id, [line])


def sweep(api: Api, **kwargs: Any) -> dict[str, Any]:
    return housekeeping.sweep_pending_orders(
        api.container.orders, enqueue_job=queues.enqueue_order_job, **kwargs
    )


class TestSweeper:
    def test_requeues_stale_pending_orders_and_cancels_abandoned_ones(self, api: Api, scheduled: Any) -> None:
        item = product(api, stock=10)
        abandoned = order(api, item, 3)
        time.sleep(0.05)
        stale = order(api, item, 2)
        time.sleep(0.05)
        order(api, item, 1)  # fresh: younger than the re-enqueue age
        api.container.orders.update_status(order(api, item), OrderStatus.PROCESSING)  # not PENDING: ignored
        now = stale.created_at + timedelta(seconds=100)
        with count_requests() as log:
            result = sweep(
                api,
                now=now,
                requeue_after_seconds=100 - 0.025,  # between stale and fresh
                cancel_after_seconds=100 + 0.025,  # between abandoned and stale
            )
        assert result == {
            "task": "order-sweeper",
            "pending": 2,
            "requeued": 1,
            "cancelled": 1,
            "skipped": 0,
            "failed": 0,
            "truncated": False,
        }
        # the status index (4 shards) and its counter; then the one cancellation
        assert log.operations()[:5] == ["Query"] * 4 + ["BatchGetItem"]
        assert set(log.indexes()[:4]) == {"GSI2"}
        assert "Scan" not in log.operations()
        assert drain("ORDER_QUEUE_URL") == [
            {"type": "order.process", "jobId": f"order-process-{stale.id}", "orderId": stale.id}
        ]
        assert api.container.orders.get(abandoned.id).status is OrderStatus.CANCELLED
        assert api.container.orders.get(stale.id).status is OrderStatus.PENDING
        assert api.container.products.get(item.id).stock == 10 - 2 - 1 - 1  # the 3 came back

    def test_runs_from_the_schedule_with_a_one_off_override_and_reports_metrics(
        self, api: Api, scheduled: Any, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
    ) -> None:
        pending = order(api, product(api))
        result = scheduled({"task": "order-sweeper", "requeueAfterSeconds": 0}, FakeContext())
        assert (result["requeued"], result["cancelled"]) == (1, 0)
        assert [job["orderId"] for job in drain("ORDER_QUEUE_URL")] == [pending.id]
        assert scheduled({"task": "order-sweeper"}, FakeContext())["requeued"] == 0  # default age: 10 min
        reports = [r for r in caplog.records if r.getMessage() == "order sweeper"]
        assert [r.result["requeued"] for r in reports] == [1, 0]  # type: ignore[attr-defined]
        emitted = [json.loads(text) for text in capsys.readouterr().out.splitlines() if text.startswith("{")]
        emf = [entry for entry in emitted if "_aws" in entry and "OrdersRequeued" in entry]
        assert [entry["OrdersRequeued"] for entry in emf] == [[1.0], [0.0]]
        assert all("OrdersCancelled" in entry for entry in emf)

    def test_the_scheduled_function_cancels_an_abandoned_order_and_restocks(
        self, api: Api, scheduled: Any, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # Through the handler, as EventBridge runs it: the IAM contract (tests/contract) sees the
        # cancellation's writes as the scheduled function's. Two days on, past the default 24 h.
        import functools

        item = product(api, stock=4)
        abandoned = order(api, item, 3)
        later = abandoned.created_at + timedelta(days=2)
        monkeypatch.setattr(
            housekeeping,
            "sweep_pending_orders",
            functools.partial(housekeeping.sweep_pending_orders, now=later),
        )
        from backend.repositories.cache_stamps import CacheStampsRepository

        stamps_before = CacheStampsRepository().read()
        result = scheduled({"task": "order-sweeper"}, FakeContext())
        assert (result["cancelled"], result["failed"]) == (1, 0)
        assert api.container.orders.get(abandoned.id).status is OrderStatus.CANCELLED
        assert api.container.products.get(item.id).stock == 4
        # the restored stock is shown at once: the product views' stamp (what every reader's
        # cache checks, docs/caching.md) moved; the other views' did not
        stamps_after = CacheStampsRepository().read()
        assert stamps_after.get("products", 0) > stamps_before.get("products", 0)
        assert {k: v for k, v in stamps_after.items() if k != "products"} == {
            k: v for k, v in stamps_before.items() if k != "products"
        }

    def test_cancellations_invalidate_the_product_views_once_and_requeues_do_not(
        self, api: Api, scheduled: Any
    ) -> None:
        item = product(api, stock=10)
        abandoned = [order(api, item, 1), order(api, item, 2)]
        later = abandoned[-1].created_at + timedelta(days=2)
        invalidated: list[tuple[str, ...]] = []

        def run() -> dict[str, Any]:
            return sweep(
                api,
                now=later,
                requeue_after_seconds=600,
                cancel_after_seconds=86_400,
                invalidate=lambda *namespaces: invalidated.append(namespaces),
            )

        assert run()["cancelled"] == 2
        assert invalidated == [("products",)]
        fresh = order(api, item, 1)
        result = sweep(
            api,
            now=fresh.created_at + timedelta(hours=1),
            requeue_after_seconds=600,
            cancel_after_seconds=86_400,
            invalidate=lambda *namespaces: invalidated.append(namespaces),
        )
        assert (result["requeued"], result["cancelled"]) == (1, 0)
        assert invalidated == [("products",)]  # nothing restocked: nothing invalidated

    def test_a_failing_invalidation_never_fails_the_sweep(self, api: Api, scheduled: Any) -> None:
        item = product(api, stock=3)
        abandoned = order(api, item, 3)

        def broken(*_namespaces: str) -> None:
            raise ConnectionError("cache down")

        result = sweep(
            api,
            now=abandoned.created_at + timedelta(days=2),
            requeue_after_seconds=600,
            cancel_after_seconds=86_400,
            invalidate=broken,
        )
        assert (result["cancelled"], result["failed"]) == (1, 0)
        assert api.container.products.get(item.id).stock == 3

    def test_two_sweeps_at_once_cancel_once_and_restock_once(self, api: Api, scheduled: Any) -> None:
        item = product(api, stock=5)
        abandoned = [order(api, item, 2), order(api, item, 1)]
        later = abandoned[-1].created_at + timedelta(days=2)

        def run() -> dict[str, Any]:
            asyncio.set_event_loop(asyncio.new_event_loop())
            return sweep(api, now=later, requeue_after_seconds=600, cancel_after_seconds=86_400)

        with serializable_moto():
            first, second = run_concurrently([run, run])
        assert isinstance(first, dict), first
        assert isinstance(second, dict), second
        assert first["cancelled"] + second["cancelled"] == 2
        assert first["failed"] == second["failed"] == 0
        assert api.container.products.get(item.id).stock == 5
        assert all(api.container.orders.get(o.id).status is OrderStatus.CANCELLED for o in abandoned)


class TestLowStockDigest:
    def test_admins_get_one_digest_a_day(self, api: Api, scheduled: Any) -> None:
        admins = [api.account(Role.ADMIN), api.account(Role.ADMIN)]
        api.account()  # not an admin
        low = product(api, stock=2, name="<b>Tea</b>")
        product(api, stock=50)
        product(api, stock=0, active=False)
        result = scheduled({"task": "low-stock-digest"}, FakeContext())
        assert (result["products"], result["emails"], result["threshold"]) == (1, 2, 5)
        jobs = drain("EMAIL_QUEUE_URL")
        assert sorted(job["to"] for job in jobs) == sorted(a.user.email for a in admins)
        assert {job["template"] for job in jobs} == {"low-stock-digest"}
        assert jobs[0]["data"]["products"] == [{"name": "<b>Tea</b>", "productId": low.id, "stock": 2}]
        again = scheduled({"task": "low-stock-digest"}, FakeContext())
        assert again["jobIds"] == result["jobIds"]  # same day, same job ids: the worker sends once
        assert all(job_id.startswith("low-stock-") for job_id in result["jobIds"])

    def test_nothing_low_sends_nothing_and_no_admin_falls_back_to_ops(self, api: Api, scheduled: Any) -> None:
        product(api, stock=50)
        assert scheduled({"task": "low-stock-digest"}, FakeContext())["emails"] == 0
        assert drain("EMAIL_QUEUE_URL") == []
        product(api, stock=1)
        assert scheduled({"task": "low-stock-digest", "threshold": 2}, FakeContext())["emails"] == 1
        [job] = drain("EMAIL_QUEUE_URL")
        assert job["to"] == "ops@example.com"

    def test_the_digest_lists_at_most_a_hundred_products(self) -> None:
        many = [
            ProductRecord(
                id=f"P{i:03d}",
                name=f"P{i}",
                description=None,
                price=Decimal(1),
                stock=0,
                active=True,
                category_id=None,
                created_at=None,  # type: ignore[arg-type]
                updated_at=None,  # type: ignore[arg-type]
                version=1,
            )
            for i in range(120)
        ]
        sent: list[dict[str, Any]] = []

        def enqueue(**job: Any) -> Any:
            sent.append(job)
            return type("Job", (), {"job_id": job["job_id"]})

        housekeeping.low_stock_digest(
            low_stock=lambda _: many,
            admins=lambda: [],
            enqueue=enqueue,
            threshold=1,
            stage="dev",
            fallback_to="o@x.io",
        )
        [job] = sent
        assert len(job["data"]["products"]) == 100
        assert job["data"]["more"] == "... and 20 more."
        assert job["data"]["count"] == 120


def test_unknown_tasks_and_overrides_are_refused(scheduled: Any) -> None:
    from backend.errors import ValidationError

    for event in (
        {"task": "nope"},
        {"task": "order-sweeper", "requeueAfterSeconds": -1},
        {"task": "x", "y": 1},
    ):
        with pytest.raises(ValidationError):
            scheduled(event, FakeContext())
