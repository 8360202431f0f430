"""The static security gates of `make audit` cannot pass vacuously.

- the secrets scan finds planted credentials (private key, cloud key, token, high-entropy string in
  configuration) and honours inline waivers only;
- the dependency audit says AUDIT NOT RUN (and fails under AUDIT_STRICT=1) when pip-audit could not
  check the pins, fails on a vulnerability without a waiver, and passes only when all were checked;
- every inline waiver (bandit ``# nosec``, checkov ``skip``) names a real check and gives a reason.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

import audit_deps  # noqa: E402
import scan_secrets  # noqa: E402

# Built at run time, so this file holds no credential-shaped string itself.
FAKE_AWS_KEY = "AKIA" + "Q7ZVR4M2XK3PLN8T"
FAKE_PRIVATE_KEY = (
    "-----BEGIN " + "RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7x\n-----END " + "RSA PRIVATE KEY-----\n"
)
FAKE_GITHUB_TOKEN = "ghp_" + "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5"
HIGH_ENTROPY = "kJ8s" + "Df7Gh2Lq9Zx4Cv6Bn1Mw3Ep5Rt0Yu8Io7Pa"


# ------------------------------------------------------------------------------ secrets


@pytest.mark.parametrize(
    ("name", "text", "kind"),
    [
        ("settings.py", f'ACCESS_KEY = "{FAKE_AWS_KEY}"\n', "AWS Access Key"),
        ("deploy/key.pem", FAKE_PRIVATE_KEY, "Private Key"),
        ("notes.md", f"token: {FAKE_GITHUB_TOKEN}\n", "GitHub Token"),
        ("config.yaml", f"signing_key: {HIGH_ENTROPY}\n", "Base64 High Entropy String"),
        ("samconfig.toml", f'parameter_overrides = "Key={HIGH_ENTROPY}"\n', "Base64 High Entropy String"),
        (
            "db.py",
            'URL = "postgres://admin:' + 's3cr3tPassw0rd@db.example.com/app"\n',
            "Basic Auth Credentials",
        ),
    ],
)
def test_the_secrets_scan_finds_planted_credentials(tmp_path: Path, name: str, text: str, kind: str) -> None:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    findings = scan_secrets.scan([str(path)])
    assert [(Path(found).name, line, found_kind) for found, line, found_kind in findings] == [
        (path.name, findings[0][1], kind)
    ]
    assert scan_secrets.main([str(path)]) == 1


def test_high_entropy_strings_count_in_configuration_not_in_code(tmp_path: Path) -> None:
    code = tmp_path / "ids.py"
    code.write_text(f'ALPHABET = "{HIGH_ENTROPY}"\n')
    assert scan_secrets.scan([str(code)]) == []


def test_ulids_are_ids_not_secrets(tmp_path: Path) -> None:
    path = tmp_path / "event.json"
    path.write_text(
        '{\n"rawPath": "/api/orders/01JNBD6Y8W3V2T1S0R9Q8P7N6M",\n"key": "' + HIGH_ENTROPY + '"\n}\n'
    )
    assert [line for _, line, _ in scan_secrets.scan([str(path)])] == [3]


def test_an_inline_waiver_silences_one_line_only(tmp_path: Path) -> None:
    path = tmp_path / "fixture.py"
    path.write_text(
        f'KEY = "{FAKE_AWS_KEY}"  # pragma: allowlist secret (test data)\nOTHER = "{FAKE_AWS_KEY[:-1]}X"\n'
    )
    assert [line for _, line, _ in scan_secrets.scan([str(path)])] == [2]


def test_the_repository_holds_no_committed_credentials() -> None:
    assert scan_secrets.scan(scan_secrets.tracked_files()) == []


# ------------------------------------------------------------------------------ dependency audit


def report(*dependencies: dict[str, Any]) -> dict[str, Any]:
    return {"dependencies": list(dependencies), "fixes": []}


SKIPPED = {
    "name": "fastapi",
    "skip_reason": "Dependency not found on PyPI and could not be audited: fastapi (0.1)",
}
CLEAN = {"name": "fastapi", "version": "0.1", "vulns": []}
VULNERABLE = {"name": "fastapi", "version": "0.1", "vulns": [{"id": "GHSA-xxxx", "fix_versions": ["0.2"]}]}


def test_judge_separates_audited_skipped_and_vulnerable() -> None:
    assert audit_deps.judge(report(CLEAN), "", {"fastapi"}) == ([], [], 1)
    assert audit_deps.judge(report(SKIPPED), "", {"fastapi"})[1] == [SKIPPED["skip_reason"]]
    assert audit_deps.judge(report(VULNERABLE), "", {"fastapi"})[0] == ["fastapi==0.1: GHSA-xxxx (0.2)"]
    # a pin pip-audit silently left out is not audited either
    assert audit_deps.judge(report(), "", {"fastapi"}) == ([], ["fastapi: not in pip-audit's report"], 0)
    assert audit_deps.judge(None, "ConnectionError: no route", set())[1] == [
        "pip-audit did not produce a report: ConnectionError: no route"
    ]


@pytest.mark.parametrize(
    "case",
    [
        (SKIPPED, "", 0, "AUDIT NOT RUN"),
        (SKIPPED, "1", 1, "AUDIT NOT RUN"),
        (VULNERABLE, "", 1, "AUDIT FAILED"),
        (CLEAN, "1", 0, "AUDIT OK"),
    ],
)
def test_the_audit_never_passes_silently(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    case: tuple[dict[str, Any], str, int, str],
) -> None:
    dependency, strict, status, says = case
    monkeypatch.setenv("AUDIT_STRICT", strict)
    monkeypatch.setattr(audit_deps, "pinned", lambda path: {"fastapi"})
    monkeypatch.setattr(audit_deps, "run_pip_audit", lambda path, waived: (0, report(dependency), ""))
    assert audit_deps.main() == status
    captured = capsys.readouterr()
    assert says in captured.out + captured.err


def test_an_unreachable_service_is_reported_as_offline_not_as_unknown_pins() -> None:
    offline = audit_deps.not_run_report([f"req.txt: {SKIPPED['skip_reason']}"] * 3, audited=0)
    assert offline[0].startswith("AUDIT NOT RUN (offline)")
    assert "none of the 3" in offline[0]
    assert len(offline) == 2  # no line per package repeating pip-audit's "not found on PyPI"
    assert "make audit-strict" in offline[1]
    # some looked up, one not: that one is named, as pip-audit said it
    partial = audit_deps.not_run_report([f"req.txt: {SKIPPED['skip_reason']}"], audited=4)
    assert partial[0].startswith("AUDIT NOT RUN: 1 pinned requirement(s)")
    assert SKIPPED["skip_reason"] in partial[1]


def test_pins_are_read_from_each_file_itself(tmp_path: Path) -> None:
    path = tmp_path / "requirements.txt"
    path.write_text("-r other.txt\nmoto[server]==5.2.5  # comment\nPyYAML==6.0\nunpinned>=1\n# x==1\n")
    assert audit_deps.pinned(path) == {"moto", "pyyaml"}


def test_pip_audit_waivers_need_a_reason(tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[tool.app-audit.pip-audit-waivers]\nGHSA-1 = "not reachable: we never parse XML"\n')
    assert audit_deps.waivers(pyproject) == {"GHSA-1": "not reachable: we never parse XML"}
    pyproject.write_text('[tool.app-audit.pip-audit-waivers]\nGHSA-1 = " "\n')
    with pytest.raises(SystemExit, match="no reason"):
        audit_deps.waivers(pyproject)


# ------------------------------------------------------------------------------ inline waivers

PRODUCT_CODE = ("layers", "functions", "local", "scripts")
NOSEC = re.compile(r"#\s*nosec\b(?P<rest>.*)$")
WAIVER = re.compile(r"^\s+(?P<ids>B\d{3}(?:\s*,\s*B\d{3})*)\s+#\s*(?P<reason>\S.{9,})$")


def test_every_bandit_waiver_names_a_real_test_and_gives_a_reason() -> None:
    from bandit.core import extension_loader

    known = set(extension_loader.MANAGER.plugins_by_id) | set(extension_loader.MANAGER.blacklist_by_id)
    waivers = []
    for directory in PRODUCT_CODE:
        for path in (ROOT / directory).rglob("*.py"):
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                found = NOSEC.search(line)
                if found is None:
                    continue
                where = f"{path.relative_to(ROOT)}:{number}"
                waiver = WAIVER.match(found.group("rest"))
                assert waiver, f"{where}: write `# nosec BXXX  # reason` (got {line.strip()!r})"
                ids = {item.strip() for item in waiver.group("ids").split(",")}
                assert ids <= known, f"{where}: unknown bandit test {ids - known}"
                waivers.append(where)
    assert waivers  # the scan sees the waivers that exist (local/template.py, local/cli.py)


def test_every_checkov_waiver_in_the_template_gives_a_reason() -> None:
    from local.template import load_template

    skips = [
        (logical_id, skip)
        for logical_id, resource in load_template()["Resources"].items()
        for skip in (resource.get("Metadata", {}).get("checkov", {}).get("skip") or [])
    ]
    assert skips
    for logical_id, skip in skips:
        assert re.fullmatch(r"CKV2?_AWS_\d+", skip["id"]), (logical_id, skip)
        assert len(str(skip.get("comment", "")).strip()) >= 40, f"{logical_id} {skip['id']}: give the reason"


def test_checkov_skips_are_listed_with_their_reasons_and_one_without_fails() -> None:
    import checkov_skips

    template = {
        "Resources": {
            "A": {"Metadata": {"checkov": {"skip": [{"id": "CKV_1", "comment": "why"}]}}},
            "B": {"Metadata": {"checkov": {"skip": [{"id": "CKV_1", "comment": "why"}, {"id": "CKV_2"}]}}},
        }
    }
    assert checkov_skips.skips(template) == {("CKV_1", "why"): ["A", "B"], ("CKV_2", ""): ["B"]}
    assert checkov_skips.main() == 0  # template.yaml: every skip has its reason
