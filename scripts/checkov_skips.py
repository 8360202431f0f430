"""Print checkov's skips on template.yaml with their reasons (``make audit`` runs it after checkov).

Each skip is a ``Metadata.checkov.skip`` entry of a resource, with its ``comment``; a skip without
a reason fails. docs/security-gates.md explains them.
"""

from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from local.template import load_template  # noqa: E402 - the repository root is put on the path first


def skips(template: dict[str, Any]) -> dict[tuple[str, str], list[str]]:
    """(check id, reason) → the resources that skip it."""
    found: dict[tuple[str, str], list[str]] = defaultdict(list)
    for logical_id, resource in template.get("Resources", {}).items():
        for skip in ((resource.get("Metadata") or {}).get("checkov") or {}).get("skip") or []:
            found[(str(skip.get("id")), str(skip.get("comment") or "").strip())].append(logical_id)
    return dict(found)


def main() -> int:
    found = skips(load_template())
    total = sum(len(resources) for resources in found.values())
    print(f"checkov: {total} skips in template.yaml, each with its reason (docs/security-gates.md):")
    missing = [check for (check, reason) in found if not reason]
    for (check, reason), resources in sorted(found.items()):
        print(f"  {check} x{len(resources)} ({', '.join(resources)}): {reason or 'NO REASON'}")
    if missing:
        print(f"checkov: skips without a reason: {', '.join(sorted(set(missing)))}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
