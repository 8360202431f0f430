"""DynamoDB request accounting for tests: count requests by operation, guard against Scans.

Every botocore API call goes through ``BaseClient._make_api_call`` (boto3 clients and resources,
PynamoDB, Powertools alike). :func:`install` wraps it once per process and forwards each call to the
active listeners, so nested counters, the suite-wide Scan guard and threads all see every request.

    with count_requests() as log:
        repo.get(user_id)
    assert log.operations() == ["GetItem"]

It also offers :func:`serializable_moto`: moto's DynamoDB backend runs requests from different
threads without isolation (a transaction's rollback can even undo another thread's commit), while
DynamoDB serializes conflicting writes. Concurrency tests wrap their threads in it.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from botocore.client import BaseClient

#: DynamoDB operations that read a whole table or index (PartiQL statements can scan as well).
SCAN_OPERATIONS = frozenset({"Scan", "ExecuteStatement", "BatchExecuteStatement", "ExecuteTransaction"})


@dataclass(frozen=True, slots=True)
class ApiCall:
    service: str
    operation: str
    table: str | None
    index: str | None
    thread: str
    size: int | None = None  # operations in a TransactWriteItems, keys in a BatchGetItem

    def __str__(self) -> str:
        where = f"{self.table}/{self.index}" if self.index else (self.table or "-")
        return f"{self.service}.{self.operation}({where})"


type Listener = Callable[[ApiCall], None]

_listeners: list[Listener] = []
_listeners_lock = threading.Lock()
_original: Callable[..., Any] | None = None


def _table_of(params: Mapping[str, Any]) -> str | None:
    if "TableName" in params:
        return str(params["TableName"])
    if "RequestItems" in params:
        return ",".join(sorted(params["RequestItems"]))
    if "TransactItems" in params:
        names = {next(iter(item.values())).get("TableName") for item in params["TransactItems"]}
        return ",".join(sorted(n for n in names if n))
    return None


def _size_of(params: Mapping[str, Any]) -> int | None:
    if "TransactItems" in params:
        return len(params["TransactItems"])
    if "RequestItems" in params:  # BatchGetItem: {table: {"Keys": [...]}}; BatchWriteItem: {table: [...]}
        requests = params["RequestItems"].values()
        return sum(len(r["Keys"]) if isinstance(r, dict) else len(r) for r in requests)
    return None


def install() -> None:
    """Wrap ``BaseClient._make_api_call`` (idempotent)."""
    global _original  # noqa: PLW0603 - one process-wide hook
    if _original is not None:
        return
    original = BaseClient._make_api_call  # type: ignore[attr-defined] # private in the stubs
    _original = original

    def _make_api_call(self: BaseClient, operation_name: str, api_params: dict[str, Any]) -> Any:
        call = ApiCall(
            service=self.meta.service_model.service_name,
            operation=operation_name,
            table=_table_of(api_params),
            index=api_params.get("IndexName"),
            thread=threading.current_thread().name,
            size=_size_of(api_params),
        )
        with _listeners_lock:
            listeners = list(_listeners)
        for listener in listeners:
            listener(call)
        return original(self, operation_name, api_params)

    BaseClient._make_api_call = _make_api_call  # type: ignore[attr-defined]


def add_listener(listener: Listener) -> None:
    install()
    with _listeners_lock:
        _listeners.append(listener)


def remove_listener(listener: Listener) -> None:
    with _listeners_lock:
        if listener in _listeners:
            _listeners.remove(listener)


class RequestLog:
    """The DynamoDB requests made while a :func:`count_requests` block ran."""

    def __init__(self) -> None:
        self.calls: list[ApiCall] = []
        self._lock = threading.Lock()

    def record(self, call: ApiCall) -> None:
        if call.service == "dynamodb":
            with self._lock:
                self.calls.append(call)

    @property
    def total(self) -> int:
        return len(self.calls)

    def operations(self) -> list[str]:
        """Operation names in call order, e.g. ``["Query", "GetItem"]``."""
        return [call.operation for call in self.calls]

    def by_operation(self) -> dict[str, int]:
        return dict(Counter(self.operations()))

    def count(self, operation: str) -> int:
        return sum(1 for call in self.calls if call.operation == operation)

    def sizes(self) -> list[int | None]:
        """Operations per TransactWriteItems / keys or items per batch request (None otherwise)."""
        return [call.size for call in self.calls]

    def indexes(self) -> list[str | None]:
        """The index of each call (None: the table itself)."""
        return [call.index for call in self.calls]

    def __repr__(self) -> str:
        return "RequestLog([" + ", ".join(str(c) for c in self.calls) + "])"


@contextmanager
def count_requests() -> Iterator[RequestLog]:
    """Record every DynamoDB request made inside the block (any thread)."""
    log = RequestLog()
    add_listener(log.record)
    try:
        yield log
    finally:
        remove_listener(log.record)


@contextmanager
def serializable_moto() -> Iterator[None]:
    """Make moto's DynamoDB handle one request at a time, as DynamoDB isolates transactions."""
    from moto.dynamodb.responses import DynamoHandler

    lock = threading.RLock()
    original = DynamoHandler.call_action

    def call_action(self: DynamoHandler) -> Any:
        with lock:
            return original(self)

    DynamoHandler.call_action = call_action  # type: ignore[method-assign]
    try:
        yield
    finally:
        DynamoHandler.call_action = original  # type: ignore[method-assign]


def run_concurrently[T](functions: list[Callable[[], T]]) -> list[T | BaseException]:
    """Start every function at the same moment (a barrier), each in its own thread; results in order."""
    barrier = threading.Barrier(len(functions))
    results: list[T | BaseException] = [RuntimeError("did not run")] * len(functions)

    def run(index: int, function: Callable[[], T]) -> None:
        barrier.wait()
        try:
            results[index] = function()
        except BaseException as exc:  # noqa: BLE001 - handed back to the test to inspect
            results[index] = exc

    threads = [
        threading.Thread(target=run, args=(i, f), name=f"concurrent-{i}") for i, f in enumerate(functions)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results
