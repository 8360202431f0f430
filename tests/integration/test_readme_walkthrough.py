"""README.md's walk-through, run as written against a fresh local cloud: it must work copy-pasted.

The ```bash blocks of the "Walk-through" section are cut into commands (a line and its ``\\``
continuations) and run in order by one bash, as a developer pastes them into a second shell while
`make dev` runs, with three substitutions: the cloud's free port for 3000 in the URLs (and ``PORT``
exported, as the README says to do for another port), this interpreter for ``.venv/bin/python`` and
for make's ``PY``. Only the lines that need Docker are skipped, by the explicit list ``SKIPPED``.

Each ``# → ...`` comment promises what the command before it answers: the status of its last HTTP
call (every curl call's status is recorded through a ``curl`` shell function that adds ``-D``), and
each ``"key":value`` fragment, which some JSON document the command printed must hold (``…`` in a
string matches anything). A command without a promise must exit 0 and get no 4xx or 5xx. A few
promises that are prose are checked one by one at the end (the replayed order is the same order...).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import ROOT, LocalCloud

pytestmark = pytest.mark.integration

README = ROOT / "README.md"
SECTION = "## Walk-through"
#: The commands that need Docker (SAM CLI's containers), by how they start; each must be in the README.
SKIPPED = ("make invoke-env", "sam build", "sam local invoke ")
BUDGET_SECONDS = 60
MARK = "@@readme-step"
FRAGMENT = re.compile(r'"(\w+)":("(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?|true|false|null)')
STATUS = re.compile(r"^(\d{3})\b")


@dataclass
class Step:
    """One command of the walk-through, what the README promises about it, and what it did."""

    line: int
    command: str
    promise: str = ""
    rc: int | None = None
    stdout: str = ""
    stderr: str = ""
    statuses: list[int] = field(default_factory=list)

    def __str__(self) -> str:
        return f"README.md:{self.line}: {self.command.splitlines()[0]}"


def walkthrough(text: str) -> tuple[list[Step], list[str]]:
    """The walk-through's commands (with their promises) and the skipped ones."""
    start = text.index(SECTION)
    end = text.find("\n## ", start + 1)
    section = text[start : end if end != -1 else len(text)]
    offset = text[:start].count("\n")
    steps: list[Step] = []
    skipped: list[str] = []
    lines = section.splitlines()
    in_bash = False
    index = 0
    last: Step | None = None  # the step a "# →" comment (and its indented continuation) belongs to
    promising = False
    while index < len(lines):
        line = lines[index]
        number = offset + index + 1
        index += 1
        if line.strip().startswith("```"):
            in_bash = line.strip() == "```bash" if not in_bash else False
            last, promising = None, False
            continue
        if not in_bash:
            continue
        stripped = line.strip()
        if stripped.startswith("# →"):
            assert last is not None, f"README.md:{number}: a promise with no command before it"
            assert not last.promise, f"README.md:{number}: a second promise for {last}"
            last.promise, promising = stripped.removeprefix("# →").strip(), True
            continue
        if stripped.startswith("#"):
            if promising and re.match(r"#\s{2,}", stripped) and last is not None:
                last.promise += " " + stripped.lstrip("#").strip()
            else:
                promising = False
            continue
        promising = False
        if not stripped:
            continue
        command = [line]
        while command[-1].endswith("\\") and index < len(lines):
            command.append(lines[index])
            index += 1
        full = "\n".join(command)
        if full.startswith(SKIPPED):
            skipped.append(full)
            last = None
            continue
        last = Step(line=number, command=full)
        inline = re.search(r"\s#\s*→\s*(.*)$", command[-1])
        if inline:
            last.promise = inline.group(1).strip()
        steps.append(last)
    return steps, skipped


def substitute(command: str, port: int) -> str:
    python = sys.executable
    command = command.replace("http://127.0.0.1:3000", f"http://127.0.0.1:{port}")
    command = command.replace(".venv/bin/python", python)
    # make's PY is the venv's interpreter: this one; -o: never rebuild the venv from here
    return re.sub(r"^make ", f"make --no-print-directory -o .venv/.installed PY={python} ", command)


