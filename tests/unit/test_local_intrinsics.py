"""Intrinsic functions, parameters and conditions as the local cloud resolves them."""

from __future__ import annotations

from typing import Any

import pytest

from local.intrinsics import (
    IntrinsicError,
    Resolver,
    parse_parameter_overrides,
    references,
    resolve_parameters,
)
from local.template import load_template

TEMPLATE: dict[str, Any] = {
    "Parameters": {
        "Stage": {"Type": "String", "Default": "dev", "AllowedValues": ["dev", "prod"]},
        "Origins": {"Type": "CommaDelimitedList", "Default": "http://a.test, http://b.test"},
        "Size": {"Type": "Number", "Default": 5, "MinValue": 1, "MaxValue": 10},
        "Required": {"Type": "String"},
    },
    "Mappings": {"Sizes": {"dev": {"memory": "256"}, "prod": {"memory": "1024"}}},
    "Conditions": {
        "IsProd": {"Fn::Equals": [{"Ref": "Stage"}, "prod"]},
        "IsNotProd": {"Fn::Not": [{"Condition": "IsProd"}]},
        "Both": {"Fn::And": [{"Condition": "IsNotProd"}, {"Fn::Equals": ["a", "a"]}]},
    },
    "Resources": {
        "Queue": {"Type": "AWS::SQS::Queue"},
        "Table": {"Type": "AWS::DynamoDB::Table"},
        "ProdOnly": {"Type": "AWS::SQS::Queue", "Condition": "IsProd"},
    },
}

ATTRIBUTES = {
    ("Queue", None): "http://localhost/123456789012/q",
    ("Queue", "Arn"): "arn:aws:sqs:us-east-1:123456789012:q",
    ("Queue", "QueueName"): "q",
    ("Table", None): "table-dev",
}


def lookup(logical_id: str, attribute: str | None) -> Any:
    try:
        return ATTRIBUTES[(logical_id, attribute)]
    except KeyError:
        raise IntrinsicError(f"no {logical_id}.{attribute}") from None


def resolver(**overrides: str) -> Resolver:
    params = resolve_parameters(TEMPLATE, {"Required": "x", **overrides})
    return Resolver(TEMPLATE, params, lookup)


def test_parameters_take_defaults_overrides_and_types() -> None:
    params = resolve_parameters(TEMPLATE, {"Required": "value", "Stage": "prod"})
    assert params == {
        "Stage": "prod",
        "Origins": ["http://a.test", "http://b.test"],
        "Size": "5",
        "Required": "value",
    }


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({}, "Required has no Default"),
        ({"Required": "x", "Stage": "qa"}, "not one of"),
        ({"Required": "x", "Size": "11"}, "above MaxValue"),
        ({"Required": "x", "Size": "big"}, "not a number"),
        ({"Required": "x", "Nope": "1"}, "unknown parameter(s) Nope"),
    ],
)
def test_invalid_parameters_are_rejected_with_the_reason(overrides: dict[str, str], message: str) -> None:
    with pytest.raises(IntrinsicError, match=message.replace("(", r"\(").replace(")", r"\)")):
        resolve_parameters(TEMPLATE, overrides)


def test_parameter_overrides_parse_like_sam() -> None:
    assert parse_parameter_overrides(["Stage=prod Size=3"]) == {"Stage": "prod", "Size": "3"}
    assert parse_parameter_overrides(["HousekeepingSchedule=rate(1 minute)"]) == {
        "HousekeepingSchedule": "rate(1 minute)"
    }
    assert parse_parameter_overrides(["A=1", 'B="x y"']) == {"A": "1", "B": "x y"}
    assert parse_parameter_overrides(["ParameterKey=Stage,ParameterValue=prod"]) == {"Stage": "prod"}
    with pytest.raises(IntrinsicError, match="not Key=Value"):
        parse_parameter_overrides(["=oops"])


def test_ref_resolves_parameters_pseudo_parameters_and_resources() -> None:
    r = resolver()
    assert r.resolve({"Ref": "Stage"}) == "dev"
    assert r.resolve({"Ref": "AWS::Region"}) == "us-east-1"
    assert r.resolve({"Ref": "AWS::AccountId"}) == "123456789012"
    assert r.resolve({"Ref": "Queue"}) == "http://localhost/123456789012/q"
    with pytest.raises(IntrinsicError, match="unknown name"):
        r.resolve({"Ref": "Missing"})


def test_get_att_long_and_dotted_forms() -> None:
    r = resolver()
    assert r.resolve({"Fn::GetAtt": ["Queue", "Arn"]}) == "arn:aws:sqs:us-east-1:123456789012:q"
    assert r.resolve({"Fn::GetAtt": "Queue.QueueName"}) == "q"


def test_sub_with_pseudo_parameters_resources_attributes_variables_and_escapes() -> None:
    r = resolver()
    assert (
        r.resolve({"Fn::Sub": "https://${Queue.QueueName}.${AWS::Region}.${AWS::URLSuffix}/${Stage}"})
        == "https://q.us-east-1.amazonaws.com/dev"
    )
    assert r.resolve({"Fn::Sub": ["${Name}-${Stage}", {"Name": {"Ref": "Table"}}]}) == "table-dev-dev"
    assert r.resolve({"Fn::Sub": "${!Literal} and ${Stage}"}) == "${Literal} and dev"


