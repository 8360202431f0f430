"""Create the template's data resources in the emulator, in dependency order (DLQs before queues).

Emulated: DynamoDB tables (keys, GSIs/LSIs, TTL, streams), SQS queues (attributes, redrive
policies), S3 buckets (name and CORS; browser uploads and their events: local/s3_events.py),
Secrets Manager secrets (`GenerateSecretString` is generated here), SSM parameters, and
SES identities (`AWS::SES::EmailIdentity` resources and every `IdentityName` in a function's SAM SES
policy, so the sender address the template grants is verified). Everything else is not provisioned;
functions, the HTTP API, layers and log groups still resolve (see `local.stack`).

`mode="ensure"` makes every step idempotent, for attaching to an emulator that is already running.
"""

from __future__ import annotations

import json
import secrets
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.utils import parseaddr
from graphlib import CycleError, TopologicalSorter
from typing import TYPE_CHECKING, Any, Literal, cast

from botocore.exceptions import ClientError

from local.emulator import AwsClients
from local.intrinsics import IntrinsicError, references
from local.stack import PhysicalResource, Stack
from local.template import table_definition

if TYPE_CHECKING:
    from mypy_boto3_sqs.literals import QueueAttributeNameType

Mode = Literal["create", "ensure"]

_QUEUE_ATTRIBUTES = (
    "DelaySeconds",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds",
    "VisibilityTimeout",
    "KmsMasterKeyId",
    "KmsDataKeyReusePeriodSeconds",
    "SqsManagedSseEnabled",
    "FifoQueue",
    "ContentBasedDeduplication",
    "DeduplicationScope",
    "FifoThroughputLimit",
)

_SES_POLICY_TEMPLATES = (
    "SESCrudPolicy",
    "SESSendBouncePolicy",
    "SESBulkTemplatedCrudPolicy",
    "SESBulkTemplatedCrudPolicy_v2",
)


class ProvisioningError(RuntimeError):
    """A resource could not be created from the template (names the resource)."""


@dataclass
class ProvisionReport:
    created: list[PhysicalResource] = field(default_factory=list)
    identities: list[str] = field(default_factory=list)
    not_emulated: dict[str, str] = field(default_factory=dict)
    """logical id → type, for resources the local cloud does not create."""


def provision(
    stack: Stack,
    clients: AwsClients,
    *,
    visibility_timeout: int | None = None,
    mode: Mode = "create",
) -> ProvisionReport:
    """Create every emulated resource of the stack; records attributes on `stack.physical`.

    `visibility_timeout` overrides every queue's VisibilityTimeout (fast retries in tests).
    """
    provisioner = _Provisioner(stack, clients, visibility_timeout, mode)
    return provisioner.run()


