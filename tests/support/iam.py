"""Each function's role as deployed, and whether it allows a request: the IAM contract's evaluator.

The role is read from template.yaml *as SAM translates it* (tests/support/sam.py): the function's
``Role`` names an ``AWS::IAM::Role`` whose inline ``Policies`` and ``ManagedPolicyArns`` (documents
below) make up its statements, plus any ``AWS::IAM::Policy`` attached to it. Intrinsics resolve with
the project's own resolver (local/intrinsics.py) and the attributes CloudFormation would give each
resource (:func:`attributes`).

Matching follows IAM's rules for identity policies (no resource policies, boundaries or SCPs here):
a request is allowed when an ``Allow`` statement matches its action and its resource and no
``Deny`` does. Actions match case-insensitively, after policyuniverse expands wildcards in a
statement's actions against its table of every IAM action; resources match case-sensitively, with
``*`` for any run of characters and ``?`` for one (both may cross ``:`` and ``/``)
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html).
Every recorded action is also looked up in policy_sentry's copy of the Service Authorization
Reference, so a request mapped to an action or resource type that does not exist is reported
instead of silently "allowed". A statement with a ``Condition`` is never taken as allowing: none of
the project's roles needs one, and an unevaluated condition must not pass.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from local.intrinsics import ACCOUNT_ID, REGION, Resolver
from local.request_recorder import SECRET_SUFFIX

# The AWS managed policies a translated role may carry, as AWS publishes them
# (https://docs.aws.amazon.com/aws-managed-policy/latest/reference/policy-list.html; one page per
# policy, e.g. .../reference/AWSLambdaBasicExecutionRole.html). An unknown one fails the contract.
_LOGS = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"]
MANAGED_POLICIES: dict[str, list[dict[str, Any]]] = {
    "service-role/AWSLambdaBasicExecutionRole": [{"Effect": "Allow", "Action": _LOGS, "Resource": "*"}],
    "AWSXrayWriteOnlyAccess": [
        {
            "Effect": "Allow",
            "Action": [
                "xray:PutTraceSegments",
                "xray:PutTelemetryRecords",
                "xray:GetSamplingRules",
                "xray:GetSamplingTargets",
                "xray:GetSamplingStatisticSummaries",
            ],
            "Resource": "*",
        }
    ],
    "service-role/AWSLambdaSQSQueueExecutionRole": [
        {
            "Effect": "Allow",
            "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", *_LOGS],
            "Resource": "*",
        }
    ],
    "service-role/AWSLambdaVPCAccessExecutionRole": [
        {
            "Effect": "Allow",
            "Action": [
                *_LOGS,
                "ec2:CreateNetworkInterface",
                "ec2:DescribeNetworkInterfaces",
                "ec2:DescribeSubnets",
                "ec2:DeleteNetworkInterface",
                "ec2:AssignPrivateIpAddresses",
                "ec2:UnassignPrivateIpAddresses",
            ],
            "Resource": "*",
        }
    ],
}
_MANAGED_ARN = re.compile(r"^arn:aws[a-z-]*:iam::aws:policy/(.+)$")


@dataclass(frozen=True)
class Request:
    """One authorization a function needs: an IAM action on a resource ARN, and why."""

    function: str  # the function's logical id
    action: str
    resource: str
    origin: str  # e.g. "dynamodb.TransactWriteItems" or "the SQS event source EmailJobs"


@dataclass
class Statement:
    role: str
    policy: str  # the inline policy's name or the managed policy's
    sid: str
    effect: str
    actions: list[str]  # as written (wildcards allowed)
    resources: list[str]
    conditional: bool
    expanded: frozenset[str] = field(default=frozenset())  # lower-case actions the patterns cover

    def __post_init__(self) -> None:
        self.expanded = expand_actions(self.actions)

    def matches(self, action: str, resource: str) -> bool:
        return action.lower() in self.expanded and any(resource_matches(p, resource) for p in self.resources)

    @property
    def label(self) -> str:
        return f"{self.role}/{self.policy}" + (f"/{self.sid}" if self.sid else "")


@cache
def _glob(pattern: str) -> re.Pattern[str]:
    return re.compile(
        "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern) + r"\Z"
    )


def resource_matches(pattern: str, resource: str) -> bool:
    """IAM's resource matching: case-sensitive, ``*`` any run of characters, ``?`` one character."""
    return _glob(pattern).match(resource) is not None


def expand_actions(patterns: Iterable[str]) -> frozenset[str]:
    """The lower-cased IAM actions a list of action patterns grants (policyuniverse's table)."""
    from policyuniverse.statement import Statement as UniverseStatement

    patterns = list(patterns)
    exact = {p.lower() for p in patterns if "*" not in p and "?" not in p}
    wild = [p for p in patterns if "*" in p or "?" in p]
    if not wild:
        return frozenset(exact)
    expanded = UniverseStatement({"Effect": "Allow", "Action": wild, "Resource": "*"}).actions_expanded
    return frozenset(exact | {a.lower() for a in expanded})


def known_action(action: str, resource: str) -> str | None:
    """None when ``action`` exists and ``resource`` is one of its resource types; else the problem."""
    from policy_sentry.querying.actions import get_action_data
    from policy_sentry.util.arns import does_arn_match

    service, _, name = action.partition(":")
    data = get_action_data(service, name).get(service, [])
    if not data:
        return f"{action} is not an IAM action"
    formats = [row["resource_arn_format"] for row in data]
    if any(f != "*" and does_arn_match(resource, f) for f in formats):
        return None
    if formats == ["*"]:
        return None if resource == "*" else f"{action} takes no resource type, only '*'"
    return f"{resource} is none of {action}'s resource types ({', '.join(f for f in formats if f != '*')})"


