"""The deploy pipeline (.github/workflows/deploy.yml) and its AWS roles (deploy/github-oidc-role.yaml).

The workflow is validated against GitHub's workflow schema with check-jsonschema (pinned in
requirements-dev.txt; the schema ships inside the package, so this runs offline). The remaining tests
pin what the schema cannot know: the order of the jobs, the approval gate before prod, OIDC instead
of stored keys, and a trust policy that admits only the stage's GitHub environment.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / ".github" / "workflows" / "deploy.yml"
ROLE_TEMPLATE = ROOT / "deploy" / "github-oidc-role.yaml"


def check_jsonschema(*args: str) -> subprocess.CompletedProcess[str]:
    cli = Path(sys.executable).with_name("check-jsonschema")
    return subprocess.run([str(cli), *args], capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture(scope="module")
def workflow() -> dict[Any, Any]:
    loaded: dict[Any, Any] = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    return loaded


def test_the_workflow_matches_githubs_schema() -> None:
    done = check_jsonschema("--builtin-schema", "vendor.github-workflows", str(WORKFLOW))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ok -- validation done" in done.stdout


def test_the_schema_check_can_fail(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text("on: push\njobs:\n  test:\n    runs-on: ubuntu-24.04\n    step: []\n", encoding="utf-8")
    done = check_jsonschema("--builtin-schema", "vendor.github-workflows", str(broken))
    assert done.returncode == 1, done.stdout + done.stderr


def test_tests_then_build_then_dev_then_approved_prod(workflow: dict[Any, Any]) -> None:
    # PyYAML reads the key `on` as True (YAML 1.1)
    assert workflow[True]["push"] == {"branches": ["main"]}
    jobs = workflow["jobs"]
    assert list(jobs) == ["test", "build", "deploy-dev", "deploy-prod"]
    assert [step.get("run") for step in jobs["test"]["steps"] if "make test" in str(step.get("run"))] == [
        "make test AUDIT_STRICT=1"
    ]
    assert (jobs["build"]["needs"], jobs["deploy-dev"]["needs"], jobs["deploy-prod"]["needs"]) == (
        "test",
        "build",
        "deploy-dev",
    )
    assert jobs["deploy-dev"]["environment"]["name"] == "dev"
    # the prod environment is where GitHub holds the job for its required reviewers
    assert jobs["deploy-prod"]["environment"]["name"] == "prod"
    for name in ("deploy-dev", "deploy-prod"):
        assert jobs[name]["if"] == "github.ref == 'refs/heads/main'"
    deploys = {name: " ".join(str(s.get("run", "")) for s in jobs[name]["steps"]) for name in jobs}
    assert "sam deploy --config-env dev" in deploys["deploy-dev"]
    assert "sam deploy --config-env prod" in deploys["deploy-prod"]
    assert "--no-confirm-changeset" in deploys["deploy-prod"]


def test_aws_access_is_oidc_only(workflow: dict[Any, Any]) -> None:
    text = WORKFLOW.read_text(encoding="utf-8")
    assert not re.search(r"aws-access-key-id|aws-secret-access-key|AWS_SECRET_ACCESS_KEY|secrets\.", text)
    assert workflow["permissions"] == {"contents": "read"}
    for name in ("deploy-dev", "deploy-prod"):
        job = workflow["jobs"][name]
        assert job["permissions"] == {"contents": "read", "id-token": "write"}
        (credentials,) = [
            s
            for s in job["steps"]
            if str(s.get("uses", "")).startswith("aws-actions/configure-aws-credentials@")
        ]
        assert credentials["with"]["role-to-assume"] == "${{ vars.AWS_DEPLOY_ROLE_ARN }}"
    for name in ("test", "build"):
        assert "permissions" not in workflow["jobs"][name]  # the workflow's read-only default: no token


class _CfnLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short tags (!Sub, !Ref, !GetAtt...) read as plain values."""


def _tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return {suffix: loader.construct_scalar(node)}
    if isinstance(node, yaml.SequenceNode):
        return {suffix: loader.construct_sequence(node, deep=True)}
    return {suffix: loader.construct_mapping(node, deep=True)}  # type: ignore[arg-type]


_CfnLoader.add_multi_constructor("!", _tag)


def test_the_deploy_role_trusts_only_the_stages_github_environment() -> None:
    template = yaml.load(ROLE_TEMPLATE.read_text(encoding="utf-8"), Loader=_CfnLoader)  # nosec B506  # a SafeLoader subclass
    role = template["Resources"]["DeployRole"]["Properties"]
    (statement,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Condition"]["StringEquals"] == {
        "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
        "token.actions.githubusercontent.com:sub": {"Sub": "repo:${GitHubRepository}:environment:${Stage}"},
    }
    actions = {
        action
        for s in role["Policies"][0]["PolicyDocument"]["Statement"]
        for action in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    }
    # the workflow's role drives CloudFormation and uploads artifacts; it creates nothing itself
    assert {a.split(":")[0] for a in actions} == {"cloudformation", "iam", "s3"}
    assert [a for a in actions if a.startswith("iam:")] == ["iam:PassRole"]


def test_the_role_template_passes_cfn_lint() -> None:
    cli = Path(sys.executable).with_name("cfn-lint")
    done = subprocess.run(
        [str(cli), str(ROLE_TEMPLATE)], capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
