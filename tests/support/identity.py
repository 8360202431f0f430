"""Authenticated calls in unit tests: a signing secret in moto, accounts with sessions, and a client.

    def test_something(api: Api) -> None:
        admin = api.account(Role.ADMIN)
        response = api.call(app.handler, "GET", "/api/users", token=admin.token)

``api`` (tests/unit/conftest.py) gives moto with the app table, the token-signing secret, the
queues and a fresh wiring container; ``Api.account`` writes a user and a session straight through
the repositories and mints an access token with the container's key, so a test that is not about
signing in does not pay for argon2 or the sign-in rate limit.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from backend.models.enums import Role
from backend.records.users import UserRecord
from backend.services import tokens
from backend.wiring import Container, get_container
from tests.support import conformance
from tests.support.apigw import FakeContext, http_event

TOKEN_SECRET_NAME = "app-backend/test/token-signing-key"
TOKEN_SECRET = "test-token-signing-secret-0123456789-abcdefghijklmnop"
#: The password of accounts made by ``Api.account``.
PASSWORD = "correct horse battery staple"
#: Every plaintext password the tests use: the suite fails if one shows up in any captured output.
KNOWN_PASSWORDS = (PASSWORD, "analytical engine 1843", "difference engine 1822", "wrong password 000")


@dataclass
class Account:
    user: UserRecord
    session_id: str
    token: str
    refresh_token: str

    @property
    def id(self) -> str:
        return self.user.id

    @property
    def headers(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.token}"}


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: Any
    cookies: list[str] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def data(self) -> Any:
        return self.body["data"]


_counter = iter(range(1, 10_000_000))


class Api:
    """Accounts and calls against the process's container (``backend.wiring``): after the
    ``fresh_process`` fixture starts the process over, the new one."""

    @property
    def container(self) -> Container:
        return get_container()

    def user(
        self, role: Role = Role.USER, *, email: str | None = None, name: str = "Test User"
    ) -> UserRecord:
        """A user record and nothing else: no session, no token (what a job's tests need: a process
        of the worker's kind cannot sign tokens)."""
        from backend.services import passwords

        n = next(_counter)
        return self.container.users.create(
            email=email or f"user{n}-{role.value.lower()}@example.com",
            password_hash=_password_hash(passwords),
            name=name,
            role=role,
        )

    def account(
        self, role: Role = Role.USER, *, email: str | None = None, name: str = "Test User"
    ) -> Account:
        user = self.user(role, email=email, name=name)
        secret = tokens.new_refresh_secret()
        now = self.container.clock()
        session = self.container.sessions.create(
            user.id, token_hash=tokens.hash_secret(secret), expires_at=now + timedelta(days=7)
        )
        token, _ = tokens.issue_access_token(
            self.container.keyring.current(),
            user_id=user.id,
            role=role,
            session_id=session.id,
            now=now,
            ttl_seconds=900,
            issuer=self.container.issuer,
        )
        refresh = str(tokens.RefreshToken(user_id=user.id, session_id=session.id, secret=secret))
        return Account(user=user, session_id=session.id, token=token, refresh_token=refresh)

    @staticmethod
    def call(
        handler: Any,
        method: str,
        path: str,
        *,
        body: Any = None,
        token: str | None = None,
        headers: dict[str, str] | None = None,
        query: str = "",
        cookies: dict[str, str] | None = None,
        source_ip: str | None = None,
        conform: bool = True,
    ) -> Response:
        """One request through ``handler``; the response is checked against the function's OpenAPI
        document (tests/support/conformance.py) unless ``conform=False``."""
        all_headers = dict(headers or {})
        if token is not None:
            all_headers["authorization"] = f"Bearer {token}"
        event = http_event(method, path, body=body, headers=all_headers, query=query)
        if cookies:
            event["cookies"] = [f"{k}={v}" for k, v in cookies.items()]
        if source_ip:
            event["requestContext"]["http"]["sourceIp"] = source_ip
        raw: dict[str, Any] = handler(event, FakeContext())
        text = raw.get("body") or ""
        document = conformance.document_for(handler)
        if document is not None and conform:
            conformance.check(
                document,
                method,
                path,
                status=raw["statusCode"],
                headers={k.lower(): v for k, v in (raw.get("headers") or {}).items()},
                body_text=text,
                cookies=list(raw.get("cookies") or []),
            )
        return Response(
            status=raw["statusCode"],
            headers={k.lower(): v for k, v in (raw.get("headers") or {}).items()},
            body=json.loads(text) if text else None,
            cookies=list(raw.get("cookies") or []),
            raw=raw,
        )


_hash_cache: dict[str, str] = {}


def _password_hash(passwords: Any) -> str:
    if "hash" not in _hash_cache:
        _hash_cache["hash"] = passwords.hash_password(PASSWORD)
    return _hash_cache["hash"]


def cookie_value(response: Response, name: str) -> str | None:
    for cookie in response.cookies:
        key, _, rest = cookie.partition("=")
        if key == name:
            return rest.split(";", 1)[0]
    return None
