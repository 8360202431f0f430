"""No Scan anywhere: not in the code (static check) and not at runtime (the pytest plugin)."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
#: Everything that is not a test. The data layer must never scan; nothing else should either.
SOURCES = ("layers", "functions", "local", "scripts")
_SCAN_CALLS = {"scan", "parallel_scan"}


def _scan_uses(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            name = node.func.attr
            if name in _SCAN_CALLS:
                found.append(f"{path}:{node.lineno}: .{name}(...)")
            if name == "get_paginator" and any(
                isinstance(a, ast.Constant) and str(a.value).lower() == "scan" for a in node.args
            ):
                found.append(f"{path}:{node.lineno}: get_paginator('scan')")
        if isinstance(node, ast.Constant) and node.value == "Scan":
            found.append(f"{path}:{node.lineno}: 'Scan' operation name")
    return found


def test_no_scan_in_the_code_outside_tests() -> None:
    offenders = []
    for top in SOURCES:
        for path in sorted((ROOT / top).rglob("*.py")):
            if ".aws-sam" not in path.parts:
                offenders.extend(_scan_uses(path))
    assert offenders == []


def test_the_static_check_sees_a_scan(tmp_path: Path) -> None:
    sample = tmp_path / "bad.py"
    sample.write_text("def f(t):\n    return t.scan(Limit=1)\n")
    assert _scan_uses(sample) == [f"{sample}:2: .scan(...)"]


def test_the_plugin_fails_a_suite_that_scans(tmp_path: Path) -> None:
    (tmp_path / "test_sample.py").write_text(
        textwrap.dedent(
            """
            import boto3
            import pytest
            from moto import mock_aws

            @pytest.mark.parametrize("scan", [False, True])
            def test_reads(scan):
                with mock_aws():
                    client = boto3.client("dynamodb", region_name="us-east-1")
                    client.create_table(
                        TableName="t",
                        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}],
                        AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"}],
                        BillingMode="PAY_PER_REQUEST",
                    )
                    client.get_item(TableName="t", Key={"PK": {"S": "a"}})
                    if scan:
                        client.scan(TableName="t")
            """
        )
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "tests.support.plugin",
            "-q",
            "-p",
            "no:cacheprovider",
            str(tmp_path),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = completed.stdout + completed.stderr
    assert completed.returncode == 1, output
    assert "2 passed, 1 error" in output
    assert "ERROR test_sample.py::test_reads[True]" in output
    assert "DynamoDB Scan issued by test_sample.py::test_reads[True]" in output
    assert "dynamodb.Scan(t)" in output
