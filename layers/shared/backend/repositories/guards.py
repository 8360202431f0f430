"""Unique guards: ``PK=UNIQUE#<KIND>#<value>, SK=UNIQUE``, written in the owner's transaction.

The guard is also how an owner is found by its value right after a write (``owner_of``: a consistent
read of the base table, where an index would lag). Claiming a value is a Put with ``attribute_not_exists(PK)``; releasing it is a Delete conditioned on
the owner, so a stale writer can never release a value someone else now holds. Because the claim and
the owner's write are one transaction, two concurrent creates with the same value cannot both win.
"""

from __future__ import annotations

from typing import Final

from backend.models import keys
from backend.models.system import UniqueGuardModel
from backend.repositories.dynamo import get_item
from backend.repositories.transaction import Transaction, conflict, unexpected

EMAIL: Final = "EMAIL"
POST_SLUG: Final = "POST_SLUG"
CATEGORY_NAME: Final = "CATEGORY_NAME"
CATEGORY_SLUG: Final = "CATEGORY_SLUG"


def _guard(kind: str, value: str, owner: str) -> UniqueGuardModel:
    guard = UniqueGuardModel(keys.unique_pk(kind, value), keys.UNIQUE_SK)
    guard.owner = owner
    return guard


def owner_of(kind: str, value: str) -> str | None:
    """Who holds ``value`` now (the owner's PK), read from the base table with a strongly consistent
    GetItem: unlike a global secondary index, it sees a claim the moment its transaction commits."""
    guard = get_item(UniqueGuardModel, keys.unique_pk(kind, value), keys.UNIQUE_SK, consistent=True)
    return None if guard is None else str(guard.owner)


def claim(tx: Transaction, kind: str, value: str, *, owner: str, field: str) -> None:
    """Reserve ``value`` for ``owner``; the transaction fails with Conflict(field) if it is taken."""
    tx.put(
        _guard(kind, value, owner),
        condition=UniqueGuardModel.pk.does_not_exist(),
        on_fail=conflict(field),
    )


def release(tx: Transaction, kind: str, value: str, *, owner: str) -> None:
    """Free ``value``; only if ``owner`` still holds it (else the transaction fails: stale writer)."""
    tx.delete(_guard(kind, value, owner), condition=UniqueGuardModel.owner == owner, on_fail=unexpected)


def swap(tx: Transaction, kind: str, old: str, new: str, *, owner: str, field: str) -> None:
    """Move ``owner`` from ``old`` to ``new`` (no-op when equal)."""
    if old != new:
        release(tx, kind, old, owner=owner)
        claim(tx, kind, new, owner=owner, field=field)
