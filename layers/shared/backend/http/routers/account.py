"""Account lifecycle routes of AuthFunction: verification links, password reset, sign-out everywhere.

Public but sign-out-all: whoever holds an emailed link's token may use it once.
"""

from __future__ import annotations

from fastapi import Depends, Request, Response

from backend.http.auth import clear_auth_cookies, client_ip, current_principal
from backend.http.deps import Container, get_container
from backend.http.docs import errors, sets_cookies
from backend.http.routes import api_router
from backend.schemas.account import Accepted, EmailStatusOut, ForgotPasswordIn, ResetPasswordIn, TokenBody
from backend.schemas.common import Envelope
from backend.services import account
from backend.services.principal import Principal

router = api_router(prefix="/api/auth", tags=["account"])

_INVALID = "INVALID_TOKEN: the link is unknown, used, expired, or for another purpose"
FORGOT_MESSAGE = "If an account uses this address, a link to reset its password is on its way."


@router.post(
    "/verify-email",
    response_model=Envelope[EmailStatusOut],
    summary="Confirm an email address with the token from the emailed link (public)",
    responses=errors(_400=_INVALID),
)
def verify_email(body: TokenBody, container: Container = Depends(get_container)) -> Envelope[EmailStatusOut]:
    user = account.verify_email(container.identity, body.token)
    return Envelope(data=EmailStatusOut(email=user.email, email_verified=user.email_verified))


@router.post(
    "/confirm-email-change",
    response_model=Envelope[EmailStatusOut],
    summary="Move the account to its new address with the token sent there (public)",
    responses=errors(_400=_INVALID, _409="EMAIL_TAKEN: another account took the address meanwhile"),
)
def confirm_email_change(
    body: TokenBody, container: Container = Depends(get_container)
) -> Envelope[EmailStatusOut]:
    user = account.confirm_email_change(container.identity, body.token)
    return Envelope(data=EmailStatusOut(email=user.email, email_verified=user.email_verified))


@router.post(
    "/password/forgot",
    status_code=202,
    response_model=Envelope[Accepted],
    summary="Email a password-reset link; the same answer whether or not the account exists (public)",
)
def forgot_password(
    body: ForgotPasswordIn, request: Request, container: Container = Depends(get_container)
) -> Envelope[Accepted]:
    account.forgot_password(
        container.identity,
        email=body.email,
        client_ip=client_ip(request),
    )
    return Envelope(data=Accepted(message=FORGOT_MESSAGE))


@router.post(
    "/password/reset",
    status_code=204,
    summary="Set a new password with the emailed token; signs out every session (public)",
    responses={
        **sets_cookies(204, "The password is set; every session is revoked and the cookies are cleared"),
        **errors(_400=f"{_INVALID}; or VALIDATION_ERROR for a weak password"),
    },
)
def reset_password(body: ResetPasswordIn, container: Container = Depends(get_container)) -> Response:
    account.reset_password(container.identity, token=body.token, password=body.password)
    reply = Response(status_code=204)
    clear_auth_cookies(reply)
    return reply


@router.post(
    "/sign-out-all",
    status_code=204,
    summary="Revoke every session of the caller, this one included",
    responses=sets_cookies(204, "Every session is revoked; the cookies are cleared"),
)
def sign_out_all(
    principal: Principal = Depends(current_principal), container: Container = Depends(get_container)
) -> Response:
    account.sign_out_everywhere(container.identity, principal)
    reply = Response(status_code=204)
    clear_auth_cookies(reply)
    return reply
