"""The code flows downhill: no import goes back up a layer (docs/architecture.md, "Layers").

Every import counts, the lazy ones inside functions too (they are how the code keeps cold starts
short, and they are still dependencies). Read with ``ast``, so nothing is imported to check.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BACKEND = ROOT / "layers" / "shared" / "backend"

#: What each package of the shared layer may not import (a prefix of the imported module's name):
#: every layer above it, from the adapters down.
ADAPTERS = ("backend.http", "backend.jobs")
WIRING_AND_UP = ("backend.wiring", *ADAPTERS)
SERVICES_AND_UP = ("backend.services", *WIRING_AND_UP)
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "backend.models": ("backend.records", "backend.schemas", "backend.repositories", *SERVICES_AND_UP),
    "backend.records": ("backend.schemas", "backend.repositories", *SERVICES_AND_UP),
    "backend.schemas": ("backend.repositories", *SERVICES_AND_UP),
    "backend.repositories": SERVICES_AND_UP,
    "backend.cache": SERVICES_AND_UP,
    "backend.services": WIRING_AND_UP,
    "backend.wiring": ADAPTERS,
    "backend.jobs": ("backend.http",),
}
#: Outside the shared layer: only the functions that serve HTTP may import ``backend.http``.
HTTP_FUNCTIONS = {"auth", "users", "products", "content", "orders"}
#: The local cloud's gateway (local/server.py) serves HTTP too: the responses it makes itself (framing
#: errors, as API Gateway's own) carry the app's security headers, from their one list.
LOCAL_HTTP_IMPORTS = ("backend.http.headers",)


def module_name(path: Path) -> str:
    relative = path.relative_to(BACKEND.parent).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> Iterator[tuple[int, str]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module
            for alias in node.names:  # `from backend import wiring` imports backend.wiring
                yield node.lineno, f"{node.module}.{alias.name}"


def under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def shared_layer_modules() -> list[Path]:
    return sorted(p for p in BACKEND.rglob("*.py") if "__pycache__" not in p.parts)


@pytest.mark.parametrize("path", shared_layer_modules(), ids=module_name)
def test_no_shared_module_imports_up_a_layer(path: Path) -> None:
    name = module_name(path)
    forbidden = next((rule for package, rule in FORBIDDEN.items() if under(name, package)), ())
    wrong = [
        f"line {line}: {target}"
        for line, target in imports_of(path)
        if any(under(target, f) for f in forbidden)
    ]
    assert not wrong, f"{name} imports up a layer: {wrong}"


def test_only_the_http_functions_import_backend_http() -> None:
    found = []
    for path in sorted(
        [*ROOT.glob("functions/*/*.py"), *ROOT.glob("local/**/*.py"), *ROOT.glob("scripts/**/*.py")]
    ):
        if path.parent.name in HTTP_FUNCTIONS and path.parent.parent.name == "functions":
            continue
        for line, target in imports_of(path):
            allowed = path.parts[-2] == "local" and any(under(target, a) for a in LOCAL_HTTP_IMPORTS)
            if under(target, "backend.http") and not allowed:
                found.append(f"{path.relative_to(ROOT)}:{line}: {target}")
    assert not found, "only the HTTP functions import backend.http:\n" + "\n".join(found)


def test_the_rules_cover_every_package_of_the_shared_layer() -> None:
    packages = {module_name(p.parent) for p in BACKEND.rglob("__init__.py") if p.parent != BACKEND}
    top = {".".join(name.split(".")[:2]) for name in packages}
    uncovered = top - set(FORBIDDEN) - {"backend.http"}
    assert not uncovered, f"no layering rule for {sorted(uncovered)}"
