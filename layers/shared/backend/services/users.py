"""Users and profiles: the current user's account, and the admins' user management.

Plain functions taking their collaborators. Authorization is decided here too: a route passes the
principal, and a user never sees another user's data (404, not 403, for what is not theirs).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from backend.errors import ConflictError, ValidationError
from backend.models.enums import Role
from backend.observability import logger
from backend.records import Page, PageRequest
from backend.records.users import ProfileRecord, UserDeletion, UserRecord
from backend.repositories.profiles import ProfilesRepository
from backend.repositories.users import UsersRepository
from backend.services import passwords
from backend.services.principal import Principal


@dataclass(frozen=True, slots=True)
class UsersDeps:
    """The collaborators of the users use cases (built by ``backend.wiring``)."""

    users: UsersRepository
    profiles: ProfilesRepository
    #: Enqueues the purge of a deleted account's remaining posts: (user_id) -> anything.
    purge_posts: Callable[[str], Any]
    send_email: Callable[..., Any]
    #: Marks read-cache namespaces stale after a write (``ReadCache.invalidate``).
    invalidate: Callable[..., None] = lambda *namespaces: None
    #: Deletes the user's served avatar images (``backend.services.avatars``): (user_id) -> count.
    delete_avatar_images: Callable[[str], Any] = lambda user_id: 0


# ----------------------------------------------------------------------------- me
def get_me(deps: UsersDeps, principal: Principal) -> tuple[UserRecord, ProfileRecord | None]:
    """The caller and their profile. The user is the item authentication read for this request
    (strongly consistent), so only the profile is read: one GetItem (AP06); a principal without it
    reads both in one BatchGetItem (AP07)."""
    if principal.user is not None and principal.user.id == principal.user_id:
        return principal.user, deps.profiles.find(principal.user_id)
    return deps.users.get_with_profile(principal.user_id)


def update_my_profile(
    deps: UsersDeps, principal: Principal, *, name: str, bio: str | None, website: str | None
) -> tuple[UserRecord, ProfileRecord]:
    """The original's ``updateProfile`` (an upsert): the name on the user and the profile, written in
    one transaction so neither is saved without the other."""
    user, profile = deps.users.get_with_profile(principal.user_id)
    return deps.users.save_profile(user, profile, name=name, bio=bio or None, website=website or None)


def delete_my_account(deps: UsersDeps, principal: Principal) -> UserDeletion:
    """The original's ``deleteAccount``: profile, user, sessions and guards in one transaction.

    Posts that do not fit in it are deleted by the worker (the purge job), until none remain.
    """
    user = deps.users.get(principal.user_id, consistent=True)
    return _delete(deps, user)


# ----------------------------------------------------------------------------- admin
def list_users(
    deps: UsersDeps,
    request: PageRequest,
    *,
    search: str | None = None,
    role: Role | None = None,
    email_verified: bool | None = None,
) -> Page[UserRecord]:
    """Newest first; a text search or an emailVerified filter reads the narrow search index."""
    if search or email_verified is not None:
        return deps.users.search(search, request, role=role, email_verified=email_verified)
    return deps.users.list(request, role=role)


def create_user(
    deps: UsersDeps, *, email: str, name: str, role: Role, password: str | None = None
) -> UserRecord:
    """An account made by an admin. Without a password it gets an unusable one: the user then sets
    theirs with the password reset flow."""
    if password is not None:
        passwords.check_policy(password, context=(email, name))
        password_hash = passwords.hash_password(password)
    else:
        password_hash = "!unusable!" + secrets.token_hex(16)
    try:
        user = deps.users.create(email=email, password_hash=password_hash, name=name, role=role)
    except ConflictError as exc:
        raise _email_taken() from exc
    logger.info("user created by an admin", extra={"user_id": user.id, "role": user.role.value})
    return user


def ensure_admin(deps: UsersDeps, *, email: str, name: str, password: str) -> tuple[UserRecord, bool]:
    """The first admin of a stage (``make dev``'s seed, scripts/create_admin.py): created with
    ``password``, or, if the address is taken, that account promoted to ADMIN. Returns (user, created)."""
    try:
        return create_user(deps, email=email, name=name, role=Role.ADMIN, password=password), True
    except ConflictError:
        user = deps.users.get_by_email(email)
        if user.role is not Role.ADMIN:
            user = deps.users.update(user, role=Role.ADMIN)
        return user, False


def get_user(deps: UsersDeps, user_id: str) -> UserRecord:
    return deps.users.get(user_id)


def update_user(
    deps: UsersDeps,
    principal: Principal,
    user_id: str,
    *,
    email: str | None = None,
    name: str | None = None,
    role: Role | None = None,
) -> UserRecord:
    if user_id == principal.user_id and role is not None and role != principal.role:
        # An admin who demotes themselves could leave the system without any admin.
        raise ValidationError(
            "You cannot change your own role", details=[{"field": "role", "message": "not your own"}]
        )
    user = deps.users.get(user_id, consistent=True)
    kwargs: dict[str, Any] = {}
    if email is not None:
        kwargs["email"] = email
    if name is not None:
        kwargs["name"] = name
    if role is not None:
        kwargs["role"] = role
    if not kwargs:
        return user
    try:
        return deps.users.update(user, **kwargs)
    except ConflictError as exc:
        if exc.code == "CONFLICT" and exc.details and exc.details[0].get("field") == "email":
            raise _email_taken() from exc
        raise


def delete_user(deps: UsersDeps, principal: Principal, user_id: str) -> UserDeletion:
    if user_id == principal.user_id:
        raise ValidationError(
            "Use DELETE /api/me to delete your own account",
            details=[{"field": "id", "message": "not your own account"}],
        )
    return _delete(deps, deps.users.get(user_id, consistent=True))


# ----------------------------------------------------------------------------- helpers
def _delete(deps: UsersDeps, user: UserRecord) -> UserDeletion:
    deletion = deps.users.delete(user)
    # after the profile is gone: an upload processed meanwhile finds no profile and deletes its own
    images_deleted = deps.delete_avatar_images(user.id)
    if deletion.posts_deleted:
        deps.invalidate("posts")  # their pages and the lists that showed them are stale now
    if deletion.posts_pending:
        deps.purge_posts(user.id)
    logger.info(
        "account deleted",
        extra={
            "user_id": user.id,
            "posts_deleted": deletion.posts_deleted,
            "posts_pending": deletion.posts_pending,
            "avatar_images_deleted": images_deleted,
        },
    )
    return deletion


def _email_taken() -> ConflictError:
    return ConflictError(
        "An account with this email already exists",
        code="EMAIL_TAKEN",
        details=[{"field": "email", "message": "already in use"}],
    )
