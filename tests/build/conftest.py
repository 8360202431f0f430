"""Build-pipeline tests: scripts/postbuild.py on fabricated artifacts, and the real `sam build`."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    # Lets `--strict-markers` accept @pytest.mark.build before (and after: a repeat is harmless)
    # the marker is registered in pyproject.toml.
    config.addinivalue_line("markers", "build: runs the real `sam build` (arm64, no Docker) and postbuild")
