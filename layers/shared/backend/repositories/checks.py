"""ConditionChecks for references: the transaction only commits if the referenced item exists."""

from __future__ import annotations

from backend.models import keys
from backend.models.base import TableItem
from backend.repositories.transaction import Transaction, missing


def require_user(tx: Transaction, user_id: str) -> None:
    tx.check(keys.user_pk(user_id), keys.USER_SK, TableItem.pk.exists(), on_fail=missing("User"))


def require_category(tx: Transaction, category_id: str) -> None:
    tx.check(
        keys.CATEGORIES_PK, keys.category_sk(category_id), TableItem.pk.exists(), on_fail=missing("Category")
    )
