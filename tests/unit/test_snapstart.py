"""SnapStart's after-restore hook: every copy restored from one snapshot gets fresh state.

A snapshot is simulated by saving the state a module holds after init and putting the same state
back before each "copy" runs; the hook is what a restored copy runs first.
"""

from __future__ import annotations

import random
import sys
import types
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest

from backend import aws as aws_clients
from backend import snapstart
from backend.models import ids
from tests.support.ddb import ApiCall, add_listener, remove_listener


@pytest.fixture(autouse=True)
def _clean_registration() -> Iterator[None]:
    snapstart._forget_registration()
    yield
    snapstart._forget_registration()


def _ids_state() -> tuple[int, int]:
    return ids._last_ms, ids._last_random


def _set_ids_state(state: tuple[int, int]) -> None:
    ids._last_ms, ids._last_random = state


def _copy(snapshot: tuple[int, int], *, hook: bool, now_ns: int, monkeypatch: pytest.MonkeyPatch) -> str:
    """One restored copy: the snapshot's state, (the hook,) then an id in the same millisecond."""
    _set_ids_state(snapshot)
    if hook:
        snapstart.restore()
    monkeypatch.setattr(ids.time, "time_ns", lambda: now_ns)
    return ids.new_id()


def test_copies_restored_from_one_snapshot_make_different_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    now_ns = 1_800_000_000_000 * 1_000_000
    monkeypatch.setattr(ids.time, "time_ns", lambda: now_ns)
    ids.new_id()  # init made an id: the monotonic state is now in the snapshot
    snapshot = _ids_state()
    # Without the hook, two copies resumed in the same millisecond hand out the same id...
    assert _copy(snapshot, hook=False, now_ns=now_ns, monkeypatch=monkeypatch) == _copy(
        snapshot, hook=False, now_ns=now_ns, monkeypatch=monkeypatch
    )
    # ...with it, each draws its own random part.
    first = _copy(snapshot, hook=True, now_ns=now_ns, monkeypatch=monkeypatch)
    second = _copy(snapshot, hook=True, now_ns=now_ns, monkeypatch=monkeypatch)
    assert first != second
    assert ids.id_time(first) == ids.id_time(second)  # same millisecond, still unique


def test_restore_forgets_the_monotonic_state() -> None:
    ids.new_id()
    assert _ids_state()[0] > 0
    snapstart.restore()
    assert _ids_state() == (-1, 0)


def test_restore_reseeds_random() -> None:
    snapshot = random.getstate()
    without_hook = [random.random() for _ in range(3)]
    random.setstate(snapshot)
    assert [random.random() for _ in range(3)] == without_hook  # what every copy would draw
    random.setstate(snapshot)
    snapstart.restore()
    assert [random.random() for _ in range(3)] != without_hook


def test_restore_forgets_cached_clients(aws: None) -> None:
    before = aws_clients.sqs()
    assert aws_clients.sqs() is before  # cached
    snapstart.restore()
    assert aws_clients.sqs() is not before


def test_restore_forgets_the_table_connection(table: Any) -> None:
    from backend.models.base import TableItem

    connection = TableItem._get_connection()
    assert TableItem._get_connection() is connection
    snapstart.restore()
    assert TableItem._connection is None
    assert TableItem._get_connection() is not connection


@pytest.fixture
def ssm_calls(
    aws: None, monkeypatch: pytest.MonkeyPatch, fresh_process: Callable[[], None]
) -> Iterator[list[ApiCall]]:
    monkeypatch.setenv("CONFIG_PARAMETER_NAME", "/app-backend/test/config")
    fresh_process()
    boto3.client("ssm").put_parameter(
        Name="/app-backend/test/config", Value='{"authAttemptsPerMinute": 30}', Type="String"
    )
    calls: list[ApiCall] = []
    add_listener(calls.append)
    yield calls
    remove_listener(calls.append)


def test_restore_clears_the_parameters_cache(ssm_calls: list[ApiCall]) -> None:
    from backend.config import get_runtime_config

    get_runtime_config()
    get_runtime_config()
    assert [c.operation for c in ssm_calls] == ["GetParameter"]  # cached
    snapstart.restore()
    assert get_runtime_config().auth_attempts_per_minute == 30
    assert [c.operation for c in ssm_calls] == ["GetParameter", "GetParameter"]  # read again


def test_restore_drops_the_wiring_container(table: Any) -> None:
    from backend.wiring import get_container

    container = get_container()
    assert get_container() is container
    snapstart.restore()
    assert get_container() is not container


def test_restore_closes_the_read_cache_connection(table: Any) -> None:
    from backend.wiring import get_container

    closed: list[bool] = []

    class Client:  # the container's one Redis client (read cache and idempotency)
        def close(self) -> None:
            closed.append(True)

    container = get_container()
    container.__dict__["redis"] = Client()  # as if connected before the snapshot
    snapstart.restore()
    assert closed == [True]
    assert get_container() is not container


def test_hooks_do_not_import_what_the_function_did_not(monkeypatch: pytest.MonkeyPatch) -> None:
    names = (
        "backend.models.ids",
        "backend.aws",
        "backend.models.base",
        "backend.http.deps",
        "backend.config",
    )
    for name in (*names, "aws_lambda_powertools.utilities.parameters"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    snapstart.restore()
    for name in names:
        assert name not in sys.modules


def fake_runtime_library(monkeypatch: pytest.MonkeyPatch) -> list[Callable[[], None]]:
    """Stand in for the `snapshot_restore_py` library that Lambda's Python runtime provides."""
    registered: list[Callable[[], None]] = []
    module = types.ModuleType("snapshot_restore_py")
    module.register_after_restore = registered.append  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", module)
    return registered


def test_register_is_a_no_op_outside_lambda(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", None)  # import fails, as off Lambda
    assert snapstart.register() is False


def test_register_hooks_restore_once(monkeypatch: pytest.MonkeyPatch) -> None:
    registered = fake_runtime_library(monkeypatch)
    assert snapstart.register() is True
    assert snapstart.register() is True
    assert registered == [snapstart.restore]


def test_api_functions_register_the_hook(monkeypatch: pytest.MonkeyPatch, table: Any) -> None:
    registered = fake_runtime_library(monkeypatch)
    from backend.http.app import create_app, create_handler

    create_handler(create_app("test", routers=[]))
    assert registered == [snapstart.restore]
