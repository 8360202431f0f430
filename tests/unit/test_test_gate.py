"""The test gate itself: every folder of tests is collected by a plain `pytest` (`make test`)."""

from __future__ import annotations

from pathlib import Path

from tests.support.plugin import TESTS_ROOT, folders_with_tests, folders_without_tests


def test_every_test_folder_is_known() -> None:
    assert {"unit", "integration", "fuzz", "build", "contract"} <= folders_with_tests()


def test_a_folder_whose_tests_were_not_collected_is_named(tmp_path: Path) -> None:
    for folder in ("unit", "build"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "test_x.py").write_text("")
    (tmp_path / "support").mkdir()
    (tmp_path / "support" / "helpers.py").write_text("")  # no test module: not a test folder
    assert folders_without_tests([tmp_path / "unit" / "test_x.py"], tmp_path) == ["build"]
    assert (
        folders_without_tests([tmp_path / "unit" / "test_x.py", tmp_path / "build" / "test_x.py"], tmp_path)
        == []
    )


def test_the_suite_collects_the_build_tests() -> None:
    # pytest's default norecursedirs has "build": pyproject.toml must leave it out
    import tomllib

    config = tomllib.loads((TESTS_ROOT.parent / "pyproject.toml").read_text())["tool"]["pytest"][
        "ini_options"
    ]
    assert "build" not in config["norecursedirs"]


def test_make_bench_writes_outside_the_tracked_tree() -> None:
    import subprocess

    from scripts.bench.cli import DEFAULT_OUTPUT, RECORDED_OUTPUT

    root = TESTS_ROOT.parent
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", str(DEFAULT_OUTPUT.relative_to(root))], cwd=root, check=False
    )
    assert ignored.returncode == 0, f"{DEFAULT_OUTPUT} is not git-ignored: make bench would dirty the tree"
    assert root / "docs" / "benchmarks.md" == RECORDED_OUTPUT
