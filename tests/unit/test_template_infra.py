"""The translated template's operational safeguards: log retention, dead letters, data protection.

Each test reads template.yaml as SAM translates it (tests/support/sam.py), so it sees what
CloudFormation would create, including the event source mappings and log groups SAM derives.
"""

from __future__ import annotations

from typing import Any

import pytest

from local.intrinsics import resolve_parameters
from tests.support import iam
from tests.support.sam import translate, translated

FOURTEEN_DAYS = 14 * 24 * 3600


def resolved(stage: str = "dev") -> tuple[dict[str, Any], Any]:
    template = translated() if stage == "dev" else translate({"Stage": stage})
    return template, iam.attributes(template, resolve_parameters(template, {"Stage": stage}))


def of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


@pytest.mark.parametrize(("stage", "days"), [("dev", 14), ("prod", 90)])
def test_every_function_logs_to_its_own_encrypted_log_group_with_a_retention(stage: str, days: int) -> None:
    template, resolver = resolved(stage)
    groups = {
        resolver.resolve(g["Properties"]["LogGroupName"]): resolver.resolve(g["Properties"])
        for g in of_type(template, "AWS::Logs::LogGroup").values()
    }
    for logical_id, function in of_type(template, "AWS::Lambda::Function").items():
        props = resolver.resolve(function["Properties"])
        group = props["LoggingConfig"]["LogGroup"]
        assert group == f"/aws/lambda/{props['FunctionName']}", logical_id
        assert groups[group]["RetentionInDays"] == days, logical_id
    for name, props in groups.items():
        assert props["RetentionInDays"] == days, name
        assert props.get("KmsKeyId"), f"{name} is not encrypted with the stack's key"


def test_every_queue_a_function_reads_has_a_dlq_and_a_visibility_timeout_above_six_timeouts() -> None:
    template, resolver = resolved()
    resources = template["Resources"]
    queues = {resolver.resolve({"Fn::GetAtt": [k, "Arn"]}): k for k in of_type(template, "AWS::SQS::Queue")}
    mappings = of_type(template, "AWS::Lambda::EventSourceMapping")
    assert mappings
    for logical_id, mapping in mappings.items():
        props = resolver.resolve(mapping["Properties"])
        queue = resources[queues[props["EventSourceArn"]]]["Properties"]
        function = next(
            f["Properties"]
            for f in of_type(template, "AWS::Lambda::Function").values()
            if resolver.resolve(f["Properties"]["FunctionName"]) == props["FunctionName"]
            or mapping["Properties"]["FunctionName"]
            == {"Ref": next(k for k, v in resources.items() if v is f)}
        )
        # https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html: at least six
        # times the function's timeout, plus the batching window; a minute more for margin
        needed = (
            6 * int(function.get("Timeout", 3)) + int(props.get("MaximumBatchingWindowInSeconds", 0)) + 60
        )
        assert int(queue["VisibilityTimeout"]) >= needed, (
            f"{logical_id}: {queue['VisibilityTimeout']} < {needed}"
        )
        assert props.get("FunctionResponseTypes") == ["ReportBatchItemFailures"], logical_id
        redrive = resolver.resolve(queue["RedrivePolicy"])
        dlq = resources[queues[redrive["deadLetterTargetArn"]]]["Properties"]
        assert resolver.resolve(dlq["QueueName"]).endswith("-dlq-dev"), logical_id  # alarm-ready names
        assert int(dlq["MessageRetentionPeriod"]) == FOURTEEN_DAYS, logical_id


def test_the_email_source_is_capped_below_ses_sending_rate() -> None:
    template, resolver = resolved()
    email_queue = resolver.resolve({"Fn::GetAtt": ["EmailQueue", "Arn"]})
    [email] = [
        m["Properties"]
        for m in of_type(template, "AWS::Lambda::EventSourceMapping").values()
        if resolver.resolve(m["Properties"]["EventSourceArn"]) == email_queue
    ]
    assert email["ScalingConfig"]["MaximumConcurrency"] == 2


def test_every_queue_and_the_table_are_encrypted_and_the_scheduled_function_dead_letters() -> None:
    template, resolver = resolved()
    for logical_id, queue in of_type(template, "AWS::SQS::Queue").items():
        props = queue["Properties"]
        assert props.get("KmsMasterKeyId") or props.get("SqsManagedSseEnabled"), logical_id
    assert template["Resources"]["AppTable"]["Properties"]["SSESpecification"]["SSEEnabled"] is True
    scheduled = template["Resources"]["ScheduledFunction"]["Properties"]
    assert scheduled["DeadLetterConfig"]["TargetArn"] == {"Fn::GetAtt": ["ScheduledDLQ", "Arn"]}
    monitored = resolver.resolve(template["Resources"]["ScheduledFunction"]["Properties"]["Environment"])
    assert resolver.resolve({"Ref": "ScheduledDLQ"}) in monitored["Variables"]["MONITORED_DLQ_URLS"].split(
        ","
    )


@pytest.mark.parametrize(("stage", "protected"), [("dev", False), ("prod", True)])
def test_the_table_has_point_in_time_recovery_and_is_protected_in_prod(stage: str, protected: bool) -> None:
    template, resolver = resolved(stage)
    table = template["Resources"]["AppTable"]
    props = resolver.resolve(table["Properties"])
    assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert props["DeletionProtectionEnabled"] is protected
    assert table["DeletionPolicy"] == table["UpdateReplacePolicy"] == "Retain"


def _route_keys(api: dict[str, Any]) -> set[str]:
    """The route keys ("ANY /path", "GET /path") of an HTTP API's OpenAPI body, as API Gateway names them."""
    keys = set()
    for path, operations in api["Properties"]["Body"]["paths"].items():
        for operation in operations:
            method = "ANY" if operation == "x-amazon-apigateway-any-method" else operation.upper()
            keys.add(f"{method} {path}")
    return keys


def test_the_auth_routes_are_throttled_below_the_api_default() -> None:
    template, _ = resolved()
    [api] = of_type(template, "AWS::ApiGatewayV2::Api").values()
    [stage] = of_type(template, "AWS::ApiGatewayV2::Stage").values()
    default = stage["Properties"]["DefaultRouteSettings"]
    routes = stage["Properties"].get("RouteSettings") or {}
    auth_routes = {key for key in _route_keys(api) if key.split(" ", 1)[1].startswith("/api/auth")}
    assert auth_routes, "no /api/auth route in the API"
    for key in auth_routes:
        assert key in routes, f"{key}: no route throttling (only the API default applies)"
        assert routes[key]["ThrottlingRateLimit"] < default["ThrottlingRateLimit"], key
        assert routes[key]["ThrottlingBurstLimit"] < default["ThrottlingBurstLimit"], key
    # a RouteSettings key that names no route fails the stage's creation on AWS ("Unable to find
    # Route by key ... within the provided RouteSettings"); the routes are in the API's body, so
    # they exist before the stage that refers to them (SAM issue #2479 is about separate Routes)
    assert set(routes) <= _route_keys(api), set(routes) - _route_keys(api)
