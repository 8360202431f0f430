"""Authentication for every route, deny by default; authorization helpers; auth cookies and CSRF.

Every route needs a valid access token unless its operation is on ``PUBLIC_OPERATIONS`` — one
explicit list, like the original spec's public-route matcher. The app factory installs
``enforce_authentication`` as an app-wide dependency, so a route that forgets to ask for a principal
is still protected. Routes read the caller with ``Depends(current_principal)`` (protected routes),
``Depends(optional_principal)`` (public routes that show more to some callers) or
``Depends(admin_principal)``.

Two client modes:
- ``Authorization: Bearer <access token>`` (mobile, server-to-server, scripts);
- cookies (browsers): ``auth-token`` (HttpOnly) carries the access token, ``refresh-token``
  (HttpOnly, only sent to /api/auth/refresh) the refresh token, and ``csrf-token`` (readable by
  the page) a CSRF token that unsafe requests must echo in ``X-CSRF-Token`` (double submit).
"""

from __future__ import annotations

import hmac
import secrets
from typing import Final

from fastapi import Depends, Request, Response

from backend.errors import ForbiddenError, UnauthorizedError
from backend.http.deps import Container, get_container
from backend.services.principal import Principal

ACCESS_COOKIE: Final = "auth-token"
REFRESH_COOKIE: Final = "refresh-token"
CSRF_COOKIE: Final = "csrf-token"
CSRF_HEADER: Final = "x-csrf-token"
REFRESH_COOKIE_PATH: Final = "/api/auth/refresh"
SAFE_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS"})

#: (method, path template) of every operation that needs no authentication. Everything else does.
PUBLIC_OPERATIONS: Final[frozenset[tuple[str, str]]] = frozenset(
    {
        ("GET", "/api/health"),
        ("POST", "/api/auth/sign-up"),
        ("POST", "/api/auth/sign-in"),
        ("POST", "/api/auth/refresh"),
        ("POST", "/api/auth/verify-email"),
        ("POST", "/api/auth/confirm-email-change"),
        ("POST", "/api/auth/password/forgot"),
        ("POST", "/api/auth/password/reset"),
        ("GET", "/api/products"),
        ("GET", "/api/products/{productId}"),
        ("GET", "/api/categories"),
        ("GET", "/api/categories/by-slug/{slug}"),
        ("GET", "/api/categories/{categoryId}"),
        ("GET", "/api/posts"),
        ("GET", "/api/posts/by-slug/{slug}"),
        ("GET", "/api/posts/{postId}"),
    }
)


def is_public(method: str, path_template: str) -> bool:
    method = "GET" if method == "HEAD" else method
    return (method, path_template) in PUBLIC_OPERATIONS


def client_ip(request: Request) -> str:
    """The caller's IP as API Gateway saw it (``requestContext.http.sourceIp``, via Mangum)."""
    return request.client.host if request.client else "unknown"


def _route_template(request: Request) -> str | None:
    route = request.scope.get("route")
    return getattr(route, "path", None)


def _credentials(request: Request) -> tuple[str, bool] | None:
    """(token, came from the cookie) or None. A malformed Authorization header is a 401, not anonymous."""
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise UnauthorizedError("Authorization header must be 'Bearer <access token>'")
        return token.strip(), False
    cookie = request.cookies.get(ACCESS_COOKIE)
    if cookie:
        return cookie, True
    return None


def check_csrf(request: Request) -> None:
    """Double submit: an unsafe request authenticated by cookie must echo the csrf-token cookie."""
    if request.method in SAFE_METHODS:
        return
    cookie = request.cookies.get(CSRF_COOKIE) or ""
    header = request.headers.get(CSRF_HEADER) or ""
    if not cookie or not hmac.compare_digest(cookie.encode(), header.encode()):
        raise ForbiddenError(
            "Missing or invalid CSRF token (send the csrf-token cookie in X-CSRF-Token)", code="CSRF_FAILED"
        )


def _authenticate(request: Request, container: Container) -> Principal:
    credentials = _credentials(request)
    if credentials is None:
        raise UnauthorizedError()
    token, via_cookie = credentials
    from backend.services.authentication import authenticate

    principal = authenticate(container, token, via_cookie=via_cookie)
    if via_cookie:
        check_csrf(request)
    return principal


def enforce_authentication(request: Request, container: Container = Depends(get_container)) -> None:
    """App-wide dependency: every operation not on PUBLIC_OPERATIONS requires a valid principal."""
    template = _route_template(request)
    if template is not None and is_public(request.method, template):
        return
    request.state.principal = _authenticate(request, container)


def current_principal(request: Request) -> Principal:
    """The caller of a protected route: the principal ``enforce_authentication`` found. (No
    ``Depends(get_container)`` here: FastAPI would solve it on every request for the rare case below.)"""
    principal = getattr(request.state, "principal", None)
    if isinstance(principal, Principal):
        return principal
    # Authentication did not run (a test overrode it): authenticate here, with the app's container.
    provide = request.app.dependency_overrides.get(get_container, get_container)
    principal = _authenticate(request, provide())
    request.state.principal = principal
    return principal


def optional_principal(request: Request, container: Container = Depends(get_container)) -> Principal | None:
    """The caller on a public route, or None. Bad or expired credentials count as anonymous there
    (a browser with a stale cookie can still browse); no credentials cost no request."""
    principal = getattr(request.state, "principal", None)
    if isinstance(principal, Principal):
        return principal
    try:
        if _credentials(request) is None:
            return None
        principal = _authenticate(request, container)
    except (UnauthorizedError, ForbiddenError):
        return None
    request.state.principal = principal
    return principal


def admin_principal(principal: Principal = Depends(current_principal)) -> Principal:
    if not principal.is_admin:
        raise ForbiddenError("Administrators only")
    return principal


# ----------------------------------------------------------------------------- cookies
def set_auth_cookies(
    response: Response, *, access_token: str, access_max_age: int, refresh_token: str, refresh_max_age: int
) -> None:
    """The browser mode's cookies (tokens HttpOnly; the CSRF token readable by the page)."""
    for name, value, max_age, path, http_only in (
        (ACCESS_COOKIE, access_token, access_max_age, "/", True),
        (REFRESH_COOKIE, refresh_token, refresh_max_age, REFRESH_COOKIE_PATH, True),
        (CSRF_COOKIE, secrets.token_urlsafe(32), refresh_max_age, "/", False),
    ):
        response.set_cookie(
            name, value, max_age=max_age, path=path, httponly=http_only, secure=True, samesite="lax"
        )


def clear_auth_cookies(response: Response) -> None:
    for name, path in ((ACCESS_COOKIE, "/"), (REFRESH_COOKIE, REFRESH_COOKIE_PATH), (CSRF_COOKIE, "/")):
        response.delete_cookie(name, path=path, secure=True, httponly=name != CSRF_COOKIE, samesite="lax")
