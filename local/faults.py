"""Faults real DynamoDB has and the emulator hides: conflicts, throttling and index lag.

moto answers every request at once and consistently: no transaction is ever cancelled for a
conflict, nothing is throttled, and a global secondary index shows an item the moment it is
written. DynamoDB does all three (docs/local-cloud.md "Faults" has the behaviour and its sources).
This module puts them back, in front of the emulator, so the product meets them locally:

``conflict:P``
    a share P of the writes are refused as DynamoDB refuses a write that meets another
    transaction on one of its items: ``TransactWriteItems`` / ``TransactGetItems`` with
    ``TransactionCanceledException`` whose ``CancellationReasons`` name ``TransactionConflict`` for
    one item and ``None`` for the others; ``PutItem``, ``UpdateItem``, ``DeleteItem`` with
    ``TransactionConflictException``. Nothing of a refused request is applied.
``throttle:P``
    a share P of the data-plane requests (reads and writes) are refused with
    ``ProvisionedThroughputExceededException`` or ``ThrottlingException`` (half each), as a hot
    partition or an on-demand table past its limits answers. Nothing is applied.
``index-lag:D``
    an item written (put or updated) less than D ago (``500ms``, ``1s``) is left out of the
    answers of queries on a global secondary index, which DynamoDB updates asynchronously.
``seed:N``
    the random draws are repeatable.

The spec is ``LOCAL_FAULTS`` (``conflict:0.2,throttle:0.2,index-lag:1s``) or ``python -m local
--faults ...``; the running cloud's spec can be read and changed at ``/_local/faults``.

Only the functions' requests meet faults: those whose User-Agent carries ``exec-env/AWS_Lambda_``
(botocore adds it from ``AWS_EXECUTION_ENV``, which Lambda, and the local cloud, sets). The local
cloud's own requests (provisioning, seeding) and the tests' are served as before, so a test can
check what was written without meeting the faults it injects.
"""

from __future__ import annotations

import io
import json
import random
import re
import threading
import time
import uuid
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

FAULTS_ENV = "LOCAL_FAULTS"
LAMBDA_USER_AGENT = "exec-env/AWS_Lambda_"

_ERROR_PREFIX = "com.amazonaws.dynamodb.v20120810#"
_WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem"})
_TRANSACTIONS = frozenset({"TransactWriteItems", "TransactGetItems"})
_DATA_PLANE = frozenset(
    {
        "GetItem",
        "PutItem",
        "UpdateItem",
        "DeleteItem",
        "Query",
        "BatchGetItem",
        "BatchWriteItem",
        "TransactWriteItems",
        "TransactGetItems",
    }
)
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s)$")


class FaultSpecError(ValueError):
    """A fault spec that cannot be read; the message says which part and what is expected."""


@dataclass(frozen=True)
class FaultSpec:
    conflict: float = 0.0
    throttle: float = 0.0
    index_lag_ms: int = 0
    seed: int | None = None

    @classmethod
    def parse(cls, text: str | None) -> FaultSpec:
        """``conflict:0.2,throttle:0.1,index-lag:500ms,seed:7`` (any subset; empty: no faults)."""
        spec = cls()
        for raw in (text or "").split(","):
            part = raw.strip()
            if not part:
                continue
            name, sep, value = part.partition(":")
            name, value = name.strip().lower(), value.strip()
            if not sep or not value:
                raise FaultSpecError(f"{part!r}: expected name:value, e.g. conflict:0.2")
            if name in ("conflict", "throttle"):
                try:
                    share = float(value)
                except ValueError:
                    share = -1.0
                if not 0.0 <= share <= 1.0:
                    raise FaultSpecError(f"{part!r}: {name} is a share of requests between 0 and 1")
                spec = replace(spec, conflict=share) if name == "conflict" else replace(spec, throttle=share)
            elif name == "index-lag":
                match = _DURATION.match(value)
                if not match:
                    raise FaultSpecError(f"{part!r}: index-lag is a duration such as 500ms or 1s")
                amount = float(match.group(1)) * (1 if match.group(2) == "ms" else 1000)
                if amount > 60_000:
                    raise FaultSpecError(f"{part!r}: index-lag is at most 60s")
                spec = replace(spec, index_lag_ms=round(amount))
            elif name == "seed":
                if not value.isdigit():
                    raise FaultSpecError(f"{part!r}: seed is a whole number")
                spec = replace(spec, seed=int(value))
            else:
                raise FaultSpecError(
                    f"{part!r}: unknown fault {name!r} (conflict, throttle, index-lag, seed)"
                )
        return spec

    @property
    def active(self) -> bool:
        return bool(self.conflict or self.throttle or self.index_lag_ms)

    def __str__(self) -> str:
        parts = []
        if self.conflict:
            parts.append(f"conflict:{self.conflict:g}")
        if self.throttle:
            parts.append(f"throttle:{self.throttle:g}")
        if self.index_lag_ms:
            parts.append(f"index-lag:{self.index_lag_ms}ms")
        if self.seed is not None:
            parts.append(f"seed:{self.seed}")
        return ",".join(parts)

    def as_json(self) -> dict[str, Any]:
        return {
            "spec": str(self),
            "conflict": self.conflict,
            "throttle": self.throttle,
            "indexLagMs": self.index_lag_ms,
            "seed": self.seed,
        }


