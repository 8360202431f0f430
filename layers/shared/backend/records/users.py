"""Records of the identity aggregates: users, their profiles, sessions and single-use tokens."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from backend.models.enums import Role


@dataclass(frozen=True, slots=True, kw_only=True)
class UserRecord:
    """A user account (``password_hash`` never leaves the services)."""

    id: str
    email: str
    name: str | None
    role: Role
    password_hash: str
    created_at: datetime
    updated_at: datetime
    version: int
    email_verified: bool = False
    email_status: str = "ACTIVE"


@dataclass(frozen=True, slots=True, kw_only=True)
class ProfileRecord:
    """A user's public profile."""

    user_id: str
    bio: str | None
    website: str | None
    avatar: str | None
    created_at: datetime
    updated_at: datetime
    version: int
    #: The avatar's square WebP images by size in px ("64", "256", "512") → absolute CDN URL;
    #: ``avatar`` is then the 256 px one (the original schema's single URL).
    avatar_images: Mapping[str, str] | None = None
    #: Where those images are stored: ``avatars/<userId>/<content hash>`` (+ ``-<px>.webp``).
    avatar_key: str | None = None
    #: When the avatar last changed (the upload's S3 event time, or its removal), epoch ms: an
    #: older upload processed late never replaces a newer avatar (``ProfilesRepository.set_avatar``).
    avatar_at: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AvatarUpload:
    """A presigned S3 POST: the browser posts ``fields`` and then the file to ``url``."""

    url: str
    fields: Mapping[str, str]
    key: str
    content_type: str
    min_bytes: int
    max_bytes: int
    expires_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionRecord:
    """A signed-in session: the hash of its refresh token, its device and its lifetime."""

    id: str
    user_id: str
    token_hash: str
    user_agent: str | None
    created_at: datetime
    rotated_at: datetime | None
    expires_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class ActionTokenRecord:
    """A single-use token (its hash) for one purpose, one user and one address."""

    purpose: str
    user_id: str
    email: str
    created_at: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class UserDeletion:
    """What deleting a user did. ``posts_pending`` posts are left for the purge job (see docs)."""

    user_id: str
    sessions_deleted: int
    posts_deleted: int
    posts_pending: int


@dataclass(frozen=True, slots=True, kw_only=True)
class RateLimitResult:
    """The outcome of counting one attempt against a fixed-window limit."""

    allowed: bool
    limit: int
    remaining: int
    retry_after_seconds: int  # 0 when allowed
    reset_at: datetime
