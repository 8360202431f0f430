"""The deployable artifacts: arm64-only native code, bytecode for every module, no bundled AWS SDK.

Two halves:

* fast tests that drive scripts/postbuild.py on small fabricated build folders, so that every
  check is seen to fail on the defect it exists for (x86_64 .so, missing/stale/timestamp .pyc, the
  SDK shipped, a dependency that needs a newer SDK than the runtime's);
* ``@pytest.mark.build`` tests that run the real ``sam build`` (python3.13, arm64, no Docker) into
  a temporary folder, post-process it and check the result. They need PyPI and take ~30-60 s.
"""

from __future__ import annotations

import os
import py_compile
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pytest

from scripts import postbuild

ROOT = Path(__file__).resolve().parents[2]
# one worker should run the module, so the real sam build (a module fixture) runs once per
# `make test`; each build is self-contained (--no-cached) in case it runs on both
pytestmark = pytest.mark.xdist_group("sam-build")

FAKE_TEMPLATE = """\
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: python3.13
    Layers:
      - !Ref SharedLayer
Resources:
  SharedLayer:
    Type: AWS::Serverless::LayerVersion
    Properties:
      ContentUri: SharedLayer
  HelloFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: HelloFunction
      Handler: app.handler
"""


def fake_elf(machine: int, *, big_endian: bool = False) -> bytes:
    """A 64-byte ELF64 header of a shared object (ET_DYN) for the given e_machine."""
    order: Literal["little", "big"] = "big" if big_endian else "little"
    ident = b"\x7fELF" + bytes([2, 2 if big_endian else 1, 1]) + bytes(9)
    return ident + (3).to_bytes(2, order) + machine.to_bytes(2, order) + bytes(44)


def write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def dist_info(site: Path, name: str, version: str, *requires: str) -> Path:
    lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
    lines += [f"Requires-Dist: {req}" for req in requires]
    folder = site / f"{name.replace('-', '_')}-{version}.dist-info"
    write(folder / "METADATA", "\n".join(lines) + "\n\n")
    return folder


@pytest.fixture
def fake_build(tmp_path: Path) -> Path:
    """What `sam build` leaves: a built template, a layer with a native module and botocore, a function."""
    build = tmp_path / "build"
    write(build / "template.yaml", FAKE_TEMPLATE)
    site = build / "SharedLayer" / "python"
    write(site / "backend" / "__init__.py", "")
    write(site / "backend" / "settings.py", "TABLE = 'app'\n")
    write(site / "pkg" / "__init__.py", "from pkg import _native\n")
    write(site / "pkg" / "_native.cpython-313-aarch64-linux-gnu.so", fake_elf(postbuild.EM_AARCH64))
    dist_info(site, "pkg", "1.0", "botocore>=1.12.54", "boto3>=99; extra == 'aws-sdk'")
    write(site / "botocore" / "__init__.py", "__version__ = '1.44.8'\n")
    write(site / "botocore" / "data" / "endpoints.json", "{}")
    dist_info(site, "botocore", "1.44.8", "jmespath<2.0.0,>=0.7.1")
    write(build / "HelloFunction" / "app.py", "def handler(event, context):\n    return event\n")
    return build


def run(build: Path, *flags: str) -> int:
    return postbuild.main([*flags, str(build)])


@pytest.fixture
def processed(fake_build: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    assert run(fake_build) == 0, capsys.readouterr()
    capsys.readouterr()
    return fake_build


# ------------------------------------------------------------------ ELF header


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (fake_elf(0xB7), 0xB7),
        (fake_elf(0x3E), 0x3E),
        (fake_elf(0xB7, big_endian=True), 0xB7),
        (b"\x7fELF\x02\x01", None),  # truncated header
        (b"#!/bin/sh\necho not elf\n" * 3, None),
        (b"", None),
    ],
)
def test_elf_machine_reads_e_machine(tmp_path: Path, content: bytes, expected: int | None) -> None:
    assert postbuild.elf_machine(write(tmp_path / "f", content)) == expected


