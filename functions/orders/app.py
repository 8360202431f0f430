"""Orders endpoint group. Thin: the router comes from the shared layer.

The first request of a container is usually a read: what only placing an order needs (Powertools
idempotency, the products repository, SQS) is imported by that route on first use.
"""

import backend.coldstart  # noqa: F401 - first: no garbage collection while the function initializes
from backend.http.app import create_app, create_handler
from backend.http.routers import orders

app = create_app(
    "orders",
    routers=[orders.router],
    description="Place (idempotent, transactional), list, read, cancel and move orders.",
)
handler = create_handler(app)