@dataclass(frozen=True)
class Injected:
    """A refusal to send instead of the emulator's answer."""

    code: str
    message: str
    extra: dict[str, Any] | None = None

    def body(self) -> bytes:
        return json.dumps(
            {"__type": _ERROR_PREFIX + self.code, "message": self.message, **(self.extra or {})}
        ).encode()


class Faults:
    """The current spec, its random draws, what was injected, and the writes an index has not
    caught up with. Thread-safe: the emulator serves requests on many threads."""

    #: How key attributes are found for a table (moto's backend in the local cloud).
    key_schema: Callable[[str], tuple[str, str | None]]

    def __init__(
        self, spec: FaultSpec | None = None, *, key_schema: Callable[[str], tuple[str, str | None]]
    ) -> None:
        self._lock = threading.Lock()
        self.key_schema = key_schema
        self._recent: dict[tuple[str, str, str], float] = {}
        self.counts: dict[str, int] = {}
        self.configure(spec or FaultSpec())

    @property
    def spec(self) -> FaultSpec:
        return self._spec

    def configure(self, spec: FaultSpec) -> None:
        """Use ``spec`` from now on (the counts of what was injected go on adding up)."""
        with self._lock:
            self._spec = spec
            self._random = random.Random(spec.seed)  # noqa: S311 - fault draws, not secrets

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {**self._spec.as_json(), "injected": dict(self.counts)}

    # ------------------------------------------------------------------ decisions
    def _draw(self, share: float) -> bool:
        return share > 0 and self._random.random() < share

    def decide(self, operation: str, request: dict[str, Any]) -> Injected | None:
        """The fault this request meets, if any (counted)."""
        spec = self._spec
        if operation not in _DATA_PLANE:
            return None
        with self._lock:
            injected: Injected | None = None
            if self._draw(spec.throttle):
                if self._random.random() < 0.5:
                    injected = Injected(
                        "ProvisionedThroughputExceededException",
                        "The level of configured provisioned throughput for the table was exceeded. "
                        "Consider increasing your provisioning level with the UpdateTable API.",
                    )
                else:
                    injected = Injected(
                        "ThrottlingException",
                        "Throughput exceeds the current capacity of your table or index.",
                    )
            elif operation in _WRITES and self._draw(spec.conflict):
                injected = Injected("TransactionConflictException", "Transaction is ongoing for the item")
            elif operation in _TRANSACTIONS and self._draw(spec.conflict):
                items = request.get("TransactItems") or []
                loser = self._random.randrange(len(items)) if items else 0
                reasons = [
                    {"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"}
                    if index == loser
                    else {"Code": "None"}
                    for index in range(max(len(items), 1))
                ]
                codes = ", ".join(reason["Code"] for reason in reasons)
                injected = Injected(
                    "TransactionCanceledException",
                    f"Transaction cancelled, please refer cancellation reasons for specific reasons [{codes}]",
                    {"CancellationReasons": reasons},
                )
            if injected is not None:
                self.counts[injected.code] = self.counts.get(injected.code, 0) + 1
            return injected

    # ------------------------------------------------------------------ index lag
    def _key(self, table: str, item: dict[str, Any]) -> tuple[str, str, str] | None:
        hash_name, range_name = self.key_schema(table)
        if hash_name not in item:
            return None
        sort = json.dumps(item.get(range_name), sort_keys=True) if range_name else ""
        return table, json.dumps(item[hash_name], sort_keys=True), sort

    def written(self, operation: str, request: dict[str, Any]) -> None:
        """Note the items a successful request put or updated (deletes are consistent already:
        a lagging index would show the item longer, never shorter)."""
        if not self._spec.index_lag_ms:
            return
        writes: list[tuple[str, dict[str, Any]]] = []
        if operation == "PutItem":
            writes.append((request.get("TableName", ""), request.get("Item") or {}))
        elif operation == "UpdateItem":
            writes.append((request.get("TableName", ""), request.get("Key") or {}))
        elif operation == "TransactWriteItems":
            for entry in request.get("TransactItems") or []:
                if "Put" in entry:
                    writes.append((entry["Put"].get("TableName", ""), entry["Put"].get("Item") or {}))
                elif "Update" in entry:
                    writes.append((entry["Update"].get("TableName", ""), entry["Update"].get("Key") or {}))
        elif operation == "BatchWriteItem":
            for table, entries in (request.get("RequestItems") or {}).items():
                for entry in entries:
                    if "PutRequest" in entry:
                        writes.append((table, entry["PutRequest"].get("Item") or {}))
        now = time.monotonic()
        with self._lock:
            for table, item in writes:
                key = self._key(table, item)
                if key is not None:
                    self._recent[key] = now

    def lagging(self, request: dict[str, Any], answer: dict[str, Any]) -> dict[str, Any] | None:
        """A Query on a global secondary index without the items written too recently (None: the
        answer stands as it is)."""
        lag = self._spec.index_lag_ms
        if not lag or not request.get("IndexName") or "Items" not in answer:
            return None
        table = request.get("TableName", "")
        horizon = time.monotonic() - lag / 1000
        with self._lock:
            for key in [k for k, at in self._recent.items() if at < horizon]:
                del self._recent[key]
            recent = dict(self._recent)
        if not recent:
            return None
        kept = [item for item in answer["Items"] if self._key(table, item) not in recent]
        if len(kept) == len(answer["Items"]):
            return None
        with self._lock:
            self.counts["IndexLag"] = self.counts.get("IndexLag", 0) + len(answer["Items"]) - len(kept)
        return {**answer, "Items": kept, "Count": len(kept)}


