"""Fuzz fixtures: a local cloud of the project's template, with an admin seeded for the ADMIN pass."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fuzz.auth import Account, NoToken, admin_account, obtain
from tests.integration.conftest import LocalCloud, start_local_cloud


@pytest.fixture(scope="session")
def fuzz_admin() -> Account:
    return admin_account()


@pytest.fixture(scope="session")
def fuzz_cloud(tmp_path_factory: pytest.TempPathFactory, fuzz_admin: Account) -> Iterator[LocalCloud]:
    """template.yaml running locally; LOCAL_ADMIN_* make its seed create the ADMIN pass's account."""
    log = tmp_path_factory.mktemp("fuzz-cloud") / "local-cloud.log"
    saved = {name: os.environ.get(name) for name in ("LOCAL_ADMIN_EMAIL", "LOCAL_ADMIN_PASSWORD")}
    os.environ["LOCAL_ADMIN_EMAIL"] = fuzz_admin.email
    os.environ["LOCAL_ADMIN_PASSWORD"] = fuzz_admin.password
    try:
        cloud = start_local_cloud([], log)
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    yield cloud
    cloud.stop()


@pytest.fixture
def report_dir(tmp_path: Path) -> Path:
    return tmp_path


@pytest.fixture(scope="session")
def fuzz_tokens(fuzz_cloud: LocalCloud, fuzz_admin: Account) -> dict[str, str | NoToken]:
    """A token per role, or why there is none, obtained before any pass runs (the anonymous pass
    hammers sign-up and sign-in, whose rate limit would then refuse the USER and ADMIN sign-ins)."""
    tokens: dict[str, str | NoToken] = {}
    for role in ("user", "admin"):
        try:
            tokens[role] = obtain(fuzz_cloud.base_url, role, admin=fuzz_admin)
        except NoToken as exc:
            tokens[role] = exc
    return tokens
