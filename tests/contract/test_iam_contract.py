"""The IAM contract: every AWS request the functions made in the suites is one their role allows.

`make test` runs the unit and integration suites with ``AWS_REQUEST_LOG_DIR`` set: the unit tests'
handlers (tests/support/request_log.py) and the local cloud's function processes
(local/runtime.py) log each AWS request as the IAM authorizations it needs
(local/request_recorder.py). This module runs afterwards (``pytest -m contract``) and evaluates
every one against the function's role as SAM translates template.yaml (tests/support/iam.py), with
the parameters the suite ran with (its stage), together with what AWS itself does with the role:
Lambda writing the function's logs and traces, polling its SQS event sources, attaching it to a VPC.

It fails on any request the deployed role would deny (naming the function, the call and the missing
permission), and on any grant that no request used unless ``KEPT_UNUSED`` says why it stays.
"""

from __future__ import annotations

import copy
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from local.intrinsics import ACCOUNT_ID, REGION, Resolver, resolve_parameters
from local.request_recorder import ENV_VAR, SECRET_SUFFIX
from tests.support import iam
from tests.support.sam import translated

pytestmark = pytest.mark.contract

#: Grants no recorded request uses, and why each stays: (role, action, resource pattern) → reason.
#: The test fails when an entry here is used after all (it is then no longer an exception) or when
#: an unused grant is missing from it.
KEPT_UNUSED: dict[tuple[str, str, str], str] = {
    (
        "UsersFunctionRole",
        "s3:putobject",
        "arn:aws:s3:::app-backend-avatar-uploads-123456789012-us-east-1-${Stage}/uploads/*",
    ): (
        "POST /api/me/avatar/upload signs a POST policy locally (no request); S3 authorizes the "
        "browser's upload as this role's PutObject (docs/avatars.md), which no function's log can show"
    ),
}


#: A secret's ARN ends in six random characters, different in every stack (the resolver uses SECRET_SUFFIX).
_SECRET_ARN = re.compile(r"^(arn:aws:secretsmanager:[^:]+:[^:]+:secret:.+)-[A-Za-z0-9]{6}$")


@dataclass(frozen=True)
class Record:
    function: str  # logical id
    stage: str
    source: str
    request: iam.Request


def parameters_for(stage: str, **overrides: str) -> dict[str, Any]:
    """The stack's parameter values with ``Stage=stage`` ("test" for the unit suite, which no deploy uses)."""
    template = copy.deepcopy(translated())
    template["Parameters"]["Stage"].pop("AllowedValues", None)
    return resolve_parameters(template, {"Stage": stage, **overrides})


@cache
def resolver_for(stage: str) -> Resolver:
    return iam.attributes(translated(), parameters_for(stage))


def functions() -> dict[str, dict[str, Any]]:
    return {k: v for k, v in translated()["Resources"].items() if v["Type"] == "AWS::Lambda::Function"}


def service_names() -> dict[str, str]:
    """POWERTOOLS_SERVICE_NAME → function logical id."""
    found = {}
    for logical_id, resource in functions().items():
        variables = resource["Properties"].get("Environment", {}).get("Variables", {})
        found[str(variables["POWERTOOLS_SERVICE_NAME"])] = logical_id
    return found


def load_records() -> tuple[list[Record], list[str]]:
    directory = os.environ.get(ENV_VAR)
    if not directory:
        pytest.fail(f"{ENV_VAR} is not set: run the contract after the suites, as `make test` does")
    paths = sorted(Path(directory).glob("*.jsonl"))
    if not paths:
        pytest.fail(f"no request log in {directory}: the suites ran without recording")
    by_service = service_names()
    records: list[Record] = []
    unmapped: list[str] = []
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            raw = json.loads(line)
            function = by_service.get(raw["function"])
            if function is None:
                continue  # a function of another template (the local cloud's own test stacks)
            if raw["function_name"]:  # a local-cloud process: it must be this template's function
                expected = resolver_for(raw["stage"]).resolve(
                    functions()[function]["Properties"]["FunctionName"]
                )
                if raw["function_name"] != expected:
                    continue
            origin = f"{raw['service']}.{raw['operation']}"
            if raw["actions"] is None:
                unmapped.append(f"{function}: {origin} (no IAM mapping in local/request_recorder.py)")
                continue
            for action in raw["actions"]:
                resource = _SECRET_ARN.sub(rf"\1-{SECRET_SUFFIX}", action["resource"])
                request = iam.Request(function, action["action"], resource, origin)
                records.append(Record(function, raw["stage"], raw["source"], request))
    return records, unmapped


def ses_identity(resource: str, stage: str) -> str:
    """The SES identity IAM checks for a sender: the address, or its domain (the SesIdentity parameter)."""
    prefix, _, sender = resource.partition(":identity/")
    params = parameters_for(stage)
    chosen = str(params.get("SesIdentity") or "")
    if "@" in chosen or "@" not in sender:
        return resource
    return f"{prefix}:identity/{sender.split('@', 1)[1]}"