def moto_key_schema(account_id: str = "123456789012") -> Callable[[str], tuple[str, str | None]]:
    """Key attribute names of a table, read from moto's backend in this process."""
    cache: dict[str, tuple[str, str | None]] = {}

    def key_schema(table: str) -> tuple[str, str | None]:
        if table not in cache:
            from moto.dynamodb.models import dynamodb_backends

            for backend in dynamodb_backends[account_id].values():
                found = backend.tables.get(table)
                if found is not None:
                    cache[table] = (found.hash_key_attr, found.range_key_attr)
                    break
            else:
                return ("PK", "SK")
        return cache[table]

    return key_schema


class FaultyDynamoDB:
    """WSGI wrapper in front of the emulator: DynamoDB requests from functions meet ``faults``."""

    def __init__(self, app: Callable[..., Iterable[bytes]], faults: Faults) -> None:
        self.app = app
        self.faults = faults

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        target = str(environ.get("HTTP_X_AMZ_TARGET", ""))
        if (
            not self.faults.spec.active
            or not target.startswith("DynamoDB_")
            or LAMBDA_USER_AGENT not in str(environ.get("HTTP_USER_AGENT", ""))
        ):
            return self.app(environ, start_response)
        operation = target.split(".", 1)[-1]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        try:
            request: dict[str, Any] = json.loads(body or b"{}")
        except ValueError:
            return self.app(environ, start_response)
        injected = self.faults.decide(operation, request)
        if injected is not None:
            payload = injected.body()
            start_response(
                "400 Bad Request",
                [
                    ("Content-Type", "application/x-amz-json-1.0"),
                    ("Content-Length", str(len(payload))),
                    ("x-amzn-RequestId", uuid.uuid4().hex),
                    ("x-amz-crc32", str(zlib.crc32(payload))),
                ],
            )
            return [payload]
        captured: dict[str, Any] = {}

        def capture(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Callable[[bytes], Any]:
            captured["status"], captured["headers"] = status, headers
            return lambda _data: None

        chunks = b"".join(self.app(environ, capture))
        status, headers = captured["status"], list(captured["headers"])
        if status.startswith("200"):
            self.faults.written(operation, request)
            if operation == "Query":
                try:
                    filtered = self.faults.lagging(request, json.loads(chunks))
                except ValueError:
                    filtered = None
                if filtered is not None:
                    chunks = json.dumps(filtered).encode()
                    headers = [
                        (name, value)
                        for name, value in headers
                        if name.lower() not in ("content-length", "x-amz-crc32")
                    ]
                    headers += [
                        ("Content-Length", str(len(chunks))),
                        ("x-amz-crc32", str(zlib.crc32(chunks))),
                    ]
        start_response(status, headers)
        return [chunks]


@contextmanager
def in_process(faults: Faults) -> Iterator[Faults]:
    """The same faults for clients in this process (moto in-process, the unit tests): every botocore
    DynamoDB call of any client meets them while the block runs. Refusals are raised where botocore
    would raise them, but before its retry handler (which, in the local cloud, retries throttling
    as on AWS): here a throttled call fails at once, as if its retries were spent."""
    from botocore.client import BaseClient
    from botocore.exceptions import ClientError

    original = BaseClient._make_api_call  # type: ignore[attr-defined] # private in the stubs

    def _make_api_call(self: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
        if self.meta.service_model.service_name != "dynamodb" or not faults.spec.active:
            return original(self, operation_name, api_params)
        injected = faults.decide(operation_name, api_params)
        if injected is not None:
            response: dict[str, Any] = {
                "Error": {"Code": injected.code, "Message": injected.message},
                "ResponseMetadata": {"HTTPStatusCode": 400, "HTTPHeaders": {}},
                **(injected.extra or {}),
            }
            raise ClientError(response, operation_name)  # type: ignore[arg-type]
        answer = original(self, operation_name, api_params)
        faults.written(operation_name, api_params)
        if operation_name == "Query":
            return faults.lagging(api_params, answer) or answer
        return answer

    BaseClient._make_api_call = _make_api_call  # type: ignore[attr-defined]
    try:
        yield faults
    finally:
        BaseClient._make_api_call = original  # type: ignore[attr-defined]
