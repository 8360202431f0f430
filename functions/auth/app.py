"""Auth endpoint group (and the public health check). Thin: routers come from the shared layer."""

import backend.coldstart  # noqa: F401 - first: no garbage collection while the function initializes
from backend.http.app import create_app, create_handler
from backend.http.routers import account, auth, health

app = create_app(
    "auth",
    routers=[health.router, auth.router, account.router],
    description="Sign-up, sign-in, tokens, and the health check.",
)
handler = create_handler(app)
