"""Identity use cases: sign up, sign in, refresh, sign out (authenticating a request is in
``backend.services.authentication``, which every protected request imports; this module only the
identity routes).

Each is a plain function taking its collaborators (``IdentityDeps``), so the rules are testable
with fakes; the composition root builds the real ones once per container (``backend.wiring``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from backend import observability
from backend.config import RuntimeConfig
from backend.errors import ConflictError, NotFoundError, UnauthorizedError, ValidationError
from backend.models.clock import Clock
from backend.models.enums import Role
from backend.observability import logger
from backend.services import passwords, rate_limit, tokens
from backend.services.authentication import Authenticates, authenticate
from backend.services.keyring import Keyring
from backend.services.principal import Principal
from backend.values import normalize_email

if TYPE_CHECKING:
    from backend.records.users import UserRecord
    from backend.repositories.action_tokens import ActionTokensRepository
    from backend.repositories.sessions import SessionsRepository
    from backend.repositories.users import UsersRepository

__all__ = ["Authenticates", "IdentityDeps", "IssuedTokens", "authenticate"]

INVALID_CREDENTIALS = "Invalid email or password"
INVALID_REFRESH = "Invalid or expired refresh token"


@dataclass(frozen=True, slots=True)
class IdentityDeps:
    """The collaborators of the identity use cases (built by ``backend.wiring``)."""

    users: UsersRepository
    sessions: SessionsRepository
    rate_limiter: rate_limit.RateLimiter
    keyring: Keyring
    clock: Clock
    config: Callable[[], RuntimeConfig]
    issuer: str
    #: Enqueues an email job: (to, template, data, job_id) -> anything.
    send_email: Callable[..., Any]
    action_tokens: ActionTokensRepository
    #: Where links in emails point (the web app's pages).
    web_app_url: str
    #: Enqueues a password-reset request for the worker: (email) -> anything.
    enqueue_reset_request: Callable[..., Any]


@dataclass(frozen=True, slots=True)
class IssuedTokens:
    """What signing in (or up, or refreshing) hands out: the tokens and the session they belong to."""

    user: UserRecord
    access_token: str
    expires_in: int
    refresh_token: str
    refresh_expires_at: datetime
    session_id: str


# ----------------------------------------------------------------------------- use cases
def sign_up(
    deps: IdentityDeps, *, email: str, password: str, name: str, client_ip: str, user_agent: str | None
) -> IssuedTokens:
    """Create a USER account and its first session; 409 EMAIL_TAKEN if the address is in use.

    The email's unique guard decides races: of concurrent sign-ups with one address exactly one wins.
    """
    config = deps.config()
    address = normalize_email(email)
    _limit_attempts(deps, config, "sign-up", address, client_ip)
    passwords.check_policy(password, context=(address, address.split("@")[0], name))
    password_hash = passwords.hash_password(password)
    try:
        user = deps.users.create(email=address, password_hash=password_hash, name=name, role=Role.USER)
    except ConflictError as exc:
        raise ConflictError(
            "An account with this email already exists",
            code="EMAIL_TAKEN",
            details=[{"field": "email", "message": "already in use"}],
        ) from exc
    issued = _start_session(deps, config, user, user_agent)
    logger.info("user signed up", extra={"user_id": user.id})
    observability.count(observability.SIGN_UPS)
    _send(
        deps, to=user.email, template="welcome", data={"name": user.name or ""}, job_id=f"welcome-{user.id}"
    )
    from backend.services import account

    try:
        account.send_verification(deps, user)
    except Exception:  # noqa: BLE001 - the account exists; the user can ask for a new link
        logger.exception("could not send the verification email")
    return issued


def sign_in(
    deps: IdentityDeps, *, email: str, password: str, client_ip: str, user_agent: str | None
) -> IssuedTokens:
    """A new session for valid credentials. A wrong email and a wrong password get the same 401 and
    take the same time (the password is verified against a dummy hash for an unknown email)."""
    config = deps.config()
    try:
        address = normalize_email(email)
    except ValidationError:
        address = email.strip().lower()
    _limit_attempts(deps, config, "sign-in", address, client_ip)
    try:
        user = deps.users.get_by_email(address)
    except (NotFoundError, ValidationError):
        passwords.burn(password)
        observability.count(observability.SIGN_INS_FAILED)
        raise UnauthorizedError(INVALID_CREDENTIALS) from None
    if not passwords.verify(user.password_hash, password):
        observability.count(observability.SIGN_INS_FAILED)
        raise UnauthorizedError(INVALID_CREDENTIALS)
    if passwords.needs_rehash(user.password_hash):
        with contextlib.suppress(ConflictError):  # changed meanwhile: the next sign-in upgrades it
            user = deps.users.update(user, password_hash=passwords.hash_password(password))
    issued = _start_session(deps, config, user, user_agent)
    logger.info("user signed in", extra={"user_id": user.id})
    return issued


def refresh(deps: IdentityDeps, *, refresh_token: str) -> IssuedTokens:
    """Rotate the refresh token and issue a new access token.

    The presented token stops working. Presenting a token that was already rotated away means it
    was copied: the whole session is revoked, so the thief and the owner both have to sign in again.
    """
    config = deps.config()
    presented = tokens.parse_refresh_token(refresh_token)
    rate_limit.enforce(
        deps.rate_limiter,
        f"refresh:{presented.session_id}",
        limit=config.refresh_per_minute,
        window_seconds=60,
    )
    new_secret = tokens.new_refresh_secret()
    expires_at = tokens.expiry(deps.clock(), config.refresh_token_ttl_seconds)
    try:
        session = deps.sessions.rotate(
            presented.user_id,
            presented.session_id,
            old_token_hash=presented.hash,
            new_token_hash=tokens.hash_secret(new_secret),
            expires_at=expires_at,
        )
    except NotFoundError:
        raise UnauthorizedError(INVALID_REFRESH) from None
    except ConflictError:
        deps.sessions.delete(presented.user_id, presented.session_id)
        logger.warning(
            "refresh token reuse: session revoked",
            extra={"user_id": presented.user_id, "session_id": presented.session_id},
        )
        raise UnauthorizedError(
            "Refresh token already used; the session was revoked", code="REFRESH_TOKEN_REUSED"
        ) from None
    try:
        user = deps.users.get(presented.user_id, consistent=True)
    except NotFoundError:
        raise UnauthorizedError(INVALID_REFRESH) from None
    return _tokens_for(
        deps, config, user, session.id, refresh_secret=new_secret, refresh_expires_at=expires_at
    )


def sign_out(deps: IdentityDeps, principal: Principal) -> None:
    """Revoke the caller's session: its refresh token and its access tokens stop working."""
    deps.sessions.delete(principal.user_id, principal.session_id)
    logger.info("user signed out", extra={"user_id": principal.user_id})


