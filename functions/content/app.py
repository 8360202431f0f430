"""Content endpoint group (posts and categories). Thin: routers come from the shared layer."""

import backend.coldstart  # noqa: F401 - first: no garbage collection while the function initializes
from backend.http.app import create_app, create_handler
from backend.http.routers import categories, posts

app = create_app(
    "content",
    routers=[posts.router, categories.router],
    description="Posts and categories: published posts and categories through the read cache.",
)
handler = create_handler(app)
