"""Post-process the output of `sam build` so that what `sam deploy` ships is lean and starts fast.

Usage::

    python scripts/postbuild.py .aws-sam/build                # strip, compile, verify
    python scripts/postbuild.py --verify-only .aws-sam/build  # verify only

Run it with the Lambda runtime's interpreter version (Python 3.13) right after `sam build`
(`make build` does both). The build directory is found through the built template.yaml, which
`sam build` rewrites so that every CodeUri/ContentUri names a folder inside the build directory.

Steps:

(a) Strip what the python3.13 runtime already provides: the AWS SDK (boto3, botocore, s3transfer)
    and the SDK's own dependencies (jmespath, python-dateutil, six), with their dist-info. The
    layer only carries them because pynamodb, aws-xray-sdk and Powertools declare them. Keeping
    them would add ~33 MB to the layer and, since /opt/python comes before the runtime's own
    packages on sys.path, would pair the runtime's boto3 with our botocore. Before stripping,
    every Requires-Dist on these packages in the artifact is checked against RUNTIME_SDK_FLOOR
    (see there); a dependency that needs a newer version fails the step instead of breaking at
    run time.
(a2) Prune what is only needed to build or is never imported at run time (BUILD_ONLY, UNUSED:
    see there for each entry and why), and type stubs. This keeps the layer within its budget
    (LAYER_BUDGET, 25 MB unzipped: docs/performance.md).
(b) Precompile every .py into __pycache__/<name>.cpython-313.pyc with unchecked-hash invalidation
    (bytecode-only packages, SOURCELESS, get <name>.pyc in place of their sources).
    The code and layer directories are read-only on Lambda, so without shipped bytecode every cold
    start compiles every imported module again and cannot cache the result. Unchecked-hash .pyc
    files are used whatever the files' mtimes are after Lambda unpacks the zip (timestamp-based
    ones would be rejected when the mtimes differ).
(c) Verify: every ELF file (shared objects above all) is aarch64, every .py has a fresh .pyc of
    the right kind, the SDK and the pruned files are gone, and each function with its layers fits
    Lambda's 250 MB unzipped limit. Prints a summary (with each layer against LAYER_BUDGET, which
    `make bench` judges); exits non-zero on any violation.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import py_compile
import shutil
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

REQUIRED_PYTHON = (3, 13)
CACHE_TAG = "cpython-313"

# ELF header: e_ident[EI_CLASS] at offset 4, e_ident[EI_DATA] at 5, e_machine (2 bytes) at 18.
ELF_MAGIC = b"\x7fELF"
EM_X86_64 = 0x3E
EM_AARCH64 = 0xB7
EM_NAMES = {0x03: "x86 (i386)", EM_X86_64: "x86_64", 0x28: "arm (32-bit)", EM_AARCH64: "aarch64"}

# .pyc header (PEP 552): magic (4 bytes), flags (4 bytes, little endian), then 8 bytes that are
# the source hash for hash-based files. flags bit 0 = hash-based, bit 1 = check_source.
PYC_FLAG_HASH_BASED = 0b01
PYC_FLAG_CHECK_SOURCE = 0b10

# What the Lambda Python runtime provides (distribution -> its top-level modules), so the artifacts
# must not carry it: the SDK and the SDK's own dependencies. urllib3 (the SDK's HTTP client) stays
# in the layer: Powertools' optional auth utilities need urllib3>=2.7, newer than the runtime may
# ship, and the botocore of every python3.13 runtime accepts urllib3 2.
RUNTIME_SDK: dict[str, tuple[str, ...]] = {
    "boto3": ("boto3",),
    "botocore": ("botocore",),
    "s3transfer": ("s3transfer",),
    "jmespath": ("jmespath",),
    "python-dateutil": ("dateutil",),
    "six": ("six",),
}

# Decision on (a), checked by check_sdk_requirements() at every build:
# AWS no longer publishes one fixed SDK version per runtime (it depends on the runtime's current
# version and the Region, and it moves forward over time), so these are deliberately old lower
# bounds for what the python3.13 runtime (launched November 2024) has shipped; for the SDK's
# dependencies, the lower bounds botocore itself declares (jmespath: the 1.0.1 release every
# runtime since 2022 carries). As of this writing the layer's dependants are pynamodb
# (botocore>=1.12.54), aws-xray-sdk (botocore>=1.11.3) and Powertools (jmespath>=1.0.1): within
# the floor, so stripping is safe. If a dependency ever requires more than the floor, the build
# fails and says which one: then either confirm the runtime's version (docs/deploy.md shows how)
# and raise the floor, or pin an older release of that dependency. The functions' own boto3 calls
# are not covered by this check: an API newer than the runtime's SDK needs the SDK vendored (drop
# it from RUNTIME_SDK) instead.
RUNTIME_SDK_FLOOR = {
    "boto3": "1.34.0",
    "botocore": "1.34.0",
    "s3transfer": "0.10.0",
    "jmespath": "1.0.1",
    "python-dateutil": "2.1",
    "six": "1.5",
}

# (a2) Distributions needed to build other packages, never imported at run time (distribution ->
# its top-level modules). cffi and pycparser compile argon2-cffi-bindings' `_ffi` extension when
# the wheel is built; at run time that extension only imports `_cffi_backend`, a separate
# top-level extension module of the cffi wheel that is kept (tests/build checks that argon2
# hashes with them gone).
BUILD_ONLY: dict[str, tuple[str, ...]] = {"cffi": ("cffi",), "pycparser": ("pycparser",)}

# (a2) Folders of installed packages that nothing imports at run time, relative to site-packages.
# pydantic.v1 (the Pydantic 1 API, 1.2 MB): FastAPI imports it only to reject v1 models and treats
# its absence as "no v1 model" (fastapi/_compat); pydantic imports it only for types with a v1-style
# `__get_validators__`, which this code base does not use. Without it, the first route definition
# of every API function also stops importing it (25-35 ms of CPU at cold start, measured here).
# redis (5.4 MB, for the optional Redis read cache and idempotency store): the commands of Redis
# Stack modules (bloom, JSON, search, time series, vector sets: imported by `.bf()`, `.json()`,
# `.ft()`, `.ts()`, `.vset()` only), and the multi-database and HTTP clients, which `import redis`
# and a plain client never load (tests/build checks a client still works without them).
UNUSED: tuple[str, ...] = (
    "pydantic/v1",
    "redis/commands/bf",
    "redis/commands/json",
    "redis/commands/search",
    "redis/commands/timeseries",
    "redis/commands/vectorset",
    "redis/multidb",
    "redis/asyncio/multidb",
    "redis/http",
    "redis/asyncio/http",
)

# (b) Packages shipped as bytecode only: their .py sources are replaced by the .pyc next to them
# (Python loads such a module without looking for its source). The two largest pure-Python packages
# of the layer, 4.3 MB of sources between them, which the 25 MB budget could not hold besides redis.
# What it costs: a traceback through them names the file, line and function but cannot print the
# source line, and nothing may read their source at run time (neither does; a package that does,
# like anyio's lazy imports, must not be listed). The layer's own code, `backend/`, keeps its sources.
SOURCELESS: tuple[str, ...] = ("aws_lambda_powertools", "redis")

# The budget of a layer, unzipped (DESIGN.md); `make bench` reports it, `make bench-check` enforces it.
LAYER_BUDGET = 25_000_000

# Lambda limit: a function's code plus all its layers, unzipped.
LAMBDA_UNZIPPED_LIMIT = 262_144_000

# Violations listed in full (the count is always printed).
MAX_LISTED = 50

# Where each kind of artifact is unpacked on Lambda (embedded in .pyc files as their path).
RUNTIME_ROOT = {"layer": "/opt", "function": "/var/task"}

ArtifactKind = Literal["layer", "function"]


class PostbuildError(Exception):
    """A problem that stops the post-processing (as opposed to a verification finding)."""


@dataclass
class Artifact:
    logical_id: str
    kind: ArtifactKind
    path: Path
    layers: list[str] = field(default_factory=list)  # logical ids of local layers (functions only)


# ------------------------------------------------------------------ discovery


def require_python() -> None:
    """Bytecode is version-specific: only the runtime's Python version may write or judge it."""
    if sys.version_info[:2] != REQUIRED_PYTHON or sys.implementation.cache_tag != CACHE_TAG:
        raise PostbuildError(
            f"this script must run on CPython {REQUIRED_PYTHON[0]}.{REQUIRED_PYTHON[1]} (the Lambda "
            f"runtime's version), not {sys.implementation.name} {sys.version.split()[0]} "
            f"({sys.executable}); use .venv/bin/python or `make build`"
        )


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _layer_refs(value: Any) -> list[str]:
    return [str(item["Ref"]) for item in _as_list(value) if isinstance(item, dict) and "Ref" in item]


