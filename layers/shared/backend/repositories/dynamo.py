"""Low-level table access shared by the repositories: GetItem, Query pages, BatchGetItem, errors.

Repositories go through these helpers so that every read is one of the three allowed operations
(there is deliberately no scan helper) and every PynamoDB/botocore failure becomes a typed error.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Final

from botocore.exceptions import BotoCoreError, ClientError
from pynamodb.connection.table import TableConnection
from pynamodb.exceptions import PynamoDBException
from pynamodb.expressions.condition import Condition

from backend.errors import BusyError, UnavailableError
from backend.models.base import TableItem

type RawItem = dict[str, dict[str, Any]]
type Key = tuple[str, str]

#: Error codes that mean "DynamoDB is overloaded or unreachable right now": retryable, 503.
_UNAVAILABLE_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
        "ResourceNotFoundException",  # the table is missing: a deployment problem, not the caller's
    }
)


def connection() -> TableConnection:
    """The shared table connection (created on first use; one botocore client per process)."""
    return TableItem._get_connection()


def error_code(exc: BaseException) -> str | None:
    """The DynamoDB error code behind a PynamoDB or botocore exception, if any."""
    if isinstance(exc, PynamoDBException):
        return exc.cause_response_code
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code") or "") or None
    return None


#: A single write that meets an ongoing transaction on its item is refused with this (the write is
#: not applied; botocore does not retry it: :func:`retrying` does).
TRANSACTION_CONFLICT: Final = "TransactionConflictException"
#: How many times a write refused for a conflict is sent in all, and the cap of the jittered wait
#: before each new attempt ("full jitter": a random wait up to 20 ms, 40 ms, 80 ms...).
CONFLICT_ATTEMPTS: Final = 5
_CONFLICT_BASE_SECONDS: Final = 0.02
_CONFLICT_MAX_SECONDS: Final = 0.25


@contextmanager
def translated_errors() -> Iterator[None]:
    """Turn throttling and connectivity failures into UnavailableError, and a transaction conflict
    into BusyError (which :func:`retrying` retries); let everything else through."""
    try:
        yield
    except (PynamoDBException, ClientError) as exc:
        cause = exc.cause if isinstance(exc, PynamoDBException) else exc.__cause__
        if error_code(exc) == TRANSACTION_CONFLICT:
            raise BusyError() from exc
        if error_code(exc) in _UNAVAILABLE_CODES or isinstance(cause, BotoCoreError):
            raise UnavailableError("The database is temporarily unavailable") from exc
        raise
    except BotoCoreError as exc:  # connection errors, timeouts
        raise UnavailableError("The database is temporarily unavailable") from exc


def conflict_backoff(attempt: int) -> float:
    """The wait before attempt ``attempt + 1`` of a write refused for a conflict (full jitter)."""
    cap = min(_CONFLICT_MAX_SECONDS, _CONFLICT_BASE_SECONDS * 2**attempt)
    return random.uniform(0, cap)  # noqa: S311 - backoff jitter, not a secret


def retrying[T](write: Callable[[], T], *, attempts: int = CONFLICT_ATTEMPTS) -> T:
    """Send ``write`` (one whole request, conditions included) again while DynamoDB refuses it
    for a conflict (BusyError: nothing was applied), waiting a jittered moment between attempts;
    past ``attempts`` the BusyError goes up (a 503 with Retry-After). Only for writes whose
    conditions make a resend as safe as the first send: every repository write is one."""
    for attempt in range(attempts):
        try:
            return write()
        except BusyError:
            if attempt == attempts - 1:
                raise
            time.sleep(conflict_backoff(attempt))
    raise AssertionError("unreachable")  # pragma: no cover


def for_write[M: TableItem](model: M, version: int, *, new: bool) -> M:
    """A model built from a record, made ready to write: its version (for the optimistic-locking
    condition) unless it is new, and its keys derived from its data."""
    if not new:  # a new item has no version: PynamoDB conditions its Put on attribute_not_exists
        model.version = version  # type: ignore[attr-defined]  # each entity model declares VersionAttribute
    model.sync_keys()
    return model


def get_item[M: TableItem](model: type[M], pk: str, sk: str, *, consistent: bool = False) -> M | None:
    """GetItem: the item of that type at (pk, sk), or None."""
    with translated_errors():
        data = connection().get_item(pk, range_key=sk, consistent_read=consistent)
    raw = data.get("Item") if data else None
    if not raw:
        return None
    item = TableItem.from_raw_data(raw)
    return item if isinstance(item, model) else None


def batch_get(keys: Sequence[Key], *, consistent: bool = False) -> dict[Key, TableItem]:
    """BatchGetItem (100 keys per request, unprocessed keys retried): found items by key."""
    unique = list(dict.fromkeys(keys))
    if not unique:
        return {}
    with translated_errors():
        items = list(TableItem.batch_get(unique, consistent_read=consistent or None))
    return {(item.pk, item.sk): item for item in items}


def items_of_entries(raw_items: Sequence[RawItem]) -> list[TableItem]:
    """The items a keys-only index's entries point to, in one BatchGetItem, in the entries' order
    (an item deleted since the index saw it is left out)."""
    wanted = [(string_of(raw, "PK"), string_of(raw, "SK")) for raw in raw_items]
    found = batch_get(wanted)
    return [item for key in wanted if (item := found.get(key)) is not None]


@dataclass(frozen=True, slots=True)
class QuerySpec:
    """One Query: a partition of the table or of an index, optionally narrowed and filtered."""

    partition: str
    index: str | None = None
    range_condition: Condition | None = None
    filter: Condition | None = None
    forward: bool = True
    consistent: bool = False

    @property
    def sort_key_attribute(self) -> str:
        return TableItem.INDEX_KEYS[self.index][1]

    @property
    def key_attributes(self) -> tuple[str, ...]:
        """The attributes that make up an ExclusiveStartKey for this query."""
        table_keys = TableItem.INDEX_KEYS[None]
        if self.index is None:
            return table_keys
        return table_keys + TableItem.INDEX_KEYS[self.index]


def query_page(
    spec: QuerySpec,
    *,
    limit: int | None,
    start_key: RawItem | None = None,
    attributes: Sequence[str] | None = None,
) -> tuple[list[RawItem], RawItem | None]:
    """One Query request: raw items and the LastEvaluatedKey (None at the end of the partition)."""
    with translated_errors():
        data = connection().query(
            spec.partition,
            range_key_condition=spec.range_condition,
            filter_condition=spec.filter,
            attributes_to_get=list(attributes) if attributes else None,
            consistent_read=spec.consistent,
            exclusive_start_key=start_key,
            index_name=spec.index,
            limit=limit,
            scan_index_forward=spec.forward,
        )
    return list(data.get("Items", [])), data.get("LastEvaluatedKey")


def query_all(spec: QuerySpec, *, attributes: Sequence[str] | None = None) -> list[RawItem]:
    """Every item of a (small, bounded) Query, following LastEvaluatedKey."""
    items: list[RawItem] = []
    start: RawItem | None = None
    while True:
        page, start = query_page(spec, limit=None, start_key=start, attributes=attributes)
        items.extend(page)
        if start is None:
            return items


def to_models(raw_items: Sequence[RawItem]) -> list[TableItem]:
    return [TableItem.from_raw_data(raw) for raw in raw_items]


def string_of(raw: Mapping[str, Mapping[str, Any]], name: str) -> str:
    return str(raw[name]["S"])
