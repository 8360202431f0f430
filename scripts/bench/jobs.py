"""The worker's jobs for `make bench`: SQS events as Lambda delivers them, and the orders they process.

The worker (functions/worker) is measured like the API functions (cli.py ``Bench._worker``): the
same child processes, the same emulator, its environment from template.yaml. Its sample jobs are
built here rather than read from events/worker/, because a job is done once per job id (the email
send and ``order.process`` are idempotent): every measured invocation needs jobs of its own, and an
``order.process`` needs a PENDING order of its own, which ``seed_orders`` places through the
repositories (the same transaction as the API's) in a child process, as local/seed_catalog.py does.

    python -m scripts.bench.jobs --orders 300      # in the child: prints {"orders": [...ids]}
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from scripts.bench.contenders import AwsCall
from scripts.bench.stack import ROOT

#: The job kinds measured: (label, job type, the queue it arrives from).
EMAIL = "email.send"
ORDER_PROCESS = "order.process"
ORDER_CONFIRMATION = "order.send-confirmation"
QUEUE_OF = {EMAIL: "email", ORDER_PROCESS: "order", ORDER_CONFIRMATION: "order"}
BATCH = 10  # the event source mappings' BatchSize (template.yaml)


@dataclass(frozen=True)
class JobKind:
    job_type: str
    what: str


KINDS = (
    JobKind(EMAIL, "a welcome email: render + SES SendEmail, once per job id"),
    JobKind(
        ORDER_PROCESS, "PENDING -> PROCESSING (consistent read, status transaction), enqueue its confirmation"
    ),
    JobKind(ORDER_CONFIRMATION, "the order and its owner read, the confirmation email sent"),
)


def job_body(job_type: str, key: str) -> dict[str, Any]:
    """One job's message body; ``key`` is unique per job (an order id for the order jobs)."""
    if job_type == EMAIL:
        return {
            "type": EMAIL,
            "jobId": f"bench-welcome-{key}",
            "to": "ada@example.com",
            "template": "welcome",
            "data": {"name": "Ada"},
        }
    if job_type == ORDER_PROCESS:
        return {"type": ORDER_PROCESS, "jobId": f"order-process-{key}", "orderId": key}
    if job_type == ORDER_CONFIRMATION:
        return {"type": ORDER_CONFIRMATION, "jobId": f"order-confirmation-{key}", "orderId": key}
    raise ValueError(f"unknown job type {job_type}")


def sqs_event(bodies: Sequence[dict[str, Any]], queue_arn: str, *, first_id: int = 0) -> dict[str, Any]:
    """An SQS event as the event source mapping delivers it to the worker (one record per body)."""
    records = []
    for index, body in enumerate(bodies, start=first_id):
        message_id = f"6f1c1d5e-0000-4000-8000-{index:012d}"
        records.append(
            {
                "messageId": message_id,
                "receiptHandle": f"{message_id}-handle",
                "body": json.dumps(body),
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": "1795600000000",
                    "SenderId": "AIDAEXAMPLE",
                    "ApproximateFirstReceiveTimestamp": "1795600000001",
                },
                "messageAttributes": {
                    "type": {
                        "stringValue": body["type"],
                        "dataType": "String",
                        "stringListValues": [],
                        "binaryListValues": [],
                    }
                },
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": queue_arn.split(":")[3],
            }
        )
    return {"Records": records}


class JobSource:
    """Fresh jobs of one kind: each call hands out keys never used before in this run."""

    def __init__(self, job_type: str, queue_arn: str, keys: Sequence[str] | None = None) -> None:
        self.job_type = job_type
        self.queue_arn = queue_arn
        self._keys = list(keys) if keys is not None else None
        self._next = 0

    def _key(self) -> str:
        index = self._next
        self._next += 1
        if self._keys is None:
            return f"{index:06d}"
        if index >= len(self._keys):
            raise RuntimeError(f"{self.job_type}: out of seeded orders ({len(self._keys)})")
        return self._keys[index]

    def event(self, records: int = 1) -> dict[str, Any]:
        first = self._next
        return sqs_event(
            [job_body(self.job_type, self._key()) for _ in range(records)], self.queue_arn, first_id=first
        )

    def used(self) -> int:
        return self._next


