"""Atomic writes: PynamoDB's TransactWrite, with every operation labelled by the error it means.

A repository describes a write as a list of operations, each with an ``on_fail`` that turns a failed
condition into a domain error (``conflict("email")``, ``stale("Post")``...). :meth:`Transaction.commit`
then sends:

* one operation: the plain PutItem/UpdateItem/DeleteItem (half the write cost of a transaction);
* two to 100 operations: one TransactWriteItems (all or nothing).

Every operation asks for ``ReturnValuesOnConditionCheckFailure=ALL_OLD``, so a failed optimistic
lock can tell "deleted meanwhile" (NotFoundError) from "changed meanwhile" (ConcurrentModificationError).
A commit that DynamoDB refuses because another request was changing one of its items at that moment
(``TransactionConflictException`` for a single write, a ``TransactionConflict`` reason for a
transaction; throttled items likewise) applied nothing, so it is sent again, a few times with
jittered waits (``dynamo.retrying``), and then fails as BusyError (503, Retry-After): never as the
business error of a condition (a conflict is not "email taken") and never as a 500. The resend is
as safe as the first send because every operation carries the conditions its plan was read under.
DynamoDB reports a reason per operation, in request order; PynamoDB sends condition checks, then
deletes, then puts, then updates, and we keep our labels in the same order to read them back.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Final, Literal, NamedTuple

from botocore.exceptions import ClientError
from pynamodb.connection.base import Connection
from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from backend.errors import (
    AppError,
    BusyError,
    ConcurrentModificationError,
    ConflictError,
    NotFoundError,
)
from backend.models.base import TableItem
from backend.repositories.dynamo import RawItem, connection, error_code, retrying, translated_errors

#: DynamoDB's limit on operations in one TransactWriteItems.
MAX_TRANSACTION_ITEMS: Final = 100

_ALL_OLD = "ALL_OLD"
type OnFail = Callable[[RawItem | None], AppError]
type _Kind = Literal["check", "delete", "put", "update"]
_KIND_ORDER: Final[dict[_Kind, int]] = {"check": 0, "delete": 1, "put": 2, "update": 3}
_SINGLE_OPERATION: Final[dict[_Kind, str]] = {
    "delete": "DeleteItem",
    "put": "PutItem",
    "update": "UpdateItem",
}
# When several operations fail at once, report the most fundamental problem first.
_PRIORITY: Final[tuple[type[AppError], ...]] = (NotFoundError, ConcurrentModificationError, ConflictError)


class TransactionTooLargeError(RuntimeError):
    """A repository built more than 100 operations: a bug (the callers bound their cascades)."""


# ----------------------------------------------------------------------------- failure labels
def conflict(field: str, message: str | None = None) -> OnFail:
    """A unique value is taken: ConflictError naming the field."""
    text = message or f"{field} is already in use"

    def build(_old: RawItem | None) -> AppError:
        return ConflictError(text, details=[{"field": field, "message": text}])

    return build


def stale(resource: str) -> OnFail:
    """An optimistic lock failed: NotFound if the item is gone, else ConcurrentModification."""

    def build(old: RawItem | None) -> AppError:
        if old is None:
            return NotFoundError(resource)
        return ConcurrentModificationError()

    return build


def missing(resource: str) -> OnFail:
    """A referenced item must exist (a ConditionCheck with attribute_exists)."""

    def build(_old: RawItem | None) -> AppError:
        return NotFoundError(resource)

    return build


def fixed(error: Callable[[], AppError]) -> OnFail:
    def build(_old: RawItem | None) -> AppError:
        return error()

    return build


def unexpected(_old: RawItem | None) -> AppError:
    """For operations that carry no condition of their own (they can only fail by conflict)."""
    return ConcurrentModificationError()


# ----------------------------------------------------------------------------- the transaction
# The operations, as named tuples: internal, immutable, and cheap to define (a dataclass costs ~0.5 ms
# at import; every function imports this module).
class _Check(NamedTuple):
    """A ConditionCheck on (pk, sk)."""

    on_fail: OnFail
    pk: str
    sk: str
    condition: Condition
    kind: _Kind = "check"  # never passed: what the operation is


class _Delete(NamedTuple):
    """A Delete of a model's item."""

    on_fail: OnFail
    model: TableItem
    condition: Condition | None
    version_check: bool
    kind: _Kind = "delete"  # never passed: what the operation is


class _Put(NamedTuple):
    """A Put of a model's item."""

    on_fail: OnFail
    model: TableItem
    condition: Condition | None
    kind: _Kind = "put"  # never passed: what the operation is


class _Update(NamedTuple):
    """An Update of a model's item."""

    on_fail: OnFail
    model: TableItem
    actions: list[Action]
    condition: Condition | None
    version_check: bool
    kind: _Kind = "update"  # never passed: what the operation is


type _Operation = _Check | _Delete | _Put | _Update


class _TransactWrite(TransactWrite):
    """TransactWrite whose deletes and condition checks also return the old item on failure."""

    def delete_returning_old(self, op: _Delete) -> None:
        self._delete_items.append(
            op.model.get_delete_kwargs_from_instance(
                condition=op.condition,
                return_values_on_condition_failure=_ALL_OLD,
                add_version_condition=op.version_check,
            )
        )

    def check_returning_old(self, op: _Check) -> None:
        self._condition_check_items.append(
            connection().get_operation_kwargs(
                op.pk, range_key=op.sk, condition=op.condition, return_values_on_condition_failure=_ALL_OLD
            )
        )


