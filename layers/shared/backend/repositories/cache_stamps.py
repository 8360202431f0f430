"""The read cache's namespace stamps in the table (``PK=CACHE#STAMPS, SK=STAMPS``; AP34).

Used by the in-process cache backend only (``backend.cache.memory``): Lambda containers share no
memory, so the time of the last write to each namespace is kept where every container can read it.
One strongly consistent GetItem reads every stamp; one UpdateItem sets the stamps a write changed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from backend.models import keys
from backend.models.cache_stamps import CacheStampsModel
from backend.repositories.dynamo import get_item
from backend.repositories.transaction import Transaction, unexpected

#: The namespaces the item has an attribute for.
NAMESPACES: Final = ("products", "categories", "posts")


class CacheStampsRepository:
    def read(self) -> dict[str, int]:
        """Every namespace's stamp (epoch ms; absent: never written). One consistent GetItem."""
        model = get_item(CacheStampsModel, keys.CACHE_STAMPS_PK, keys.CACHE_STAMPS_SK, consistent=True)
        if model is None:
            return {}
        found = {name: getattr(model, name) for name in NAMESPACES}
        return {name: int(value) for name, value in found.items() if value is not None}

    def write(self, stamps: Mapping[str, int]) -> None:
        """Set the given namespaces' stamps: one UpdateItem (creates the item on first use)."""
        unknown = set(stamps) - set(NAMESPACES)
        if unknown:
            raise ValueError(f"unknown cache namespaces: {sorted(unknown)}")
        model = CacheStampsModel(keys.CACHE_STAMPS_PK, keys.CACHE_STAMPS_SK)
        actions = [getattr(CacheStampsModel, name).set(int(value)) for name, value in stamps.items()]
        actions.append(CacheStampsModel.item_type.set(CacheStampsModel))
        tx = Transaction()
        tx.update(model, actions, on_fail=unexpected)
        tx.commit()
