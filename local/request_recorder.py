"""Record every AWS request a function makes, as IAM sees it, for the IAM contract test.

`install(directory, who)` wraps botocore's ``BaseClient._make_api_call`` (every boto3 client and
resource, PynamoDB and Powertools go through it) and appends one JSON line per request to
``<directory>/<pid>.jsonl``: the function that made it (``who()`` names it, or None to ignore a
request made outside any function, such as a test fixture creating a table), the service and
operation, and the IAM authorizations the request needs: ``[{"action", "resource"}]``, e.g.
``dynamodb:Query`` on ``arn:aws:dynamodb:us-east-1:123456789012:table/app-backend-dev/index/GSI2``.
tests/contract/test_iam_contract.py evaluates them against each function's role.

Two kinds of processes install it:
- the local cloud's function instances (`local/runtime.py`, when ``AWS_REQUEST_LOG_DIR`` is set):
  the function is the process's ``POWERTOOLS_SERVICE_NAME``;
- the unit-test process (tests/support/requests.py): the function is the handler on the call
  stack (`backend.http.app`, `backend.jobs.worker`, `backend.jobs.scheduled`).

Standard library only: `local/runtime.py` loads this file by path, so a function's interpreter sees
nothing else of the local cloud. Requests that map to no known authorization are recorded with
``"actions": null``: the contract test fails on them, so a new kind of call cannot slip through.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ENV_VAR = "AWS_REQUEST_LOG_DIR"
"""The directory the records go to; recording is off when it is unset."""

ACCOUNT_ID = "123456789012"
"""moto's account (the local cloud's and the unit tests'); requests carry no account of their own."""

SECRET_SUFFIX = "AbCdEf"  # noqa: S105 - not a secret: stands for the random end of a secret's ARN
"""Secrets Manager appends six random characters to a secret's name in its ARN."""

type Authorization = dict[str, str]

# DynamoDB: a transaction is authorized per item, by the item's own action
# (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis-iam.html).
_TRANSACT_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
    "Get": "GetItem",
}
_BATCH_OPERATIONS = {"BatchGetItem", "BatchWriteItem"}
# SQS operations whose IAM action differs from the operation's name
# (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-api-permissions-reference.html).
_SQS_ACTIONS = {
    "SendMessageBatch": "SendMessage",
    "DeleteMessageBatch": "DeleteMessage",
    "ChangeMessageVisibilityBatch": "ChangeMessageVisibility",
}


def _dynamodb(operation: str, params: Mapping[str, Any], arn: Callable[[str], str]) -> list[Authorization]:
    if operation in ("TransactWriteItems", "TransactGetItems"):
        found: list[Authorization] = []
        for item in params.get("TransactItems", []):
            for kind, body in item.items():
                found.append(
                    {"action": f"dynamodb:{_TRANSACT_ACTIONS[kind]}", "resource": arn(body["TableName"])}
                )
        return found
    if operation in _BATCH_OPERATIONS:
        return [
            {"action": f"dynamodb:{operation}", "resource": arn(table)} for table in params["RequestItems"]
        ]
    if "TableName" in params:
        resource = arn(str(params["TableName"]))
        if params.get("IndexName"):
            resource += f"/index/{params['IndexName']}"
        return [{"action": f"dynamodb:{operation}", "resource": resource}]
    return []


def _queue_arn(region: str, url: str) -> str:
    account, name = urlsplit(url).path.strip("/").split("/")[-2:]
    return f"arn:aws:sqs:{region}:{account}:{name}"


def _sqs(operation: str, params: Mapping[str, Any], region: str) -> list[Authorization] | None:
    action = f"sqs:{_SQS_ACTIONS.get(operation, operation)}"
    if "QueueUrl" in params:
        return [{"action": action, "resource": _queue_arn(region, str(params["QueueUrl"]))}]
    if "QueueName" in params:  # GetQueueUrl
        return [{"action": action, "resource": f"arn:aws:sqs:{region}:{ACCOUNT_ID}:{params['QueueName']}"}]
    return None


def _secretsmanager(operation: str, params: Mapping[str, Any], region: str) -> list[Authorization] | None:
    if "SecretId" not in params:
        return None
    secret = str(params["SecretId"])
    if not secret.startswith("arn:"):
        secret = f"arn:aws:secretsmanager:{region}:{ACCOUNT_ID}:secret:{secret}-{SECRET_SUFFIX}"
    return [{"action": f"secretsmanager:{operation}", "resource": secret}]


def _ssm(operation: str, params: Mapping[str, Any], region: str) -> list[Authorization] | None:
    names = [params["Name"]] if "Name" in params else list(params.get("Names", []))
    arn = f"arn:aws:ssm:{region}:{ACCOUNT_ID}:parameter/"
    return [{"action": f"ssm:{operation}", "resource": arn + str(n).lstrip("/")} for n in names] or None