class Transaction:
    """Collects operations, then commits them atomically (see the module docstring)."""

    def __init__(self, client_request_token: str | None = None) -> None:
        self._operations: list[_Operation] = []
        self._token = client_request_token

    def __len__(self) -> int:
        return len(self._operations)

    def extend(self, other: Transaction) -> None:
        """Append ``other``'s operations (a cascade planned separately, then found to fit)."""
        self._operations.extend(other._operations)

    def put(self, model: TableItem, *, on_fail: OnFail, condition: Condition | None = None) -> None:
        """Put the whole item. Models with a version: only if the version still matches (or is new)."""
        self._operations.append(_Put(on_fail, model, condition))

    def update(
        self,
        model: TableItem,
        actions: Sequence[Action],
        *,
        on_fail: OnFail,
        condition: Condition | None = None,
        version_check: bool = True,
    ) -> None:
        """Update attributes of ``model``'s item (its version, if any, is always incremented)."""
        self._operations.append(_Update(on_fail, model, list(actions), condition, version_check))

    def delete(
        self,
        model: TableItem,
        *,
        on_fail: OnFail,
        condition: Condition | None = None,
        version_check: bool = True,
    ) -> None:
        self._operations.append(_Delete(on_fail, model, condition, version_check))

    def check(self, pk: str, sk: str, condition: Condition, *, on_fail: OnFail) -> None:
        """A ConditionCheck: the transaction only commits if ``condition`` holds for (pk, sk)."""
        self._operations.append(_Check(on_fail, pk, sk, condition))

    # ------------------------------------------------------------------------- commit
    def commit(self) -> None:
        if not self._operations:
            return
        if len(self._operations) > MAX_TRANSACTION_ITEMS:
            raise TransactionTooLargeError(
                f"{len(self._operations)} operations; DynamoDB allows {MAX_TRANSACTION_ITEMS}"
            )
        single = self._operations[0]
        if len(self._operations) == 1 and not isinstance(single, _Check):
            retrying(lambda: self._commit_single(single))
        else:
            retrying(self._commit_transaction)
        self._operations.clear()

    @staticmethod
    def _commit_single(op: _Delete | _Put | _Update) -> None:
        if isinstance(op, _Put):
            kwargs = op.model.get_save_kwargs_from_instance(
                condition=op.condition, return_values_on_condition_failure=_ALL_OLD
            )
        elif isinstance(op, _Update):
            kwargs = op.model.get_update_kwargs_from_instance(
                actions=list(op.actions),  # PynamoDB appends its version action: a resend needs a copy
                condition=op.condition,
                return_values_on_condition_failure=_ALL_OLD,
                add_version_condition=op.version_check,
            )
        else:
            kwargs = op.model.get_delete_kwargs_from_instance(
                condition=op.condition,
                return_values_on_condition_failure=_ALL_OLD,
                add_version_condition=op.version_check,
            )
        low_level: Connection = connection().connection
        try:
            with translated_errors():
                low_level.dispatch(_SINGLE_OPERATION[op.kind], kwargs)
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise
            # PynamoDB keeps only the error in its own exception; the old item is on the botocore one.
            original = exc.__cause__ if isinstance(exc.__cause__, ClientError) else exc
            old: RawItem | None = original.response.get("Item")  # type: ignore[assignment]
            raise op.on_fail(old or None) from None
        if not isinstance(op, _Delete):
            op.model.update_local_version_attribute()  # type: ignore[no-untyped-call]

    def _commit_transaction(self) -> None:
        ordered = sorted(self._operations, key=lambda op: _KIND_ORDER[op.kind])  # stable sort
        try:
            with (
                translated_errors(),
                _TransactWrite(connection=connection().connection, client_request_token=self._token) as tx,
            ):
                for op in self._operations:
                    if isinstance(op, _Check):
                        tx.check_returning_old(op)
                    elif isinstance(op, _Delete):
                        tx.delete_returning_old(op)
                    elif isinstance(op, _Put):
                        tx.save(op.model, condition=op.condition, return_values=_ALL_OLD)
                    else:
                        tx.update(
                            op.model,
                            list(op.actions),  # PynamoDB appends its version action: a resend needs a copy
                            condition=op.condition,
                            return_values=_ALL_OLD,
                            add_version_condition=op.version_check,
                        )
        except TransactWriteError as exc:
            raise self._failure(exc, ordered) from None

    @staticmethod
    def _failure(exc: TransactWriteError, ordered: Sequence[_Operation]) -> Exception:
        if exc.cause_response_code != "TransactionCanceledException":
            return exc
        reasons = exc.cancellation_reasons
        errors: list[AppError] = []
        transient = False
        for op, reason in zip(ordered, reasons, strict=False):
            if reason is None:
                continue
            if reason.code == "ConditionalCheckFailed":
                errors.append(op.on_fail(reason.raw_item or None))
            elif reason.code in ("TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"):
                # Another request was changing one of the items, or a partition was throttled:
                # nothing was written, and the same transaction can be sent again (retrying).
                transient = True
            else:
                return exc  # ValidationError, ItemCollectionSizeLimitExceeded...: a bug, not the caller's
        # A condition that failed is the answer, whatever else happened: a resend would fail it again.
        if not errors:
            return BusyError() if transient else exc
        for kind in _PRIORITY:
            for error in errors:
                if isinstance(error, kind):
                    return error
        return errors[0]


def raw_attribute(item: RawItem | None, name: str) -> Any:
    """A scalar attribute of a raw (DynamoDB-typed) item, or None."""
    if not item or name not in item:
        return None
    return next(iter(item[name].values()))