def script(steps: list[Step], port: int, curl_dir: Path) -> str:
    parts = [
        "set -o pipefail",
        f"export PORT={port}",
        f"__CURL={curl_dir}",
        # every HTTP call's response headers, one file per call, under its step, in call order
        'curl() { command curl -D "$__CURL/$__STEP/${EPOCHREALTIME/./}-$BASHPID-$RANDOM" "$@"; }',
    ]
    for number, step in enumerate(steps):
        parts += [
            f'__STEP={number}; mkdir -p "$__CURL/{number}"',
            f"printf '\\n{MARK} {number}\\n'; printf '\\n{MARK} {number}\\n' >&2",
            substitute(step.command, port),
            f"printf '\\n{MARK} {number} rc=%s\\n' \"$?\"",
        ]
    return "\n".join(parts) + "\n"


def split(output: str) -> Iterator[tuple[int, str, int | None]]:
    """(step, its output, its exit code) from the marked output of the whole run."""
    pattern = re.compile(rf"\n?{MARK} (\d+)\n(.*?)\n{MARK} \1 rc=(\d+)\n", re.S)
    for match in pattern.finditer(output):
        yield int(match.group(1)), match.group(2), int(match.group(3))


def split_stderr(output: str) -> dict[int, str]:
    chunks = re.split(rf"\n?{MARK} (\d+)\n", output)
    return {int(chunks[i]): chunks[i + 1] for i in range(1, len(chunks) - 1, 2)}


def statuses(directory: Path) -> list[int]:
    found = []
    for path in sorted(directory.iterdir()):
        lines = [line for line in path.read_text(errors="replace").splitlines() if line.startswith("HTTP/")]
        found.append(int(lines[-1].split()[1]))
    return found


def documents(output: str) -> list[Any]:
    """Every JSON object or array that starts a line of the output."""
    decoder = json.JSONDecoder()
    found = []
    position = 0
    for match in re.finditer(r"^[\[{]", output, re.M):
        if match.start() < position:
            continue
        try:
            value, end = decoder.raw_decode(output, match.start())
        except json.JSONDecodeError:
            continue
        found.append(value)
        position = end
    return found


def holds(value: Any, key: str, matches: Callable[[Any], bool]) -> bool:
    if isinstance(value, dict):
        return any((k == key and matches(v)) or holds(v, key, matches) for k, v in value.items())
    if isinstance(value, list):
        return any(holds(item, key, matches) for item in value)
    return False


def matcher(literal: str) -> Callable[[Any], bool]:
    expected = json.loads(literal)
    if isinstance(expected, str) and "…" in expected:
        pattern = re.compile("^" + ".+".join(re.escape(part) for part in expected.split("…")) + "$", re.S)
        return lambda value: isinstance(value, str) and bool(pattern.match(value))
    return lambda value: value == expected and type(value) is type(expected)


def problems(step: Step) -> list[str]:
    """What in a step's run breaks the README's promise (empty when it holds)."""
    found = []
    if step.rc != 0:
        found.append(f"exit code {step.rc}")
    status = STATUS.match(step.promise)
    calls = step.statuses
    if status:
        expected = int(status.group(1))
        if not calls:
            found.append(f"promises {expected} but made no HTTP call")
        elif calls[-1] != expected:
            found.append(f"answered {calls[-1]}, the README says {expected}")
        printed = step.stdout.strip()
        if re.fullmatch(r"\d{3}", printed) and int(printed) != expected:
            found.append(f"printed {printed}, the README says {expected}")
    failed = [code for code in (calls[:-1] if status else calls) if code >= 400]
    if failed:
        found.append(f"HTTP calls failed with {failed}")
    docs = documents(step.stdout)
    for key, literal in FRAGMENT.findall(step.promise):
        if not any(holds(doc, key, matcher(literal)) for doc in docs):
            found.append(f'no "{key}":{literal} in what it printed')
    return found


