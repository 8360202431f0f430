"""Routers whose routes FastAPI builds when first used, not at import.

FastAPI does a route's heavy work when the route is declared: it analyses the endpoint's signature
and dependencies, creates a pydantic field for every parameter, the body and the response model
(which builds their schemas) and the request handler. A Lambda container of the users group serves
one or two of its thirteen routes before it is recycled, and pays that work for all thirteen in its
cold start, twice over when a router is included in the app (``include_router`` builds a copy of
each route for the app on the first request). So:

- every router module makes its router with :func:`api_router`, whose routes are :class:`LazyRoute`:
  at declaration a route compiles its path pattern and records its methods (all that matching a
  request needs), and keeps its options; the rest of FastAPI's ``APIRoute`` is built the first time
  anything else of the route is asked for: when it serves a request (``route.app``), or when the
  OpenAPI document is generated;
- the app factory (:func:`backend.http.app.create_app`) registers each route on the app's own router
  from those options (:func:`register`), so that the app's dependencies (deny by default) and
  dependency overrides apply as with ``include_router``, and nothing is built twice.

The response schemas are deferred in the same spirit (``defer_build`` on
:class:`backend.schemas.common.CamelModel`): a model's validator and serializer are built when a
route first uses it (see :func:`quiet_parameter_alias_warnings`).
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable
from typing import Any, Literal

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from pydantic.warnings import UnsupportedFieldAttributeWarning
from starlette.routing import compile_path, get_name

#: ``APIRoute`` options that the app's router supplies itself when a route is registered on it.
_SUPPLIED_BY_THE_APP = ("dependency_overrides_provider",)


class LazyRoute(APIRoute):
    """An ``APIRoute`` that defers FastAPI's per-route work until the route is first used."""

    _build_lock = threading.RLock()

    def __init__(self, path: str, endpoint: Callable[..., Any], **options: Any) -> None:
        # What Starlette's matching and url_path_for read, as APIRoute computes it.
        self.path = path
        self.endpoint = endpoint
        self.name = get_name(endpoint) if options.get("name") is None else options["name"]
        self.path_regex, self.path_format, self.param_convertors = compile_path(path)
        self.methods = {method.upper() for method in options.get("methods") or ["GET"]}
        self.options = options
        self.state: Literal["deferred", "building", "built"] = "deferred"

    def __getattr__(self, attribute: str) -> Any:
        # Only called for an attribute the instance does not have (yet): build the route, then answer.
        if attribute.startswith("__") or "state" not in self.__dict__:
            raise AttributeError(attribute)
        with LazyRoute._build_lock:
            if self.state == "deferred":
                self.state = "building"
                try:
                    APIRoute.__init__(self, self.path, self.endpoint, **self.options)
                except BaseException:
                    self.state = "deferred"
                    raise
                self.state = "built"
            elif self.state == "building":  # FastAPI's own build asking for what it has not set yet
                raise AttributeError(attribute)
        return object.__getattribute__(self, attribute)

    def build(self) -> LazyRoute:
        """Build the route now (as declaring an ``APIRoute`` would); returns it."""
        self.__getattr__("app")
        return self


def quiet_parameter_alias_warnings() -> None:
    """Ignore pydantic's warning that a FastAPI parameter's alias has no effect in its field.

    FastAPI validates a body, query or header parameter through a ``TypeAdapter`` over the parameter's
    type annotated with its ``Body``/``Query``/``Header`` field, alias included; pydantic (2.12+)
    warns that an alias means nothing there, and FastAPI silences that warning while it creates the
    adapter (``fastapi._compat.v2.ModelField``). A deferred model (``defer_build``) defers the adapter
    too, so the warning comes later, at the first validation, outside FastAPI's silencing: this
    extends it to then. The alias does work: FastAPI reads the parameter by it itself. Misused
    aliases in the project's own models are caught by tests/unit/test_http_routes.py, which builds
    every schema with warnings as errors.
    """
    warnings.filterwarnings(
        "ignore",
        message=r"The 'alias' attribute with value '[^']*' was provided to the `Field\(\)` function",
        category=UnsupportedFieldAttributeWarning,
    )


def api_router(**kwargs: Any) -> APIRouter:
    """An ``APIRouter`` (same arguments) whose routes are built when first used."""
    return APIRouter(route_class=LazyRoute, **kwargs)


def register(app: FastAPI, router: APIRouter) -> None:
    """Add the router's routes to the app's own router, still unbuilt, with the app's dependencies."""
    for route in router.routes:
        if not isinstance(route, LazyRoute):
            raise TypeError(f"{route!r}: make the router with backend.http.routes.api_router()")
        options = {k: v for k, v in route.options.items() if k not in _SUPPLIED_BY_THE_APP}
        app.router.add_api_route(route.path, route.endpoint, route_class_override=LazyRoute, **options)
