"""Users endpoint group. Thin: routers come from the shared layer (they land with the users issue)."""

from backend.http.app import create_app, create_handler

app = create_app("users", routers=[])
handler = create_handler(app)
