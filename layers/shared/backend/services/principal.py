"""Who is calling: the authenticated principal every protected route receives."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from backend.errors import NotFoundError
from backend.models.enums import Role

if TYPE_CHECKING:
    from backend.records.users import UserRecord


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller. ``role`` is read from the user item, not trusted from the token,
    so a demoted admin loses the role with their next request."""

    user_id: str
    role: Role
    session_id: str
    #: True when the credentials came from the ``auth-token`` cookie (CSRF rules apply).
    via_cookie: bool = False
    #: The user item authentication read for this request (strongly consistent), so that a route
    #: about the caller need not read it again; None for a principal made elsewhere (tests, jobs).
    user: UserRecord | None = field(default=None, compare=False, repr=False)

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    def can_access(self, owner_id: str) -> bool:
        """Ownership rule: the owner or an admin."""
        return self.is_admin or self.user_id == owner_id

    def require_access(self, owner_id: str, resource: str) -> None:
        """NotFoundError (not Forbidden: existence is not revealed) unless the owner or an admin."""
        if not self.can_access(owner_id):
            raise NotFoundError(resource)
