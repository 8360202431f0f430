"""Access and refresh tokens: plain functions, with the signing key and the time passed in.

Access tokens are JWTs (PyJWT, HS256 as in the original spec) with the claims ``iss``, ``aud``,
``sub`` (user id), ``role``, ``sid`` (session id), ``iat``, ``exp`` and ``jti``, and a ``kid`` header
naming the key that signed them. A key's id is derived from the key itself, so a rotated key gets a
new id without any bookkeeping, and the id reveals nothing about the key.

Refresh tokens are opaque: ``<user id>.<session id>.<secret>``, where the secret is 256 random bits.
Only a SHA-256 of the secret is stored (in the session item); the ids say which session item to
read, since sessions live in their user's partition.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, Final

from backend.errors import UnauthorizedError
from backend.models.enums import Role

ALGORITHM: Final = "HS256"
AUDIENCE: Final = "app-backend-api"
_REQUIRED_CLAIMS: Final = ("iss", "aud", "sub", "role", "sid", "iat", "exp", "jti")
_REFRESH_TOKEN = re.compile(r"^([0-9A-HJKMNP-TV-Z]{26})\.([0-9A-HJKMNP-TV-Z]{26})\.([A-Za-z0-9_-]{43})$")
INVALID_TOKEN_MESSAGE: Final = "Invalid or expired access token"  # noqa: S105 - a message, not a secret


def issuer_for(stage: str) -> str:
    """The ``iss`` of tokens minted by one stage: a dev token is never accepted by prod."""
    return f"app-backend/{stage}"


@dataclass(frozen=True, slots=True)
class SigningKey:
    """An HMAC key for tokens and its id (the ``kid`` header)."""

    kid: str
    secret: bytes = b""

    def __repr__(self) -> str:  # never print key material
        return f"SigningKey(kid={self.kid!r})"


@lru_cache(maxsize=8)
def signing_key(secret: str | bytes) -> SigningKey:
    """The key for a secret, with its id (a short hash of a derived value, not of the key itself).
    Remembered: the keyring asks for the current key on every authenticated request."""
    material = secret.encode() if isinstance(secret, str) else secret
    digest = hmac.new(material, b"app-backend/token-key-id/v1", hashlib.sha256).digest()
    kid = base64.urlsafe_b64encode(digest[:12]).rstrip(b"=").decode("ascii")
    return SigningKey(kid=kid, secret=material)


@dataclass(frozen=True, slots=True)
class AccessClaims:
    """What a valid access token says: who, with which role, in which session, until when."""

    user_id: str
    role: Role
    session_id: str
    issued_at: datetime
    expires_at: datetime
    token_id: str


def issue_access_token(
    key: SigningKey,
    *,
    user_id: str,
    role: Role,
    session_id: str,
    now: datetime,
    ttl_seconds: int,
    issuer: str,
    audience: str = AUDIENCE,
) -> tuple[str, AccessClaims]:
    """A signed access token and the claims it carries."""
    import jwt

    issued = int(now.timestamp())
    claims = AccessClaims(
        user_id=user_id,
        role=role,
        session_id=session_id,
        issued_at=datetime.fromtimestamp(issued, UTC),
        expires_at=datetime.fromtimestamp(issued + ttl_seconds, UTC),
        token_id=uuid.uuid4().hex,
    )
    payload = {
        "iss": issuer,
        "aud": audience,
        "sub": user_id,
        "role": role.value,
        "sid": session_id,
        "iat": issued,
        "exp": issued + ttl_seconds,
        "jti": claims.token_id,
    }
    token = jwt.encode(payload, key.secret, algorithm=ALGORITHM, headers={"kid": key.kid})
    return token, claims


#: Access tokens whose signature verified, by their text: (key, issuer, audience, claims). A warm
#: container sees the same token on every request of a client, and an HMAC checked once with a key
#: checks the same the next time with that key: a token found here is accepted without PyJWT while
#: ``key_for`` still returns the very key that verified it (a rotated-out key ends its tokens), and
#: its claims and times are checked on every request all the same. A token that fails its signature
#: check is never remembered. Bounded: the oldest entry goes first.
VERIFIED_CACHE_SIZE: Final = 1024
_verified: dict[str, tuple[SigningKey, str, str, dict[str, Any]]] = {}
_verified_lock = threading.Lock()


def _remember(token: str, entry: tuple[SigningKey, str, str, dict[str, Any]]) -> None:
    with _verified_lock:
        while len(_verified) >= VERIFIED_CACHE_SIZE:
            _verified.pop(next(iter(_verified)))
        _verified[token] = entry


def forget_verified_tokens() -> None:
    """Empty the verified-token cache (tests; a SnapStart restore)."""
    with _verified_lock:
        _verified.clear()


def _verify_signature(
    token: str, *, key_for: Callable[[str], SigningKey | None], issuer: str, audience: str
) -> tuple[SigningKey, dict[str, Any]]:
    """PyJWT's checks: header (HS256, a known ``kid``), signature, ``aud``, ``iss``, required claims."""
    import jwt

    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise UnauthorizedError(INVALID_TOKEN_MESSAGE) from None
    kid = header.get("kid")
    if header.get("alg") != ALGORITHM or not isinstance(kid, str):
        raise UnauthorizedError(INVALID_TOKEN_MESSAGE)
    key = key_for(kid)
    if key is None:
        raise UnauthorizedError(INVALID_TOKEN_MESSAGE)
    try:
        payload: dict[str, Any] = jwt.decode(
            token,
            key.secret,
            algorithms=[ALGORITHM],
            audience=audience,
            issuer=issuer,
            # exp and iat are checked by the caller against the injected clock, not the system time.
            options={"require": list(_REQUIRED_CLAIMS), "verify_exp": False, "verify_iat": False},
        )
    except jwt.PyJWTError:
        raise UnauthorizedError(INVALID_TOKEN_MESSAGE) from None
    return key, payload


