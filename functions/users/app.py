"""Users endpoint group: the current user and the admins' user management. Thin."""

from backend.http.app import create_app, create_handler
from backend.http.routers import me, users

app = create_app(
    "users", routers=[me.router, users.router], description="The current user, profiles, and user management."
)
handler = create_handler(app)
