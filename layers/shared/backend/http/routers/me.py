"""The current user (UsersFunction): ``/api/me``, its profile, and deleting the account."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Response

from backend.http.auth import clear_auth_cookies, client_ip, current_principal
from backend.http.deps import Container, get_container
from backend.http.docs import errors
from backend.http.params import id_path
from backend.http.routes import api_router
from backend.schemas.account import (
    Accepted,
    ChangeEmailIn,
    ChangePasswordIn,
    SessionOut,
    VerificationRequestOut,
)
from backend.schemas.common import Envelope, ListEnvelope, whole_list_meta
from backend.schemas.users import MeOut, ProfileOut, ProfileUpdateIn, UserOut
from backend.services import users as users_service
from backend.services.principal import Principal

router = api_router(prefix="/api/me", tags=["me"])

SessionId = Annotated[str, id_path("sessionId", "The session's id")]


@router.get("", response_model=Envelope[MeOut], summary="The signed-in user and their profile")
def get_me(
    principal: Principal = Depends(current_principal), container: Container = Depends(get_container)
) -> Envelope[MeOut]:
    user, profile = users_service.get_me(container.users_deps, principal)
    return Envelope(data=MeOut(user=UserOut.of(user), profile=ProfileOut.of(profile) if profile else None))


@router.put(
    "/profile",
    response_model=Envelope[MeOut],
    summary="Create or replace the profile (name 2-100, bio <= 500, website a URL or empty)",
    responses=errors(_409="CONCURRENT_MODIFICATION: changed meanwhile; reload and retry"),
)
def put_profile(
    body: ProfileUpdateIn,
    principal: Principal = Depends(current_principal),
    container: Container = Depends(get_container),
) -> Envelope[MeOut]:
    user, profile = users_service.update_my_profile(
        container.users_deps, principal, name=body.name, bio=body.bio, website=body.website
    )
    return Envelope(data=MeOut(user=UserOut.of(user), profile=ProfileOut.of(profile)))


@router.delete(
    "",
    status_code=204,
    summary="Delete the account (profile, sessions, posts; refused while it has orders) and clear cookies",
    responses=errors(_409="The account has orders and cannot be deleted, or changed meanwhile"),
)
def delete_me(
    principal: Principal = Depends(current_principal), container: Container = Depends(get_container)
) -> Response:
    users_service.delete_my_account(container.users_deps, principal)
    reply = Response(status_code=204)
    clear_auth_cookies(reply)
    return reply


# ----------------------------------------------------------------------------- account lifecycle
@router.post(
    "/verify-email",
    status_code=202,
    response_model=Envelope[VerificationRequestOut],
    summary="Email a new verification link (rate limited)",
)
def request_verification(
    request: Request,
    principal: Principal = Depends(current_principal),
    container: Container = Depends(get_container),
) -> Envelope[VerificationRequestOut]:
    from backend.services import account  # the account lifecycle: only these routes import it

    sent = account.request_verification(container.identity, principal, client_ip=client_ip(request))
    return Envelope(data=VerificationRequestOut(sent=sent))


@router.post(
    "/password",
    status_code=204,
    summary="Change the password (the current one is required); signs out the other sessions",
    responses=errors(_401="INVALID_CREDENTIALS: the current password is wrong"),
)
def change_password(
    body: ChangePasswordIn,
    principal: Principal = Depends(current_principal),
    container: Container = Depends(get_container),
) -> Response:
    from backend.services import account  # the account lifecycle: only these routes import it

    account.change_password(
        container.identity, principal, current_password=body.current_password, new_password=body.new_password
    )
    return Response(status_code=204)


@router.put(
    "/email",
    status_code=202,
    response_model=Envelope[Accepted],
    summary="Ask to move the account to a new address: a link is sent there (rate limited)",
    responses=errors(_401="INVALID_CREDENTIALS: the password is wrong"),
)
def change_email(
    body: ChangeEmailIn,
    request: Request,
    principal: Principal = Depends(current_principal),
    container: Container = Depends(get_container),
) -> Envelope[Accepted]:
    from backend.services import account  # the account lifecycle: only these routes import it

    account.request_email_change(
        container.identity, principal, email=body.email, password=body.password, client_ip=client_ip(request)
    )
    return Envelope(data=Accepted(message="Follow the link sent to the new address to complete the change."))


@router.get(
    "/sessions", response_model=ListEnvelope[SessionOut], summary="The caller's signed-in sessions (all)"
)
def list_sessions(
    principal: Principal = Depends(current_principal), container: Container = Depends(get_container)
) -> ListEnvelope[SessionOut]:
    from backend.services import account  # the account lifecycle: only these routes import it

    sessions = [
        SessionOut(
            id=session.id,
            device=account.describe_device(session.user_agent),
            created_at=session.created_at,
            last_used_at=session.rotated_at or session.created_at,
            expires_at=session.expires_at,
            current=current,
        )
        for session, current in account.list_sessions(container.identity, principal)
    ]
    return ListEnvelope(data=sessions, meta=whole_list_meta(len(sessions)))


@router.delete(
    "/sessions/{sessionId}",
    status_code=204,
    summary="Revoke one of the caller's sessions",
    responses=errors(_404="No such session of yours"),
)
def revoke_session(
    session_id: SessionId,
    principal: Principal = Depends(current_principal),
    container: Container = Depends(get_container),
) -> Response:
    from backend.services import account  # the account lifecycle: only these routes import it

    account.revoke_session(container.identity, principal, session_id)
    return Response(status_code=204)