# ----------------------------------------------------------------------------- helpers
def _limit_attempts(deps: IdentityDeps, config: RuntimeConfig, action: str, email: str, ip: str) -> None:
    limit = config.auth_attempts_per_minute
    rate_limit.enforce(deps.rate_limiter, rate_limit.bucket(f"{action}:ip", ip), limit=limit)
    rate_limit.enforce(deps.rate_limiter, rate_limit.bucket(f"{action}:email", email), limit=limit)


def _tokens_for(
    deps: IdentityDeps,
    config: RuntimeConfig,
    user: UserRecord,
    session_id: str,
    *,
    refresh_secret: str,
    refresh_expires_at: datetime,
) -> IssuedTokens:
    """A new access token for the session, with the session's (new) refresh token."""
    access, _claims = tokens.issue_access_token(
        deps.keyring.current(),
        user_id=user.id,
        role=user.role,
        session_id=session_id,
        now=deps.clock(),
        ttl_seconds=config.access_token_ttl_seconds,
        issuer=deps.issuer,
    )
    refresh_token = tokens.RefreshToken(user_id=user.id, session_id=session_id, secret=refresh_secret)
    return IssuedTokens(
        user=user,
        access_token=access,
        expires_in=config.access_token_ttl_seconds,
        refresh_token=str(refresh_token),
        refresh_expires_at=refresh_expires_at,
        session_id=session_id,
    )


def _start_session(
    deps: IdentityDeps, config: RuntimeConfig, user: UserRecord, user_agent: str | None
) -> IssuedTokens:
    secret = tokens.new_refresh_secret()
    expires_at = tokens.expiry(deps.clock(), config.refresh_token_ttl_seconds)
    session = deps.sessions.create(
        user.id,
        token_hash=tokens.hash_secret(secret),
        expires_at=expires_at,
        user_agent=(user_agent or "")[:256] or None,
    )
    return _tokens_for(deps, config, user, session.id, refresh_secret=secret, refresh_expires_at=expires_at)


def _send(deps: IdentityDeps, **job: Any) -> None:
    """Enqueue an email; a queue outage must not fail the request that already committed."""
    try:
        deps.send_email(**job)
    except Exception:  # noqa: BLE001 - logged; the account exists either way
        logger.exception("could not enqueue email", extra={"template": job.get("template")})
