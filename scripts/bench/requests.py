"""DynamoDB requests per route: what each route's warm request must cost, from docs/data-model.md.

Keyed by the route as the app matches it (``METHOD /path/template``); the value is the operations
of one warm request, in any order, at the minimum its access patterns allow. `make bench` compares
them with the requests it counts for every sample event whose route exists: a route that costs
more, or has no entry here, is reported over budget. Add the entry with the route and its sample
event (events/<group>/), citing the access patterns (AP ids) it is made of.

An authenticated request costs one BatchGetItem before the route's own work: its user and session,
strongly consistent (services/auth.authenticate).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

EXPECTED_DYNAMODB: dict[str, tuple[str, ...]] = {
    # The reachability probe: one GetItem on the reserved HEALTH#PROBE key (data-model: items).
    "GET /api/health": ("GetItem",),
}

#: Operations that read a whole table or index: never in a request path.
SCAN_OPERATIONS = frozenset({"Scan", "ExecuteStatement", "BatchExecuteStatement", "ExecuteTransaction"})


def expected_for(route: str) -> tuple[str, ...] | None:
    return EXPECTED_DYNAMODB.get(route)


def same_operations(actual: Sequence[str], expected: Sequence[str]) -> bool:
    return Counter(actual) == Counter(expected)
