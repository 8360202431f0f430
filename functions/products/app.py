"""Products endpoint group. Thin: routers come from the shared layer."""

import backend.coldstart  # noqa: F401 - first: no garbage collection while the function initializes
from backend.http.app import create_app, create_handler
from backend.http.routers import products

app = create_app(
    "products",
    routers=[products.router],
    description="The product catalogue: public reads through the read cache, admin writes.",
)
handler = create_handler(app)
