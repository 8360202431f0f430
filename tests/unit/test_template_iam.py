"""The execution roles as SAM translates template.yaml, and the IAM evaluator the contract relies on.

tests/contract/test_iam_contract.py checks the requests the suites recorded; these tests pin what
no recording can show: the evaluator's own matching rules, the roles under parameters the suites
do not run with (a cache, an SES identity), and that no statement grants more than AWS requires.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from local.intrinsics import ACCOUNT_ID, REGION, resolve_parameters
from tests.support import iam
from tests.support.sam import translated

ARN = f"{REGION}:{ACCOUNT_ID}"
#: Actions whose IAM resource can only be "*" (the service authorization reference lists no
#: resource type for them), each with the AWS documentation that asks for it.
WILDCARD_ONLY = {
    "xray:puttracesegments": "https://docs.aws.amazon.com/lambda/latest/dg/services-xray.html",
    "xray:puttelemetryrecords": "https://docs.aws.amazon.com/lambda/latest/dg/services-xray.html",
    # Lambda's ENIs in the cache's VPC (CacheUrl set), as AWSLambdaVPCAccessExecutionRole grants them
    "ec2:createnetworkinterface": "https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html",
    "ec2:describenetworkinterfaces": "https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html",
    "ec2:describesubnets": "https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html",
    "ec2:deletenetworkinterface": "https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html",
    "ec2:assignprivateipaddresses": "https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html",
    "ec2:unassignprivateipaddresses": "https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html",
}
CACHE = {
    "CacheUrl": "rediss://cache.example.internal:6379",
    "CacheSubnetIds": "subnet-0123456789abcdef0",
    "CacheSecurityGroupIds": "sg-0123456789abcdef0",
}


def _translated() -> dict[str, Any]:
    return translated()


def roles(**overrides: str) -> dict[str, list[iam.Statement]]:
    template = _translated()
    parameters = resolve_parameters(template, overrides)
    resolver = iam.attributes(template, parameters)
    functions = [k for k, v in template["Resources"].items() if v["Type"] == "AWS::Lambda::Function"]
    return {function: iam.role_of(template, resolver, function) for function in functions}


def allowed(statements: list[iam.Statement], action: str, resource: str) -> bool:
    return bool(iam.decide(statements, iam.Request("F", action, resource, "test")))


# ----------------------------------------------------------------------------- the evaluator
def statement(actions: list[str], resources: list[str], effect: str = "Allow", **extra: Any) -> iam.Statement:
    return iam.Statement("R", "p", "", effect, actions, resources, conditional=bool(extra.get("condition")))


def test_actions_match_case_insensitively_and_wildcards_expand() -> None:
    grant = [statement(["dynamodb:Get*", "SQS:sendmessage"], ["*"])]
    assert allowed(grant, "dynamodb:GetItem", "arn:aws:dynamodb:x")
    assert allowed(grant, "sqs:SendMessage", "arn:aws:sqs:x")
    assert not allowed(grant, "dynamodb:PutItem", "arn:aws:dynamodb:x")


def test_resources_match_case_sensitively_with_star_and_question_mark() -> None:
    grant = [statement(["dynamodb:Query"], [f"arn:aws:dynamodb:{ARN}:table/app/index/*"])]
    assert allowed(grant, "dynamodb:Query", f"arn:aws:dynamodb:{ARN}:table/app/index/GSI1")
    assert not allowed(
        grant, "dynamodb:Query", f"arn:aws:dynamodb:{ARN}:table/app"
    )  # the table is not an index
    assert not allowed(grant, "dynamodb:Query", f"arn:aws:dynamodb:{ARN}:table/APP/index/GSI1")
    secret = [statement(["secretsmanager:GetSecretValue"], [f"arn:aws:secretsmanager:{ARN}:secret:k-??????"])]
    assert allowed(secret, "secretsmanager:GetSecretValue", f"arn:aws:secretsmanager:{ARN}:secret:k-AbCdEf")
    assert not allowed(
        secret, "secretsmanager:GetSecretValue", f"arn:aws:secretsmanager:{ARN}:secret:k-AbCdE"
    )


def test_a_deny_wins_and_a_conditional_allow_is_not_taken() -> None:
    resource = f"arn:aws:sqs:{ARN}:q"
    assert not allowed(
        [statement(["sqs:*"], ["*"]), statement(["sqs:SendMessage"], [resource], "Deny")],
        "sqs:SendMessage",
        resource,
    )
    assert not allowed(
        [statement(["sqs:SendMessage"], [resource], condition=True)], "sqs:SendMessage", resource
    )


def test_actions_and_resource_types_are_checked_against_the_iam_reference() -> None:
    assert iam.known_action("dynamodb:Query", f"arn:aws:dynamodb:{ARN}:table/t/index/GSI1") is None
    assert iam.known_action("ses:SendEmail", f"arn:aws:ses:{ARN}:configuration-set/c") is None
    assert "not an IAM action" in str(
        iam.known_action("dynamodb:TransactWriteItems", f"arn:aws:dynamodb:{ARN}:table/t")
    )
    assert "resource types" in str(iam.known_action("sqs:SendMessage", f"arn:aws:dynamodb:{ARN}:table/t"))


# ----------------------------------------------------------------------------- the roles
def test_every_function_has_its_own_role_and_no_managed_policy() -> None:
    template = _translated()
    functions = {k: v for k, v in template["Resources"].items() if v["Type"] == "AWS::Lambda::Function"}
    role_ids = [f["Properties"]["Role"]["Fn::GetAtt"][0] for f in functions.values()]
    assert len(set(role_ids)) == len(functions)
    for role in role_ids:
        assert not template["Resources"][role]["Properties"].get("ManagedPolicyArns"), role


@pytest.mark.parametrize(
    "overrides",
    [{}, {"Stage": "prod"}, CACHE, {**CACHE, "CacheAuthSecretName": "app-backend/prod/cache-auth"}],
)
def test_no_statement_has_a_wildcard_resource_unless_aws_requires_one(overrides: dict[str, str]) -> None:
    for function, statements in roles(**overrides).items():
        for s in statements:
            assert s.effect == "Allow", s.label
            assert not s.conditional, s.label
            assert not any("*" in a for a in s.actions), f"{s.label}: wildcard action {s.actions}"
            if "*" in s.resources:
                assert s.resources == ["*"], s.label
                extra = sorted(s.expanded - set(WILDCARD_ONLY))
                assert not extra, f"{function} {s.label}: {extra} on '*'"
            for resource in s.resources:
                assert resource == "*" or resource.startswith("arn:aws:"), f"{s.label}: {resource}"


def test_every_arn_in_the_template_names_its_partition() -> None:
    from local.template import load_template

    text = repr(load_template())
    assert "arn:aws:" not in text, "write arn:${AWS::Partition}:... so the stack deploys to every partition"


def test_nothing_scans_describes_or_manages_identities() -> None:
    forbidden = {
        "dynamodb:scan",
        "dynamodb:describetable",
        "ssm:describeparameters",
        "ssm:getparametersbypath",
    }
    for function, statements in roles(**CACHE).items():
        granted = set().union(*(s.expanded for s in statements))
        assert not granted & forbidden, function
        assert not {a for a in granted if a.startswith("ses:") and a != "ses:sendemail"}, function
        assert (
            not {a for a in granted if a.startswith("sqs:receive") or a == "sqs:deletemessage"}
            or function == "WorkerFunction"
        )


def test_the_cache_vpc_and_password_are_granted_only_with_a_cache() -> None:
    password = f"arn:aws:secretsmanager:{ARN}:secret:app-backend/prod/cache-auth-AbCdEf"
    without, with_cache = roles(), roles(**CACHE, CacheAuthSecretName="app-backend/prod/cache-auth")
    # the cache's readers and every function that writes what it shows (they invalidate it)
    for function in (
        "ProductsFunction",
        "ContentFunction",
        "UsersFunction",
        "OrdersFunction",
        "WorkerFunction",
        "ScheduledFunction",  # the sweeper's cancellations restore stock
    ):
        assert not allowed(without[function], "ec2:CreateNetworkInterface", "*")
        assert not allowed(without[function], "secretsmanager:GetSecretValue", password)
        assert allowed(with_cache[function], "ec2:CreateNetworkInterface", "*")
        assert allowed(with_cache[function], "secretsmanager:GetSecretValue", password)
    assert not allowed(roles(**CACHE)["ProductsFunction"], "secretsmanager:GetSecretValue", password)
    for function in ("AuthFunction", "AvatarFunction"):
        assert not allowed(with_cache[function], "ec2:CreateNetworkInterface", "*")
        assert not allowed(with_cache[function], "secretsmanager:GetSecretValue", password)


@pytest.mark.parametrize(
    ("identity", "resource"),
    [
        ("", "identity/example.com"),  # default: the domain of MailFrom (verified with DKIM)
        ("no-reply@example.com", "identity/no-reply@example.com"),  # an address identity
        ("mail.example.com", "identity/mail.example.com"),
    ],
)
def test_the_worker_may_send_as_the_ses_identity_with_the_configuration_set(
    identity: str, resource: str
) -> None:
    worker = roles(SesIdentity=identity, Stage="prod")["WorkerFunction"]
    assert allowed(worker, "ses:SendEmail", f"arn:aws:ses:{ARN}:{resource}")
    assert allowed(worker, "ses:SendEmail", f"arn:aws:ses:{ARN}:configuration-set/app-backend-prod")
    assert not allowed(worker, "ses:SendEmail", f"arn:aws:ses:{ARN}:identity/other.example")
    assert not allowed(worker, "ses:SendRawEmail", f"arn:aws:ses:{ARN}:{resource}")


def test_only_the_worker_polls_queues_and_only_its_own() -> None:
    template = copy.deepcopy(_translated())
    resolver = iam.attributes(template, resolve_parameters(template, {}))
    sources = {
        resolver.resolve(r["Properties"]["EventSourceArn"])
        for r in template["Resources"].values()
        if r["Type"] == "AWS::Lambda::EventSourceMapping"
    }
    worker = roles()["WorkerFunction"]
    for queue in sources:
        assert allowed(worker, "sqs:ReceiveMessage", queue)
        assert allowed(worker, "sqs:DeleteMessage", queue)
    for dlq in ("email-dlq", "order-dlq"):
        assert not allowed(worker, "sqs:ReceiveMessage", f"arn:aws:sqs:{ARN}:app-backend-{dlq}-dev")