def platform_requests(function: str, stage: str) -> Iterator[iam.Request]:
    """What AWS does with the function's role on its behalf (not recorded: no code of ours runs it)."""
    resolver = resolver_for(stage)
    props = resolver.resolve(functions()[function]["Properties"])
    log_group = (props.get("LoggingConfig") or {}).get("LogGroup") or f"/aws/lambda/{props['FunctionName']}"
    stream = (
        f"arn:aws:logs:{REGION}:{ACCOUNT_ID}:log-group:{log_group}:log-stream:2026/12/06/[$LATEST]0123abcd"
    )
    # https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs.html (permissions)
    for action in ("logs:CreateLogStream", "logs:PutLogEvents"):
        yield iam.Request(function, action, stream, "Lambda writing the function's logs")
    if (props.get("TracingConfig") or {}).get("Mode") == "Active":
        # https://docs.aws.amazon.com/lambda/latest/dg/services-xray.html (execution role permissions)
        for action in ("xray:PutTraceSegments", "xray:PutTelemetryRecords"):
            yield iam.Request(function, action, "*", "Lambda sending the function's traces (Tracing: Active)")
    target = (props.get("DeadLetterConfig") or {}).get("TargetArn")
    if target:
        # https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html (dead-letter queues)
        yield iam.Request(
            function, "sqs:SendMessage", target, "Lambda dead-lettering a failed asynchronous event"
        )
    for logical_id, resource in translated()["Resources"].items():
        if resource["Type"] != "AWS::Lambda::EventSourceMapping":
            continue
        mapping = resolver.resolve(resource["Properties"])
        if (
            mapping["FunctionName"] not in (props["FunctionName"], function)
            or ":sqs:" not in mapping["EventSourceArn"]
        ):
            continue
        # https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html (execution role permissions)
        for action in ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"):
            yield iam.Request(
                function, action, mapping["EventSourceArn"], f"the SQS event source {logical_id}"
            )


def generic(pattern: str, stage: str) -> str:
    """A resource pattern with the stage put back as ``${Stage}``: grants compare across stages."""
    return pattern.replace(f"-{stage}", "-${Stage}").replace(f"/{stage}/", "/${Stage}/")


@dataclass
class Evaluation:
    records: list[Record]
    unmapped: list[str]
    requests: set[tuple[str, iam.Request]]  # (stage, request): recorded and platform, deduplicated
    problems: list[str] = field(default_factory=list)
    denied: list[str] = field(default_factory=list)
    used: set[tuple[str, str, str]] = field(default_factory=set)  # (role, action, pattern with ${Stage})


def _requests(records: list[Record]) -> set[tuple[str, iam.Request]]:
    requests: set[tuple[str, iam.Request]] = set()
    for record in records:
        request = record.request
        if request.action.startswith("ses:"):
            resource = ses_identity(request.resource, record.stage)
            request = iam.Request(request.function, request.action, resource, request.origin)
        requests.add((record.stage, request))
    for stage in sorted({stage for stage, _ in requests}):
        for function in functions():
            requests |= {(stage, r) for r in platform_requests(function, stage)}
    return requests


@cache
def evaluation() -> Evaluation:
    records, unmapped = load_records()
    result = Evaluation(records, unmapped, _requests(records))
    for stage, request in sorted(
        result.requests, key=lambda x: (x[0], x[1].function, x[1].action, x[1].resource)
    ):
        if not request.origin.startswith(("Lambda", "the SQS")):
            problem = iam.known_action(request.action, request.resource)
            if problem:
                result.problems.append(f"{request.function}: {request.origin} → {problem}")
        allowing = iam.decide(iam.role_of(translated(), resolver_for(stage), request.function), request)
        if not allowing:
            result.denied.append(
                f"{request.function} (Stage={stage}): {request.origin} needs {request.action} on {request.resource}"
            )
        for statement in allowing:
            for pattern in statement.resources:
                if iam.resource_matches(pattern, request.resource):
                    result.used.add((statement.role, request.action.lower(), generic(pattern, stage)))
    return result


def unused_grants(result: Evaluation) -> dict[tuple[str, str, str], str]:
    """(role, action, resource pattern) of every grant no request used → the statement's label."""
    unused: dict[tuple[str, str, str], str] = {}
    for stage, function in {(stage, r.function) for stage, r in result.requests}:
        for statement in iam.role_of(translated(), resolver_for(stage), function):
            for action in sorted(statement.expanded):
                for pattern in statement.resources:
                    key = (statement.role, action, generic(pattern, stage))
                    if key not in result.used:
                        unused[key] = statement.label
    return unused


def test_the_log_covers_every_function_from_both_suites() -> None:
    result = evaluation()
    seen = {r.function for r in result.records}
    assert seen == set(functions()), f"no recorded request from {sorted(set(functions()) - seen)}"
    assert {r.source for r in result.records} >= {"unit", "local-cloud"}, "both suites must feed the log"


def test_every_request_maps_to_a_real_iam_action_and_resource_type() -> None:
    result = evaluation()
    assert not result.unmapped, "requests local/request_recorder.py cannot map to IAM:\n" + "\n".join(
        sorted(set(result.unmapped))
    )
    assert not result.problems, "requests mapped to what IAM does not have:\n" + "\n".join(
        sorted(result.problems)
    )


def test_no_request_would_be_denied_by_the_deployed_role() -> None:
    result = evaluation()
    print(f"\nIAM contract: {len(result.requests)} distinct requests, {len(result.denied)} denied")
    assert not result.denied, f"{len(result.denied)} requests would be denied on AWS:\n" + "\n".join(
        result.denied
    )


def test_every_grant_is_used_or_kept_for_a_stated_reason() -> None:
    unused = unused_grants(evaluation())
    print(f"\nIAM contract: {len(unused)} grants no request used")
    for key in sorted(unused):
        print(f"  unused: {key[0]} {key[1]} on {key[2]} ({KEPT_UNUSED.get(key, 'UNEXPLAINED')})")
    unexplained = sorted(k for k in unused if k not in KEPT_UNUSED)
    assert not unexplained, "grants no request used (remove them, or say in KEPT_UNUSED why they stay):\n" + (
        "\n".join(
            f"{role}: {action} on {pattern} ({unused[(role, action, pattern)]})"
            for role, action, pattern in unexplained
        )
    )
    stale = sorted(k for k in KEPT_UNUSED if k not in unused)
    assert not stale, f"KEPT_UNUSED entries that are used after all: {stale}"
