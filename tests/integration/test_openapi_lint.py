"""Spectral, with its OpenAPI rules and the OWASP API security ruleset, on the merged /openapi.json.

The rules that do not apply to this API are switched off in the committed .spectral.yaml, each with
its reason (tests/unit/test_spectral_ruleset.py); everything else must pass, warnings included
(``--fail-severity=warn``). Spectral is pinned in package.json/package-lock.json and installed into
node_modules by ``make test`` (``npm ci``): without it this test fails, it never skips.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.integration.conftest import ROOT, LocalCloud

pytestmark = pytest.mark.integration

SPECTRAL = ROOT / "node_modules" / ".bin" / "spectral"
RULESET = ROOT / ".spectral.yaml"


def test_the_merged_document_passes_spectral_and_the_owasp_ruleset(
    local_cloud: LocalCloud, tmp_path: Path
) -> None:
    if not SPECTRAL.is_file():
        pytest.fail(
            f"{SPECTRAL.relative_to(ROOT)} is missing: run `make test` (or `npm ci` at the top of the "
            "repository) to install the pinned Spectral"
        )
    response = local_cloud.get("/openapi.json")
    assert response.status_code == 200, response.text
    document = tmp_path / "openapi.json"
    document.write_bytes(response.content)
    command = [
        str(SPECTRAL),
        "lint",
        "--ruleset",
        str(RULESET),
        "--fail-severity=warn",
        "--format=text",
        str(document),
    ]
    env = {**os.environ, "NO_COLOR": "1", "FORCE_COLOR": "0", "SCARF_ANALYTICS": "false"}
    done = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=300, env=env, check=False
    )
    output = (done.stdout + done.stderr).strip()
    assert done.returncode == 0, f"Spectral found problems in /openapi.json ({' '.join(command)}):\n{output}"
