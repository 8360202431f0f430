"""Pytest plugin: the suite fails if any DynamoDB Scan (or PartiQL statement) is issued, or if any
test's captured output (logs, stdout, stderr) holds a token, a password hash or a test password.

Registered from tests/conftest.py (``pytest_plugins = ["tests.support.plugin"]``). It hooks botocore
once at configure time (tests.support.ddb), attributes every Scan to the running test (threads
included), fails that test at teardown, and fails the session for Scans made outside any test
(imports, session fixtures). ``SCAN_ALLOWLIST`` names the tests allowed to scan: it is empty, and
should stay so (see docs/data-model.md: every access pattern is a GetItem, a Query or a BatchGet).
"""

from __future__ import annotations

import re
import threading
import traceback
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support import ddb

#: Node ids of tests allowed to issue Scans. Keep it empty.
SCAN_ALLOWLIST: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class ScanRecord:
    test: str | None
    call: ddb.ApiCall
    origin: str


class ScanGuard:
    def __init__(self) -> None:
        self.current_test: str | None = None
        self.records: list[ScanRecord] = []
        self._lock = threading.Lock()

    def listen(self, call: ddb.ApiCall) -> None:
        if call.service != "dynamodb" or call.operation not in ddb.SCAN_OPERATIONS:
            return
        frames = [f for f in traceback.extract_stack()[:-2] if "botocore" not in f.filename]
        origin = "".join(traceback.format_list(frames[-6:]))
        with self._lock:
            self.records.append(ScanRecord(self.current_test, call, origin))

    def violations(self, test: str | None = None, *, outside_tests: bool = False) -> list[ScanRecord]:
        with self._lock:
            records = list(self.records)
        if outside_tests:
            return [r for r in records if r.test is None]
        return [r for r in records if r.test == test and r.test not in SCAN_ALLOWLIST]

    # ------------------------------------------------------------------ hooks
    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item) -> Iterator[None]:
        self.current_test = item.nodeid
        try:
            return (yield)
        finally:
            self.current_test = None

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_teardown(self, item: pytest.Item) -> Iterator[None]:
        result = yield
        found = self.violations(item.nodeid)
        if found:
            details = "\n".join(f"{r.call} from:\n{r.origin}" for r in found)
            pytest.fail(f"DynamoDB Scan issued by {item.nodeid} (Scans are not allowed):\n{details}")
        return result

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if self.violations(outside_tests=True) and exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        with self._lock:
            records = [r for r in self.records if r.test not in SCAN_ALLOWLIST]
        if not records:
            return
        terminalreporter.section("DynamoDB Scan guard", red=True)
        for record in records:
            terminalreporter.write_line(f"{record.test or '<outside any test>'}: {record.call}")
            terminalreporter.write_line(record.origin)


def pytest_configure(config: pytest.Config) -> None:
    from tests.support import request_log

    request_log.install_from_environment()  # the IAM contract's request log (make test)
    guard = ScanGuard()
    ddb.add_listener(guard.listen)
    config.pluginmanager.register(guard, "dynamodb-scan-guard")
    config.pluginmanager.register(SecretLogGuard(), "secret-log-guard")
    config.pluginmanager.register(FolderGuard(), "test-folder-guard")
    config.addinivalue_line(
        "markers", "allow_secrets_in_output: the test prints secret-like text on purpose (guard tests)"
    )


# ----------------------------------------------------------------------------- secrets in logs
#: What must never appear in anything a test captured (logs, stdout, stderr): credentials and hashes.
SECRET_PATTERNS: dict[str, re.Pattern[str]] = {
    "a JWT": re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{10,}"),
    "an argon2 hash": re.compile(r"\$argon2(?:id|i|d)\$"),
    "a refresh token": re.compile(r"\b[0-9A-HJKMNP-TV-Z]{26}\.[0-9A-HJKMNP-TV-Z]{26}\.[A-Za-z0-9_-]{43}\b"),
    "a SHA-256 hex digest (token hash)": re.compile(r"\b[0-9a-f]{64}\b"),
}


def find_secrets(text: str, known_passwords: Iterable[str] = ()) -> list[str]:
    """What kinds of secret ``text`` contains (empty when none)."""
    found = [name for name, pattern in SECRET_PATTERNS.items() if pattern.search(text)]
    found += [f"the password {p!r}" for p in known_passwords if p and p in text]
    return found


class SecretLogGuard:
    """Fails a test whose captured output (logs included) holds a token, a hash or a test password."""

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
        report: pytest.TestReport = yield  # type: ignore[misc]
        if call.when != "teardown" or item.get_closest_marker("allow_secrets_in_output"):
            return report  # type: ignore[return-value]
        from tests.support.identity import KNOWN_PASSWORDS

        captured = "\n".join(content for title, content in report.sections if title.startswith("Captured"))
        found = find_secrets(captured, KNOWN_PASSWORDS)
        if found and report.outcome == "passed":
            report.outcome = "failed"
            report.longrepr = f"secret material in captured output of {item.nodeid}: {', '.join(found)}"
        return report  # type: ignore[return-value]


# ----------------------------------------------------------------------------- no folder drops out
TESTS_ROOT = Path(__file__).resolve().parents[1]


def folders_with_tests(root: Path = TESTS_ROOT) -> set[str]:
    """The folders under tests/ that hold test modules (``test_*.py``), by name."""
    return {
        path.relative_to(root).parts[0]
        for path in root.rglob("test_*.py")
        if len(path.relative_to(root).parts) > 1 and "__pycache__" not in path.parts
    }


def folders_without_tests(collected: Iterable[Path], root: Path = TESTS_ROOT) -> list[str]:
    """Test folders none of whose tests were collected (before any -m/-k deselection)."""
    seen = {
        path.resolve().relative_to(root).parts[0] for path in collected if path.resolve().is_relative_to(root)
    }
    return sorted(folders_with_tests(root) - seen)


class FolderGuard:
    """A plain `pytest` (the whole suite, as `make test` runs it) fails when a folder of tests
    contributes no collected test: pytest's ``norecursedirs`` once hid tests/build this way."""

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        if config.args_source is not pytest.Config.ArgsSource.TESTPATHS:
            return  # a folder or test named on the command line: the others are left out on purpose
        missing = folders_without_tests(item.path for item in items)
        if missing:
            raise pytest.UsageError(
                f"no test collected from tests/{', tests/'.join(missing)}: check norecursedirs and the file names"
            )
