"""Domain records: frozen dataclasses, no PynamoDB inside, no data access.

Repositories return them, services and schemas work with them (and with the value limits each
aggregate's module states, e.g. ``records.orders.MAX_ORDER_LINES``), without importing the data
layer.

This package holds what every repository shares (pages, the UNSET marker); each aggregate's records
live in a module of their own (``records.users``, ``records.catalog``, ``records.orders``), so that a
function imports only the records it uses (a dataclass costs ~0.6 ms to create at import).

``version`` is the optimistic-locking token: pass the record you read back to ``update``/``delete``,
and the write succeeds only if nobody changed the item since (else ConcurrentModificationError).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Final


class Unset(Enum):
    """Marker for "leave unchanged" in update methods (``None`` is a real value: clear the field)."""

    UNSET = "UNSET"

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final = Unset.UNSET

DEFAULT_LIMIT: Final = 20
MAX_LIMIT: Final = 100
#: Deepest offset reachable with ``page`` alone (beyond it, follow the cursor): the last page a
#: request may name is ``MAX_OFFSET // limit + 1`` (``backend.repositories.paging.resolve``).
MAX_OFFSET: Final = 10_000


@dataclass(frozen=True, slots=True, kw_only=True)
class PageRequest:
    """The spec's ``page``/``limit`` plus an optional opaque ``cursor`` (which carries its own page).

    Validated by ``backend.repositories.paging.resolve`` (1 <= limit <= 100; deep pages are capped).
    """

    limit: int = DEFAULT_LIMIT
    page: int = 1
    cursor: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PageMeta:
    """Offset paging figures of a page."""

    page: int
    limit: int
    total: int
    total_pages: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Page[T]:
    """One page of records, its figures, and the cursor of the next page (None on the last)."""

    items: tuple[T, ...]
    meta: PageMeta
    next_cursor: str | None = field(default=None)