def _ses(operation: str, params: Mapping[str, Any], region: str) -> list[Authorization] | None:
    # SES authorizes the sending identity (the address, or its domain when only the domain is
    # verified: the contract test picks the one the stack's parameters name) and the
    # configuration set (https://docs.aws.amazon.com/ses/latest/dg/control-user-access.html).
    if operation not in ("SendEmail", "SendRawEmail"):
        return None
    source = params.get("Source") or params.get("FromEmailAddress") or ""
    prefix = f"arn:aws:ses:{region}:{ACCOUNT_ID}:"
    found = [{"action": f"ses:{operation}", "resource": f"{prefix}identity/{source}"}]
    if params.get("ConfigurationSetName"):
        found.append(
            {
                "action": f"ses:{operation}",
                "resource": f"{prefix}configuration-set/{params['ConfigurationSetName']}",
            }
        )
    return found


# S3: object operations are authorized on the object's ARN, bucket listings on the bucket's; a
# DeleteObjects request needs s3:DeleteObject on each key
# (https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObjects.html).
_S3_OBJECT_ACTIONS = {
    "GetObject": "GetObject",
    "PutObject": "PutObject",
    "DeleteObject": "DeleteObject",
    "HeadObject": "GetObject",
}
_S3_BUCKET_ACTIONS = {"ListObjectsV2": "ListBucket", "ListObjects": "ListBucket"}


def _s3(operation: str, params: Mapping[str, Any], _region: str) -> list[Authorization] | None:
    bucket = str(params.get("Bucket", ""))
    if not bucket:
        return None
    if operation in _S3_OBJECT_ACTIONS and "Key" in params:
        action = _S3_OBJECT_ACTIONS[operation]
        return [{"action": f"s3:{action}", "resource": f"arn:aws:s3:::{bucket}/{params['Key']}"}]
    if operation == "DeleteObjects":
        objects = (params.get("Delete") or {}).get("Objects") or []
        return [
            {"action": "s3:DeleteObject", "resource": f"arn:aws:s3:::{bucket}/{o['Key']}"} for o in objects
        ] or None
    if operation in _S3_BUCKET_ACTIONS:
        return [{"action": f"s3:{_S3_BUCKET_ACTIONS[operation]}", "resource": f"arn:aws:s3:::{bucket}"}]
    return None


def _dynamodb_service(operation: str, params: Mapping[str, Any], region: str) -> list[Authorization] | None:
    return (
        _dynamodb(operation, params, lambda name: f"arn:aws:dynamodb:{region}:{ACCOUNT_ID}:table/{name}")
        or None
    )


_SERVICES: dict[str, Callable[[str, Mapping[str, Any], str], list[Authorization] | None]] = {
    "dynamodb": _dynamodb_service,
    "sqs": _sqs,
    "secretsmanager": _secretsmanager,
    "ssm": _ssm,
    "ses": _ses,
    "sesv2": _ses,
    "s3": _s3,
}


def authorizations(
    service: str, operation: str, params: Mapping[str, Any], region: str
) -> list[Authorization] | None:
    """The IAM (action, resource) pairs one request needs; None when this module knows no mapping."""
    mapping = _SERVICES.get(service)
    return mapping(operation, params, region) if mapping else None


_lock = threading.Lock()
_installed: dict[str, Any] = {}


def install(directory: str | os.PathLike[str], who: Callable[[], str | None], source: str) -> None:
    """Record every AWS request of this process (idempotent) to ``directory/<pid>.jsonl``.

    ``source`` says which suite made the requests ("unit", "local-cloud"); each record also carries
    the stage (``APP_STAGE``) its resource names were derived from.
    """
    from botocore.client import BaseClient

    with _lock:
        if _installed:
            return
        Path(directory).mkdir(parents=True, exist_ok=True)
        path = Path(directory) / f"{os.getpid()}.jsonl"
        original = BaseClient._make_api_call  # type: ignore[attr-defined] # private in the stubs
        _installed["original"] = original

        def _make_api_call(self: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
            function = who()
            if function is not None:
                service = self.meta.service_model.service_name
                region = self.meta.region_name or "us-east-1"
                try:
                    actions = authorizations(service, operation_name, api_params, region)
                except (KeyError, TypeError, ValueError, AttributeError):
                    actions = None  # malformed parameters: botocore rejects them below; flag anyway
                line = json.dumps(
                    {
                        "function": function,
                        "source": source,
                        "stage": os.environ.get("APP_STAGE", ""),
                        "function_name": os.environ.get("AWS_LAMBDA_FUNCTION_NAME", ""),
                        "service": service,
                        "operation": operation_name,
                        "actions": actions,
                    },
                    separators=(",", ":"),
                )
                with _lock, open(path, "a", encoding="utf-8") as out:
                    out.write(line + "\n")
            return original(self, operation_name, api_params)

        BaseClient._make_api_call = _make_api_call  # type: ignore[attr-defined]


def service_name_of_process() -> str | None:
    """The function of a local-cloud instance process: Powertools' service name, from the template."""
    return os.environ.get("POWERTOOLS_SERVICE_NAME") or None
