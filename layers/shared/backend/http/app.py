"""The FastAPI app factory and the Lambda handler factory every API function uses.

A function's ``app.py`` only lists its routers::

    app = create_app("users", routers=[users.router])
    handler = create_handler(app)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, cast

from fastapi import APIRouter, Depends, FastAPI
from fastapi.routing import APIRoute
from pydantic.alias_generators import to_camel
from starlette.middleware.cors import CORSMiddleware

from backend import __version__
from backend.http import docs
from backend.http.auth import enforce_authentication, is_public
from backend.http.errors import install_error_handlers
from backend.http.middleware import REQUEST_ID_HEADER, EdgeMiddleware
from backend.http.routes import quiet_parameter_alias_warnings, register
from backend.settings import get_settings

#: The error statuses every operation shares, documented by :func:`_openapi` (not declared per route:
#: a ``responses=`` entry with a model costs FastAPI a pydantic field per route and status at import).
ERROR_RESPONSES: dict[str, str] = {
    str(status): description
    for status, description in {
        400: "Invalid request: VALIDATION_ERROR (with details), MALFORMED_JSON, INVALID_CURSOR",
        405: "METHOD_NOT_ALLOWED: the path exists, not with this method (see Allow)",
        413: "Body too large",
        415: "Body is not JSON",
        429: "Rate limited (see Retry-After)",
        500: "Internal error",
        503: "A dependency is unavailable (see Retry-After)",
    }.items()
}
#: Headers every response of a status carries, whatever the operation (backend.http.docs).
HEADERS_BY_STATUS: dict[str, dict[str, dict[str, Any]]] = {
    "401": {"WWW-Authenticate": docs.WWW_AUTHENTICATE},
    "405": {"Allow": docs.ALLOW},
    "429": {"Retry-After": docs.RETRY_AFTER},
    "503": {"Retry-After": docs.RETRY_AFTER},
}
SECURITY_SCHEMES: dict[str, Any] = {
    "bearerAuth": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "The access token of sign-in or refresh: a JWS verified as RFC8725 advises "
        "(the algorithm is fixed, HS256: `none` and any other `alg` are refused; a known `kid`; "
        "`iss`, `aud`, `exp` and `iat` required and checked; backend.services.tokens)",
    },
    "cookieAuth": {"type": "apiKey", "in": "cookie", "name": "auth-token"},
}


def create_app(name: str, *, routers: Sequence[APIRouter], description: str = "") -> FastAPI:
    """An app with the project's middleware, error envelope and the given routers."""
    settings = get_settings()
    app = FastAPI(
        title=f"app-backend {name}",
        description=description,
        version=settings.version or __version__,
        # Docs are served once for all functions by the local cloud (merged), not per function.
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
        # Deny by default: every operation not on the public list needs a valid principal.
        dependencies=[Depends(enforce_authentication)],
        generate_unique_id_function=operation_id,
    )
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    quiet_parameter_alias_warnings()
    install_error_handlers(app)
    for router in routers:
        register(app, router)  # routes stay unbuilt until first used (backend.http.routes)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_allowed_origins,
        allow_credentials=True,
        allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
        allow_headers=["authorization", "content-type", "x-csrf-token", REQUEST_ID_HEADER, "idempotency-key"],
        expose_headers=[REQUEST_ID_HEADER, "retry-after", "etag", "location", "idempotent-replayed"],
        max_age=600,
    )
    # Added last, so it is the outermost: its headers and envelope cover everything inside.
    app.add_middleware(EdgeMiddleware, max_body_bytes=settings.max_body_bytes)
    return app


