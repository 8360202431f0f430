"""Routes built on first use (backend.http.routes): what stays unbuilt, what builds, and that a lazy
route behaves as FastAPI's own would (app dependencies, overrides, path parameters, 405, OpenAPI)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from fastapi import APIRouter, Depends
from fastapi.routing import APIRoute

from backend.http.app import create_app, create_handler
from backend.http.auth import enforce_authentication
from backend.http.routes import LazyRoute, api_router
from backend.schemas.common import Envelope
from tests.support.apigw import FakeContext, http_event

router = api_router(prefix="/api/things", tags=["things"])


def _marker() -> str:
    return "marked"


@router.get("/{thing_id}", response_model=Envelope[dict[str, Any]], summary="One thing")
def get_thing(thing_id: int, marker: str = Depends(_marker)) -> Envelope[dict[str, Any]]:
    return Envelope(data={"id": thing_id, "marker": marker})


@router.post("", status_code=201, response_model=Envelope[int], summary="Make a thing")
def make_thing() -> Envelope[int]:
    return Envelope(data=1)


@router.get("", response_model=Envelope[list[int]], summary="All things")
def list_things() -> Envelope[list[int]]:
    return Envelope(data=[1, 2])


def _lazy_routes(app: Any) -> list[LazyRoute]:
    return [route for route in app.routes if isinstance(route, LazyRoute)]


def _app() -> Any:
    app = create_app("things", routers=[router])
    app.dependency_overrides[enforce_authentication] = lambda: None
    return app


def test_declaring_and_registering_builds_nothing() -> None:
    app = _app()
    routes = _lazy_routes(app)
    assert len(routes) == 3
    assert {route.state for route in routes} == {"deferred"}
    assert all(route.state == "deferred" for route in router.routes if isinstance(route, LazyRoute))


def test_a_request_builds_only_the_route_that_serves_it() -> None:
    app = _app()
    handler = create_handler(app)
    response = handler(http_event("GET", "/api/things/7"), FakeContext())
    assert response["statusCode"] == 200, response
    assert '"marker":"marked"' in response["body"].replace(" ", "")
    built = {(route.path, frozenset(route.methods)) for route in _lazy_routes(app) if route.state == "built"}
    assert built == {("/api/things/{thing_id}", frozenset({"GET"}))}


def test_path_parameters_are_validated_and_wrong_methods_get_405_as_with_fastapi() -> None:
    handler = create_handler(_app())
    bad = handler(http_event("GET", "/api/things/seven"), FakeContext())
    assert bad["statusCode"] == 400  # the project's VALIDATION_ERROR for a non-integer id
    assert handler(http_event("DELETE", "/api/things/7"), FakeContext())["statusCode"] == 405
    assert handler(http_event("POST", "/api/things"), FakeContext())["statusCode"] == 201


def test_the_apps_dependencies_apply_to_registered_routes() -> None:
    """Deny by default: without the override, a route of a router registered lazily needs a principal."""
    handler = create_handler(create_app("things", routers=[router]))
    response = handler(http_event("GET", "/api/things"), FakeContext())
    assert response["statusCode"] == 401
    route = next(r for r in _lazy_routes(create_app("things", routers=[router])) if r.path == "/api/things")
    calls = [dependency.call for dependency in route.build().dependant.dependencies]
    assert enforce_authentication in calls


def test_the_openapi_document_builds_and_lists_every_route() -> None:
    app = _app()
    document = app.openapi()
    assert {route.state for route in _lazy_routes(app)} == {"built"}
    assert set(document["paths"]) == {"/api/things", "/api/things/{thing_id}"}
    get_one = document["paths"]["/api/things/{thing_id}"]["get"]
    assert get_one["summary"] == "One thing"
    assert get_one["parameters"][0]["schema"]["type"] == "integer"
    assert get_one["responses"]["400"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorEnvelope"
    }
    assert document["paths"]["/api/things"]["post"]["responses"]["201"]
    assert "ErrorEnvelope" in document["components"]["schemas"]


def test_concurrent_first_uses_build_a_route_once(monkeypatch: pytest.MonkeyPatch) -> None:
    builds: list[str] = []
    original = APIRoute.__init__

    def counting(self: APIRoute, *args: Any, **kwargs: Any) -> None:
        builds.append(self.path)
        original(self, *args, **kwargs)

    monkeypatch.setattr(APIRoute, "__init__", counting)
    route = _lazy_routes(_app())[0]
    barrier = threading.Barrier(8)

    def use() -> None:
        barrier.wait()
        assert route.dependant is not None

    threads = [threading.Thread(target=use) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert builds == [route.path]
    assert route.state == "built"


def test_a_failed_build_is_retried_and_missing_attributes_still_raise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    route = _lazy_routes(_app())[0]
    original = APIRoute.__init__

    def failing(self: APIRoute, *args: Any, **kwargs: Any) -> None:
        raise RuntimeError("broken annotation")

    monkeypatch.setattr(APIRoute, "__init__", failing)
    with pytest.raises(RuntimeError):
        route.build()
    assert route.state == "deferred"
    monkeypatch.setattr(APIRoute, "__init__", original)
    assert route.build().state == "built"
    with pytest.raises(AttributeError):
        _ = route.no_such_attribute


def test_create_app_refuses_a_router_whose_routes_are_built_eagerly() -> None:
    eager = APIRouter()

    @eager.get("/api/eager")
    def eager_route() -> dict[str, str]:
        return {"data": "x"}

    with pytest.raises(TypeError, match="api_router"):
        create_app("eager", routers=[eager])


def test_every_schema_builds_without_warnings() -> None:
    """The API models are built on first use (defer_build): build them all here, warnings as errors,
    so a mistake in one (an alias where pydantic ignores it...) shows in the suite, not in a log."""
    import importlib
    import pkgutil
    import warnings

    import backend.schemas
    from backend.schemas.common import CamelModel

    for module in pkgutil.iter_modules(backend.schemas.__path__):
        importlib.import_module(f"backend.schemas.{module.name}")

    def subclasses(cls: type) -> list[type]:
        return [cls, *(d for c in cls.__subclasses__() for d in subclasses(c))]

    models = [m for m in subclasses(CamelModel) if m.__module__.startswith("backend.schemas")]
    assert len(models) > 40
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for model in models:
            if "[" not in model.__name__ and not getattr(model, "__parameters__", ()):
                model.model_rebuild(force=True)
                model.model_json_schema()


def test_the_document_keeps_declared_422s_and_states_405_and_retry_after() -> None:
    """The app factory drops only FastAPI's own 422 (validation is 400 here), never a route's."""
    from functions.orders import app as orders

    document = orders.app.openapi()
    place = document["paths"]["/api/orders"]["post"]["responses"]
    assert "IDEMPOTENCY_KEY_REUSED" in place["422"]["description"]
    assert "422" not in document["paths"]["/api/orders"]["get"]["responses"]
    for operation in (place, document["paths"]["/api/orders/{orderId}"]["get"]["responses"]):
        assert "405" in operation
        assert "Retry-After" in operation["429"]["headers"]
        assert "Retry-After" in operation["503"]["headers"]
        assert "Allow" in operation["405"]["headers"]
    parameters = document["paths"]["/api/orders/{orderId}"]["get"]["parameters"]
    assert [p["name"] for p in parameters if p["in"] == "path"] == ["orderId"]


def test_the_document_states_what_spectral_asks_for() -> None:
    """Public operations say they need no credentials, tags are declared, integers state their size,
    timestamps are date-times and page parameters their maximum (.spectral.yaml, docs/api.md)."""
    from backend.records import MAX_OFFSET
    from backend.schemas.common import MAX_PAGE
    from functions.products import app as products

    document = products.app.openapi()
    listing = document["paths"]["/api/products"]["get"]
    assert listing["operationId"] == "listProducts"
    assert listing["security"] == [{}]
    assert document["paths"]["/api/products"]["post"]["security"] == [{"bearerAuth": []}, {"cookieAuth": []}]
    assert {tag["name"] for tag in document["tags"]} == {"products"}
    parameters = {parameter["name"]: parameter["schema"] for parameter in listing["parameters"]}
    assert parameters["limit"]["format"] == "int32"
    assert parameters["page"]["anyOf"][0] == {
        "type": "integer",
        "minimum": 1,
        "maximum": MAX_PAGE,
        "format": "int32",
    }
    assert MAX_PAGE == MAX_OFFSET + 1  # the deepest page limit=1 reaches
    product = document["components"]["schemas"]["ProductOut"]["properties"]
    assert product["stock"]["format"] == "int64"  # no declared bound: a client must hold 64 bits
    assert product["createdAt"]["format"] == "date-time"
    assert listing["responses"]["429"]["headers"]["Retry-After"] == {
        "$ref": "#/components/headers/RetryAfter"
    }
    retry_after = document["components"]["headers"]["RetryAfter"]["schema"]
    assert retry_after["format"] == "int32"
    from backend.http.docs import HEADER_COMPONENTS

    assert (
        "format" not in HEADER_COMPONENTS["RetryAfter"]["schema"]
    )  # the document's copy, not the shared constant