def discover_artifacts(build_dir: Path) -> list[Artifact]:
    """The functions and layers of the built template whose code is a folder in build_dir."""
    template_path = build_dir / "template.yaml"
    if not template_path.is_file():
        raise PostbuildError(f"{template_path} not found: is {build_dir} the output of `sam build`?")
    from cfnlint.decode.cfn_yaml import loads  # cfn-lint reads CloudFormation's short-form tags

    template: Mapping[str, Any] = loads(template_path.read_text(encoding="utf-8"))
    resources: Mapping[str, Any] = template.get("Resources") or {}
    globals_ = template.get("Globals") or {}
    global_layers = _layer_refs((globals_.get("Function") or {}).get("Layers"))

    artifacts: dict[Path, Artifact] = {}
    for logical_id, resource in resources.items():
        if not isinstance(resource, dict):
            continue
        props = resource.get("Properties") or {}
        kind: ArtifactKind
        if resource.get("Type") in ("AWS::Serverless::Function", "AWS::Lambda::Function"):
            kind, uri = "function", props.get("CodeUri")
        elif resource.get("Type") in ("AWS::Serverless::LayerVersion", "AWS::Lambda::LayerVersion"):
            kind, uri = "layer", props.get("ContentUri")
        else:
            continue
        if not isinstance(uri, str) or uri.startswith("s3://"):
            continue  # inline code, an S3 object or an image: nothing built here
        path = (build_dir / uri).resolve()
        if not path.is_dir():
            raise PostbuildError(f"{logical_id}: built code folder {path} is missing")
        # SAM appends a function's own Layers to the global ones.
        layers = global_layers + _layer_refs(props.get("Layers")) if kind == "function" else []
        if path in artifacts:  # functions sharing one CodeUri share one built folder
            artifacts[path].layers = sorted({*artifacts[path].layers, *layers})
            continue
        artifacts[path] = Artifact(str(logical_id), kind, path, layers)
    if not artifacts:
        raise PostbuildError(f"no built function or layer folders found in {build_dir}")
    return sorted(artifacts.values(), key=lambda a: (a.kind != "layer", a.logical_id))