@pytest.fixture
def fresh_cloud(local_cloud_factory: Callable[..., LocalCloud]) -> Iterator[LocalCloud]:
    """A cloud as `make dev` starts it (seeded), on a free port; the in-process read cache, so that no
    Redis another cloud on this machine shares can answer for this one."""
    cloud = local_cloud_factory("--parameter-overrides", "CacheUrl=", name="readme")
    yield cloud
    cloud.stop()


def test_readme_walkthrough_works_as_written(fresh_cloud: LocalCloud, tmp_path: Path) -> None:
    steps, skipped = walkthrough(README.read_text(encoding="utf-8"))
    assert len(steps) >= 30, f"the walk-through lost its commands: {len(steps)}"
    assert sorted(prefix for prefix in SKIPPED for line in skipped if line.startswith(prefix)) == sorted(
        SKIPPED
    ), f"each skipped command appears once: {skipped}"
    for step in steps:
        leftover = substitute(step.command, 1).replace("127.0.0.1:1", "")
        assert ":3000" not in leftover, f"{step}: a URL the port substitution misses"
    port = int(fresh_cloud.base_url.rsplit(":", 1)[1])
    curl_dir = tmp_path / "curl"
    curl_dir.mkdir()
    started = time.monotonic()
    # the README's own commands, against this machine's loopback only
    done = subprocess.run(
        ["bash", "--noprofile", "--norc", "-c", script(steps, port, curl_dir)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=BUDGET_SECONDS * 2,
        check=False,
        env={**os.environ, "LC_ALL": "C.UTF-8"},
    )
    elapsed = time.monotonic() - started
    errors = split_stderr(done.stderr)
    ran = set()
    for number, stdout, rc in split(done.stdout):
        step = steps[number]
        step.stdout, step.rc, step.stderr = stdout, rc, errors.get(number, "")
        step.statuses = statuses(curl_dir / str(number))
        ran.add(number)
    assert ran == set(range(len(steps))), (
        f"bash stopped early (exit {done.returncode}): {done.stderr[-2000:]}"
    )

    broken = [(step, found) for step in steps if (found := problems(step))]
    assert not broken, "the README's walk-through does not work as written:\n" + "\n".join(
        f"{step}\n    {'; '.join(found)}\n    stdout: {_short(step.stdout)}\n    stderr: {_short(step.stderr)}"
        for step, found in broken
    )

    # the promises in prose
    health = next(step for step in steps if "/api/health" in step.command and "-i" in step.command)
    assert re.search(r"(?im)^x-request-id: \S+", health.stdout), health.stdout
    assert re.search(r"(?im)^x-content-type-options: nosniff", health.stdout), health.stdout
    placed, replayed = [step for step in steps if "idempotency-key: my-first-order" in step.command]
    order = json.loads(placed.stdout)["data"]
    assert json.loads(replayed.stdout)["data"]["id"] == order["id"], "the same key and body: the same order"
    listing = next(
        step for step in steps if step.command.startswith("curl -s http://127.0.0.1:3000/api/orders ")
    )
    assert [item["id"] for item in json.loads(listing.stdout)["data"]] == [order["id"]]
    confirmation = next(step for step in steps if '"Order … confirmed"' in step.promise)
    assert json.loads(confirmation.stdout)["subject"] == f"Order {order['id']} confirmed"
    assert elapsed < BUDGET_SECONDS, f"the walk-through took {elapsed:.0f} s"


def _short(text: str) -> str:
    """A step's output for a failure message, without tokens."""
    text = re.sub(r"eyJ[\w-]+\.[\w-]+\.[\w-]+", "eyJ…", text.strip())
    text = re.sub(r"\b[0-9A-Z]{26}\.[0-9A-Z]{26}\.[\w-]{43}\b", "<refresh token>", text)
    return text[-600:].replace("\n", "\n            ")
