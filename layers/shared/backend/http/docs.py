"""OpenAPI helpers for routers: each error an operation can answer, and the response headers.

The headers a client relies on are declared here once, and put in the document where they are sent:

- on every response: ``X-Request-Id``, ``Cache-Control`` (``no-store`` unless the route caches) and
  ``Vary``, by the app factory (``backend.http.app``);
- on a 401 ``WWW-Authenticate``, on a 405 ``Allow``, on a 429 and a 503 ``Retry-After``, also by
  the app factory;
- on a cacheable read, its 200 and 304 (``ETag``, ``Cache-Control``, ``Vary``):
  ``backend.http.representation.CONDITIONAL_GET``;
- on a create, its 201 (``Location``): :func:`created`; the routes that set cookies:
  :func:`sets_cookies`; a replayed order: :data:`IDEMPOTENT_REPLAYED`.

tests/support/conformance.py (run by every ``Api.call`` of the tests) checks each response against
the document: a header from :data:`CONTRACT_HEADERS` that a response carries and its operation does
not declare fails.
"""

from __future__ import annotations

from typing import Any, Final

from backend.http.headers import IDEMPOTENT_REPLAYED_HEADER

#: An error envelope response body, by reference: the app's OpenAPI hook (``backend.http.app``) puts
#: the ``ErrorEnvelope`` schema in the components. A reference costs nothing at import, where a
#: ``model`` would cost FastAPI a pydantic field per route and status.
JSON_ERROR: dict[str, Any] = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorEnvelope"}}}


def _header(description: str, schema: dict[str, Any], *, required: bool = False) -> dict[str, Any]:
    header: dict[str, Any] = {"description": description, "schema": schema}
    if required:
        header["required"] = True
    return header


#: The document's ``components.headers`` (put there by the app factory); routes refer to them.
HEADER_COMPONENTS: Final[dict[str, dict[str, Any]]] = {
    "RequestId": _header(
        "The request's id (API Gateway's request id): it is also the error envelope's `requestId` and "
        "the logs' correlation id; quote it when reporting a problem",
        {"type": "string", "minLength": 1, "maxLength": 128},
        required=True,
    ),
    "NoStore": _header(
        "`no-store`: no cache may keep the response", {"type": "string", "enum": ["no-store"]}, required=True
    ),
    "CacheControl": _header(
        "`public, max-age=60` for an anonymous caller (shared caches may keep it as long as the "
        "server's read cache does); `private, no-cache` with credentials (revalidate every use)",
        {"type": "string", "maxLength": 64},
        required=True,
    ),
    "ETag": _header(
        "The representation's entity tag: send it back in `If-None-Match` to get a 304",
        {"type": "string", "maxLength": 128},
        required=True,
    ),
    "Vary": _header(
        "`Origin` (CORS answers per origin); a cacheable read adds `Authorization, Cookie`: its body "
        "depends on who asks",
        {"type": "string", "maxLength": 128},
    ),
    "RetryAfter": _header(
        "Seconds to wait before trying again",
        {"type": "integer", "minimum": 0, "maximum": 86400},
        required=True,
    ),
    "WwwAuthenticate": _header(
        'The scheme to authenticate with: `Bearer realm="api"`',
        {"type": "string", "maxLength": 64},
        required=True,
    ),
    "Allow": _header(
        "The methods the path accepts, comma-separated", {"type": "string", "maxLength": 64}, required=True
    ),
    "Location": _header(
        "The path of what was created (relative to the API's base URL)",
        {"type": "string", "maxLength": 256},
        required=True,
    ),
    "SetCookie": _header(
        "The browser mode's cookies (docs/auth.md): `auth-token` and `refresh-token` HttpOnly, "
        "`csrf-token` readable by the page; all Secure, SameSite=Lax",
        {"type": "string", "maxLength": 4096},
    ),
    "IdempotentReplayed": _header(
        "`true` when the response was replayed from an earlier request with the same Idempotency-Key "
        "and body (the order was not placed again); absent on the response that executed",
        {"type": "string", "enum": ["true"]},
    ),
}


#: Statuses API Gateway also answers itself, before or instead of a function (over its payload
#: limit, a function that failed, its integration timeout): those replies carry none of the
#: function's headers, so on these statuses no header is required.
GATEWAY_STATUSES: Final = frozenset({"413", "500", "503"})


def optional(name: str, when: str) -> dict[str, Any]:
    """A header component, inline and not required, its description saying ``when`` it is absent."""
    component = HEADER_COMPONENTS[name]
    return {**component, "description": f"{component['description']} ({when})", "required": False}


def _ref(name: str) -> dict[str, Any]:
    assert name in HEADER_COMPONENTS
    return {"$ref": f"#/components/headers/{name}"}


REQUEST_ID: Final = _ref("RequestId")
NO_STORE: Final = _ref("NoStore")
CACHE_CONTROL: Final = _ref("CacheControl")
ETAG: Final = _ref("ETag")
VARY: Final = _ref("Vary")
RETRY_AFTER: Final = _ref("RetryAfter")
WWW_AUTHENTICATE: Final = _ref("WwwAuthenticate")
ALLOW: Final = _ref("Allow")
LOCATION: Final = _ref("Location")
SET_COOKIE: Final = _ref("SetCookie")
IDEMPOTENT_REPLAYED: Final = _ref("IdempotentReplayed")

#: Header name (lower case) → the name it has in the document. The headers a client may rely on: a
#: response carrying one must have it declared for its operation and status (checked by the tests).
CONTRACT_HEADERS: Final = {
    name.lower(): name
    for name in (
        "X-Request-Id",
        "Cache-Control",
        "ETag",
        "Vary",
        "Retry-After",
        "WWW-Authenticate",
        "Allow",
        "Location",
        "Set-Cookie",
        "Idempotent-Replayed",
    )
}
assert IDEMPOTENT_REPLAYED_HEADER in CONTRACT_HEADERS


def errors(**by_status: str) -> dict[int | str, dict[str, Any]]:
    """``responses=errors(_404="Product not found", _409="...")``: error envelopes by status code.

    The statuses every operation shares (400, 405, 413, 415, 429, 500, 503, and 401/403 off the
    public list) are added by the app factory; list here what is specific to the operation.
    """
    return {
        int(status.lstrip("_")): {"description": description, "content": JSON_ERROR}
        for status, description in by_status.items()
    }


def created(what: str) -> dict[int | str, dict[str, Any]]:
    """``responses=created("The product")``: the 201 of a create route, with its ``Location``."""
    return {201: {"description": f"{what} was created", "headers": {"Location": LOCATION}}}


def sets_cookies(status: int, description: str) -> dict[int | str, dict[str, Any]]:
    """``responses=sets_cookies(200, ...)``: a response that sets (or clears) the auth cookies."""
    return {status: {"description": description, "headers": {"Set-Cookie": SET_COOKIE}}}