# ----------------------------------------------------------------------------- the stack's attributes
def attributes(
    template: Mapping[str, Any],
    parameters: Mapping[str, Any],
    *,
    region: str = REGION,
    account: str = ACCOUNT_ID,
) -> Resolver:
    """A resolver over the translated template giving each resource the Ref/GetAtt AWS would."""
    resources: Mapping[str, Any] = template["Resources"]

    def lookup(logical_id: str, attribute: str | None) -> Any:  # noqa: PLR0911, PLR0912 - a case per type
        resource = resources.get(logical_id)
        if resource is None:
            raise KeyError(f"no resource {logical_id}")
        kind = resource["Type"]
        props = resource.get("Properties") or {}

        def name(key: str) -> str:
            return str(resolver.resolve(props[key])) if key in props else f"{logical_id}-generated"

        match kind, attribute:
            case "AWS::DynamoDB::Table", None:
                return name("TableName")
            case "AWS::DynamoDB::Table", "Arn":
                return f"arn:aws:dynamodb:{region}:{account}:table/{name('TableName')}"
            case "AWS::SQS::Queue", None:
                return f"https://sqs.{region}.amazonaws.com/{account}/{name('QueueName')}"
            case "AWS::SQS::Queue", "Arn":
                return f"arn:aws:sqs:{region}:{account}:{name('QueueName')}"
            case "AWS::SQS::Queue", "QueueName":
                return name("QueueName")
            case "AWS::SecretsManager::Secret", None:
                return f"arn:aws:secretsmanager:{region}:{account}:secret:{name('Name')}-{SECRET_SUFFIX}"
            case "AWS::SSM::Parameter", None:
                return name("Name")
            case "AWS::SES::ConfigurationSet", None:
                return name("Name")
            case "AWS::SNS::Topic", None:
                return f"arn:aws:sns:{region}:{account}:{name('TopicName')}"
            case "AWS::S3::Bucket", None:
                return name("BucketName")
            case "AWS::S3::Bucket", "Arn":
                return f"arn:aws:s3:::{name('BucketName')}"
            case "AWS::Logs::LogGroup", None:
                return name("LogGroupName")
            case "AWS::Logs::LogGroup", "Arn":
                return f"arn:aws:logs:{region}:{account}:log-group:{name('LogGroupName')}:*"
            case "AWS::IAM::Role", "Arn":
                return f"arn:aws:iam::{account}:role/{logical_id}"
            case "AWS::Lambda::Function", None:
                return name("FunctionName")
            case "AWS::Lambda::Function", "Arn":
                return f"arn:aws:lambda:{region}:{account}:function:{name('FunctionName')}"
            case _, None:
                return logical_id
            case _:
                return f"arn:aws:cloudformation:{region}:{account}:{logical_id}/{attribute}"

    resolver = Resolver(template, parameters, lookup, region=region, account_id=account)
    return resolver


def role_of(template: Mapping[str, Any], resolver: Resolver, function: str) -> list[Statement]:
    """Every statement of the function's execution role, resolved."""
    resources: Mapping[str, Any] = template["Resources"]
    role_ref = resources[function]["Properties"]["Role"]
    if not (isinstance(role_ref, dict) and "Fn::GetAtt" in role_ref):
        raise AssertionError(f"{function}: Role is {role_ref!r}, not a role of this stack")
    role = role_ref["Fn::GetAtt"][0]
    role_props = resources[role]["Properties"]
    statements: list[Statement] = []
    for policy in resolver.resolve(role_props.get("Policies") or []):
        statements += _statements(role, policy["PolicyName"], policy["PolicyDocument"])
    for arn in resolver.resolve(role_props.get("ManagedPolicyArns") or []):
        found = _MANAGED_ARN.match(str(arn))
        if not found or found.group(1) not in MANAGED_POLICIES:
            raise AssertionError(f"{role}: managed policy {arn} is not described in tests/support/iam.py")
        statements += _statements(role, found.group(1), {"Statement": MANAGED_POLICIES[found.group(1)]})
    for logical_id, resource in resources.items():
        if resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            props = resolver.resolve(resource["Properties"])
            if role in [r if isinstance(r, str) else "" for r in props.get("Roles", [])]:
                statements += _statements(role, logical_id, props["PolicyDocument"])
    return statements


def _statements(role: str, policy: str, document: Mapping[str, Any]) -> list[Statement]:
    raw = document["Statement"]
    found = []
    for statement in [raw] if isinstance(raw, dict) else raw:
        if "NotAction" in statement or "NotResource" in statement:
            raise AssertionError(f"{role}/{policy}: NotAction/NotResource are not supported here")
        actions = statement["Action"]
        resources = statement["Resource"]
        found.append(
            Statement(
                role=role,
                policy=policy,
                sid=str(statement.get("Sid", "")),
                effect=statement["Effect"],
                actions=[actions] if isinstance(actions, str) else list(actions),
                resources=[resources] if isinstance(resources, str) else list(resources),
                conditional=bool(statement.get("Condition")),
            )
        )
    return found


def decide(statements: list[Statement], request: Request) -> list[Statement]:
    """The Allow statements that grant the request (empty = denied, as is any matching Deny)."""
    if any(s.effect == "Deny" and s.matches(request.action, request.resource) for s in statements):
        return []
    return [
        s
        for s in statements
        if s.effect == "Allow" and not s.conditional and s.matches(request.action, request.resource)
    ]
