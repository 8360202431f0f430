"""Counters behind list totals: ``PK=COUNTER#<name>, SK=SHARD#<n>``, kept exact by transactions.

Every write that adds or removes an item from a listing changes the listing's counter with ``ADD``
in the same transaction, so ``meta.total`` is one GetItem (or one BatchGetItem for a sharded
counter) instead of reading the listing. Busy counters are sharded like their listings: an entity
always counts in the shard derived from its id, so its removal decrements the same shard.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from pynamodb.expressions.condition import Condition

from backend.errors import ConflictError
from backend.models import keys
from backend.models.enums import OrderStatus, Role
from backend.models.system import CounterModel
from backend.repositories.dynamo import batch_get, get_item
from backend.repositories.transaction import OnFail, Transaction, fixed, unexpected


@dataclass(frozen=True, slots=True)
class CounterRef:
    """A counter, by name; spread over ``shards`` items when writes to it are frequent."""

    name: str
    shards: int = 1

    def shard_for(self, entity_id: str) -> int:
        return keys.shard_of(entity_id, self.shards) if self.shards > 1 else 0

    def key(self, shard: int) -> tuple[str, str]:
        return keys.counter_pk(self.name), keys.counter_sk(shard)


# ----------------------------------------------------------------------------- the counters
USERS = CounterRef("users")
POSTS_PUBLISHED = CounterRef("posts#published")
PRODUCTS_ACTIVE = CounterRef("products#active")
PRODUCTS_ALL = CounterRef("products")


def users_with_role(role: Role) -> CounterRef:
    return CounterRef(f"users#role#{role.value}")


def posts_of_author(author_id: str) -> CounterRef:
    return CounterRef(f"user#{author_id}#posts")


def published_posts_of_author(author_id: str) -> CounterRef:
    return CounterRef(f"user#{author_id}#posts#published")


def orders_of_user(user_id: str) -> CounterRef:
    return CounterRef(f"user#{user_id}#orders")


def orders_of_user_with_status(user_id: str, status: OrderStatus) -> CounterRef:
    """A user's orders in one status (the owner's status filter, AP37); one item: a user's orders
    change status far below a partition's write rate."""
    return CounterRef(f"user#{user_id}#orders#status#{status.value}")


def category_posts(category_id: str) -> CounterRef:
    """Every post linked to the category (published or not): guards category deletion."""
    return CounterRef(f"category#{category_id}#posts")


def category_published_posts(category_id: str) -> CounterRef:
    return CounterRef(f"category#{category_id}#posts#published")


def category_products(category_id: str) -> CounterRef:
    """Every product of the category (active or not): guards category deletion."""
    return CounterRef(f"category#{category_id}#products")


def category_active_products(category_id: str) -> CounterRef:
    return CounterRef(f"category#{category_id}#products#active")


def orders_with_status(status: OrderStatus) -> CounterRef:
    return CounterRef(f"orders#status#{status.value}", shards=keys.ORDER_STATUS_SHARDS)


# ----------------------------------------------------------------------------- writing
def _model(ref: CounterRef, shard: int) -> CounterModel:
    pk, sk = ref.key(shard)
    return CounterModel(pk, sk)


def add_changes(tx: Transaction, changes: Mapping[tuple[CounterRef, int], int]) -> None:
    """Add ``ADD count :delta`` operations for non-zero deltas, keyed by (counter, shard)."""
    for (ref, shard), delta in changes.items():
        if delta:
            # ADD creates the counter on first use; SET type makes the new item a Counter.
            actions = [CounterModel.value.add(delta), CounterModel.item_type.set(CounterModel)]
            tx.update(_model(ref, shard), actions, on_fail=unexpected)


class CounterChanges:
    """Accumulates counter deltas for one transaction (several changes to one counter merge)."""

    def __init__(self) -> None:
        self._deltas: dict[tuple[CounterRef, int], int] = {}

    def add(self, ref: CounterRef, delta: int, *, entity_id: str = "") -> None:
        """Change ``ref`` by ``delta``; a sharded counter needs the id of the entity counted."""
        if ref.shards > 1 and not entity_id:
            raise ValueError(f"counter {ref.name} is sharded: pass the entity id")
        key = (ref, ref.shard_for(entity_id))
        self._deltas[key] = self._deltas.get(key, 0) + delta

    def __len__(self) -> int:
        return sum(1 for delta in self._deltas.values() if delta)

    def apply(self, tx: Transaction) -> None:
        add_changes(tx, self._deltas)


def delete_counter(tx: Transaction, ref: CounterRef, *, expected: int, on_fail: OnFail) -> None:
    """Delete a single-shard counter in ``tx``, only if it still holds ``expected``.

    Used by cascades: ``expected=0`` makes a restrict rule ("no orders left"), and the number of
    children the cascade read makes the transaction fail if a child was added meanwhile.
    """
    condition: Condition = CounterModel.value == expected
    if expected == 0:
        condition = CounterModel.pk.does_not_exist() | condition
    tx.delete(_model(ref, 0), condition=condition, on_fail=on_fail)


def restrict(field: str, message: str) -> OnFail:
    """The failure of a restrict rule: Conflict naming the relation that still has members."""
    return fixed(lambda: ConflictError(message, details=[{"field": field, "message": message}]))


# ----------------------------------------------------------------------------- reading
class CountersRepository:
    """Reads totals: one GetItem per plain counter, one BatchGetItem for sharded ones."""

    def total(self, ref: CounterRef) -> int:
        if ref.shards == 1:
            pk, sk = ref.key(0)
            item = get_item(CounterModel, pk, sk)
            return max(0, int(item.value)) if item else 0
        found = batch_get([ref.key(shard) for shard in range(ref.shards)])
        return max(0, sum(int(item.value) for item in found.values() if isinstance(item, CounterModel)))

    def totals(self, refs: Iterable[CounterRef]) -> dict[CounterRef, int]:
        """Several totals in one BatchGetItem."""
        wanted = list(dict.fromkeys(refs))
        found = batch_get([ref.key(shard) for ref in wanted for shard in range(ref.shards)])
        result = {}
        for ref in wanted:
            counts = (found.get(ref.key(shard)) for shard in range(ref.shards))
            result[ref] = max(0, sum(int(i.value) for i in counts if isinstance(i, CounterModel)))
        return result
