"""The HTTP side of the wiring: routes take their collaborators with ``Depends(get_container)``.

The container itself is ``backend.wiring``'s (the one composition root of every entry point); this
module only gives the routes its FastAPI dependency and lets tests put another container in.
"""

from __future__ import annotations

from typing import Any

from backend.wiring import Container, get_container

__all__ = ["Container", "get_container", "override"]


def override(app: Any, container: Container) -> None:
    """Make ``app`` use ``container`` instead of the process's (tests)."""
    app.dependency_overrides[get_container] = lambda: container
