"""User management for admins (UsersFunction): ``/api/users``."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Response

from backend.http.auth import admin_principal
from backend.http.deps import Container, get_container
from backend.http.docs import created, errors
from backend.http.params import id_path, page_number
from backend.http.routes import api_router
from backend.records import PageRequest
from backend.schemas.common import Envelope, ListEnvelope, PageMeta
from backend.schemas.users import UserCreateIn, UserListQuery, UserOut, UserPatchIn
from backend.services import users as users_service
from backend.services.principal import Principal

router = api_router(prefix="/api/users", tags=["users"])

UserId = Annotated[str, id_path("userId", "The user's id")]


@router.get(
    "",
    response_model=ListEnvelope[UserOut],
    summary="Users, newest first; search by name or email, filter by role (admin)",
)
def list_users(
    query: Annotated[UserListQuery, Query()],
    _admin: Principal = Depends(admin_principal),
    container: Container = Depends(get_container),
) -> ListEnvelope[UserOut]:
    page = users_service.list_users(
        container.users_deps,
        PageRequest(limit=query.limit, page=page_number(query.page, query.cursor), cursor=query.cursor),
        search=query.search,
        role=query.role,
        email_verified=query.email_verified,
    )
    return ListEnvelope(
        data=[UserOut.of(user) for user in page.items],
        meta=PageMeta.of(page),
    )


@router.post(
    "",
    status_code=201,
    response_model=Envelope[UserOut],
    summary="Create a user (admin)",
    responses={**created("The user"), **errors(_409="EMAIL_TAKEN: an account with this email exists")},
)
def create_user(
    body: UserCreateIn,
    response: Response,
    _admin: Principal = Depends(admin_principal),
    container: Container = Depends(get_container),
) -> Envelope[UserOut]:
    user = users_service.create_user(
        container.users_deps, email=body.email, name=body.name, role=body.role, password=body.password
    )
    response.headers["location"] = f"/api/users/{user.id}"
    return Envelope(data=UserOut.of(user))


@router.get(
    "/{userId}",
    response_model=Envelope[UserOut],
    summary="A user (admin)",
    responses=errors(_404="No such user"),
)
def get_user(
    user_id: UserId,
    _admin: Principal = Depends(admin_principal),
    container: Container = Depends(get_container),
) -> Envelope[UserOut]:
    return Envelope(data=UserOut.of(users_service.get_user(container.users_deps, user_id)))


@router.patch(
    "/{userId}",
    response_model=Envelope[UserOut],
    summary="Change a user's email, name or role (admin)",
    responses=errors(_404="No such user", _409="EMAIL_TAKEN, or changed meanwhile"),
)
def patch_user(
    user_id: UserId,
    body: UserPatchIn,
    admin: Principal = Depends(admin_principal),
    container: Container = Depends(get_container),
) -> Envelope[UserOut]:
    user = users_service.update_user(
        container.users_deps, admin, user_id, email=body.email, name=body.name, role=body.role
    )
    return Envelope(data=UserOut.of(user))


@router.delete(
    "/{userId}",
    status_code=204,
    summary="Delete a user and their profile, sessions and posts (admin)",
    responses=errors(_404="No such user", _409="The user has orders, or changed meanwhile"),
)
def delete_user(
    user_id: UserId,
    admin: Principal = Depends(admin_principal),
    container: Container = Depends(get_container),
) -> Response:
    users_service.delete_user(container.users_deps, admin, user_id)
    return Response(status_code=204)
