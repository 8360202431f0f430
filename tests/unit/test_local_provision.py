"""Provisioning template.yaml into moto, and the functions' resolved configuration."""

from __future__ import annotations

import json
import string
from pathlib import Path

import boto3
import pytest

from local.emulator import AwsClients
from local.functions import load_functions
from local.instances import instance_environment
from local.provision import generate_secret_string, provision
from local.stack import Stack
from local.template import TEMPLATE_PATH

ROOT = TEMPLATE_PATH.parent


@pytest.fixture
def stack(aws: None) -> Stack:
    stack = Stack.from_file(TEMPLATE_PATH, {"HousekeepingSchedule": "rate(1 minute)"})
    provision(stack, AwsClients(None), visibility_timeout=2)
    return stack


def test_table_has_the_template_keys_gsis_and_ttl(stack: Stack) -> None:
    client = boto3.client("dynamodb")
    table = client.describe_table(TableName="app-backend-dev")["Table"]
    assert {k["AttributeName"]: k["KeyType"] for k in table["KeySchema"]} == {"PK": "HASH", "SK": "RANGE"}
    declared = stack.template["Resources"]["AppTable"]["Properties"]["GlobalSecondaryIndexes"]
    assert sorted(i["IndexName"] for i in table["GlobalSecondaryIndexes"]) == sorted(
        i["IndexName"] for i in declared
    )
    ttl = client.describe_time_to_live(TableName="app-backend-dev")["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expiresAt"}
    assert stack.physical["AppTable"].ref == "app-backend-dev"


def test_queues_have_redrive_policies_to_their_dlqs(stack: Stack) -> None:
    sqs = boto3.client("sqs")
    email = stack.physical["EmailQueue"]
    attributes = sqs.get_queue_attributes(QueueUrl=email.ref, AttributeNames=["All"])["Attributes"]
    redrive = json.loads(attributes["RedrivePolicy"])
    assert redrive["deadLetterTargetArn"] == stack.physical["EmailDLQ"].attributes["Arn"]
    assert int(redrive["maxReceiveCount"]) == 3
    assert attributes["VisibilityTimeout"] == "2"  # the override, not the template's 180
    assert attributes["MessageRetentionPeriod"] == "345600"
    assert email.attributes["QueueName"] == "app-backend-email-dev"
    assert email.attributes["Arn"] == "arn:aws:sqs:us-east-1:123456789012:app-backend-email-dev"
    order = sqs.get_queue_attributes(
        QueueUrl=stack.physical["OrderQueue"].ref, AttributeNames=["RedrivePolicy"]
    )
    assert int(json.loads(order["Attributes"]["RedrivePolicy"])["maxReceiveCount"]) == 5


def test_secret_is_generated_and_ref_is_its_arn(stack: Stack) -> None:
    secret = stack.physical["TokenSigningSecret"]
    assert secret.ref.startswith(
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:app-backend/dev/token-signing-key"
    )
    value = boto3.client("secretsmanager").get_secret_value(SecretId=secret.ref)["SecretString"]
    assert len(value) == 64
    assert set(value) <= set(string.ascii_letters + string.digits)


def test_ssm_parameter_and_ses_identity(stack: Stack) -> None:
    parameter = boto3.client("ssm").get_parameter(Name="/app-backend/dev/config")["Parameter"]
    assert json.loads(parameter["Value"])["accessTokenTtlSeconds"] == 900
    # the identity the worker's role may send as: by default the domain of MailFrom (SesIdentity)
    assert "example.com" in boto3.client("ses").list_identities()["Identities"]


def test_provisioning_again_in_ensure_mode_is_idempotent(stack: Stack) -> None:
    again = Stack.from_file(TEMPLATE_PATH)
    provision(again, AwsClients(None), mode="ensure")
    assert again.physical["TokenSigningSecret"].ref == stack.physical["TokenSigningSecret"].ref
    assert again.physical["EmailQueue"].ref == stack.physical["EmailQueue"].ref


def test_the_asynchronously_invoked_functions_get_their_dead_letter_queues(stack: Stack) -> None:
    """S3 events and schedules fail over to these (local/async_invoke.py), as on AWS."""
    functions = load_functions(stack)
    assert functions["AvatarFunction"].dead_letter_arn == stack.physical["AvatarDLQ"].attributes["Arn"]
    assert functions["ScheduledFunction"].dead_letter_arn == stack.physical["ScheduledDLQ"].attributes["Arn"]
    assert functions["AvatarFunction"].async_retries == 2  # Lambda's default: no EventInvokeConfig
    assert functions["UsersFunction"].dead_letter_arn is None


