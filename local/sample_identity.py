"""Sample identities for sample events: accounts with live sessions, and their access tokens.

A sample event of an authenticated route (``events/<group>/*.json``) carries placeholders, filled
in just before the event is used (``python -m local invoke``, ``make bench``, tests):

    "headers": {"authorization": "Bearer ${ACCESS_TOKEN}"}

| placeholder | value |
| --- | --- |
| ``${ACCESS_TOKEN}`` | an access token of a USER account with a live session |
| ``${ADMIN_ACCESS_TOKEN}`` | an access token of an ADMIN account with a live session |
| ``${USER_ID}``, ``${ADMIN_USER_ID}`` | the ids of those accounts |

:func:`seed_identity` writes the two accounts and their sessions through the repositories into the
table a function's environment names (``TABLE_NAME``, in the emulator at ``endpoint_url``), and
signs the tokens with the key its ``TOKEN_SECRET_NAME`` holds there, as the sign-in route would.
:func:`render` fills the placeholders of an event. Both need nothing but the emulator: no running
function, no sign-in (so no argon2 per account and no rate limit).
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from local.emulator import FAKE_CREDENTIALS
from local.intrinsics import REGION

PLACEHOLDER = re.compile(r"\$\{([A-Z][A-Z0-9_]*)\}")
#: The password of the sample accounts (sign-in sample events may use it).
SAMPLE_PASSWORD = "correct horse battery staple"  # noqa: S105 - a sample account's, on the emulator only
#: How long the sample access tokens stay valid (a bench run or a local session).
TOKEN_TTL_SECONDS = 3600

_environment_lock = threading.Lock()


class SampleIdentityError(RuntimeError):
    """A sample event cannot be prepared (names the placeholder or the missing setting)."""


@dataclass(frozen=True)
class SampleIdentity:
    user_id: str
    admin_user_id: str
    access_token: str
    admin_access_token: str

    @property
    def values(self) -> dict[str, str]:
        """Placeholder name → value."""
        return {
            "ACCESS_TOKEN": self.access_token,
            "ADMIN_ACCESS_TOKEN": self.admin_access_token,
            "USER_ID": self.user_id,
            "ADMIN_USER_ID": self.admin_user_id,
        }

    def __repr__(self) -> str:  # never print tokens
        return f"SampleIdentity(user_id={self.user_id!r}, admin_user_id={self.admin_user_id!r})"


def placeholders(value: Any) -> set[str]:
    """The placeholder names used anywhere in an event (strings inside dicts and lists)."""
    if isinstance(value, str):
        return set(PLACEHOLDER.findall(value))
    if isinstance(value, Mapping):
        return set().union(*(placeholders(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(placeholders(v) for v in value)) if value else set()
    return set()


def render(value: Any, values: Mapping[str, str]) -> Any:
    """A copy of an event with every ``${NAME}`` replaced; an unknown name is an error."""
    if isinstance(value, str):

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in values:
                known = ", ".join(f"${{{key}}}" for key in sorted(values)) or "none"
                raise SampleIdentityError(f"unknown placeholder ${{{name}}} (known: {known})")
            return values[name]

        return PLACEHOLDER.sub(substitute, value)
    if isinstance(value, Mapping):
        return {key: render(item, values) for key, item in value.items()}
    if isinstance(value, list):
        return [render(item, values) for item in value]
    return value


@contextmanager
def _function_environment(endpoint_url: str, environment: Mapping[str, str]) -> Iterator[None]:
    """This process, for the duration, configured as the function (its settings, the emulator).

    The backend reads its settings and its AWS endpoint from the environment and caches clients and
    connections per process: both are reset on the way in and on the way out.
    """
    from backend import wiring

    overrides = {
        **environment,
        **FAKE_CREDENTIALS,
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_REGION": environment.get("AWS_REGION", REGION),
        "AWS_DEFAULT_REGION": environment.get("AWS_REGION", REGION),
    }
    with _environment_lock:
        saved = {key: os.environ.get(key) for key in overrides}
        os.environ.update(overrides)
        wiring.reset()
        try:
            yield
        finally:
            for key, old in saved.items():
                if old is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = old
            wiring.reset()


def seed_identity(endpoint_url: str, environment: Mapping[str, str]) -> SampleIdentity:
    """Write a USER and an ADMIN account with live sessions; sign an access token for each.

    ``environment`` is a function's environment as the template declares it (``TABLE_NAME``,
    ``TOKEN_SECRET_NAME``, ``APP_STAGE``...): the accounts go into its table, the tokens are signed
    with its key and its stage's issuer, so that function (and every other of the stack) accepts
    them. Each call writes new accounts.
    """
    for required in ("TABLE_NAME", "TOKEN_SECRET_NAME"):
        if not environment.get(required):
            raise SampleIdentityError(f"cannot seed sample accounts: the environment has no {required}")
    with _function_environment(endpoint_url, environment):
        from backend.models.enums import Role
        from backend.services import passwords, tokens
        from backend.wiring import get_container

        container = get_container()
        password_hash = passwords.hash_password(SAMPLE_PASSWORD)
        issued: dict[Role, tuple[str, str]] = {}
        for role in (Role.USER, Role.ADMIN):
            from backend.models.ids import new_id

            email = f"sample-{role.value.lower()}-{new_id().lower()}@example.com"
            user = container.users.create(
                email=email, password_hash=password_hash, name=f"Sample {role.value.title()}", role=role
            )
            now = container.clock()
            session = container.sessions.create(
                user.id,
                token_hash=tokens.hash_secret(tokens.new_refresh_secret()),
                expires_at=now + timedelta(seconds=TOKEN_TTL_SECONDS),
            )
            token, _claims = tokens.issue_access_token(
                container.keyring.current(),
                user_id=user.id,
                role=role,
                session_id=session.id,
                now=now,
                ttl_seconds=TOKEN_TTL_SECONDS,
                issuer=container.issuer,
            )
            issued[role] = (user.id, token)
    return SampleIdentity(
        user_id=issued[Role.USER][0],
        admin_user_id=issued[Role.ADMIN][0],
        access_token=issued[Role.USER][1],
        admin_access_token=issued[Role.ADMIN][1],
    )


def prepare_event(event: Any, endpoint_url: str, environment: Mapping[str, str]) -> Any:
    """The event ready to use: seeds sample accounts only when the event has placeholders."""
    if not placeholders(event):
        return event
    return render(event, seed_identity(endpoint_url, environment).values)
