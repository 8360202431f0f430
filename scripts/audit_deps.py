"""pip-audit over every pinned requirement, saying plainly when it could not check them.

pip-audit asks a vulnerability service (PyPI's JSON API by default) about each pinned
``name==version`` of the requirement files (``--no-deps``: exactly the pins, nothing resolved or
installed). When the service cannot be reached, pip-audit skips each package ("could not be
audited") and still prints "No known vulnerabilities found" with exit status 0. This wrapper
reads its JSON report instead:

- every package audited, none vulnerable (after waivers) → ``AUDIT OK``, exit 0;
- a vulnerable package without a waiver → ``AUDIT FAILED`` with the advisories, exit 1;
- any package not audited (service unreachable, unknown package) → ``AUDIT NOT RUN`` with the
  reason, exit 0, or exit 1 when ``AUDIT_STRICT=1`` (the deploy pipeline, which reaches the service).

Waivers live in pyproject.toml, ``[tool.app-audit.pip-audit-waivers]``: advisory id → why it does
not apply. Each one is printed on every run.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from collections.abc import Set as AbstractSet
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# pip-audit does not follow `-r` includes: list every file that holds pins (requirements.txt only
# includes the layer's list).
REQUIREMENTS = ("layers/shared/requirements.txt", "requirements-dev.txt", "requirements-checkov.txt")


def canonical(name: str) -> str:
    """A project name as PyPI compares them (PEP 503): ``boolean.py`` and ``Boolean_Py`` are one."""
    return re.sub(r"[-_.]+", "-", name.strip()).lower()


def pinned(requirement: Path) -> set[str]:
    """The names a requirement file pins with ``==`` (its own lines, not its includes)."""
    names = set()
    for line in requirement.read_text(encoding="utf-8").splitlines():
        text = line.split("#", 1)[0].strip()
        if "==" in text and not text.startswith("-"):
            names.add(canonical(text.split("==", 1)[0].split("[", 1)[0]))
    return names


def waivers(pyproject: Path = ROOT / "pyproject.toml") -> dict[str, str]:
    config = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    table = config.get("tool", {}).get("app-audit", {}).get("pip-audit-waivers", {})
    for advisory, reason in table.items():
        if not str(reason).strip():
            raise SystemExit(f"pip-audit waiver {advisory} has no reason")
    return {str(key): str(value) for key, value in table.items()}


def run_pip_audit(requirement: Path, waived: dict[str, str]) -> tuple[int, dict[str, Any] | None, str]:
    command = [
        sys.executable,
        "-m",
        "pip_audit",
        "--requirement",
        str(requirement),
        "--no-deps",
        "--disable-pip",
        "--progress-spinner",
        "off",
        "--format",
        "json",
        "--timeout",
        "20",
    ]
    for advisory in waived:
        command += ["--ignore-vuln", advisory]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    try:
        report = json.loads(done.stdout) if done.stdout.strip() else None
    except ValueError:
        report = None
    return done.returncode, report, done.stderr.strip()


def judge(
    report: dict[str, Any] | None, stderr: str, expected: AbstractSet[str] = frozenset()
) -> tuple[list[str], list[str], int]:
    """(vulnerabilities, reasons it could not audit, packages audited) from one report."""
    if report is None:
        last = stderr.splitlines()[-1] if stderr else "no report"
        return [], [f"pip-audit did not produce a report: {last}"], 0
    vulnerable: list[str] = []
    not_audited: list[str] = []
    audited = 0
    dependencies = report.get("dependencies", [])
    reported = {canonical(str(dep.get("name", ""))) for dep in dependencies}
    not_audited += [f"{name}: not in pip-audit's report" for name in sorted(expected - reported)]
    for dependency in dependencies:
        name = f"{dependency.get('name')}=={dependency.get('version', '?')}"
        if dependency.get("skip_reason"):
            not_audited.append(str(dependency["skip_reason"]))
            continue
        audited += 1
        for vuln in dependency.get("vulns", []):
            fixes = ", ".join(vuln.get("fix_versions") or []) or "no fixed version"
            vulnerable.append(f"{name}: {vuln.get('id')} ({fixes})")
    return vulnerable, not_audited, audited


#: What pip-audit says of a package it could not look up: the service answered nothing for it, or
#: could not be reached at all (pip-audit does not tell the two apart).
_NOT_LOOKED_UP = "Dependency not found on PyPI"


def not_run_report(not_audited: list[str], audited: int) -> list[str]:
    """What to say when some pins were not checked. pip-audit calls every package it could not look
    up "not found on PyPI"; when none could be looked up, that is the service being unreachable
    (offline, a proxy), not a broken pin, and the report says so instead of repeating the wording."""
    lookups = [item for item in not_audited if _NOT_LOOKED_UP in item]
    if audited == 0 and len(lookups) == len(not_audited):
        return [
            f"AUDIT NOT RUN (offline): the vulnerability service (PyPI's JSON API) could not be reached "
            f"from here, so none of the {len(not_audited)} pinned requirements was checked (pip-audit words "
            "this as 'Dependency not found on PyPI' for each: the pins are not at fault).",
            "  Run `make audit-strict` where https://pypi.org is reachable (the deploy targets do).",
        ]
    lines = [
        f"AUDIT NOT RUN: {len(not_audited)} pinned requirement(s) could not be checked ({audited} could):",
    ]
    lines += [f"  {item}" for item in not_audited[:5]]
    if len(not_audited) > 5:
        lines.append(f"  … and {len(not_audited) - 5} more")
    return lines


def main() -> int:
    strict = os.environ.get("AUDIT_STRICT", "") not in ("", "0", "false", "no")
    waived = waivers()
    for advisory, reason in waived.items():
        print(f"pip-audit: waived {advisory}: {reason}")
    vulnerable: list[str] = []
    not_audited: list[str] = []
    audited = 0
    for name in REQUIREMENTS:
        path = ROOT / name
        if not path.exists():
            continue
        _, report, stderr = run_pip_audit(path, waived)
        found, skipped, count = judge(report, stderr, pinned(path))
        vulnerable += [f"{name}: {item}" for item in found]
        not_audited += [f"{name}: {item}" for item in skipped]
        audited += count
    if vulnerable:
        print("AUDIT FAILED: known vulnerabilities in pinned requirements:", file=sys.stderr)
        for item in vulnerable:
            print(f"  {item}", file=sys.stderr)
        print("Upgrade the pin, or waive the advisory in pyproject.toml with the reason.", file=sys.stderr)
        return 1
    if not_audited:
        for line in not_run_report(not_audited, audited):
            print(line, file=sys.stderr)
        if strict:
            print("AUDIT_STRICT is set: failing.", file=sys.stderr)
            return 1
        print(
            "Not failing (set AUDIT_STRICT=1 to fail, as `make audit-strict` and deploys do).",
            file=sys.stderr,
        )
        return 0
    print(f"AUDIT OK: {audited} pinned requirements, no known vulnerabilities")
    return 0


if __name__ == "__main__":
    sys.exit(main())