def verify_access_token(
    token: str,
    *,
    key_for: Callable[[str], SigningKey | None],
    now: datetime,
    issuer: str,
    audience: str = AUDIENCE,
) -> AccessClaims:
    """The claims of a valid token; UnauthorizedError for anything else.

    Refused: a malformed token, ``alg`` other than HS256 (``none`` included), an unknown ``kid``, a
    bad signature, a wrong ``aud`` or ``iss``, a missing claim, an expired ``exp`` or an ``iat`` in
    the future. ``key_for(kid)`` returns the key with that id, or None.
    """
    verified = _verified.get(token)
    if (
        verified is not None
        and verified[1:3] == (issuer, audience)
        and key_for(verified[0].kid) == verified[0]
    ):
        payload = verified[3]
    else:
        key, payload = _verify_signature(token, key_for=key_for, issuer=issuer, audience=audience)
        _remember(token, (key, issuer, audience, payload))
    try:
        expires, issued = int(payload["exp"]), int(payload["iat"])
        role = Role(payload["role"])
        user_id, session_id, token_id = str(payload["sub"]), str(payload["sid"]), str(payload["jti"])
    except (TypeError, ValueError):
        raise UnauthorizedError(INVALID_TOKEN_MESSAGE) from None
    current = int(now.timestamp())
    if expires <= current or issued > current + 60:  # a minute of clock skew for iat
        raise UnauthorizedError(INVALID_TOKEN_MESSAGE)
    return AccessClaims(
        user_id=user_id,
        role=role,
        session_id=session_id,
        issued_at=datetime.fromtimestamp(issued, UTC),
        expires_at=datetime.fromtimestamp(expires, UTC),
        token_id=token_id,
    )


# ----------------------------------------------------------------------------- refresh tokens
@dataclass(frozen=True, slots=True)
class RefreshToken:
    """An opaque refresh token: ``<user id>.<session id>.<secret>`` (only a hash of the secret is stored)."""

    user_id: str
    session_id: str
    secret: str

    def __str__(self) -> str:
        return f"{self.user_id}.{self.session_id}.{self.secret}"

    def __repr__(self) -> str:  # never print the secret
        return f"RefreshToken(user_id={self.user_id!r}, session_id={self.session_id!r})"

    @property
    def hash(self) -> str:
        return hash_secret(self.secret)


def new_refresh_secret() -> str:
    """256 random bits, base64url (43 characters)."""
    return secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    """What is stored for a random secret. A fast hash is right here: the secret has 256 bits of
    entropy, so there is nothing to brute-force (unlike a password)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def parse_refresh_token(text: str) -> RefreshToken:
    match = _REFRESH_TOKEN.match(text.strip())
    if match is None:
        raise UnauthorizedError("Invalid or expired refresh token")
    return RefreshToken(user_id=match[1], session_id=match[2], secret=match[3])


def expiry(now: datetime, ttl_seconds: int) -> datetime:
    return now + timedelta(seconds=ttl_seconds)