def test_check_native_accepts_aarch64_and_rejects_x86_64(tmp_path: Path) -> None:
    write(tmp_path / "ok.cpython-313-aarch64-linux-gnu.so", fake_elf(postbuild.EM_AARCH64))
    write(tmp_path / "libs" / "libz.so.1.3", fake_elf(postbuild.EM_AARCH64))
    assert postbuild.check_native(tmp_path) == (2, [])

    write(tmp_path / "bad.cpython-313-x86_64-linux-gnu.so", fake_elf(postbuild.EM_X86_64))
    count, problems = postbuild.check_native(tmp_path)
    assert count == 3
    assert len(problems) == 1
    assert "bad.cpython-313-x86_64-linux-gnu.so" in problems[0]
    assert "x86_64" in problems[0]


def test_check_native_rejects_fake_so_and_other_python_abi(tmp_path: Path) -> None:
    write(tmp_path / "notelf.so", b"just text")
    write(tmp_path / "old.cpython-312-aarch64-linux-gnu.so", fake_elf(postbuild.EM_AARCH64))
    _count, problems = postbuild.check_native(tmp_path)
    assert len(problems) == 2
    assert any("not an ELF file" in p for p in problems)
    assert any("another Python" in p for p in problems)


# ------------------------------------------------------------------ bytecode checks


def test_check_bytecode_requires_a_pyc_for_every_py(tmp_path: Path) -> None:
    source = write(tmp_path / "mod.py", "X = 1\n")
    assert postbuild.check_bytecode(tmp_path)[1] == [f"{source}: no __pycache__/mod.cpython-313.pyc"]

    assert postbuild.compile_tree(tmp_path, "/var/task") == []
    assert postbuild.pyc_path(source).is_file()
    assert postbuild.check_bytecode(tmp_path) == (1, [])


def test_check_bytecode_rejects_stale_and_timestamp_pyc(tmp_path: Path) -> None:
    source = write(tmp_path / "mod.py", "X = 1\n")
    postbuild.compile_tree(tmp_path, "/var/task")
    write(source, "X = 2\n")
    assert "stale" in postbuild.check_bytecode(tmp_path)[1][0]

    py_compile.compile(
        str(source),
        cfile=str(postbuild.pyc_path(source)),
        invalidation_mode=py_compile.PycInvalidationMode.TIMESTAMP,
    )
    assert "timestamp-based" in postbuild.check_bytecode(tmp_path)[1][0]

    write(postbuild.pyc_path(source), b"\x00\x00\x0d\x0a" + bytes(12))
    assert "wrong magic number" in postbuild.check_bytecode(tmp_path)[1][0]


def test_compile_tree_reports_sources_that_do_not_compile(tmp_path: Path) -> None:
    write(tmp_path / "good.py", "X = 1\n")
    write(tmp_path / "broken.py", "print 'python 2'\n")
    failures = postbuild.compile_tree(tmp_path, "/var/task")
    assert len(failures) == 1
    assert "broken.py" in failures[0]


def test_compiled_bytecode_records_the_lambda_path(tmp_path: Path) -> None:
    source = write(tmp_path / "python" / "pkg" / "mod.py", "def f():\n    return 1\n")
    postbuild.compile_tree(tmp_path, "/opt")
    import marshal

    code = marshal.loads(postbuild.pyc_path(source).read_bytes()[16:])
    assert code.co_filename == "/opt/python/pkg/mod.py"


# ------------------------------------------------------------------ the whole script


