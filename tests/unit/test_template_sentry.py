"""The optional error reporting in template.yaml: nothing of it exists unless SentryDsnParameterName
is set (the SentryEnabled condition): not the layer, not the permission.

- SentryLayer is conditional, built from layers/sentry/requirements.txt, whose sentry-sdk pin is the
  one requirements-dev.txt gives the tests;
- every function gets ``!If [SentryEnabled, !Ref SentryLayer, !Ref AWS::NoValue]`` (Globals), the
  DSN parameter's name (SENTRY_DSN_PARAMETER_NAME), and, in its role, a conditional policy that
  reads that one SSM parameter and nothing else.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from local.template import ROOT, load_template

CONDITION = "SentryEnabled"
NO_VALUE = {"Ref": "AWS::NoValue"}


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template()


def functions(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == "AWS::Serverless::Function"}


def pin(path: str, package: str = "sentry-sdk") -> str:
    text = (ROOT / path).read_text(encoding="utf-8")
    match = re.search(rf"^{re.escape(package)}==(\S+)", text, re.MULTILINE)
    assert match, f"{path} must pin {package}"
    return match.group(1)


def test_the_parameter_is_off_by_default_and_the_condition_reads_it(template: dict[str, Any]) -> None:
    parameter = template["Parameters"]["SentryDsnParameterName"]
    assert parameter["Default"] == ""
    assert re.fullmatch(parameter["AllowedPattern"], "")
    assert re.fullmatch(parameter["AllowedPattern"], "/app-backend/prod/sentry-dsn")
    assert not re.fullmatch(parameter["AllowedPattern"], "https://key@o1.ingest.sentry.io/1"), (
        "the parameter is the name of the SecureString, never the DSN itself"
    )
    assert template["Conditions"][CONDITION] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "SentryDsnParameterName"}, ""]}]
    }


def test_the_layer_exists_only_under_the_condition_and_pins_what_the_tests_use(
    template: dict[str, Any],
) -> None:
    layer = template["Resources"]["SentryLayer"]
    assert layer["Type"] == "AWS::Serverless::LayerVersion"
    assert layer["Condition"] == CONDITION
    assert layer["Properties"]["ContentUri"] == "layers/sentry/"
    assert layer["Metadata"] == {"BuildMethod": "python3.13", "BuildArchitecture": "arm64"}
    assert pin("layers/sentry/requirements.txt") == pin("requirements-dev.txt")
    # Both layers land in /opt/python: one urllib3 version, or the first on sys.path wins silently.
    assert pin("layers/sentry/requirements.txt", "urllib3") == pin(
        "layers/shared/requirements.txt", "urllib3"
    )
    shared = (ROOT / "layers" / "shared" / "requirements.txt").read_text(encoding="utf-8")
    assert "sentry" not in shared.lower(), (
        "sentry-sdk stays out of the shared layer (its size and cold start)"
    )


def test_every_function_has_the_conditional_layer_and_the_dsn_setting(template: dict[str, Any]) -> None:
    globals_ = template["Globals"]["Function"]
    assert {"Fn::If": [CONDITION, {"Ref": "SentryLayer"}, NO_VALUE]} in globals_["Layers"]
    assert globals_["Environment"]["Variables"]["SENTRY_DSN_PARAMETER_NAME"] == {
        "Ref": "SentryDsnParameterName"
    }
    for logical_id, function in functions(template).items():
        own = function["Properties"].get("Layers") or []
        assert {"Ref": "SentryLayer"} not in own, f"{logical_id}: the layer must stay conditional"
        variables = (function["Properties"].get("Environment") or {}).get("Variables") or {}
        assert "SENTRY_DSN_PARAMETER_NAME" not in variables, logical_id


def _sentry_policies(role: dict[str, Any]) -> list[Any]:
    return [p for p in role["Properties"]["Policies"] if "ReadTheSentryDsn" in repr(p)]


def test_the_dsn_grant_is_conditional_and_reads_that_one_parameter(template: dict[str, Any]) -> None:
    resources = template["Resources"]
    for logical_id, function in functions(template).items():
        role_id = function["Properties"]["Role"]["Fn::GetAtt"]
        role_id = role_id.split(".", 1)[0] if isinstance(role_id, str) else role_id[0]
        (policy,) = _sentry_policies(resources[role_id])
        condition, granted, otherwise = policy["Fn::If"]
        assert (condition, otherwise) == (CONDITION, NO_VALUE), logical_id
        (statement,) = granted["PolicyDocument"]["Statement"]
        assert statement["Effect"] == "Allow"
        assert statement["Action"] == ["ssm:GetParameter"], logical_id
        assert statement["Resource"] == {
            "Fn::Sub": "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${SentryDsnParameterName}"
        }, logical_id
    # nothing else mentions the parameter unconditionally
    roles = [r for r in resources.values() if r["Type"] == "AWS::IAM::Role"]
    for role in roles:
        for policy in role["Properties"]["Policies"]:
            if "SentryDsnParameterName" in repr(policy):
                assert "Fn::If" in policy
                assert policy["Fn::If"][0] == CONDITION


def test_the_translated_template_drops_it_all_when_off() -> None:
    """SAM keeps the conditions: CloudFormation then creates neither the layer nor the grant."""
    from tests.support.sam import translated

    resources = translated()["Resources"]
    (layer_id,) = [k for k in resources if k.startswith("SentryLayer")]
    assert resources[layer_id]["Condition"] == CONDITION
    for logical_id, resource in resources.items():
        if resource["Type"] == "AWS::Lambda::Function":
            layers = resource["Properties"]["Layers"]
            assert {"Fn::If": [CONDITION, {"Ref": layer_id}, NO_VALUE]} in layers, logical_id
