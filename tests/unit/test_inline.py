"""In Lambda, sync dependencies and routes run on the thread that serves the event (no thread hops)."""

from __future__ import annotations

import threading
from typing import Any

from fastapi import Depends

from backend.http.app import create_app, create_handler
from backend.http.auth import enforce_authentication
from backend.http.inline import run_inline, serve_sync_code_inline
from backend.http.routes import api_router
from backend.schemas.common import Envelope
from tests.support.apigw import FakeContext, http_event, json_body

router = api_router()


def dependency_thread() -> int:
    return threading.get_ident()


@router.get("/api/threads", response_model=Envelope[dict[str, int]])
def threads(dependency: int = Depends(dependency_thread)) -> Envelope[dict[str, int]]:
    return Envelope(data={"dependency": dependency, "route": threading.get_ident()})


def test_sync_code_runs_on_the_serving_thread(table: Any) -> None:
    app = create_app("test", routers=[router])
    app.dependency_overrides[enforce_authentication] = lambda: None
    handler = create_handler(app)
    response = handler(http_event("GET", "/api/threads"), FakeContext())
    assert response["statusCode"] == 200
    data = json_body(response)["data"]
    assert data == {"dependency": threading.get_ident(), "route": threading.get_ident()}


def test_fastapi_looks_up_the_inline_runner() -> None:
    import fastapi.dependencies.utils
    import fastapi.routing

    serve_sync_code_inline()
    serve_sync_code_inline()  # idempotent
    assert fastapi.routing.run_in_threadpool is run_inline
    assert fastapi.dependencies.utils.run_in_threadpool is run_inline