def _walk_files(root: Path) -> Iterator[Path]:
    """Every regular file below root (symlinks are neither followed nor reported)."""
    for dirpath, _dirnames, filenames in os.walk(root):
        for name in filenames:
            path = Path(dirpath, name)
            if path.is_file() and not path.is_symlink():
                yield path


def _python_sources(root: Path) -> list[Path]:
    return sorted(p for p in _walk_files(root) if p.suffix == ".py")


def _dir_size(root: Path) -> int:
    return sum(p.stat().st_size for p in _walk_files(root))


# ------------------------------------------------------------------ (a) strip the runtime's SDK


def _canonical(name: str) -> str:
    from packaging.utils import canonicalize_name

    return str(canonicalize_name(name))


def _dist_infos(root: Path) -> Iterator[Path]:
    for dirpath, dirnames, _filenames in os.walk(root):
        for name in dirnames:
            if name.endswith(".dist-info"):
                yield Path(dirpath, name)


def _dist_name(dist_info: Path) -> str:
    metadata = dist_info / "METADATA"
    if metadata.is_file():
        for line in metadata.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.lower().startswith("name:"):
                return _canonical(line.split(":", 1)[1].strip())
            if not line.strip():
                break
    return _canonical(dist_info.name.removesuffix(".dist-info").rsplit("-", 1)[0])


