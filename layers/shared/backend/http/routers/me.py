"""The current user (UsersFunction): ``/api/me``, its profile and avatar, and deleting the account."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Response

from backend.http.auth import clear_auth_cookies, client_ip, current_principal
from backend.http.deps import Container, get_container
from backend.http.docs import errors, sets_cookies
from backend.http.params import id_path
from backend.http.routes import api_router
from backend.schemas.account import (
    Accepted,
    ChangeEmailIn,
    ChangePasswordIn,
    SessionOut,
    VerificationRequestOut,
)
from backend.schemas.avatars import AvatarUploadIn, AvatarUploadOut
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
    summary="Delete the account (profile, avatar images, sessions, posts; refused while it has orders) and clear cookies",
    responses={
        **sets_cookies(204, "The account is deleted; the cookies are cleared"),
        **errors(_409="The account has orders and cannot be deleted, or changed meanwhile"),
    },
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


# ----------------------------------------------------------------------------- avatar
@router.post(
    "/avatar/upload",
    status_code=201,
    response_model=Envelope[AvatarUploadOut],
    summary="Sign a direct upload of a new avatar (a presigned S3 POST, valid 5 minutes)",
    description=(
        "The browser then POSTs `fields` and the file (multipart/form-data, `file` last) to `url`. "
        "S3 itself enforces the signed policy: the declared content type (JPEG, PNG or WebP), "
        "1 KB to 5 MB, this one key under the caller's own prefix, and the expiry. The upload is "
        "then decoded, checked (at most 4096x4096 px, no decompression bomb) and resized to 64, "
        "256 and 512 px square WebP images without metadata, and the profile's `avatar` and "
        "`avatarImages` become their absolute CDN URLs, usually within seconds: poll GET /api/me. "
        "A file that is no acceptable image is deleted and the old avatar stays (docs/avatars.md)."
    ),
    responses=errors(_404="The account is gone"),
)
def sign_avatar_upload(
    body: AvatarUploadIn,
    principal: Principal = Depends(current_principal),
    container: Container = Depends(get_container),
) -> Envelope[AvatarUploadOut]:
    from backend.services import avatars  # only these routes import it

    upload = avatars.upload_form(container.avatar_deps, principal, content_type=body.content_type)
    return Envelope(data=AvatarUploadOut.of(upload))


@router.delete(
    "/avatar",
    status_code=204,
    summary="Remove the avatar (the profile's URLs are cleared and the images deleted)",
    responses=errors(_409="CONCURRENT_MODIFICATION: the profile changed meanwhile; retry"),
)
def delete_avatar(
    principal: Principal = Depends(current_principal), container: Container = Depends(get_container)
) -> Response:
    from backend.services import avatars  # only these routes import it

    avatars.delete_avatar(container.avatar_deps, principal)
    return Response(status_code=204)