def test_functions_get_their_resolved_environment_and_events(stack: Stack) -> None:
    functions = load_functions(stack)
    assert set(functions) == {
        "AuthFunction",
        "UsersFunction",
        "ProductsFunction",
        "ContentFunction",
        "OrdersFunction",
        "WorkerFunction",
        "ScheduledFunction",
        "AvatarFunction",
    }
    auth = functions["AuthFunction"]
    assert auth.function_name == "app-backend-auth-dev"
    assert auth.code_dir == ROOT / "functions" / "auth"
    assert auth.layer_dirs == [ROOT / "layers" / "shared"]
    assert auth.timeout == 10
    assert auth.memory_size == 512
    assert auth.environment["TABLE_NAME"] == "app-backend-dev"
    assert auth.environment["POWERTOOLS_SERVICE_NAME"] == "auth"
    assert auth.environment["TOKEN_SECRET_NAME"] == stack.physical["TokenSigningSecret"].ref
    assert auth.environment["EMAIL_QUEUE_URL"] == stack.physical["EmailQueue"].ref
    assert auth.environment["CONFIG_PARAMETER_NAME"] == "/app-backend/dev/config"
    assert auth.environment["CORS_ALLOWED_ORIGINS"] == "http://localhost:5173"
    assert [route.route_key for route in auth.http_routes] == [
        "GET /api/health",
        "ANY /api/auth/{proxy+}",
        "$default",
    ]

    scheduled = functions["ScheduledFunction"]
    assert scheduled.timeout == 60
    assert scheduled.environment["MONITORED_DLQ_URLS"] == ",".join(
        [
            stack.physical[name].ref
            for name in (
                "EmailDLQ",
                "OrderDLQ",
                "MaintenanceDLQ",
                "EmailEventsDLQ",
                "ScheduledDLQ",
                "AvatarDLQ",
            )
        ]
    )
    dlq_monitor, order_sweeper, low_stock_digest = scheduled.schedules
    assert dlq_monitor.expression == "rate(1 minute)"
    assert json.loads(dlq_monitor.input or "") == {"task": "dlq-monitor"}
    assert dlq_monitor.rule_name == "app-backend-dlq-monitor-dev"
    assert order_sweeper.expression == "rate(5 minutes)"
    assert json.loads(order_sweeper.input or "") == {"task": "order-sweeper"}
    assert low_stock_digest.expression == "cron(0 7 * * ? *)"
    assert json.loads(low_stock_digest.input or "") == {"task": "low-stock-digest"}

    # the upload bucket's S3 event (docs/avatars.md), delivered by the local cloud (local/s3_events.py)
    avatar = functions["AvatarFunction"]
    assert avatar.layer_dirs == [ROOT / "layers" / "shared", ROOT / "layers" / "imaging"]
    (uploaded,) = avatar.s3
    assert uploaded.bucket == stack.physical["AvatarUploadBucket"].ref
    assert (uploaded.events, uploaded.prefix) == (("s3:ObjectCreated:*",), "uploads/")
    assert avatar.environment["AVATAR_BUCKET"] == stack.physical["AvatarBucket"].ref
    # without the local cloud's AvatarBaseUrl override: the (not emulated) distribution's domain
    assert avatar.environment["AVATAR_BASE_URL"] == "https://localcloud.cloudfront.invalid"
    assert "app-backend-avatar-uploads-123456789012-us-east-1-dev" in {
        b["Name"] for b in boto3.client("s3").list_buckets()["Buckets"]
    }

    worker = functions["WorkerFunction"]
    assert worker.environment["MAIL_FROM"] == "no-reply@example.com"
    email_jobs, order_jobs, maintenance_jobs, email_events = worker.sqs
    assert email_jobs.queue_arn == stack.physical["EmailQueue"].attributes["Arn"]
    assert order_jobs.queue_arn == stack.physical["OrderQueue"].attributes["Arn"]
    assert maintenance_jobs.queue_arn == stack.physical["MaintenanceQueue"].attributes["Arn"]
    assert maintenance_jobs.batch_size == 1
    assert email_events.queue_arn == stack.physical["EmailEventsQueue"].attributes["Arn"]
    assert worker.environment["SES_CONFIGURATION_SET"] == stack.physical["EmailConfigurationSet"].ref
    # a purge out of time enqueues its follow-up from the worker
    assert worker.environment["MAINTENANCE_QUEUE_URL"] == stack.physical["MaintenanceQueue"].ref
    assert email_jobs.batch_size == 10
    assert email_jobs.batching_window == 1
    assert email_jobs.report_batch_item_failures is True