def orders_needed(rounds: int, singles: int, batches: int) -> int:
    """Orders one kind of order job consumes in a run: the recording (a cold job, a warm one, a batch),
    the cold rounds (+1 untimed), the session's first event, the timed singles and batches."""
    return 2 + BATCH + (rounds + 1) + 1 + singles + batches * BATCH


@dataclass(frozen=True)
class Seeded:
    orders: list[str]
    #: The AWS requests of placing the first order (OrdersRepository.create, 2 lines): the
    #: transaction POST /api/orders commits, whose sample event (an unknown product) never reaches it.
    place_calls: list[AwsCall]


def seed_orders(environment: Mapping[str, str], count: int, *, timeout: float = 300) -> Seeded:
    """Place ``count`` PENDING orders (one user, two products with the stock for all) in the emulator
    the environment points at, through the repositories; their ids, and the requests of the first."""
    env = dict(environment)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "layers" / "shared"), str(ROOT)])
    done = subprocess.run(
        [sys.executable, "-m", "scripts.bench.jobs", "--orders", str(count)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"seeding the orders failed:\n{done.stderr.strip()[-3000:]}")
    reply = json.loads(done.stdout.strip().splitlines()[-1])
    return Seeded(list(reply["orders"]), [AwsCall.of(call) for call in reply["place_calls"]])


def _encoded(value: Any) -> Any:
    """JSON for recorded parameters, as child.py writes them (bytes marked)."""
    if isinstance(value, dict):
        return {str(k): _encoded(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_encoded(v) for v in value]
    if isinstance(value, bytes):
        return {"__bytes__": base64.b64encode(value).decode("ascii")}
    return value


def _seed(count: int) -> tuple[list[str], list[dict[str, Any]]]:  # pragma: no cover - the child process
    from botocore.client import BaseClient

    from backend.models.enums import Role
    from backend.records.orders import OrderLine
    from backend.wiring import get_container

    container = get_container()
    user = container.users.create(
        email="bench-orders@example.com",
        password_hash="!",  # noqa: S106 - no password: nobody signs in as it
        name="Bench Orders",
        role=Role.USER,
    )
    mug = container.products.create(name="Bench mug", price=Decimal("12.50"), stock=count * 2 + 10)
    tea = container.products.create(name="Bench tea", price=Decimal("3.99"), stock=count * 3 + 10)
    lines = [
        OrderLine(product_id=mug.id, product_name=mug.name, quantity=2, unit_price=mug.price),
        OrderLine(product_id=tea.id, product_name=tea.name, quantity=3, unit_price=tea.price),
    ]
    calls: list[dict[str, Any]] = []
    original = getattr(BaseClient, "_make_api_call")  # noqa: B009 - private, untyped

    def make_api_call(self: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
        calls.append(
            {
                "service": self.meta.service_model.service_name,
                "operation": operation_name,
                "params": api_params,
            }
        )
        return original(self, operation_name, api_params)

    setattr(BaseClient, "_make_api_call", make_api_call)  # noqa: B010
    first = container.orders.create(user.id, lines).id
    setattr(BaseClient, "_make_api_call", original)  # noqa: B010
    return [first, *(container.orders.create(user.id, lines).id for _ in range(count - 1))], _encoded(calls)


def main() -> int:  # pragma: no cover - the child process
    parser = argparse.ArgumentParser(prog="python -m scripts.bench.jobs")
    parser.add_argument("--orders", type=int, required=True)
    args = parser.parse_args()
    orders, calls = _seed(args.orders)
    print(json.dumps({"orders": orders, "place_calls": calls}))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
