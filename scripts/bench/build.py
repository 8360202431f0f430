"""The artifacts: what `make build` deploys (measured for size), and the same built for this machine.

- :func:`deployed_sizes` runs the real ``sam build`` (arm64, python3.13, no Docker) into a temporary
  folder and post-processes it as ``make build`` does (scripts/postbuild.py): the layer's size is
  the deployed one.
- :func:`host_build` builds the same thing for this machine's CPU, since arm64 code cannot run
  here: the layer's pinned requirements installed for the host, then the same post-processing
  (runtime SDK stripped, build-only and unused files pruned, unchecked-hash bytecode with the
  Lambda paths), and each API function's code folder compiled the same way.
- :func:`runtime_dir` stands for what the python3.13 runtime adds to ``sys.path``: its SDK (links
  to this environment's copies).
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from scripts import postbuild
from scripts.bench.stack import ROOT

#: What the Lambda Python runtime puts on sys.path besides the standard library: the SDK and its
#: dependencies (the layer's own urllib3 comes first, as on Lambda).
RUNTIME_MODULES = (*sorted({m for ms in postbuild.RUNTIME_SDK.values() for m in ms}), "urllib3")


@dataclass
class DeployedSizes:
    layers: dict[str, int]
    functions: dict[str, int]
    seconds: float
    problems: list[str]
    error: str | None = None


def _quiet(command: list[str], *, env: dict[str, str] | None = None, timeout: float = 900) -> None:
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(command[:4])} ... failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        )


def deployed_sizes(work: Path) -> DeployedSizes:
    """``sam build`` + postbuild into ``work``; sizes in bytes (unzipped) as Lambda counts them."""
    venv_bin = Path(sys.executable).parent
    env = {
        **os.environ,
        "PATH": f"{venv_bin}{os.pathsep}{os.environ.get('PATH', '')}",
        "SAM_CLI_TELEMETRY": "0",
    }
    build_dir = work / "sam-build"
    started = time.monotonic()
    try:
        _quiet(
            [
                str(venv_bin / "sam"),
                "build",
                "--parallel",
                "--template-file",
                str(ROOT / "template.yaml"),
                "--build-dir",
                str(build_dir),
                "--cache-dir",
                str(work / "sam-cache"),
            ],
            env=env,
        )
        artifacts = postbuild.discover_artifacts(build_dir)
        with contextlib.redirect_stdout(io.StringIO()):  # its per-artifact lines: not the report's
            failures = postbuild.postprocess(artifacts)
        reports = postbuild.verify(artifacts)
    except (RuntimeError, postbuild.PostbuildError, subprocess.TimeoutExpired) as exc:
        return DeployedSizes({}, {}, time.monotonic() - started, [], error=str(exc).strip()[:2000])
    return DeployedSizes(
        layers={r.artifact.logical_id: r.size for r in reports if r.artifact.kind == "layer"},
        functions={r.artifact.logical_id: r.size for r in reports if r.artifact.kind == "function"},
        seconds=time.monotonic() - started,
        problems=failures + [problem for r in reports for problem in r.problems],
    )


def host_build(work: Path, code_dirs: dict[str, Path]) -> tuple[Path, dict[str, Path]]:
    """(the layer's python/ folder, logical id -> code folder), built for this machine."""
    layer_root = work / "host" / "SharedLayer"
    site = layer_root / "python"
    _quiet(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-warn-conflicts",
            "--target",
            str(site),
            "-r",
            str(ROOT / "layers/shared/requirements.txt"),
        ]
    )
    shutil.copytree(
        ROOT / "layers/shared/backend", site / "backend", ignore=shutil.ignore_patterns("__pycache__")
    )
    layer = postbuild.Artifact("SharedLayer", "layer", layer_root)
    postbuild.strip_runtime_sdk(layer)
    postbuild.prune(layer)
    postbuild.compile_tree(layer_root, postbuild.RUNTIME_ROOT["layer"])
    functions = {}
    for logical_id, source in code_dirs.items():
        code = work / "host" / logical_id
        shutil.copytree(source, code, ignore=shutil.ignore_patterns("__pycache__"))
        postbuild.compile_tree(code, postbuild.RUNTIME_ROOT["function"])
        functions[logical_id] = code
    return site, functions


def runtime_dir(work: Path) -> Path:
    """A folder standing for the runtime's own packages: links to this environment's SDK."""
    target = work / "runtime"
    target.mkdir(parents=True)
    for name in RUNTIME_MODULES:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            raise SystemExit(f"error: {name} is not installed in this environment (make venv)")
        source = Path(spec.origin)
        source = source.parent if source.name == "__init__.py" else source
        (target / source.name).symlink_to(source)
    return target
