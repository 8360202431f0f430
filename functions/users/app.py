"""Users endpoint group: the current user and the admins' user management. Thin."""

import backend.coldstart  # noqa: F401 - first: no garbage collection while the function initializes
from backend.http.app import create_app, create_handler
from backend.http.routers import me, users

app = create_app(
    "users", routers=[me.router, users.router], description="The current user, profiles, and user management."
)
handler = create_handler(app)
