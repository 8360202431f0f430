"""The verified-token cache of backend.services.tokens: a token's signature is checked once per key,
and everything else about it on every request."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest

from backend import snapstart
from backend.errors import UnauthorizedError
from backend.models.enums import Role
from backend.services import tokens

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
ISSUER = tokens.issuer_for("test")
KEY = tokens.signing_key("k" * 48)
OTHER_KEY = tokens.signing_key("o" * 48)


@pytest.fixture(autouse=True)
def empty_cache() -> Iterator[None]:
    tokens.forget_verified_tokens()
    yield
    tokens.forget_verified_tokens()


@pytest.fixture
def decodes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The tokens PyJWT was asked to verify."""
    seen: list[str] = []
    original = jwt.decode

    def counting(token: str, *args: Any, **kwargs: Any) -> Any:
        seen.append(token)
        return original(token, *args, **kwargs)

    monkeypatch.setattr(jwt, "decode", counting)
    return seen


def _token(key: tokens.SigningKey = KEY, *, session: str = "01JS0000000000000000000000") -> str:
    token, _claims = tokens.issue_access_token(
        key,
        user_id="01JU0000000000000000000000",
        role=Role.USER,
        session_id=session,
        now=NOW,
        ttl_seconds=900,
        issuer=ISSUER,
    )
    return token


def _verify(
    token: str, *, keys: dict[str, tokens.SigningKey] | None = None, **options: Any
) -> tokens.AccessClaims:
    ring = {KEY.kid: KEY} if keys is None else keys
    return tokens.verify_access_token(
        token, key_for=ring.get, now=options.pop("now", NOW), issuer=options.pop("issuer", ISSUER), **options
    )


def test_a_token_is_verified_by_pyjwt_once(decodes: list[str]) -> None:
    token = _token()
    first, second = _verify(token), _verify(token)
    assert first == second
    assert decodes == [token]


def test_an_expired_token_is_refused_even_when_remembered() -> None:
    token = _token()
    _verify(token)
    with pytest.raises(UnauthorizedError):
        _verify(token, now=NOW + timedelta(minutes=16))


def test_a_key_rotated_out_ends_its_remembered_tokens() -> None:
    token = _token()
    _verify(token)
    with pytest.raises(UnauthorizedError):
        _verify(token, keys={OTHER_KEY.kid: OTHER_KEY})


def test_another_key_under_the_same_id_verifies_again(decodes: list[str]) -> None:
    token = _token()
    _verify(token)
    impostor = tokens.SigningKey(kid=KEY.kid, secret=OTHER_KEY.secret)
    with pytest.raises(UnauthorizedError):
        _verify(token, keys={KEY.kid: impostor})
    assert decodes == [token, token]


def test_another_issuer_or_audience_is_not_answered_from_the_cache() -> None:
    token = _token()
    _verify(token)
    with pytest.raises(UnauthorizedError):
        _verify(token, issuer=tokens.issuer_for("prod"))
    with pytest.raises(UnauthorizedError):
        _verify(token, audience="someone-else")


def test_a_bad_signature_is_never_remembered(decodes: list[str]) -> None:
    forged = _token(OTHER_KEY)
    forged = forged.replace(forged.split(".")[0], _token().split(".")[0])  # our kid, another key's MAC
    for _ in range(2):
        with pytest.raises(UnauthorizedError):
            _verify(forged)
    assert decodes == [forged, forged]
    assert forged not in tokens._verified


def test_the_cache_is_bounded_oldest_first(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tokens, "VERIFIED_CACHE_SIZE", 3)
    issued = [_token(session=f"01JS{i:022d}") for i in range(5)]
    for token in issued:
        _verify(token)
    assert list(tokens._verified) == issued[2:]


def test_a_snapstart_restore_forgets_verified_tokens() -> None:
    _verify(_token())
    assert tokens._verified
    snapstart.restore()
    assert not tokens._verified