def test_join_select_split_and_find_in_map() -> None:
    r = resolver()
    assert r.resolve({"Fn::Join": [",", {"Ref": "Origins"}]}) == "http://a.test,http://b.test"
    assert r.resolve({"Fn::Join": ["", ["a", {"Ref": "Stage"}, 1]]}) == "adev1"
    assert r.resolve({"Fn::Select": [1, {"Ref": "Origins"}]}) == "http://b.test"
    assert r.resolve({"Fn::Select": ["0", {"Fn::Split": ["|", "x|y"]}]}) == "x"
    assert r.resolve({"Fn::FindInMap": ["Sizes", {"Ref": "Stage"}, "memory"]}) == "256"


def test_conditions_if_and_no_value() -> None:
    dev, prod = resolver(), resolver(Stage="prod")
    value = {"Fn::If": ["IsProd", 90, 14]}
    assert dev.resolve(value) == 14
    assert prod.resolve(value) == 90
    assert dev.condition("IsNotProd") is True
    assert dev.condition("Both") is True
    assert prod.condition("Both") is False
    props = {"A": {"Fn::If": ["IsProd", "x", {"Ref": "AWS::NoValue"}]}, "B": [1, {"Ref": "AWS::NoValue"}]}
    assert dev.resolve(props) == {"B": [1]}
    assert prod.resolve(props) == {"A": "x", "B": [1]}


def test_resources_with_false_condition_are_inactive() -> None:
    resources = TEMPLATE["Resources"]
    assert resolver().is_active(resources["ProdOnly"]) is False
    assert resolver(Stage="prod").is_active(resources["ProdOnly"]) is True
    assert resolver().is_active(resources["Queue"]) is True


def test_unsupported_functions_say_so() -> None:
    with pytest.raises(IntrinsicError, match="Fn::ImportValue is not supported"):
        resolver().resolve({"Fn::ImportValue": "x"})


def test_references_lists_every_name_a_value_depends_on() -> None:
    value = {
        "Arn": {"Fn::GetAtt": ["Queue", "Arn"]},
        "Name": {"Fn::Sub": ["${Table}-${AWS::Region}-${X}-${!Lit}", {"X": {"Ref": "Stage"}}]},
        "Dotted": {"Fn::GetAtt": "Other.Arn"},
    }
    assert references(value) == {"Queue", "Table", "AWS::Region", "Stage", "Other"}


def test_the_project_template_resolves_short_form_tags() -> None:
    tpl = load_template()
    params = resolve_parameters(tpl, {"HousekeepingSchedule": "rate(1 minute)"})
    r = Resolver(tpl, params, lookup)
    assert r.resolve(tpl["Resources"]["AppTable"]["Properties"]["TableName"]) == "app-backend-dev"
    auth = tpl["Resources"]["AuthFunction"]["Properties"]["Environment"]["Variables"]
    assert r.resolve(auth["CORS_ALLOWED_ORIGINS"]) == "http://localhost:5173"
    assert r.resolve(tpl["Resources"]["HttpApiAccessLogs"]["Properties"]["RetentionInDays"]) == 14
    assert r.condition("IsProd") is False


#: The identity the worker sends as (template.yaml: the HasSesIdentity condition, the worker's role).
SES_IDENTITY = {
    "Fn::If": [
        "HasSesIdentity",
        {"Ref": "SesIdentity"},
        {"Fn::Select": [1, {"Fn::Split": ["@", {"Ref": "MailFrom"}]}]},
    ]
}


def _contains(value: Any, wanted: Any) -> bool:
    if value == wanted:
        return True
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else []
    return any(_contains(item, wanted) for item in items)


@pytest.mark.parametrize(
    ("overrides", "identity"),
    [
        ({}, "example.com"),  # the domain of the default MailFrom
        ({"MailFrom": "orders@shop.example.org"}, "shop.example.org"),
        ({"SesIdentity": "no-reply@example.com"}, "no-reply@example.com"),
        ({"SesIdentity": "example.net", "MailFrom": "a@b.example"}, "example.net"),
    ],
)
def test_the_ses_identity_expression_of_the_project_template(
    overrides: dict[str, str], identity: str
) -> None:
    tpl = load_template()
    assert _contains(tpl["Resources"], SES_IDENTITY), "the template no longer uses this expression"
    r = Resolver(tpl, resolve_parameters(tpl, overrides), lookup)
    assert r.resolve(SES_IDENTITY) == identity


def test_the_ses_identity_of_a_mail_from_without_a_domain_is_an_error() -> None:
    tpl = load_template()
    r = Resolver(tpl, resolve_parameters(tpl, {"MailFrom": "not-an-address"}), lookup)
    with pytest.raises(IntrinsicError, match="out of range"):  # CloudFormation fails the deploy too
        r.resolve(SES_IDENTITY)