def check_sdk_requirements(root: Path, floor: Mapping[str, str] = RUNTIME_SDK_FLOOR) -> list[str]:
    """Requirements on the runtime-provided SDK, in root's installed packages, that the floor misses.

    A requirement under an extra (``extra == "..."``) only counts when the SDK package it names is
    actually installed, i.e. when something did ask for it.
    """
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.version import Version

    sdk = {_canonical(name) for name in floor}
    installed = {_dist_name(d) for d in _dist_infos(root)}
    lambda_env = {
        "python_version": f"{REQUIRED_PYTHON[0]}.{REQUIRED_PYTHON[1]}",
        "python_full_version": f"{REQUIRED_PYTHON[0]}.{REQUIRED_PYTHON[1]}.0",
        "sys_platform": "linux",
        "platform_system": "Linux",
        "platform_machine": "aarch64",
        "os_name": "posix",
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
        "extra": "",
    }
    problems = []
    for dist_info in sorted(_dist_infos(root)):
        owner = _dist_name(dist_info)
        metadata = dist_info / "METADATA"
        if owner in sdk or not metadata.is_file():
            continue
        for line in metadata.read_text(encoding="utf-8", errors="replace").splitlines():
            if not line.startswith("Requires-Dist:"):
                continue
            try:
                req = Requirement(line.split(":", 1)[1].strip())
            except InvalidRequirement:
                continue
            name = _canonical(req.name)
            if name not in sdk:
                continue
            if req.marker is not None:
                under_extra = "extra" in str(req.marker)
                if under_extra and name not in installed:
                    continue
                if not under_extra and not req.marker.evaluate(lambda_env):
                    continue
            floor_version = Version(floor[name])
            if not req.specifier.contains(floor_version, prereleases=True):
                problems.append(
                    f"{owner} requires {req} but the runtime may ship {name} {floor_version}: raise "
                    f"RUNTIME_SDK_FLOOR in scripts/postbuild.py after checking the runtime's version, "
                    f"or pin an older {owner}"
                )
    return problems


def _site_dirs(root: Path) -> set[Path]:
    """The site-packages-like folders of an artifact: where dist-infos are, the root, python/."""
    return {p.parent for p in _dist_infos(root)} | {root, root / "python"}


def _installed_entries(root: Path, dists: Mapping[str, Sequence[str]]) -> list[Path]:
    """Top-level packages, single-file modules and dist-info folders of the given distributions."""
    names = {_canonical(dist) for dist in dists}
    modules = {module for dist_modules in dists.values() for module in dist_modules}
    found = []
    for site in _site_dirs(root):
        if not site.is_dir():
            continue
        for entry in site.iterdir():
            is_package = entry.is_dir() and entry.name in modules and (entry / "__init__.py").is_file()
            is_module = entry.is_file() and entry.suffix == ".py" and entry.stem in modules
            is_metadata = entry.name.endswith(".dist-info") and _dist_name(entry) in names
            if is_package or is_module or is_metadata:
                found.append(entry)
    return sorted(set(found))


def _sdk_entries(root: Path) -> list[Path]:
    """Top-level packages, modules and dist-info folders of the runtime-provided SDK."""
    return _installed_entries(root, RUNTIME_SDK)