class _Provisioner:
    def __init__(self, stack: Stack, clients: AwsClients, visibility_timeout: int | None, mode: Mode):
        self.stack = stack
        self.clients = clients
        self.visibility_timeout = visibility_timeout
        self.mode = mode
        self.creators: dict[str, Callable[[str, dict[str, Any]], PhysicalResource]] = {
            "AWS::DynamoDB::Table": self.table,
            "AWS::SQS::Queue": self.queue,
            "AWS::SecretsManager::Secret": self.secret,
            "AWS::SSM::Parameter": self.parameter,
            "AWS::SES::EmailIdentity": self.email_identity,
            "AWS::SES::ConfigurationSet": self.configuration_set,
            "AWS::S3::Bucket": self.bucket,
        }

    def run(self) -> ProvisionReport:
        report = ProvisionReport()
        resources = self.stack.resources
        emulated = {name: res for name, res in resources.items() if res.get("Type") in self.creators}
        graph = {
            name: {dep for dep in references(res.get("Properties") or {}) if dep in emulated}
            for name, res in emulated.items()
        }
        try:
            order = list(TopologicalSorter(graph).static_order())
        except CycleError as exc:
            raise ProvisioningError(f"circular references between resources: {exc.args[1]}") from None
        for logical_id in order:
            resource = emulated[logical_id]
            try:
                props = self.stack.resolve(resource.get("Properties") or {})
                physical = self.creators[str(resource["Type"])](logical_id, props)
            except (ClientError, IntrinsicError, KeyError, ValueError) as exc:
                raise ProvisioningError(f"cannot create {logical_id} ({resource['Type']}): {exc}") from exc
            self.stack.record(physical)
            report.created.append(physical)
        for identity in self.ses_identities():
            self.verify_identity(identity)
            report.identities.append(identity)
        report.not_emulated = {
            name: str(res.get("Type")) for name, res in resources.items() if name not in emulated
        }
        return report

    # ------------------------------------------------------------------ DynamoDB

    def table(self, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
        client = self.clients.dynamodb()
        name = props.get("TableName") or self.stack.generated_name(logical_id, 255)
        kwargs: dict[str, Any] = table_definition(
            logical_id, {"Resources": {logical_id: {"Properties": props}}}
        )
        if kwargs["BillingMode"] == "PROVISIONED":
            kwargs["ProvisionedThroughput"] = props["ProvisionedThroughput"]
        stream = props.get("StreamSpecification")
        if stream:
            kwargs["StreamSpecification"] = {
                "StreamEnabled": True,
                "StreamViewType": stream["StreamViewType"],
            }
        try:
            description = client.create_table(TableName=name, **kwargs)["TableDescription"]
        except ClientError as exc:
            if self.mode != "ensure" or _code(exc) != "ResourceInUseException":
                raise
            description = client.describe_table(TableName=name)["Table"]
        ttl = props.get("TimeToLiveSpecification") or {}
        if ttl.get("Enabled") in (True, "true"):
            try:
                client.update_time_to_live(
                    TableName=name,
                    TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]},
                )
            except ClientError as exc:
                if self.mode != "ensure" or _code(exc) != "ValidationException":
                    raise
        attributes: dict[str, Any] = {
            "Arn": description.get("TableArn", self.stack.arn("dynamodb", f"table/{name}"))
        }
        if description.get("LatestStreamArn"):
            attributes["StreamArn"] = description["LatestStreamArn"]
        return PhysicalResource(logical_id, "AWS::DynamoDB::Table", name, attributes)

    # ------------------------------------------------------------------ SQS

    def queue(self, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
        client = self.clients.sqs()
        fifo = _truthy(props.get("FifoQueue"))
        name = props.get("QueueName") or self.stack.generated_name(logical_id, 75 if fifo else 80)
        if fifo and not name.endswith(".fifo"):
            name += ".fifo"
        attributes = {key: _attribute_text(props[key]) for key in _QUEUE_ATTRIBUTES if key in props}
        if self.visibility_timeout is not None:
            attributes["VisibilityTimeout"] = str(self.visibility_timeout)
        for policy in ("RedrivePolicy", "RedriveAllowPolicy"):
            if policy in props:
                value = props[policy]
                attributes[policy] = value if isinstance(value, str) else json.dumps(value)
        try:
            url = client.create_queue(
                QueueName=name, Attributes=cast("dict[QueueAttributeNameType, str]", attributes)
            )["QueueUrl"]
        except ClientError as exc:
            if self.mode != "ensure" or _code(exc) not in ("QueueAlreadyExists", "QueueNameExists"):
                raise
            url = client.get_queue_url(QueueName=name)["QueueUrl"]
        arn = client.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        return PhysicalResource(
            logical_id, "AWS::SQS::Queue", url, {"Arn": arn, "QueueName": name, "QueueUrl": url}
        )

    # ------------------------------------------------------------------ S3

    def bucket(self, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
        """A bucket with its name and CORS rules; its notifications are the template's S3 events,
        which the local cloud delivers itself (local/s3_events.py)."""
        client = self.clients.s3()
        name = str(props.get("BucketName") or self.stack.generated_name(logical_id, 63).lower())
        try:
            client.create_bucket(Bucket=name)
        except ClientError as exc:
            if self.mode != "ensure" or _code(exc) not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                raise
        rules = (props.get("CorsConfiguration") or {}).get("CorsRules")
        if rules:  # CloudFormation's CorsRule names → the S3 API's
            renamed = {"MaxAge": "MaxAgeSeconds", "ExposedHeaders": "ExposeHeaders", "Id": "ID"}
            api_rules: Any = [{renamed.get(k, k): v for k, v in rule.items()} for rule in rules]
            client.put_bucket_cors(Bucket=name, CORSConfiguration={"CORSRules": api_rules})
        domain = f"{name}.s3.{self.stack.region}.amazonaws.com"
        return PhysicalResource(
            logical_id,
            "AWS::S3::Bucket",
            name,
            {
                "Arn": f"arn:aws:s3:::{name}",
                "DomainName": f"{name}.s3.amazonaws.com",
                "RegionalDomainName": domain,
            },
        )

    # ------------------------------------------------------------------ Secrets Manager

    def secret(self, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
        client = self.clients.secretsmanager()
        name = props.get("Name") or self.stack.generated_name(logical_id, 512)
        if "SecretString" in props:
            value = str(props["SecretString"])
        else:
            value = generate_secret_string(props.get("GenerateSecretString") or {})
        kwargs: dict[str, Any] = {"Name": name, "SecretString": value}
        if props.get("Description"):
            kwargs["Description"] = str(props["Description"])
        try:
            arn = client.create_secret(**kwargs)["ARN"]
        except ClientError as exc:
            if self.mode != "ensure" or _code(exc) != "ResourceExistsException":
                raise
            arn = client.describe_secret(SecretId=name)["ARN"]
        return PhysicalResource(logical_id, "AWS::SecretsManager::Secret", arn, {"Id": arn})

    # ------------------------------------------------------------------ SSM

    def parameter(self, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
        client = self.clients.ssm()
        name = props.get("Name") or f"CFN-{logical_id}"
        ptype = str(props.get("Type", "String"))
        value = props["Value"]
        value = ",".join(value) if isinstance(value, list) else str(value)
        kwargs: dict[str, Any] = {"Name": name, "Value": value, "Type": ptype}
        for key in ("Description", "AllowedPattern", "Tier", "DataType"):
            if props.get(key):
                kwargs[key] = str(props[key])
        try:
            client.put_parameter(**kwargs)
        except ClientError as exc:
            if self.mode != "ensure" or _code(exc) != "ParameterAlreadyExists":
                raise
        return PhysicalResource(logical_id, "AWS::SSM::Parameter", name, {"Type": ptype, "Value": value})

    # ------------------------------------------------------------------ SES

    def email_identity(self, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
        identity = str(props["EmailIdentity"])
        return PhysicalResource(logical_id, "AWS::SES::EmailIdentity", identity)

    def configuration_set(self, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
        """An SES configuration set, so sends that name it are accepted. Its event destinations
        (SNS) are not emulated: inject SES notifications with `python -m local send` instead."""
        name = str(props.get("Name") or self.stack.generated_name(logical_id))
        client = self.clients.ses()
        existing = {c["Name"] for c in client.list_configuration_sets().get("ConfigurationSets", [])}
        if name not in existing:
            client.create_configuration_set(ConfigurationSet={"Name": name})
        return PhysicalResource(logical_id, "AWS::SES::ConfigurationSet", name)

    def ses_identities(self) -> list[str]:
        """Identities to verify, as the stack's owner verifies them in SES: SES identity resources,
        the identities execution roles may send as (``ses:Send*`` on ``...:identity/<identity>``),
        and the IdentityName of SES policy templates."""
        found: list[str] = [
            str(res.ref) for res in self.stack.physical.values() if res.type == "AWS::SES::EmailIdentity"
        ]
        for role in self.stack.of_type("AWS::IAM::Role").values():
            for policy in (role.get("Properties") or {}).get("Policies") or []:
                document = policy.get("PolicyDocument") if isinstance(policy, dict) else None
                for statement in (document or {}).get("Statement") or []:
                    actions = statement.get("Action")
                    actions = [actions] if isinstance(actions, str) else actions or []
                    if not any(str(a).lower().startswith("ses:send") for a in actions):
                        continue
                    resources = self.stack.resolve(statement.get("Resource"))
                    for resource in [resources] if isinstance(resources, str) else resources or []:
                        if ":identity/" in str(resource):
                            found.append(str(resource).split(":identity/", 1)[1])
        for function in self.stack.of_type("AWS::Serverless::Function").values():
            policies = (function.get("Properties") or {}).get("Policies") or []
            for policy in policies if isinstance(policies, list) else []:
                if not isinstance(policy, dict):
                    continue
                for template_name in _SES_POLICY_TEMPLATES:
                    args = policy.get(template_name)
                    if isinstance(args, dict) and args.get("IdentityName"):
                        found.append(str(self.stack.resolve(args["IdentityName"])))
        return list(dict.fromkeys(found))

    def verify_identity(self, identity: str) -> None:
        client = self.clients.ses()
        _, address = parseaddr(identity)
        if "@" in address:
            client.verify_email_identity(EmailAddress=address)
        else:
            client.verify_domain_identity(Domain=identity)


def generate_secret_string(spec: Mapping[str, Any]) -> str:
    """A random secret as Secrets Manager's GenerateSecretString would make it (generated locally)."""
    length = int(spec.get("PasswordLength", 32))
    exclude = str(spec.get("ExcludeCharacters", ""))
    groups: list[str] = []
    if not _truthy(spec.get("ExcludeLowercase")):
        groups.append(string.ascii_lowercase)
    if not _truthy(spec.get("ExcludeUppercase")):
        groups.append(string.ascii_uppercase)
    if not _truthy(spec.get("ExcludeNumbers")):
        groups.append(string.digits)
    if not _truthy(spec.get("ExcludePunctuation")):
        groups.append(string.punctuation)
    if _truthy(spec.get("IncludeSpace")):
        groups.append(" ")
    groups = ["".join(ch for ch in group if ch not in exclude) for group in groups]
    groups = [group for group in groups if group]
    if not groups or length < 1:
        raise ValueError("GenerateSecretString leaves no characters to choose from")
    alphabet = "".join(groups)
    require_each = spec.get("RequireEachIncludedType", True) not in (False, "false")
    while True:
        password = "".join(secrets.choice(alphabet) for _ in range(length))
        if not require_each or length < len(groups) or all(any(c in g for c in password) for g in groups):
            break
    template = spec.get("SecretStringTemplate")
    key = spec.get("GenerateStringKey")
    if template and key:
        document = json.loads(str(template))
        document[str(key)] = password
        return json.dumps(document)
    return password


def _truthy(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


def _attribute_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))
