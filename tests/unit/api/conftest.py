"""The API functions' Lambda handlers, for tests that call them with the ``api`` fixture."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.identity import Api


@pytest.fixture
def auth(api: Api) -> Any:
    """AuthFunction's handler."""
    from functions.auth import app

    return app.handler


@pytest.fixture
def users(api: Api) -> Any:
    """UsersFunction's handler."""
    from functions.users import app

    return app.handler
