"""Auth routes (AuthFunction): sign-up, sign-in, refresh, sign-out. Public but sign-out."""

from __future__ import annotations

from fastapi import Depends, Request, Response

from backend.errors import UnauthorizedError
from backend.http.auth import (
    REFRESH_COOKIE,
    check_csrf,
    clear_auth_cookies,
    client_ip,
    current_principal,
    set_auth_cookies,
)
from backend.http.deps import Container, get_container
from backend.http.docs import errors, sets_cookies
from backend.http.routes import api_router
from backend.schemas.auth import AuthOut, RefreshIn, SignInIn, SignUpIn
from backend.schemas.common import Envelope
from backend.schemas.users import UserOut
from backend.services import auth as auth_service
from backend.services.principal import Principal

router = api_router(prefix="/api/auth", tags=["auth"])


def _issued(response: Response, issued: auth_service.IssuedTokens, container: Container) -> Envelope[AuthOut]:
    set_auth_cookies(
        response,
        access_token=issued.access_token,
        access_max_age=issued.expires_in,
        refresh_token=issued.refresh_token,
        refresh_max_age=max(1, int((issued.refresh_expires_at - container.clock()).total_seconds())),
    )
    return Envelope(
        data=AuthOut(
            user=UserOut.of(issued.user),
            access_token=issued.access_token,
            expires_in=issued.expires_in,
            refresh_token=issued.refresh_token,
        )
    )


@router.post(
    "/sign-up",
    status_code=201,
    response_model=Envelope[AuthOut],
    summary="Create an account (public); signs in and sets the auth cookies",
    responses={
        **sets_cookies(201, "The account was created and signed in"),
        **errors(_409="EMAIL_TAKEN: an account with this email exists"),
    },
)
def sign_up(
    body: SignUpIn, request: Request, response: Response, container: Container = Depends(get_container)
) -> Envelope[AuthOut]:
    issued = auth_service.sign_up(
        container.identity,
        email=body.email,
        password=body.password,
        name=body.name,
        client_ip=client_ip(request),
        user_agent=request.headers.get("user-agent"),
    )
    return _issued(response, issued, container)


@router.post(
    "/sign-in",
    response_model=Envelope[AuthOut],
    summary="Sign in with email and password (public); sets the auth cookies",
    responses={**sets_cookies(200, "Signed in"), **errors(_401="Invalid email or password")},
)
def sign_in(
    body: SignInIn, request: Request, response: Response, container: Container = Depends(get_container)
) -> Envelope[AuthOut]:
    issued = auth_service.sign_in(
        container.identity,
        email=body.email,
        password=body.password,
        client_ip=client_ip(request),
        user_agent=request.headers.get("user-agent"),
    )
    return _issued(response, issued, container)


@router.post(
    "/refresh",
    response_model=Envelope[AuthOut],
    summary="Rotate the refresh token (body, or the refresh-token cookie with X-CSRF-Token)",
    responses={
        **sets_cookies(200, "New tokens (the refresh token is rotated)"),
        **errors(
            _401="Invalid, expired or reused refresh token (reuse revokes the session)",
            _403="CSRF_FAILED (cookie mode)",
        ),
    },
)
def refresh(
    request: Request,
    response: Response,
    body: RefreshIn | None = None,
    container: Container = Depends(get_container),
) -> Envelope[AuthOut]:
    token = body.refresh_token if body is not None else None
    if token is None:
        token = request.cookies.get(REFRESH_COOKIE)
        if token is None:
            raise UnauthorizedError("No refresh token")
        check_csrf(request)
    issued = auth_service.refresh(container.identity, refresh_token=token)
    return _issued(response, issued, container)


@router.post(
    "/sign-out",
    status_code=204,
    summary="Revoke the current session and clear the cookies",
    responses=sets_cookies(204, "Signed out; the cookies are cleared"),
)
def sign_out(
    response: Response,
    principal: Principal = Depends(current_principal),
    container: Container = Depends(get_container),
) -> Response:
    auth_service.sign_out(container.identity, principal)
    reply = Response(status_code=204)
    clear_auth_cookies(reply)
    return reply
