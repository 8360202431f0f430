"""Seed data for `make dev`: an admin to try every route with, and a few demo users.

The local cloud runs ``python -m local.seed`` once at start-up in UsersFunction's environment (its
table, its code, its layer), so the accounts are made by the same service code as any sign-up. It is
idempotent: accounts that exist are kept. ``LOCAL_ADMIN_EMAIL`` and ``LOCAL_ADMIN_PASSWORD`` override
the admin's defaults.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from local.functions import FunctionSpec
from local.instances import instance_environment

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_ADMIN_EMAIL = "admin@example.com"
DEFAULT_ADMIN_PASSWORD = "local-admin-password"  # noqa: S105 - a local-only default, printed at start-up
DEMO_PASSWORD = "demo-user-password"  # noqa: S105 - local demo accounts
DEMO_USERS = (("ada@example.com", "Ada Lovelace"), ("grace@example.com", "Grace Hopper"))
SEED_FUNCTION = "UsersFunction"


def run(
    functions: Mapping[str, FunctionSpec],
    endpoint_url: str,
    *,
    region: str,
    environ: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Seed the emulator's table (in a child process with the function's environment); the report."""
    environ = os.environ if environ is None else environ
    spec = functions.get(SEED_FUNCTION)
    if spec is None or not spec.code_dir.is_dir():
        return {"skipped": f"no {SEED_FUNCTION} in the template"}
    env = instance_environment(spec, endpoint_url, region=region)
    env["PYTHONPATH"] = os.pathsep.join([env["PYTHONPATH"], str(ROOT)])
    env["LOCAL_ADMIN_EMAIL"] = environ.get("LOCAL_ADMIN_EMAIL") or DEFAULT_ADMIN_EMAIL
    env["LOCAL_ADMIN_PASSWORD"] = environ.get("LOCAL_ADMIN_PASSWORD") or DEFAULT_ADMIN_PASSWORD
    done = subprocess.run(
        [sys.executable, "-m", "local.seed"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    if done.returncode != 0:
        return {"error": (done.stderr or done.stdout).strip().splitlines()[-1:] or ["seed failed"]}
    report: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    report["adminPassword"] = env["LOCAL_ADMIN_PASSWORD"]
    return report


def describe(report: Mapping[str, Any]) -> list[str]:
    """Start-up lines about the seeded accounts (the local admin's password is shown on purpose)."""
    if "error" in report:
        return [f"  seed       failed: {' '.join(report['error'])}"]
    if "skipped" in report:
        return [f"  seed       skipped: {report['skipped']}"]
    lines = [
        f"  admin      {report['admin']} / {report['adminPassword']}  (LOCAL_ADMIN_EMAIL, LOCAL_ADMIN_PASSWORD)"
    ]
    lines.append(f"  demo users {', '.join(report['demoUsers'])} / {DEMO_PASSWORD}")
    return lines


def main() -> int:
    """In the child: create (or keep) the admin and the demo users; print a JSON report."""
    import logging

    logging.disable(logging.INFO)  # the report is the only output
    from backend.errors import ConflictError
    from backend.models.enums import Role
    from backend.services import users as users_service
    from backend.wiring import get_container

    deps = get_container().users_deps
    admin, _created = users_service.ensure_admin(
        deps,
        email=os.environ["LOCAL_ADMIN_EMAIL"],
        name="Local Admin",
        password=os.environ["LOCAL_ADMIN_PASSWORD"],
    )
    demo = []
    for email, name in DEMO_USERS:
        with contextlib.suppress(ConflictError):  # seeded before
            users_service.create_user(deps, email=email, name=name, role=Role.USER, password=DEMO_PASSWORD)
        demo.append(email)
    print(json.dumps({"admin": admin.email, "adminId": admin.id, "demoUsers": demo}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