def operation_id(route: APIRoute) -> str:
    """An operation's id: its route function's name in camelCase (``place_order`` → ``placeOrder``),
    stable across path changes and unique across the merged document (tests/unit/test_openapi_ids.py)."""
    return to_camel(route.name)


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document, made true to this API: validation errors are 400 (FastAPI documents
    422), every operation off the public list declares its security and its 401/403 (a public one
    says it needs none: ``security: [{}]``), the tags the operations use are declared, and every
    integer states its ``format``. The merged document is linted by Spectral (.spectral.yaml)."""
    if app.openapi_schema:
        return app.openapi_schema
    from fastapi.openapi.utils import get_openapi

    from backend.schemas.common import ErrorEnvelope

    schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    for path, item in schema.get("paths", {}).items():
        for method, operation in item.items():
            responses = operation.setdefault("responses", {})
            if _is_fastapi_validation(responses.get("422")):
                responses.pop("422")  # FastAPI's own: this API answers validation errors with 400
            shared = dict(ERROR_RESPONSES)
            if is_public(method.upper(), path):
                operation["security"] = [{}]  # anonymous callers are welcome, stated (not forgotten)
            else:
                operation["security"] = [{"bearerAuth": []}, {"cookieAuth": []}]
                shared |= {"401": "Not authenticated", "403": "Not allowed (role, or CSRF_FAILED)"}
            for status, text in shared.items():
                responses.setdefault(status, {"description": text, "content": docs.JSON_ERROR})
            for status, response in responses.items():
                _declare_headers(status, response)
            operation["responses"] = dict(sorted(responses.items()))
    components = schema.setdefault("components", {})
    components["securitySchemes"] = SECURITY_SCHEMES
    components["headers"] = docs.HEADER_COMPONENTS
    schemas = components.setdefault("schemas", {})
    schemas["ErrorEnvelope"] = ErrorEnvelope.model_json_schema(ref_template="#/components/schemas/{model}")
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    operations = [op for item in schema.get("paths", {}).values() for op in item.values()]
    schema["tags"] = [
        {"name": tag} for tag in sorted({tag for op in operations for tag in op.get("tags", [])})
    ]
    schema = cast(dict[str, Any], _with_integer_formats(schema))
    app.openapi_schema = schema
    return schema


def _declare_headers(status: str, response: dict[str, Any]) -> None:
    """The headers every response carries (X-Request-Id; Cache-Control, no-store unless the route
    declared its own; Vary, from CORS) and those of its status, after any the route declared."""
    headers = dict(response.get("headers") or {})  # a copy: a route's declaration may be shared
    for name, header in HEADERS_BY_STATUS.get(status, {}).items():
        headers.setdefault(name, header)
    headers.setdefault("Cache-Control", docs.NO_STORE)
    headers.setdefault("Vary", docs.VARY)
    headers["X-Request-Id"] = docs.REQUEST_ID
    if status in docs.GATEWAY_STATUSES:
        headers |= {
            name: docs.optional(header["$ref"].rsplit("/", 1)[-1], "absent when API Gateway answers itself")
            for name, header in headers.items()
            if "$ref" in header
        }
    response["headers"] = dict(sorted(headers.items()))


_INT32 = (-(2**31), 2**31 - 1)


def _with_integer_formats(value: Any) -> Any:
    """``value`` with every integer schema given its ``format``: ``int32`` when its declared range
    fits in 32 bits, else ``int64`` (counts and totals: what a client must be ready to hold). A copy:
    the document shares some constants (``RETRY_AFTER``) by reference."""
    if isinstance(value, list):
        return [_with_integer_formats(item) for item in value]
    if not isinstance(value, dict):
        return value
    copied = {key: _with_integer_formats(item) for key, item in value.items()}
    if copied.get("type") == "integer" and "format" not in copied:
        low, high = copied.get("minimum"), copied.get("maximum")
        fits = low is not None and high is not None and _INT32[0] <= low and high <= _INT32[1]
        copied["format"] = "int32" if fits else "int64"
    return copied


def _is_fastapi_validation(response: dict[str, Any] | None) -> bool:
    """Whether a 422 entry is the one FastAPI adds to every operation with parameters."""
    if response is None:
        return False
    schema = response.get("content", {}).get("application/json", {}).get("schema", {})
    return bool(schema.get("$ref", "").endswith("/HTTPValidationError"))


def create_handler(app: FastAPI) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """The Lambda entry point for an API function: Mangum (lifespan off) with Powertools around it."""
    from mangum import Mangum

    from backend import coldstart, error_reporting, snapstart
    from backend.http.inline import serve_sync_code_inline
    from backend.observability import logger, metrics, tracer

    error_reporting.start()  # Sentry, when SENTRY_DSN_PARAMETER_NAME is set (else nothing is imported)
    snapstart.register()  # after-restore hooks, where SnapStart restores this function (prod)
    serve_sync_code_inline()  # one request at a time per container: no worker-thread hops
    asgi = Mangum(app, lifespan="off")

    # The correlation id (the API Gateway request id) is set by EdgeMiddleware, which reads it anyway:
    # a correlation_id_path here would make Powertools search the event with JMESPath per request.
    @logger.inject_lambda_context(clear_state=True)
    @tracer.capture_lambda_handler(capture_response=False)
    @metrics.log_metrics(capture_cold_start_metric=True)
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        try:
            response: dict[str, Any] = asgi(event, context)
        finally:
            coldstart.end()  # the first invocation ends initialization's pause of the collector
        return response

    wrapped: Callable[[dict[str, Any], Any], dict[str, Any]] = error_reporting.wrap(handler)
    return wrapped