def _remove(entry: Path) -> None:
    if entry.is_dir():
        shutil.rmtree(entry)
    else:
        entry.unlink()


def strip_runtime_sdk(artifact: Artifact) -> list[Path]:
    problems = check_sdk_requirements(artifact.path)
    if problems:
        raise PostbuildError(
            f"{artifact.logical_id}: not stripping the runtime's SDK:\n  " + "\n  ".join(problems)
        )
    removed = _sdk_entries(artifact.path)
    for entry in removed:
        _remove(entry)
    return removed


# ------------------------------------------------------------------ (a2) prune


def _prunable(root: Path) -> list[Path]:
    """What (a2) removes: build-only distributions, UNUSED folders, type stubs."""
    found = _installed_entries(root, BUILD_ONLY)
    for site in _site_dirs(root):
        if not site.is_dir():
            continue
        found += [site / relative for relative in UNUSED if (site / relative).exists()]
        found += [entry for entry in site.iterdir() if entry.is_dir() and entry.name.endswith("-stubs")]
    found += [path for path in _walk_files(root) if path.suffix == ".pyi"]
    # Whatever sits inside a folder that goes anyway is not listed twice.
    unique = sorted(set(found))
    return [path for path in unique if not any(parent in unique for parent in path.parents)]


def prune(artifact: Artifact) -> list[Path]:
    """Step (a2); returns what was removed."""
    removed = _prunable(artifact.path)
    for entry in removed:
        _remove(entry)
    return removed


# ------------------------------------------------------------------ (b) bytecode


def pyc_path(source: Path) -> Path:
    return source.parent / "__pycache__" / f"{source.stem}.{CACHE_TAG}.pyc"


def _sourceless_dirs(root: Path) -> list[Path]:
    return [site / name for site in _site_dirs(root) for name in SOURCELESS if (site / name).is_dir()]


def compile_tree(root: Path, runtime_root: str) -> list[str]:
    """Compile every .py under root; returns the files that do not compile.

    Old __pycache__ folders go first (other Python versions' files, timestamp-based ones). The
    path recorded in each .pyc (shown in tracebacks) is where the file lives on Lambda. Sources of
    SOURCELESS packages are compiled next to themselves and removed.
    """
    require_python()
    for dirpath, dirnames, _filenames in os.walk(root):
        if "__pycache__" in dirnames:
            shutil.rmtree(Path(dirpath, "__pycache__"))
            dirnames.remove("__pycache__")
    sourceless = _sourceless_dirs(root)
    failures = []
    for source in _python_sources(root):
        legacy = any(folder in source.parents for folder in sourceless)
        try:
            py_compile.compile(
                str(source),
                cfile=str(source.with_suffix(".pyc") if legacy else pyc_path(source)),
                dfile=f"{runtime_root}/{source.relative_to(root).as_posix()}",
                doraise=True,
                optimize=0,  # Lambda runs python without -O: it looks for the plain .pyc
                invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
            )
        except py_compile.PyCompileError as error:
            failures.append(f"{source}: does not compile: {error.msg.strip().splitlines()[-1]}")
            continue
        if legacy:
            source.unlink()
    return failures


# ------------------------------------------------------------------ (c) verification


def elf_machine(path: Path) -> int | None:
    """The ELF e_machine of path, or None if path is not an ELF file."""
    with path.open("rb") as handle:
        header = handle.read(20)
    if len(header) < 20 or header[:4] != ELF_MAGIC:
        return None
    byteorder: Literal["little", "big"] = "big" if header[5] == 2 else "little"
    return int.from_bytes(header[18:20], byteorder)


def _is_shared_object_name(name: str) -> bool:
    return name.endswith(".so") or ".so." in name


