"""Users and profiles on the wire. No model here ever carries a password hash or a token hash."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import AfterValidator, Field, StringConstraints

from backend.models.enums import Role
from backend.schemas.common import PAGE_DESCRIPTION, CamelModel, PageNumber, StrictIn, Timestamp
from backend.values import EMAIL_MAX_LENGTH, EMAIL_PATTERN

if TYPE_CHECKING:
    from backend.records.users import ProfileRecord, UserRecord

EmailIn = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, to_lower=True, max_length=EMAIL_MAX_LENGTH, pattern=EMAIL_PATTERN
    ),
]
PersonName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=100)]
PasswordIn = Annotated[str, StringConstraints(min_length=1, max_length=128)]


def _web_url(value: str) -> str:
    from urllib.parse import urlsplit

    if value == "":
        return value
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or any(c.isspace() for c in value):
        raise ValueError("must be an http(s) URL or empty")
    return value


WebsiteIn = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=2048), AfterValidator(_web_url)
]


class UserOut(CamelModel):
    id: str
    email: str
    name: str | None
    role: Role
    email_verified: bool
    email_status: Literal["ACTIVE", "BOUNCED", "COMPLAINED"] = Field(
        description="BOUNCED or COMPLAINED once SES reported the address: no email is sent to it"
    )
    created_at: Timestamp
    updated_at: Timestamp

    @classmethod
    def of(cls, user: UserRecord) -> UserOut:
        return cls(
            id=user.id,
            email=user.email,
            name=user.name,
            role=user.role,
            email_verified=user.email_verified,
            email_status=user.email_status,
            created_at=user.created_at,
            updated_at=user.updated_at,
        )


class ProfileOut(CamelModel):
    bio: str | None
    website: str | None
    avatar: str | None = Field(description="The avatar's 256 px image (absolute URL), or null")
    avatar_images: dict[str, str] | None = Field(
        None,
        description=(
            "The avatar as square WebP images by size in px: {'64': url, '256': url, '512': url} "
            "(absolute CDN URLs, immutable), or null. Set by POST /api/me/avatar/upload's flow "
            "(docs/avatars.md)"
        ),
    )
    updated_at: Timestamp

    @classmethod
    def of(cls, profile: ProfileRecord) -> ProfileOut:
        return cls(
            bio=profile.bio,
            website=profile.website,
            avatar=profile.avatar,
            avatar_images=dict(profile.avatar_images) if profile.avatar_images else None,
            updated_at=profile.updated_at,
        )


class MeOut(CamelModel):
    user: UserOut
    profile: ProfileOut | None


class ProfileUpdateIn(StrictIn):
    """The original spec's ``updateProfile``: name 2 to 100 characters, bio at most 500, website a URL or empty."""

    name: PersonName
    bio: Annotated[str, StringConstraints(max_length=500)] | None = None
    website: WebsiteIn | None = None


class UserCreateIn(StrictIn):
    """An account created by an admin (the original's POST /api/users)."""

    email: EmailIn
    name: PersonName
    role: Role = Role.USER
    password: PasswordIn | None = Field(
        None, description="Optional; without one the user sets a password through password reset."
    )


class UserPatchIn(StrictIn):
    email: EmailIn | None = None
    name: PersonName | None = None
    role: Role | None = None


class UserListQuery(CamelModel):
    page: PageNumber | None = Field(None, description=PAGE_DESCRIPTION)
    limit: int = Field(20, ge=1, le=100)
    search: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] | None = None
    role: Role | None = None
    email_verified: bool | None = None
    cursor: Annotated[str, StringConstraints(max_length=2048)] | None = None
