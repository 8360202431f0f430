"""Tokens for the fuzz passes, obtained the way a client gets them: through the API.

``obtain(base_url, role)`` returns a bearer access token for ``"user"`` (a fresh account from
``POST /api/auth/sign-up``) or ``"admin"`` (``POST /api/auth/sign-in`` as the local cloud's seeded
admin), or raises ``NoToken`` saying why not (the identity routes are not in the document yet, or
the API refused), so the pass is skipped with that reason instead of fuzzing anonymously.
Replace this module's functions if the identity routes change shape.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

import httpx

SIGN_UP = "/api/auth/sign-up"
SIGN_IN = "/api/auth/sign-in"
ADMIN_EMAIL = "fuzz-admin@example.com"


class NoToken(Exception):
    """This role cannot be signed in here; the message says why."""


@dataclass(frozen=True)
class Account:
    email: str
    password: str


def admin_account() -> Account:
    """The admin the fuzz cloud seeds (LOCAL_ADMIN_EMAIL / LOCAL_ADMIN_PASSWORD of its process)."""
    return Account(ADMIN_EMAIL, f"fuzz-{secrets.token_urlsafe(18)}")


def _operations(base_url: str) -> set[tuple[str, str]]:
    document = httpx.get(f"{base_url}/openapi.json", timeout=60).json()
    return {(method.upper(), path) for path, item in document.get("paths", {}).items() for method in item}


def _token(response: httpx.Response, what: str) -> str:
    if response.status_code not in (200, 201):
        raise NoToken(f"{what} answered {response.status_code}: {response.text[:200]}")
    body: Any = response.json()
    token = (body.get("data") or {}).get("accessToken") if isinstance(body, dict) else None
    if not isinstance(token, str) or not token:
        raise NoToken(f"{what} gave no data.accessToken")
    return token


def obtain(base_url: str, role: str, *, admin: Account | None = None) -> str:
    """A bearer access token for ``role`` ("user" or "admin"), or ``NoToken``."""
    operations = _operations(base_url)
    missing = [path for path in (SIGN_UP, SIGN_IN) if ("POST", path) not in operations]
    if missing:
        raise NoToken(f"the API has no {' or '.join(missing)} yet (identity routes not in /openapi.json)")
    with httpx.Client(base_url=base_url, timeout=60) as client:
        if role == "user":
            email = f"fuzz-user-{secrets.token_hex(6)}@example.com"
            password = f"Fuzz-{secrets.token_urlsafe(18)}"
            response = client.post(SIGN_UP, json={"email": email, "password": password, "name": "Fuzz User"})
            return _token(response, f"POST {SIGN_UP}")
        if role == "admin":
            if admin is None:
                raise NoToken("no admin account was seeded for this cloud")
            response = client.post(SIGN_IN, json={"email": admin.email, "password": admin.password})
            return _token(response, f"POST {SIGN_IN} as the seeded admin")
    raise ValueError(f"unknown role {role!r}")
