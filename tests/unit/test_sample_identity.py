"""Sample events of authenticated routes: placeholders, seeded accounts, tokens the functions accept."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from local.emulator import Emulator
from local.functions import load_functions
from local.provision import provision
from local.sample_identity import (
    SampleIdentity,
    SampleIdentityError,
    _function_environment,
    placeholders,
    prepare_event,
    render,
    seed_identity,
)
from local.stack import Stack
from local.template import TEMPLATE_PATH

EVENT = {
    "rawPath": "/api/users/${USER_ID}",
    "headers": {"authorization": "Bearer ${ACCESS_TOKEN}", "user-agent": "pytest"},
    "cookies": ["a=${ADMIN_ACCESS_TOKEN}"],
    "body": None,
    "isBase64Encoded": False,
}


def test_placeholders_are_found_anywhere_in_an_event() -> None:
    assert placeholders(EVENT) == {"USER_ID", "ACCESS_TOKEN", "ADMIN_ACCESS_TOKEN"}
    assert placeholders({"a": [1, None, "plain"]}) == set()


def test_render_fills_every_placeholder_and_leaves_the_rest() -> None:
    values = {"USER_ID": "U1", "ACCESS_TOKEN": "tok", "ADMIN_ACCESS_TOKEN": "adm"}
    rendered = render(EVENT, values)
    assert rendered["rawPath"] == "/api/users/U1"
    assert rendered["headers"] == {"authorization": "Bearer tok", "user-agent": "pytest"}
    assert rendered["cookies"] == ["a=adm"]
    assert rendered["isBase64Encoded"] is False
    assert EVENT["rawPath"] == "/api/users/${USER_ID}"  # the original is untouched


def test_an_unknown_placeholder_is_an_error_naming_it() -> None:
    with pytest.raises(SampleIdentityError, match=r"\$\{NOPE\}"):
        render({"x": "${NOPE}"}, {"ACCESS_TOKEN": "t"})


def test_seeding_needs_the_functions_table_and_key() -> None:
    with pytest.raises(SampleIdentityError, match="TOKEN_SECRET_NAME"):
        seed_identity("http://127.0.0.1:9", {"TABLE_NAME": "t"})


@pytest.fixture(scope="module")
def stack_environment() -> Iterator[tuple[str, dict[str, str]]]:
    """An emulator provisioned from template.yaml, and UsersFunction's environment in it."""
    emulator = Emulator()
    emulator.start()
    try:
        stack = Stack.from_file(TEMPLATE_PATH)
        provision(stack, emulator.clients())
        yield emulator.endpoint_url, load_functions(stack)["UsersFunction"].environment
    finally:
        emulator.stop()


def test_seeded_tokens_authenticate_as_their_accounts(stack_environment: tuple[str, dict[str, str]]) -> None:
    endpoint, environment = stack_environment
    identity = seed_identity(endpoint, environment)
    assert "eyJ" not in repr(identity)  # tokens never printed
    with _function_environment(endpoint, environment):
        from backend.models.enums import Role
        from backend.services import auth
        from backend.wiring import get_container

        deps = get_container().identity
        user = auth.authenticate(deps, identity.access_token)
        admin = auth.authenticate(deps, identity.admin_access_token)
    assert (user.user_id, user.role) == (identity.user_id, Role.USER)
    assert (admin.user_id, admin.role) == (identity.admin_user_id, Role.ADMIN)


def test_prepare_event_seeds_only_when_needed(stack_environment: tuple[str, dict[str, str]]) -> None:
    endpoint, environment = stack_environment
    plain = {"rawPath": "/api/health"}
    assert prepare_event(plain, endpoint, environment) is plain
    prepared = prepare_event(EVENT, endpoint, environment)
    assert placeholders(prepared) == set()
    assert prepared["headers"]["authorization"].startswith("Bearer eyJ")


def test_the_process_environment_is_restored(stack_environment: tuple[str, dict[str, str]]) -> None:
    import os

    before = dict(os.environ)
    endpoint, environment = stack_environment
    identity = seed_identity(endpoint, environment)
    assert isinstance(identity, SampleIdentity)
    assert dict(os.environ) == before