def test_instance_environment_is_the_template_plus_lambda_and_nothing_else(stack: Stack) -> None:
    auth = load_functions(stack)["AuthFunction"]
    env = instance_environment(
        auth, "http://127.0.0.1:5000", base={"PATH": "/bin", "APP_STAGE": "leak", "HOME": "/h"}
    )
    assert env["APP_STAGE"] == "dev"  # from the template, not the caller's environment
    assert env["PATH"] == "/bin"
    assert env["AWS_ENDPOINT_URL"] == "http://127.0.0.1:5000"
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "us-east-1"
    assert env["AWS_ACCESS_KEY_ID"] == "testing"
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "app-backend-auth-dev"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "512"
    assert env["AWS_LAMBDA_FUNCTION_TIMEOUT"] == "10"
    assert env["POWERTOOLS_TRACE_DISABLED"] == "true"
    assert env["_HANDLER"] == "app.handler"
    paths = env["PYTHONPATH"].split(":")
    assert paths == [str(ROOT / "functions" / "auth"), str(ROOT / "layers" / "shared")]


def test_generate_secret_string_options() -> None:
    plain = generate_secret_string({"PasswordLength": 40, "ExcludePunctuation": True})
    assert len(plain) == 40
    assert plain.isalnum()
    digits = generate_secret_string(
        {"ExcludeLowercase": True, "ExcludeUppercase": True, "ExcludePunctuation": True}
    )
    assert digits.isdigit()
    assert len(digits) == 32
    document = json.loads(
        generate_secret_string({"SecretStringTemplate": '{"user": "app"}', "GenerateStringKey": "password"})
    )
    assert document["user"] == "app"
    assert len(document["password"]) == 32
    assert "a" not in generate_secret_string({"ExcludeCharacters": "a", "PasswordLength": 200})


def test_resources_depend_on_each_other_in_order(aws: None, tmp_path: Path) -> None:
    """A queue declared before its DLQ is still created after it."""
    template = tmp_path / "template.yaml"
    template.write_text(
        """
Resources:
  Main:
    Type: AWS::SQS::Queue
    Properties:
      RedrivePolicy: {deadLetterTargetArn: !GetAtt Dead.Arn, maxReceiveCount: 2}
  Dead:
    Type: AWS::SQS::Queue
"""
    )
    stack = Stack.from_file(template)
    report = provision(stack, AwsClients(None))
    assert [res.logical_id for res in report.created] == ["Dead", "Main"]
    assert stack.physical["Dead"].attributes["QueueName"] == "local-cloud-Dead"


def test_the_sentry_layer_is_a_functions_layer_only_when_error_reporting_is_on(aws: None) -> None:
    """Globals' ``!If [SentryEnabled, !Ref SentryLayer, !Ref AWS::NoValue]``: decided per stack."""
    off = Stack.from_file(TEMPLATE_PATH, {})
    provision(off, AwsClients(None), visibility_timeout=2)
    functions = load_functions(off)
    for spec in functions.values():
        assert ROOT / "layers" / "sentry" not in spec.layer_dirs, spec.logical_id
        assert not any("layer" in warning for warning in spec.warnings), spec.warnings
        assert spec.environment["SENTRY_DSN_PARAMETER_NAME"] == ""

    # another stage, so that its resources do not collide with the first stack's in the emulator
    on = Stack.from_file(
        TEMPLATE_PATH, {"Stage": "prod", "SentryDsnParameterName": "/app-backend/prod/sentry-dsn"}
    )
    provision(on, AwsClients(None), visibility_timeout=2)
    for spec in load_functions(on).values():
        assert spec.layer_dirs[:2] == [ROOT / "layers" / "shared", ROOT / "layers" / "sentry"], (
            spec.logical_id
        )
        assert spec.environment["SENTRY_DSN_PARAMETER_NAME"] == "/app-backend/prod/sentry-dsn"
