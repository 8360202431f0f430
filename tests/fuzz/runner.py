"""One schemathesis run (its CLI, `st run`) against a running local cloud's merged OpenAPI document."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

#: What must hold for every generated request: no 5xx, and the status code, content type, headers
#: and body of every response are the ones the document declares for that operation.
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
)
SEED = int(os.environ.get("FUZZ_SEED", "20261201"))
#: Examples per operation and phase: bounded so the three passes stay within CI's budget.
MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "5"))
PHASES = "examples,coverage,fuzzing,stateful"


@dataclass(frozen=True)
class FuzzRun:
    returncode: int
    output: str
    seconds: float

    @property
    def passed(self) -> bool:
        return self.returncode == 0


def run_schemathesis(
    base_url: str,
    *,
    report_dir: Path,
    token: str | None = None,
    max_examples: int = MAX_EXAMPLES,
    seed: int = SEED,
    extra: tuple[str, ...] = (),
) -> FuzzRun:
    st = Path(sys.executable).with_name("st")
    command = [
        str(st),
        "run",
        f"{base_url}/openapi.json",
        "--checks",
        ",".join(CHECKS),
        "--phases",
        PHASES,
        "--max-examples",
        str(max_examples),
        "--seed",
        str(seed),
        "--generation-database",  # no example database: a run depends on the seed alone
        "none",
        "--workers",
        "2",
        "--request-timeout",
        "35",
        "--no-color",
        "--report",
        "junit",
        "--report-dir",
        str(report_dir),
        *extra,
    ]
    if token is not None:
        command += ["--header", f"Authorization: Bearer {token}"]
    started = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True, timeout=900, check=False, cwd=report_dir)
    return FuzzRun(done.returncode, done.stdout + done.stderr, time.monotonic() - started)