def check_native(root: Path) -> tuple[int, list[str]]:
    """(number of ELF files, violations): every ELF file must be aarch64, every *.so must be ELF."""
    count, problems = 0, []
    for path in _walk_files(root):
        machine = elf_machine(path)
        if machine is None:
            if _is_shared_object_name(path.name):
                problems.append(f"{path}: named like a shared object but is not an ELF file")
            continue
        count += 1
        if machine != EM_AARCH64:
            arch = EM_NAMES.get(machine, f"e_machine {machine:#x}")
            problems.append(f"{path}: {arch} binary, Lambda runs arm64 (aarch64)")
        elif "cpython-" in path.name and f"{CACHE_TAG}-" not in path.name:
            problems.append(f"{path}: extension module built for another Python than {CACHE_TAG}")
    return count, problems


def check_bytecode(root: Path) -> tuple[int, list[str]]:
    """(number of .py files, violations): each needs a fresh unchecked-hash .cpython-313.pyc."""
    sources = _python_sources(root)
    problems = []
    for source in sources:
        pyc = pyc_path(source)
        if not pyc.is_file():
            problems.append(f"{source}: no {pyc.relative_to(source.parent)}")
            continue
        header = pyc.read_bytes()[:16]
        if len(header) < 16 or header[:4] != importlib.util.MAGIC_NUMBER:
            problems.append(f"{pyc}: not bytecode of {CACHE_TAG} (wrong magic number)")
            continue
        flags = int.from_bytes(header[4:8], "little")
        if flags != PYC_FLAG_HASH_BASED:
            kind = "checked-hash" if flags & PYC_FLAG_CHECK_SOURCE else "timestamp-based"
            problems.append(f"{pyc}: {kind}, expected unchecked-hash")
            continue
        if header[8:16] != importlib.util.source_hash(source.read_bytes()):
            problems.append(f"{pyc}: stale (compiled from another version of {source.name})")
    return len(sources), problems


def check_sourceless(root: Path) -> list[str]:
    """SOURCELESS packages: bytecode of this Python next to where each source was, no source left."""
    problems = []
    for folder in _sourceless_dirs(root):
        for path in _walk_files(folder):
            if path.suffix == ".py":
                problems.append(f"{path}: source shipped in a bytecode-only package (see SOURCELESS)")
            elif (
                path.suffix == ".pyc"
                and path.parent.name != "__pycache__"
                and path.read_bytes()[:4] != importlib.util.MAGIC_NUMBER
            ):
                problems.append(f"{path}: not bytecode of {CACHE_TAG} (wrong magic number)")
    return problems


def check_no_runtime_sdk(root: Path) -> list[str]:
    return [f"{entry}: provided by the Lambda runtime, must not be shipped" for entry in _sdk_entries(root)]


def check_pruned(root: Path) -> list[str]:
    return [
        f"{entry}: not needed at run time, must not be shipped (see step a2)" for entry in _prunable(root)
    ]


@dataclass
class ArtifactReport:
    artifact: Artifact
    size: int
    py_files: int
    elf_files: int
    problems: list[str]


def verify(artifacts: Iterable[Artifact]) -> list[ArtifactReport]:
    require_python()
    reports = []
    for artifact in artifacts:
        py_files, bytecode_problems = check_bytecode(artifact.path)
        elf_files, native_problems = check_native(artifact.path)
        reports.append(
            ArtifactReport(
                artifact,
                _dir_size(artifact.path),
                py_files,
                elf_files,
                native_problems
                + bytecode_problems
                + check_sourceless(artifact.path)
                + check_no_runtime_sdk(artifact.path)
                + check_pruned(artifact.path),
            )
        )
    layer_sizes = {r.artifact.logical_id: r.size for r in reports if r.artifact.kind == "layer"}
    for report in reports:
        if report.artifact.kind != "function":
            continue
        total = report.size + sum(layer_sizes.get(layer, 0) for layer in report.artifact.layers)
        if total > LAMBDA_UNZIPPED_LIMIT:
            report.problems.append(
                f"{report.artifact.logical_id}: code and layers are {_mb(total)} unzipped, "
                f"over Lambda's {_mb(LAMBDA_UNZIPPED_LIMIT)} limit"
            )
    return reports


