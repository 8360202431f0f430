"""Authenticating a request: the access token's claims, then its user and session, strongly
consistent, in one BatchGetItem (AP28). Every protected request of every function runs this, so the
module imports only what it needs (the sign-in use cases are in ``backend.services.auth``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from backend.errors import NotFoundError, UnauthorizedError
from backend.services import tokens
from backend.services.principal import Principal

if TYPE_CHECKING:
    from backend.models.clock import Clock
    from backend.repositories.users import UsersRepository
    from backend.services.keyring import Keyring


class Authenticates(Protocol):
    """What checking a request's credentials needs (``IdentityDeps`` and the HTTP layer's container
    both have it: authenticating builds nothing else, not the sign-in collaborators)."""

    @property
    def users(self) -> UsersRepository: ...
    @property
    def keyring(self) -> Keyring: ...
    @property
    def clock(self) -> Clock: ...
    @property
    def issuer(self) -> str: ...


def authenticate(deps: Authenticates, token: str, *, via_cookie: bool = False) -> Principal:
    """The principal of a valid access token whose session and user still exist (one BatchGetItem)."""
    claims = tokens.verify_access_token(
        token, key_for=deps.keyring.key_for, now=deps.clock(), issuer=deps.issuer
    )
    try:
        user, _session = deps.users.get_with_session(claims.user_id, claims.session_id)
    except NotFoundError:
        raise UnauthorizedError(tokens.INVALID_TOKEN_MESSAGE) from None
    return Principal(
        user_id=user.id, role=user.role, session_id=claims.session_id, via_cookie=via_cookie, user=user
    )
