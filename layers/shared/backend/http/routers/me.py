"""The current user (UsersFunction): ``/api/me``, its profile, and deleting the account."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response

from backend.http.auth import clear_auth_cookies, current_principal
from backend.http.deps import Container, get_container
from backend.http.docs import errors
from backend.schemas.common import Envelope
from backend.schemas.users import MeOut, ProfileOut, ProfileUpdateIn, UserOut
from backend.services import users as users_service
from backend.services.principal import Principal

router = APIRouter(prefix="/api/me", tags=["me"])


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
