"""Identity (issue: sign-up and sign-in, tokens, roles, users and profiles) through the real
Lambda handlers of AuthFunction and UsersFunction, with moto in-process."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import jwt
import pytest

from backend.config import RuntimeConfig
from backend.models.enums import Role
from backend.services import auth as auth_service
from backend.services import tokens
from tests.support.ddb import count_requests, run_concurrently, serializable_moto
from tests.support.identity import TOKEN_SECRET, TOKEN_SECRET_NAME, Api, cookie_value

PASSWORD = "analytical engine 1843"


def sign_up(api: Api, auth: Any, email: str = "ada@example.com", **extra: Any) -> Any:
    body = {"email": email, "password": PASSWORD, "name": "Ada Lovelace", **extra}
    return api.call(auth, "POST", "/api/auth/sign-up", body=body)


def raw_token(**overrides: Any) -> Callable[[Api, str, str], str]:
    """A token builder: the claims of a valid token for (user, session), with ``overrides``."""

    def build(api: Api, user_id: str, session_id: str) -> str:
        options = dict(overrides)
        now = int(time.time())
        payload = {
            "iss": api.container.issuer,
            "aud": tokens.AUDIENCE,
            "sub": user_id,
            "role": "USER",
            "sid": session_id,
            "iat": now,
            "exp": now + 600,
            "jti": "x",
        }
        key = options.pop("key", TOKEN_SECRET)
        algorithm = options.pop("algorithm", "HS256")
        headers = {"kid": options.pop("kid", tokens.signing_key(TOKEN_SECRET).kid)}
        payload.update(options)
        return jwt.encode(payload, key, algorithm=algorithm, headers=headers)

    return build


# ----------------------------------------------------------------------------- the journey
def test_sign_up_sign_in_me_refresh_sign_out(api: Api, auth: Any, users: Any) -> None:
    created = sign_up(api, auth)
    assert created.status == 201, created.body
    signed_in = api.call(
        auth, "POST", "/api/auth/sign-in", body={"email": "ADA@example.com ", "password": PASSWORD}
    )
    assert signed_in.status == 200, signed_in.body
    me = api.call(users, "GET", "/api/me", token=signed_in.data["accessToken"])
    assert me.status == 200, me.body
    assert me.data["user"]["email"] == "ada@example.com"
    assert me.data["profile"] is None
    refreshed = api.call(
        auth, "POST", "/api/auth/refresh", body={"refreshToken": signed_in.data["refreshToken"]}
    )
    assert refreshed.status == 200
    assert api.call(users, "GET", "/api/me", token=refreshed.data["accessToken"]).status == 200
    assert api.call(auth, "POST", "/api/auth/sign-out", token=refreshed.data["accessToken"]).status == 204
    # the session is gone: its access token and its refresh token both stop working
    assert api.call(users, "GET", "/api/me", token=refreshed.data["accessToken"]).status == 401
    again = api.call(auth, "POST", "/api/auth/refresh", body={"refreshToken": refreshed.data["refreshToken"]})
    assert again.status == 401
    # the other session (from sign-up) is untouched
    assert api.call(users, "GET", "/api/me", token=created.data["accessToken"]).status == 200


def test_sign_up_enqueues_the_welcome_email(api: Api, auth: Any) -> None:
    sign_up(api, auth, email="grace@example.com")
    sqs = boto3.client("sqs")
    url = api.container.settings.email_queue_url
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    bodies = [m["Body"] for m in messages]
    assert any('"template":"welcome"' in b and "grace@example.com" in b for b in bodies), bodies


def test_taken_email_is_409_email_taken(api: Api, auth: Any) -> None:
    assert sign_up(api, auth).status == 201
    again = sign_up(api, auth, email="Ada@Example.COM")
    assert again.status == 409
    assert again.body["code"] == "EMAIL_TAKEN"


def test_wrong_email_and_wrong_password_get_the_same_401(api: Api, auth: Any) -> None:
    sign_up(api, auth)
    wrong_password = api.call(
        auth, "POST", "/api/auth/sign-in", body={"email": "ada@example.com", "password": "wrong password 000"}
    )
    unknown = api.call(
        auth, "POST", "/api/auth/sign-in", body={"email": "nobody@example.com", "password": PASSWORD}
    )
    assert wrong_password.status == unknown.status == 401
    assert wrong_password.body["error"] == unknown.body["error"]
    assert wrong_password.body["code"] == unknown.body["code"] == "UNAUTHORIZED"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "not-an-email", "password": PASSWORD, "name": "Ada"}, "email"),
        ({"email": "a@example.com", "password": "short", "name": "Ada"}, "password"),
        ({"email": "a@example.com", "password": "1234567890", "name": "Ada"}, "password"),  # common
        ({"email": "a@example.com", "password": PASSWORD, "name": "A"}, "name"),
        ({"email": "a@example.com", "password": PASSWORD}, "name"),
    ],
)
def test_validation_errors_are_400_with_details(
    api: Api, auth: Any, body: dict[str, Any], field: str
) -> None:
    response = api.call(auth, "POST", "/api/auth/sign-up", body=body)
    assert response.status == 400, response.body
    assert response.body["code"] == "VALIDATION_ERROR"
    assert field in {detail["field"] for detail in response.body["details"]}
    assert PASSWORD not in str(response.body)


# ----------------------------------------------------------------------------- refused tokens
@pytest.mark.parametrize(
    "build",
    [
        pytest.param(raw_token(algorithm="HS512", key=TOKEN_SECRET * 2), id="other-algorithm"),
        # pragma: allowlist nextline secret (a made-up signing key, for the bad-signature case)
        pytest.param(raw_token(key="another-secret-another-secret-another-secret"), id="bad-signature"),
        pytest.param(raw_token(exp=int(time.time()) - 1), id="expired"),
        pytest.param(raw_token(aud="someone-else"), id="wrong-aud"),
        pytest.param(raw_token(iss="app-backend/prod"), id="wrong-iss"),
        pytest.param(raw_token(kid="unknown-kid"), id="unknown-kid"),
        pytest.param(raw_token(sid="01JNB9A0M4TNG4YVQ1S6J1Y0RZ"), id="unknown-session"),
    ],
)
def test_refused_tokens_get_401(api: Api, users: Any, build: Callable[[Api, str, str], str]) -> None:
    account = api.account()
    response = api.call(users, "GET", "/api/me", token=build(api, account.id, account.session_id))
    assert response.status == 401, response.body
    assert response.body["code"] == "UNAUTHORIZED"
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_a_valid_raw_token_is_accepted(api: Api, users: Any) -> None:
    """The builder above makes valid tokens unless told otherwise (so each refusal is its override)."""
    account = api.account()
    assert (
        api.call(users, "GET", "/api/me", token=raw_token()(api, account.id, account.session_id)).status
        == 200
    )


def test_alg_none_is_refused(api: Api, users: Any) -> None:
    account = api.account()
    header = jwt.utils.base64url_encode(b'{"alg":"none","typ":"JWT"}').decode()
    valid = raw_token()(api, account.id, account.session_id)
    unsigned = f"{header}.{valid.split('.')[1]}."
    assert api.call(users, "GET", "/api/me", token=unsigned).status == 401


def test_token_of_a_deleted_user_is_refused(api: Api, users: Any) -> None:
    account = api.account()
    api.container.users.delete(api.container.users.get(account.id))
    assert api.call(users, "GET", "/api/me", token=account.token).status == 401


def test_malformed_authorization_header_is_401(api: Api, users: Any) -> None:
    response = api.call(users, "GET", "/api/me", headers={"authorization": "Basic abc"})
    assert response.status == 401


def test_rotation_keeps_tokens_of_the_previous_key_valid(
    api: Api, users: Any, fresh_process: Callable[[], None]
) -> None:
    account = api.account()
    boto3.client("secretsmanager").put_secret_value(
        SecretId=TOKEN_SECRET_NAME, SecretString="a-brand-new-signing-secret-0123456789-abcdefgh"
    )
    fresh_process()  # the cached secret expires
    new_kid = api.container.keyring.current().kid
    assert new_kid != tokens.signing_key(TOKEN_SECRET).kid
    assert api.call(users, "GET", "/api/me", token=account.token).status == 200  # previous key
    fresh = api.account()
    assert jwt.get_unverified_header(fresh.token)["kid"] == new_kid
    assert api.call(users, "GET", "/api/me", token=fresh.token).status == 200


# ----------------------------------------------------------------------------- refresh tokens
def test_refresh_reuse_revokes_the_whole_session(api: Api, auth: Any, users: Any) -> None:
    account = api.account()
    first = api.call(auth, "POST", "/api/auth/refresh", body={"refreshToken": account.refresh_token})
    assert first.status == 200
    replay = api.call(auth, "POST", "/api/auth/refresh", body={"refreshToken": account.refresh_token})
    assert replay.status == 401
    assert replay.body["code"] == "REFRESH_TOKEN_REUSED"
    # the thief's replay killed the session: the legitimate, rotated tokens fail too
    assert api.call(users, "GET", "/api/me", token=first.data["accessToken"]).status == 401
    assert (
        api.call(auth, "POST", "/api/auth/refresh", body={"refreshToken": first.data["refreshToken"]}).status
        == 401
    )


@pytest.mark.parametrize("token", ["garbage", "A" * 26 + "." + "B" * 26 + "." + "c" * 43, ""])
def test_malformed_or_unknown_refresh_tokens_are_401(api: Api, auth: Any, token: str) -> None:
    response = api.call(auth, "POST", "/api/auth/refresh", body={"refreshToken": token})
    assert response.status == 401


# ----------------------------------------------------------------------------- races and limits
def test_concurrent_sign_ups_with_one_email_create_exactly_one_account(api: Api) -> None:
    api.container.config = lambda: RuntimeConfig(auth_attempts_per_minute=100)  # type: ignore[method-assign]
    deps = api.container.identity

    def attempt() -> Any:
        return auth_service.sign_up(
            deps,
            email="race@example.com",
            password=PASSWORD,
            name="Racer",
            client_ip="203.0.113.1",
            user_agent=None,
        )

    with serializable_moto():
        results = run_concurrently([attempt for _ in range(10)])
    winners = [r for r in results if isinstance(r, auth_service.IssuedTokens)]
    losers = [r for r in results if not isinstance(r, auth_service.IssuedTokens)]
    assert len(winners) == 1
    assert all(getattr(r, "code", None) == "EMAIL_TAKEN" for r in losers), losers
    assert (
        api.container.users.list(
            __import__("backend.records", fromlist=["PageRequest"]).PageRequest()
        ).meta.total
        == 1
    )


def test_sixth_rapid_sign_in_gets_429_with_retry_after(api: Api, auth: Any) -> None:
    fixed = datetime(2026, 12, 1, 12, 0, 5, tzinfo=UTC)
    api.container.clock = lambda: fixed
    statuses = []
    for _ in range(6):
        response = api.call(
            auth,
            "POST",
            "/api/auth/sign-in",
            body={"email": "x@example.com", "password": "wrong password 000"},
        )
        statuses.append(response.status)
    assert statuses == [401] * 5 + [429]
    assert response.body["code"] == "RATE_LIMITED"
    assert int(response.headers["retry-after"]) == 55
    # another email from another IP is not affected
    other = api.call(
        auth,
        "POST",
        "/api/auth/sign-in",
        body={"email": "y@example.com", "password": "wrong password 000"},
        source_ip="198.51.100.7",
    )
    assert other.status == 401


def test_sign_in_rate_limit_is_per_ip_too(api: Api, auth: Any) -> None:
    fixed = datetime(2026, 12, 1, 12, 0, 5, tzinfo=UTC)
    api.container.clock = lambda: fixed
    statuses = [
        api.call(
            auth,
            "POST",
            "/api/auth/sign-in",
            body={"email": f"u{i}@example.com", "password": "wrong password 000"},
        ).status
        for i in range(6)
    ]
    assert statuses[-1] == 429


# ----------------------------------------------------------------------------- cookies and CSRF
def test_cookie_mode_needs_the_csrf_token_on_unsafe_requests(api: Api, auth: Any, users: Any) -> None:
    created = sign_up(api, auth)
    cookies = {name: cookie_value(created, name) or "" for name in ("auth-token", "csrf-token")}
    assert all(cookies.values())
    assert api.call(users, "GET", "/api/me", cookies=cookies).status == 200  # safe: no CSRF needed
    profile = {"name": "Ada L.", "bio": "Analyst", "website": "https://example.com"}
    refused = api.call(users, "PUT", "/api/me/profile", body=profile, cookies=cookies)
    assert refused.status == 403
    assert refused.body["code"] == "CSRF_FAILED"
    forged = api.call(
        users, "PUT", "/api/me/profile", body=profile, cookies=cookies, headers={"x-csrf-token": "guess"}
    )
    assert forged.status == 403
    accepted = api.call(
        users,
        "PUT",
        "/api/me/profile",
        body=profile,
        cookies=cookies,
        headers={"x-csrf-token": cookies["csrf-token"]},
    )
    assert accepted.status == 200, accepted.body
    # bearer mode needs no CSRF token
    assert (
        api.call(users, "PUT", "/api/me/profile", body=profile, token=created.data["accessToken"]).status
        == 200
    )


def test_auth_cookies_are_http_only_secure_lax(api: Api, auth: Any) -> None:
    created = sign_up(api, auth)
    by_name = {c.split("=", 1)[0]: c for c in created.cookies}
    for name in ("auth-token", "refresh-token"):
        assert "HttpOnly" in by_name[name]
        assert "Secure" in by_name[name]
        assert "SameSite=lax" in by_name[name] or "SameSite=Lax" in by_name[name]
    assert "Path=/api/auth/refresh" in by_name["refresh-token"]
    assert "HttpOnly" not in by_name["csrf-token"]


def test_refresh_with_the_cookie_needs_csrf(api: Api, auth: Any) -> None:
    created = sign_up(api, auth)
    cookies = {name: cookie_value(created, name) or "" for name in ("refresh-token", "csrf-token")}
    assert api.call(auth, "POST", "/api/auth/refresh", cookies=cookies).status == 403
    ok = api.call(
        auth, "POST", "/api/auth/refresh", cookies=cookies, headers={"x-csrf-token": cookies["csrf-token"]}
    )
    assert ok.status == 200, ok.body


def test_sign_out_clears_the_cookies(api: Api, auth: Any) -> None:
    account = api.account()
    out = api.call(auth, "POST", "/api/auth/sign-out", token=account.token)
    assert out.status == 204
    cleared = {c.split("=", 1)[0] for c in out.cookies if "Max-Age=0" in c or "expires=Thu, 01 Jan 1970" in c}
    assert cleared == {"auth-token", "refresh-token", "csrf-token"}


# ----------------------------------------------------------------------------- profile and account
def test_profile_upsert_and_validation(api: Api, users: Any) -> None:
    account = api.account()
    ok = api.call(
        users,
        "PUT",
        "/api/me/profile",
        token=account.token,
        body={"name": "Ada", "bio": "x" * 500, "website": ""},
    )
    assert ok.status == 200, ok.body
    assert ok.data["user"]["name"] == "Ada"
    assert ok.data["profile"]["website"] is None
    for bad in (
        {"name": "A"},
        {"name": "Ada", "bio": "x" * 501},
        {"name": "Ada", "website": "javascript:alert(1)"},
    ):
        response = api.call(users, "PUT", "/api/me/profile", token=account.token, body=bad)
        assert response.status == 400, (bad, response.body)
        assert response.body["code"] == "VALIDATION_ERROR"


def test_delete_me_removes_the_account_and_its_sessions(api: Api, users: Any) -> None:
    account = api.account()
    response = api.call(users, "DELETE", "/api/me", token=account.token)
    assert response.status == 204
    assert response.body is None
    assert api.call(users, "GET", "/api/me", token=account.token).status == 401


def test_get_me_costs_two_requests(api: Api, users: Any) -> None:
    """One BatchGetItem authenticates (user + session, strongly consistent); the route reuses that
    user and reads only the profile (one GetItem), whose edits it shows at once."""
    account = api.account()
    api.call(users, "GET", "/api/me", token=account.token)  # warm: the signing key is cached now
    with count_requests() as log:
        assert api.call(users, "GET", "/api/me", token=account.token).status == 200
    assert log.operations() == ["BatchGetItem", "GetItem"]
    body = {"name": "Renamed", "bio": "Hello", "website": ""}
    assert api.call(users, "PUT", "/api/me/profile", token=account.token, body=body).status == 200
    me = api.call(users, "GET", "/api/me", token=account.token).data
    assert (me["user"]["name"], me["profile"]["bio"]) == ("Renamed", "Hello")


# ----------------------------------------------------------------------------- roles
def test_role_escalation_attempts_fail(api: Api, auth: Any, users: Any) -> None:
    self_made_admin = sign_up(api, auth, email="mallory@example.com", role="ADMIN")
    assert self_made_admin.status == 400
    assert self_made_admin.body["code"] == "VALIDATION_ERROR"
    user = api.account()
    via_profile = api.call(
        users, "PUT", "/api/me/profile", token=user.token, body={"name": "Mallory", "role": "ADMIN"}
    )
    assert via_profile.status == 400
    via_admin_route = api.call(
        users, "PATCH", f"/api/users/{user.id}", token=user.token, body={"role": "ADMIN"}
    )
    assert via_admin_route.status == 403
    assert api.container.users.get(user.id).role is Role.USER
    forged = raw_token(role="ADMIN")(api, user.id, user.session_id)  # a role claim is not trusted
    assert api.call(users, "GET", "/api/users", token=forged).status == 403


def test_a_demoted_admin_loses_admin_rights_at_once(api: Api, users: Any) -> None:
    boss, admin = api.account(Role.ADMIN), api.account(Role.ADMIN)
    assert api.call(users, "GET", "/api/users", token=admin.token).status == 200
    demoted = api.call(users, "PATCH", f"/api/users/{admin.id}", token=boss.token, body={"role": "USER"})
    assert demoted.status == 200, demoted.body
    assert api.call(users, "GET", "/api/users", token=admin.token).status == 403


def test_admin_cannot_change_own_role_or_delete_self_via_admin_route(api: Api, users: Any) -> None:
    admin = api.account(Role.ADMIN)
    assert (
        api.call(users, "PATCH", f"/api/users/{admin.id}", token=admin.token, body={"role": "USER"}).status
        == 400
    )
    assert api.call(users, "DELETE", f"/api/users/{admin.id}", token=admin.token).status == 400


def test_admin_user_management(api: Api, users: Any) -> None:
    admin = api.account(Role.ADMIN)
    created = api.call(
        users, "POST", "/api/users", token=admin.token, body={"email": "new@example.com", "name": "Newbie"}
    )
    assert created.status == 201, created.body
    assert created.data["role"] == "USER"
    user_id = created.data["id"]
    dup = api.call(
        users, "POST", "/api/users", token=admin.token, body={"email": "NEW@example.com", "name": "Again"}
    )
    assert dup.status == 409
    assert dup.body["code"] == "EMAIL_TAKEN"
    assert (
        api.call(users, "GET", f"/api/users/{user_id}", token=admin.token).data["email"] == "new@example.com"
    )
    patched = api.call(
        users, "PATCH", f"/api/users/{user_id}", token=admin.token, body={"name": "Renamed", "role": "ADMIN"}
    )
    assert patched.status == 200
    assert patched.data["role"] == "ADMIN"
    listing = api.call(users, "GET", "/api/users", token=admin.token, query="limit=1&search=renamed")
    assert listing.status == 200
    assert [u["id"] for u in listing.data] == [user_id]
    assert listing.body["meta"]["total"] == 1
    by_role = api.call(users, "GET", "/api/users", token=admin.token, query="role=ADMIN&limit=10")
    assert {u["id"] for u in by_role.data} == {user_id, admin.id}
    assert api.call(users, "DELETE", f"/api/users/{user_id}", token=admin.token).status == 204
    assert api.call(users, "GET", f"/api/users/{user_id}", token=admin.token).status == 404


def test_user_list_pagination_meta_and_cursor(api: Api, users: Any) -> None:
    admin = api.account(Role.ADMIN)
    for _ in range(4):
        api.account()
    first = api.call(users, "GET", "/api/users", token=admin.token, query="limit=2")
    assert first.body["meta"] == {
        "page": 1,
        "limit": 2,
        "total": 5,
        "totalPages": 3,
        "nextCursor": first.body["meta"]["nextCursor"],
    }
    second = api.call(
        users,
        "GET",
        "/api/users",
        token=admin.token,
        query=f"limit=2&cursor={first.body['meta']['nextCursor']}",
    )
    assert second.body["meta"]["page"] == 2
    assert not {u["id"] for u in first.data} & {u["id"] for u in second.data}
    assert api.call(users, "GET", "/api/users", token=admin.token, query="limit=101").status == 400
    assert (
        api.call(users, "GET", "/api/users", token=admin.token, query="limit=2&cursor=forged").body["code"]
        == "INVALID_CURSOR"
    )


def test_responses_never_carry_hashes_or_secrets(api: Api, users: Any, auth: Any) -> None:
    created = sign_up(api, auth)
    admin = api.account(Role.ADMIN)
    texts = [
        str(created.body["data"]["user"]),
        str(api.call(users, "GET", "/api/me", token=created.data["accessToken"]).body),
        str(api.call(users, "GET", "/api/users", token=admin.token).body),
    ]
    for text in texts:
        assert "argon2" not in text
        assert "passwordHash" not in text
        assert "tokenHash" not in text


def test_unknown_user_id_shapes_are_400_or_404(api: Api, users: Any) -> None:
    admin = api.account(Role.ADMIN)
    assert api.call(users, "GET", "/api/users/not-an-id", token=admin.token).status == 400
    assert api.call(users, "GET", "/api/users/01JNB9A0M4TNG4YVQ1S6J1Y0RZ", token=admin.token).status == 404


def test_anonymous_gets_401_on_protected_routes(api: Api, users: Any, auth: Any) -> None:
    for handler, method, path in (
        (users, "GET", "/api/me"),
        (users, "GET", "/api/users"),
        (users, "DELETE", "/api/me"),
        (auth, "POST", "/api/auth/sign-out"),
    ):
        response = api.call(handler, method, path)
        assert response.status == 401, (method, path)


def test_access_token_lifetime_comes_from_the_runtime_configuration(api: Api, auth: Any) -> None:
    api.container.config = lambda: RuntimeConfig(access_token_ttl_seconds=120)  # type: ignore[method-assign]
    created = sign_up(api, auth)
    claims = jwt.decode(created.data["accessToken"], options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 120
    assert created.data["expiresIn"] == 120
    assert {"iss", "aud", "sub", "role", "sid", "iat", "exp", "jti"} <= set(claims)
    assert jwt.get_unverified_header(created.data["accessToken"])["kid"]
    assert timedelta(seconds=claims["exp"] - claims["iat"]) == timedelta(minutes=2)