def _mb(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB" if size >= 100_000 else f"{size / 1000:.1f} kB"


def print_summary(reports: list[ArtifactReport], build_dir: Path) -> int:
    """Print the summary and every violation; returns the number of violations."""
    layer_sizes = {r.artifact.logical_id: r.size for r in reports if r.artifact.kind == "layer"}
    print(f"artifacts in {build_dir}:")
    print(f"  {'artifact':<22} {'kind':<8} {'size':>9} {'with layers':>12} {'.py/.pyc':>9} {'ELF':>4}")
    for r in reports:
        a = r.artifact
        total = r.size + sum(layer_sizes.get(layer, 0) for layer in a.layers)
        with_layers = _mb(total) if a.kind == "function" else ""
        print(
            f"  {a.logical_id:<22} {a.kind:<8} {_mb(r.size):>9} {with_layers:>12} {r.py_files:>9} "
            f"{r.elf_files:>4}"
        )
    problems = [problem for r in reports for problem in r.problems]
    elf_total = sum(r.elf_files for r in reports)
    py_total = sum(r.py_files for r in reports)
    print(f"  {py_total} .py files, {elf_total} ELF files, {len(problems)} violation(s)")
    for logical_id, size in layer_sizes.items():
        verdict = "within" if size <= LAYER_BUDGET else "OVER"
        print(f"  {logical_id}: {_mb(size)} unzipped, {verdict} the layer budget of {_mb(LAYER_BUDGET)}")
    for problem in problems[:MAX_LISTED]:
        print(f"VIOLATION {problem}", file=sys.stderr)
    if len(problems) > MAX_LISTED:
        print(f"... and {len(problems) - MAX_LISTED} more", file=sys.stderr)
    if any(": no __pycache__/" in problem for problem in problems):
        print(
            "hint: `sam build` (also --cached) rewrites the build folder without bytecode: "
            "run `make build`, which runs this script after it",
            file=sys.stderr,
        )
    return len(problems)


# ------------------------------------------------------------------ entry point


def postprocess(artifacts: Iterable[Artifact]) -> list[str]:
    """Steps (a), (a2) and (b); returns the files that did not compile."""
    failures = []
    for artifact in artifacts:
        removed = strip_runtime_sdk(artifact)
        if removed:
            names = ", ".join(entry.name for entry in removed)
            print(f"{artifact.logical_id}: removed the runtime-provided SDK: {names}")
        pruned = prune(artifact)
        if pruned:
            names = ", ".join(str(entry.relative_to(artifact.path)) for entry in pruned[:8])
            more = f" and {len(pruned) - 8} more" if len(pruned) > 8 else ""
            print(f"{artifact.logical_id}: pruned what is never imported at run time: {names}{more}")
        failures += compile_tree(artifact.path, RUNTIME_ROOT[artifact.kind])
    return failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("build_dir", type=Path, help="the sam build output (.aws-sam/build)")
    parser.add_argument("--verify-only", action="store_true", help="only check the artifacts (step c)")
    args = parser.parse_args(argv)
    build_dir: Path = args.build_dir
    try:
        require_python()
        artifacts = discover_artifacts(build_dir)
        failures = [] if args.verify_only else postprocess(artifacts)
        reports = verify(artifacts)
    except PostbuildError as error:
        print(f"postbuild: error: {error}", file=sys.stderr)
        return 2
    for failure in failures:
        print(f"VIOLATION {failure}", file=sys.stderr)
    violations = print_summary(reports, build_dir)
    if violations:
        print(f"postbuild: {violations} violation(s) in {build_dir}", file=sys.stderr)
        return 1
    print("postbuild: OK" if args.verify_only else "postbuild: OK (stripped, compiled, verified)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
