"""DynamoDB requests per route: what each route must cost, from docs/data-model.md.

Keyed by the route as the app matches it (``METHOD /path/template``). ``first`` is the operations
of the first request of a sample event in a process (in any order), at the minimum its access
patterns allow; ``repeat`` is the same event served again, declared only where it differs by design
(a cache hit: no request at all). `make bench` counts both for every sample event whose route
exists: a route that costs more than declared, makes a Scan, or has no entry here is reported over
budget. Add the entry with the route and its sample event (events/<group>/), citing the access
patterns (AP ids) it is made of.

An authenticated request costs one BatchGetItem before the route's own work: its user and its
session, strongly consistent (services/auth.authenticate).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Minimum:
    first: tuple[str, ...]
    repeat: tuple[str, ...] | None = None  # None: not judged (a repeated write may answer otherwise)
    source: str = ""


EXPECTED_DYNAMODB: dict[str, Minimum] = {
    "GET /api/health": Minimum(("GetItem",), ("GetItem",), "the HEALTH#PROBE item (data-model: items)"),
}

#: Operations that read a whole table or index: never in a request path.
SCAN_OPERATIONS = frozenset({"Scan", "ExecuteStatement", "BatchExecuteStatement", "ExecuteTransaction"})


def expected_for(route: str) -> Minimum | None:
    return EXPECTED_DYNAMODB.get(route)


def same_operations(actual: Sequence[str], expected: Sequence[str]) -> bool:
    return Counter(actual) == Counter(expected)