def test_postbuild_strips_sdk_compiles_and_verifies(
    fake_build: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(fake_build) == 0
    out = capsys.readouterr().out
    site = fake_build / "SharedLayer" / "python"
    assert not (site / "botocore").exists()
    assert not (site / "botocore-1.44.8.dist-info").exists()
    assert (site / "pkg-1.0.dist-info").is_dir()
    assert (site / "pkg" / "_native.cpython-313-aarch64-linux-gnu.so").is_file()
    for source in fake_build.rglob("*.py"):
        pyc = postbuild.pyc_path(source).read_bytes()
        assert int.from_bytes(pyc[4:8], "little") == postbuild.PYC_FLAG_HASH_BASED  # unchecked hash
    assert "SharedLayer" in out
    assert "HelloFunction" in out
    assert "0 violation(s)" in out
    assert run(fake_build, "--verify-only") == 0
    assert run(fake_build) == 0  # idempotent


def test_verify_only_fails_on_unprocessed_build(fake_build: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(fake_build, "--verify-only") == 1
    err = capsys.readouterr().err
    assert "no __pycache__/app.cpython-313.pyc" in err
    assert "provided by the Lambda runtime" in err
    assert (fake_build / "SharedLayer" / "python" / "botocore").is_dir()  # verify changes nothing


def test_verify_fails_on_planted_x86_64_so(processed: Path, capsys: pytest.CaptureFixture[str]) -> None:
    planted = processed / "SharedLayer" / "python" / "pkg" / "_speedups.cpython-313-x86_64-linux-gnu.so"
    write(planted, fake_elf(postbuild.EM_X86_64))
    assert run(processed, "--verify-only") == 1
    err = capsys.readouterr().err
    assert f"VIOLATION {planted}: x86_64 binary" in err


def test_verify_fails_on_missing_pyc(processed: Path, capsys: pytest.CaptureFixture[str]) -> None:
    postbuild.pyc_path(processed / "HelloFunction" / "app.py").unlink()
    assert run(processed, "--verify-only") == 1
    assert "app.py: no __pycache__/app.cpython-313.pyc" in capsys.readouterr().err


def test_verify_fails_on_py_added_after_postbuild(
    processed: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(processed / "HelloFunction" / "extra.py", "Y = 2\n")
    assert run(processed, "--verify-only") == 1
    assert "extra.py: no __pycache__/extra.cpython-313.pyc" in capsys.readouterr().err


def test_verify_fails_on_source_changed_after_postbuild(
    processed: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(processed / "HelloFunction" / "app.py", "def handler(event, context):\n    return None\n")
    assert run(processed, "--verify-only") == 1
    assert "stale" in capsys.readouterr().err


def test_verify_fails_when_sdk_is_shipped(processed: Path, capsys: pytest.CaptureFixture[str]) -> None:
    site = processed / "SharedLayer" / "python"
    write(site / "boto3" / "__init__.py", "")
    py_compile.compile(
        str(site / "boto3" / "__init__.py"),
        cfile=str(postbuild.pyc_path(site / "boto3" / "__init__.py")),
        invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
    )
    assert run(processed, "--verify-only") == 1
    assert "boto3: provided by the Lambda runtime" in capsys.readouterr().err


def test_verify_fails_over_lambda_size_limit(
    processed: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(postbuild, "LAMBDA_UNZIPPED_LIMIT", 100)
    assert run(processed, "--verify-only") == 1
    assert "HelloFunction: code and layers are" in capsys.readouterr().err


def test_refuses_to_strip_sdk_a_dependency_needs_newer(
    fake_build: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dist_info(fake_build / "SharedLayer" / "python", "needs-new-sdk", "2.0", "botocore>=99.0")
    assert run(fake_build) == 2
    err = capsys.readouterr().err
    assert "needs-new-sdk requires botocore>=99.0" in err
    assert (fake_build / "SharedLayer" / "python" / "botocore").is_dir()


def test_postbuild_strips_the_sdks_own_dependencies(
    fake_build: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site = fake_build / "SharedLayer" / "python"
    write(site / "jmespath" / "__init__.py", "")
    dist_info(site, "jmespath", "1.1.0")
    write(site / "dateutil" / "__init__.py", "")
    dist_info(site, "python-dateutil", "2.9.0", "six>=1.5")
    write(site / "six.py", "")
    dist_info(site, "six", "1.17.0")
    write(site / "urllib3" / "__init__.py", "")  # stays: see RUNTIME_SDK
    dist_info(site, "urllib3", "2.8.0")
    assert run(fake_build) == 0
    for gone in ("jmespath", "dateutil", "six.py", "jmespath-1.1.0.dist-info", "six-1.17.0.dist-info"):
        assert not (site / gone).exists(), gone
    assert (site / "urllib3" / "__init__.py").is_file()


def _plant_prunable(site: Path) -> None:
    write(site / "cffi" / "__init__.py", "")
    dist_info(site, "cffi", "2.1.1", "pycparser")
    write(site / "pycparser" / "__init__.py", "")
    dist_info(site, "pycparser", "3.12")
    write(site / "_cffi_backend.cpython-313-aarch64-linux-gnu.so", fake_elf(postbuild.EM_AARCH64))
    write(site / "pydantic" / "__init__.py", "")
    write(site / "pydantic" / "v1" / "__init__.py", "")
    write(site / "pydantic_core" / "core.pyi", "x: int\n")
    write(site / "wrapt-stubs" / "__init__.pyi", "")


def test_postbuild_prunes_build_only_unused_and_stubs(
    fake_build: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site = fake_build / "SharedLayer" / "python"
    _plant_prunable(site)
    assert run(fake_build) == 0
    out = capsys.readouterr().out
    assert "pruned what is never imported at run time" in out
    for gone in (
        "cffi",
        "cffi-2.1.1.dist-info",
        "pycparser",
        "pydantic/v1",
        "pydantic_core/core.pyi",
        "wrapt-stubs",
    ):
        assert not (site / gone).exists(), gone
    assert (site / "_cffi_backend.cpython-313-aarch64-linux-gnu.so").is_file()  # argon2 needs it
    assert (site / "pydantic" / "__init__.py").is_file()
    assert "within the layer budget" in out


def test_verify_fails_when_pruned_files_are_shipped(
    processed: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site = processed / "SharedLayer" / "python"
    write(site / "pydantic" / "v1" / "__init__.py", "")
    postbuild.compile_tree(processed / "SharedLayer", "/opt")
    assert run(processed, "--verify-only") == 1
    assert "pydantic/v1: not needed at run time" in capsys.readouterr().err


def test_summary_reports_the_layer_budget(
    processed: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(postbuild, "LAYER_BUDGET", 10)
    assert run(processed, "--verify-only") == 0  # reported here, judged by `make bench-check`
    assert "OVER the layer budget" in capsys.readouterr().out


def _site_without(tmp_path: Path, *dropped: str) -> Path:
    """A copy of what some installed distributions put in site-packages, minus `dropped`."""
    import importlib.util

    site = tmp_path / "site"
    site.mkdir()
    for name in ("argon2", "_argon2_cffi_bindings", "_cffi_backend", "cffi", "pycparser"):
        if name in dropped:
            continue
        spec = importlib.util.find_spec(name)
        assert spec is not None
        assert spec.origin is not None
        origin = Path(spec.origin)
        if origin.name == "__init__.py":
            shutil.copytree(origin.parent, site / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(origin, site / origin.name)
    return site


def test_argon2_hashes_without_the_build_only_packages(tmp_path: Path) -> None:
    site = _site_without(tmp_path, *postbuild.BUILD_ONLY)
    code = (
        "import sys; sys.path.insert(0, sys.argv[1])\n"
        "from argon2 import PasswordHasher\n"
        "h = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)\n"
        "assert h.verify(h.hash('s3cret'), 's3cret')\n"
        "assert 'cffi' not in sys.modules and 'pycparser' not in sys.modules\n"
    )
    done = subprocess.run(
        [sys.executable, "-S", "-I", "-c", code, str(site)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr


def test_fastapi_routes_work_without_pydantic_v1() -> None:
    code = (
        "import sys\n"
        "sys.modules['pydantic.v1'] = None  # what pruning pydantic/v1 leaves: the import fails\n"
        "from fastapi import FastAPI\n"
        "from fastapi.testclient import TestClient\n"
        "from pydantic import BaseModel\n"
        "class Item(BaseModel):\n"
        "    name: str\n"
        "app = FastAPI()\n"
        "@app.post('/items', response_model=Item)\n"
        "def create(item: Item) -> Item:\n"
        "    return item\n"
        "client = TestClient(app)\n"
        "assert client.post('/items', json={'name': 'a'}).json() == {'name': 'a'}\n"
        "assert client.post('/items', json={}).status_code == 422\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


def test_sourceless_packages_ship_bytecode_in_place_of_sources(
    fake_build: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(postbuild, "SOURCELESS", ("pkg",))
    site = fake_build / "SharedLayer" / "python"
    assert run(fake_build) == 0, capsys.readouterr()
    assert not list((site / "pkg").rglob("*.py"))
    assert (site / "pkg" / "__init__.pyc").is_file()
    assert (site / "backend" / "settings.py").is_file()  # not listed: sources stay
    assert run(fake_build) == 0  # idempotent
    write(site / "pkg" / "late.py", "X = 1\n")
    assert run(fake_build, "--verify-only") == 1
    assert "source shipped in a bytecode-only package" in capsys.readouterr().err


def test_bytecode_only_and_pruned_packages_still_work(tmp_path: Path) -> None:
    """The packages postbuild ships without sources (and redis without its unused parts), as built
    here, used the way the functions use them."""
    import importlib.util

    site = tmp_path / "layer" / "python"
    for name in postbuild.SOURCELESS:
        spec = importlib.util.find_spec(name)
        assert spec is not None
        assert spec.origin is not None
        shutil.copytree(Path(spec.origin).parent, site / name, ignore=shutil.ignore_patterns("__pycache__"))
    artifact = postbuild.Artifact("SharedLayer", "layer", tmp_path / "layer")
    postbuild.prune(artifact)
    assert postbuild.compile_tree(artifact.path, "/opt") == []
    assert postbuild.check_sourceless(artifact.path) == []
    code = (
        "import sys; sys.path.insert(0, sys.argv[1])\n"
        "import redis, aws_lambda_powertools\n"
        "assert redis.__file__.endswith('.pyc') and aws_lambda_powertools.__file__.endswith('.pyc')\n"
        "from redis.backoff import NoBackoff\n"
        "from redis.retry import Retry\n"
        "client = redis.Redis.from_url('redis://127.0.0.1:6399/0', retry=Retry(NoBackoff(), 0))\n"
        "assert client.connection_pool.make_connection().pack_command('SET', 'k', 'v')\n"
        "from aws_lambda_powertools import Logger, Metrics\n"
        "Logger(service='t').info('hello')\n"
        "Metrics(namespace='T', service='t')\n"
        "from aws_lambda_powertools.utilities import parameters\n"
        "from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType\n"
        "from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer, idempotent_function\n"
        "from aws_lambda_powertools.shared.functions import pydantic_to_dict\n"
        "from pydantic import BaseModel\n"
        "class M(BaseModel):\n"
        "    a: int\n"
        "assert pydantic_to_dict(M(a=1)) == {'a': 1}\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(site)], capture_output=True, text=True, check=False, timeout=120
    )
    assert done.returncode == 0, done.stderr


def test_sdk_requirement_check_honours_extras_and_markers(tmp_path: Path) -> None:
    dist_info(tmp_path, "a", "1", "boto3>=99; extra == 'aws-sdk'")  # extra not installed: ignored
    dist_info(tmp_path, "b", "1", "botocore>=99; python_version < '3.10'")  # not on 3.13: ignored
    dist_info(tmp_path, "c", "1", "botocore>=1.11.3")
    assert postbuild.check_sdk_requirements(tmp_path) == []

    dist_info(tmp_path, "boto3", "1.40.0")  # now something did install boto3: the extra counts
    problems = postbuild.check_sdk_requirements(tmp_path)
    assert len(problems) == 1
    assert problems[0].startswith("a requires boto3>=99")


def test_refuses_other_python_versions(
    fake_build: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(postbuild, "REQUIRED_PYTHON", (3, 12))
    assert run(fake_build) == 2
    assert "must run on CPython 3.12" in capsys.readouterr().err


def test_missing_template_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(tmp_path) == 2
    assert "template.yaml not found" in capsys.readouterr().err


# ------------------------------------------------------------------ the real sam build


@dataclass
class RealBuild:
    build_dir: Path
    sam_seconds: float
    postbuild_seconds: float
    postbuild_exit: int
    postbuild_output: str


@pytest.fixture(scope="module")
def real_build(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealBuild]:
    """`sam build` of the repository into a temporary folder (never .aws-sam), then postbuild."""
    venv_bin = Path(sys.executable).parent
    sam = venv_bin / "sam"
    if not sam.is_file():
        pytest.fail(f"{sam} not found: install the dev requirements (make venv)")
    work = tmp_path_factory.mktemp("sam")
    build_dir = work / "build"
    env = {
        **os.environ,
        # sam's python_pip workflow looks for python3.13 on PATH
        "PATH": f"{venv_bin}{os.pathsep}{os.environ.get('PATH', '')}",
        "SAM_CLI_TELEMETRY": "0",
    }
    started = time.monotonic()
    result = subprocess.run(
        # --no-cached: samconfig.toml's cached build keeps dependencies in the repository's
        # .aws-sam/deps, which two builds at once (xdist workers, a `make build` alongside) corrupt
        [
            str(sam),
            "build",
            "--parallel",
            "--no-cached",
            "--build-dir",
            str(build_dir),
            "--cache-dir",
            str(work / "cache"),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    sam_seconds = time.monotonic() - started
    assert result.returncode == 0, f"sam build failed:\n{result.stdout}\n{result.stderr}"

    started = time.monotonic()
    post = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "postbuild.py"), str(build_dir)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    postbuild_seconds = time.monotonic() - started
    print(f"\nsam build: {sam_seconds:.1f} s, postbuild: {postbuild_seconds:.1f} s\n{post.stdout}")
    yield RealBuild(build_dir, sam_seconds, postbuild_seconds, post.returncode, post.stdout + post.stderr)
    shutil.rmtree(work, ignore_errors=True)


def _artifacts(build: RealBuild) -> list[postbuild.Artifact]:
    return postbuild.discover_artifacts(build.build_dir)


@pytest.mark.build
def test_real_build_postprocesses_cleanly(real_build: RealBuild) -> None:
    assert real_build.postbuild_exit == 0, real_build.postbuild_output
    kinds = {a.logical_id: a.kind for a in _artifacts(real_build)}
    assert kinds["SharedLayer"] == "layer"
    assert sum(kind == "function" for kind in kinds.values()) >= 1


@pytest.mark.build
def test_real_build_has_only_aarch64_native_code(real_build: RealBuild) -> None:
    for artifact in _artifacts(real_build):
        assert postbuild.check_native(artifact.path)[1] == []
    site = real_build.build_dir / "SharedLayer" / "python"
    # The layer's native dependencies are there, as arm64 builds for CPython 3.13 (or the stable ABI).
    expected = [
        "pydantic_core/_pydantic_core.cpython-313-aarch64-linux-gnu.so",
        "_cffi_backend.cpython-313-aarch64-linux-gnu.so",
        "_argon2_cffi_bindings/_ffi.abi3.so",
    ]
    for relative in expected:
        assert postbuild.elf_machine(site / relative) == postbuild.EM_AARCH64, relative
    assert not [p for p in real_build.build_dir.rglob("*.so") if "x86_64" in p.name]


@pytest.mark.build
def test_real_build_ships_bytecode_for_every_module(real_build: RealBuild) -> None:
    for artifact in _artifacts(real_build):
        count, problems = postbuild.check_bytecode(artifact.path)
        assert problems == []
        assert count >= 1
    sources = list(real_build.build_dir.rglob("*.py"))
    assert sources
    assert all(postbuild.pyc_path(source).is_file() for source in sources)


@pytest.mark.build
def test_real_build_leaves_the_sdk_to_the_runtime(real_build: RealBuild) -> None:
    site = real_build.build_dir / "SharedLayer" / "python"
    for name in ("boto3", "botocore", "s3transfer"):
        assert not (site / name).exists()
        assert not list(site.glob(f"{name}-*.dist-info"))
    assert (site / "backend" / "__init__.py").is_file()
    assert (site / "pydantic").is_dir()


@pytest.mark.build
def test_real_build_time(real_build: RealBuild) -> None:
    # Not a benchmark: a guard against the build silently becoming much slower (e.g. compiling
    # sdists because a wheel for aarch64 went missing).
    assert real_build.sam_seconds < 600, f"sam build took {real_build.sam_seconds:.0f} s"


@pytest.mark.build
def test_real_build_layer_is_pruned_and_within_budget(real_build: RealBuild) -> None:
    site = real_build.build_dir / "SharedLayer" / "python"
    for gone in (
        "cffi",
        "pycparser",
        "pydantic/v1",
        "jmespath",
        "dateutil",
        "six.py",
        "redis/commands/search",
    ):
        assert not (site / gone).exists(), gone
    assert (site / "redis" / "client.pyc").is_file()  # bytecode only
    assert not (site / "redis" / "client.py").exists()
    assert list(site.glob("_cffi_backend.*.so"))
    layer = next(a for a in _artifacts(real_build) if a.kind == "layer")
    size = sum(p.stat().st_size for p in layer.path.rglob("*") if p.is_file() and not p.is_symlink())
    assert size <= postbuild.LAYER_BUDGET, f"layer is {size / 1e6:.1f} MB"
