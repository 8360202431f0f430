"""Sync dependencies, routes and response validation run on the event loop's thread in Lambda.

FastAPI runs every ``def`` dependency, every ``def`` route and the response validation of a ``def``
route through ``run_in_threadpool``, so that a server answering many requests at once is not
blocked by one of them. A Lambda container answers one request at a time (Mangum runs one event
loop per invocation, and nothing else runs on it), so those hand-offs to a worker thread buy
nothing and cost a thread switch and a loop wake-up each: four on an authenticated route (the
container, the authentication, the route, its response), against two on a bare FastAPI route.
`make bench` measured the difference on the warm path (docs/performance.md).

:func:`serve_sync_code_inline` swaps FastAPI's ``run_in_threadpool`` for a coroutine that calls the
function in place. ``create_handler`` (the Lambda entry point) calls it; tests that use FastAPI's
TestClient or an ASGI server keep the thread pool unless they build a handler.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

#: The FastAPI modules that look ``run_in_threadpool`` up at call time.
_MODULES = ("fastapi.routing", "fastapi.dependencies.utils")


async def run_inline[T](func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``run_in_threadpool``'s signature, without the thread."""
    return func(*args, **kwargs)


def serve_sync_code_inline() -> None:
    """Make FastAPI call sync code on the event loop's thread (idempotent)."""
    import importlib

    for name in _MODULES:
        module = importlib.import_module(name)
        if getattr(module, "run_in_threadpool", None) is not run_inline:
            module.run_in_threadpool = run_inline  # type: ignore[attr-defined]
