"""The local cloud's mechanics, over real HTTP, queues and processes.

Two clouds run: the project's template.yaml (`local_cloud`, from conftest.py) and a small fixture
template written to a temp dir (`fixture_cloud`), whose functions echo their events, misbehave on
request, sleep, record SQS batches and schedule firings, so gateway, instance, SQS and schedule
behaviour is tested independently of the application's code.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from backend.http.headers import SECURITY_HEADERS
from local.template import load_template, resources_of_type
from tests.integration.conftest import ROOT, LocalCloud, wait_until

pytestmark = pytest.mark.integration

FIXTURE_TEMPLATE = """
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Parameters:
  Stage: {Type: String, Default: test}
  RecordDir: {Type: String}
  MailFrom: {Type: String, Default: sender@example.com}
Globals:
  Function:
    Runtime: python3.13
    Handler: app.handler
    Timeout: 5
    MemorySize: 256
    Layers: [!Ref FixtureLayer]
    Environment:
      Variables:
        STAGE: !Ref Stage
        TABLE_NAME: !Ref Table
        RECORD_DIR: !Ref RecordDir
Resources:
  FixtureLayer:
    Type: AWS::Serverless::LayerVersion
    Properties: {ContentUri: layer/}
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: !Sub "fixture-${Stage}"
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{AttributeName: PK, AttributeType: S}]
      KeySchema: [{AttributeName: PK, KeyType: HASH}]
  JobsDLQ:
    Type: AWS::SQS::Queue
    Properties: {QueueName: !Sub "fixture-jobs-dlq-${Stage}"}
  JobsQueue:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: !Sub "fixture-jobs-${Stage}"
      VisibilityTimeout: 120
      RedrivePolicy: {deadLetterTargetArn: !GetAtt JobsDLQ.Arn, maxReceiveCount: 2}
  HttpApi:
    Type: AWS::Serverless::HttpApi
    Properties:
      CorsConfiguration:
        AllowOrigins: [http://allowed.test]
        AllowMethods: [GET, POST]
        AllowHeaders: [content-type]
        AllowCredentials: true
        MaxAge: 300
  EchoFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: echo/
      Environment: {Variables: {ECHO_ONLY: "yes"}}
      Events:
        ItemsGet: {Type: HttpApi, Properties: {ApiId: !Ref HttpApi, Path: "/items/{id}", Method: GET}}
        ItemsSpecial: {Type: HttpApi, Properties: {ApiId: !Ref HttpApi, Path: /items/special, Method: ANY}}
        ItemsProxy: {Type: HttpApi, Properties: {ApiId: !Ref HttpApi, Path: "/items/{proxy+}", Method: ANY}}
        Echo: {Type: HttpApi, Properties: {ApiId: !Ref HttpApi, Path: /echo, Method: ANY}}
  BehaviourFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: behave/
      Timeout: 1
      Policies: [{SESCrudPolicy: {IdentityName: !Ref MailFrom}}]
      Environment: {Variables: {MAIL_FROM: !Ref MailFrom}}
      Events:
        Behave: {Type: HttpApi, Properties: {ApiId: !Ref HttpApi, Path: "/behave/{what}", Method: ANY}}
  SlowFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: slow/
      Events:
        Slow: {Type: HttpApi, Properties: {ApiId: !Ref HttpApi, Path: /slow, Method: GET}}
        Limited:
          Type: HttpApi
          Properties: {ApiId: !Ref HttpApi, Path: /slow/limited, Method: GET, TimeoutInMillis: 500}
  JobsFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: jobs/
      Events:
        Jobs:
          Type: SQS
          Properties:
            Queue: !GetAtt JobsQueue.Arn
            BatchSize: 5
            MaximumBatchingWindowInSeconds: 1
            FunctionResponseTypes: [ReportBatchItemFailures]
  TickFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: tick/
      Events:
        WithInput:
          Type: Schedule
          Properties: {Schedule: rate(1 minute), Input: '{"task": "tick"}'}
        Envelope:
          Type: Schedule
          Properties: {Schedule: "cron(0 12 ? * MON-FRI *)", Name: fixture-envelope}
        Disabled:
          Type: Schedule
          Properties: {Schedule: rate(5 minutes), Enabled: false}
"""

LAYER = """
import json, os

def record(name, document):
    with open(os.path.join(os.environ["RECORD_DIR"], name + ".jsonl"), "a") as fh:
        fh.write(json.dumps(document) + "\\n")
"""

ECHO = """
import json, os

print("echo function initialising")

class App:
    def openapi(self):
        return {
            "openapi": "3.1.0",
            "info": {"title": "echo", "version": "1"},
            "paths": {
                "/items/{id}": {"get": {"summary": "Get an item", "responses": {"200": {"description": "ok",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}}}}}},
                "/not-routed": {"get": {"summary": "Not routed here", "responses": {}}},
            },
            "components": {"schemas": {"Thing": {"type": "object", "title": "echo thing"}}},
        }

app = App()

def handler(event, context):
    print("echo handling", event["rawPath"])
    names = ("STAGE", "TABLE_NAME", "RECORD_DIR", "ECHO_ONLY", "AWS_ENDPOINT_URL", "AWS_LAMBDA_FUNCTION_NAME",
             "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_TIMEOUT", "AWS_REGION", "POWERTOOLS_TRACE_DISABLED",
             "LOCAL_CLOUD_TEST_SENTINEL", "PYTHONPATH")
    body = {
        "event": event,
        "env": {name: os.environ.get(name) for name in names},
        "context": {"functionName": context.function_name, "memory": context.memory_limit_in_mb,
                    "remaining": context.get_remaining_time_in_millis(), "requestId": context.aws_request_id},
        "pid": os.getpid(),
    }
    return {"statusCode": 200, "headers": {"content-type": "application/json"}, "body": json.dumps(body)}
"""

BEHAVE = """
import base64, json, os, time
import boto3

ses = boto3.client("ses")

class App:
    def openapi(self):
        return {
            "openapi": "3.1.0",
            "info": {"title": "behave", "version": "1"},
            "paths": {"/behave/{what}": {"post": {"summary": "Misbehave", "responses": {"200": {"description": "ok",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}}}}}}},
            "components": {"schemas": {"Thing": {"type": "string", "title": "behave thing"}}},
        }

app = App()

def handler(event, context):
    what = event["pathParameters"]["what"]
    query = event.get("queryStringParameters") or {}
    if what == "cookies":
        return {"statusCode": 201, "headers": {"x-one": "1"}, "multiValueHeaders": {"x-many": ["a", "b"]},
                "cookies": ["a=1; Path=/", "b=2; HttpOnly"], "body": "created"}
    if what == "binary":
        return {"statusCode": 200, "headers": {"content-type": "application/octet-stream"},
                "body": base64.b64encode(bytes(range(256))).decode(), "isBase64Encoded": True}
    if what == "plain":
        return {"just": "json"}
    if what == "raise":
        raise RuntimeError("behaving badly")
    if what == "sleep":
        time.sleep(float(query.get("seconds", "3")))
        return {"statusCode": 200, "body": "woke up"}
    if what == "malformed":
        return {"statusCode": "abc"}
    if what == "cors":
        return {"statusCode": 200, "headers": {"access-control-allow-origin": "*"}, "body": "cors"}
    if what == "mail":
        ses.send_email(
            Source=os.environ["MAIL_FROM"],
            Destination={"ToAddresses": [query["to"]]},
            Message={"Subject": {"Data": "<b>Hi</b> & welcome"},
                     "Body": {"Html": {"Data": "<p>Hello <script>alert(1)</script></p>"}}},
        )
        return {"statusCode": 202, "body": "sent"}
    if what == "body":
        return {"statusCode": 200, "body": json.dumps({"body": event.get("body"),
                                                       "isBase64Encoded": event["isBase64Encoded"]})}
    return {"statusCode": 404, "body": "unknown behaviour"}
"""

SLOW = """
import os, time

def handler(event, context):
    time.sleep(1)
    return {"statusCode": 200, "body": str(os.getpid())}
"""

JOBS = """
import json
from fixture_record import record

def handler(event, context):
    failures = []
    explode = False
    for rec in event["Records"]:
        job = json.loads(rec["body"])
        record("jobs", {"job": job["id"], "messageId": rec["messageId"], "keys": sorted(rec),
                        "receiveCount": int(rec["attributes"]["ApproximateReceiveCount"]),
                        "arn": rec["eventSourceARN"], "batch": len(event["Records"]),
                        "attr": rec["messageAttributes"].get("kind", {}).get("stringValue")})
        if job["action"] == "fail":
            failures.append({"itemIdentifier": rec["messageId"]})
        if job["action"] == "raise":
            explode = True
    if explode:
        raise RuntimeError("the whole batch fails")
    return {"batchItemFailures": failures}
"""

TICK = """
from fixture_record import record

def handler(event, context):
    record("ticks", event)
    return event
"""


@pytest.fixture(scope="module")
def fixture_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fixture-app")
    (root / "template.yaml").write_text(FIXTURE_TEMPLATE)
    for directory, files in {
        "layer": {"fixture_record.py": LAYER},
        "echo": {"app.py": ECHO},
        "behave": {"app.py": BEHAVE},
        "slow": {"app.py": SLOW},
        "jobs": {"app.py": JOBS},
        "tick": {"app.py": TICK},
    }.items():
        (root / directory).mkdir()
        for name, text in files.items():
            (root / directory / name).write_text(text)
    (root / "records").mkdir()
    return root


@pytest.fixture(scope="module")
def fixture_cloud(
    fixture_dir: Path, local_cloud_factory: Callable[..., LocalCloud], monkeypatch_module: pytest.MonkeyPatch
) -> LocalCloud:
    monkeypatch_module.setenv("LOCAL_CLOUD_TEST_SENTINEL", "must not reach functions")
    return local_cloud_factory(
        "--template",
        str(fixture_dir / "template.yaml"),
        "--max-instances",
        "2",
        "--sqs-visibility-override",
        "2",
        "--parameter-overrides",
        f"RecordDir={fixture_dir / 'records'}",
        name="fixture",
    )


@pytest.fixture(scope="module")
def monkeypatch_module() -> Any:
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def records(fixture_dir: Path, name: str) -> list[dict[str, Any]]:
    path = fixture_dir / "records" / f"{name}.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def concurrently(calls: list[Callable[[], httpx.Response]]) -> tuple[list[httpx.Response], float]:
    results: list[httpx.Response | None] = [None] * len(calls)
    barrier = threading.Barrier(len(calls))

    def run(index: int) -> None:
        barrier.wait()
        results[index] = calls[index]()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(calls))]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    return [result for result in results if result is not None], elapsed


def assert_secure(response: httpx.Response) -> None:
    for name, value in SECURITY_HEADERS:
        assert name in response.headers, f"{name} missing: {dict(response.headers)}"
        if name != "content-security-policy":
            assert response.headers[name] == value


def assert_gateway_envelope(response: httpx.Response, code: str) -> None:
    """An answer the gateway gives itself: the API's envelope, the security headers."""
    body = response.json()
    assert set(body) == {"error", "code", "requestId"}, body
    assert body["code"] == code
    assert body["requestId"] == response.headers["apigw-requestid"]
    assert_secure(response)


# ============================================================================ gateway: routing and events


def test_payload_2_0_event_reaches_the_function(fixture_cloud: LocalCloud) -> None:
    response = fixture_cloud.get(
        "/items/42?tag=a&tag=b&empty=",
        headers={"X-Custom": "one", "User-Agent": "integration-test", "Cookie": "session=abc"},
    )
    assert response.status_code == 200
    assert response.headers["apigw-requestid"]
    event = response.json()["event"]
    assert event["version"] == "2.0"
    assert event["routeKey"] == "GET /items/{id}"
    assert event["rawPath"] == "/items/42"
    assert event["rawQueryString"] == "tag=a&tag=b&empty="
    assert event["queryStringParameters"] == {"tag": "a,b", "empty": ""}
    assert event["pathParameters"] == {"id": "42"}
    assert event["cookies"] == ["session=abc"]
    assert event["headers"]["x-custom"] == "one"
    assert "cookie" not in event["headers"]
    assert event["isBase64Encoded"] is False
    assert "body" not in event
    context = event["requestContext"]
    assert context["http"]["method"] == "GET"
    assert context["http"]["path"] == "/items/42"
    assert context["http"]["sourceIp"] == "127.0.0.1"
    assert context["http"]["userAgent"] == "integration-test"
    assert context["stage"] == "$default"
    assert context["routeKey"] == "GET /items/{id}"
    assert context["requestId"] == response.headers["apigw-requestid"]
    assert isinstance(context["timeEpoch"], int)


@pytest.mark.parametrize(
    ("method", "path", "route_key"),
    [
        ("GET", "/items/special", "ANY /items/special"),
        ("GET", "/items/7", "GET /items/{id}"),
        ("POST", "/items/7", "ANY /items/{proxy+}"),
        ("GET", "/items/7/parts", "ANY /items/{proxy+}"),
        ("PUT", "/echo", "ANY /echo"),
    ],
)
def test_the_most_specific_route_wins(
    fixture_cloud: LocalCloud, method: str, path: str, route_key: str
) -> None:
    response = fixture_cloud.request(method, path)
    assert response.status_code == 200
    assert response.json()["event"]["routeKey"] == route_key


@pytest.mark.parametrize(("method", "path"), [("GET", "/nowhere"), ("GET", "/items"), ("DELETE", "/slow")])
def test_unrouted_requests_get_api_gateways_404(fixture_cloud: LocalCloud, method: str, path: str) -> None:
    response = fixture_cloud.request(method, path)
    assert response.status_code == 404
    assert_gateway_envelope(response, "NOT_FOUND")


def test_request_bodies_text_and_binary(fixture_cloud: LocalCloud) -> None:
    text = fixture_cloud.post("/behave/body", json={"a": "é"})
    assert text.json()["isBase64Encoded"] is False
    assert json.loads(text.json()["body"]) == {"a": "é"}
    blob = bytes(range(256))
    binary = fixture_cloud.post(
        "/behave/body", content=blob, headers={"content-type": "application/octet-stream"}
    )
    assert binary.json()["isBase64Encoded"] is True
    assert base64.b64decode(binary.json()["body"]) == blob


def test_function_environment_is_the_templates_and_isolated(
    fixture_cloud: LocalCloud, fixture_dir: Path
) -> None:
    body = fixture_cloud.get("/echo").json()
    env = body["env"]
    assert env["STAGE"] == "test"
    assert env["TABLE_NAME"] == "fixture-test"
    assert env["RECORD_DIR"] == str(fixture_dir / "records")
    assert env["ECHO_ONLY"] == "yes"
    assert env["AWS_ENDPOINT_URL"] == fixture_cloud.endpoint_url
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "local-cloud-EchoFunction"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    assert env["AWS_LAMBDA_FUNCTION_TIMEOUT"] == "5"
    assert env["AWS_REGION"] == "us-east-1"
    assert env["POWERTOOLS_TRACE_DISABLED"] == "true"
    assert env["LOCAL_CLOUD_TEST_SENTINEL"] is None  # nothing leaks from the local cloud's environment
    assert env["PYTHONPATH"].split(":") == [str(fixture_dir / "echo"), str(fixture_dir / "layer")]
    assert body["context"]["functionName"] == "local-cloud-EchoFunction"
    assert body["context"]["memory"] == "256"
    assert 0 < body["context"]["remaining"] <= 5000
    output = fixture_cloud.output()
    assert "[EchoFunction:1] echo function initialising" in output
    assert "[EchoFunction:1] echo handling /echo" in output
    assert "cold start: instance 1 ready in" in output


# ============================================================================ gateway: responses


def test_response_status_headers_and_cookies(fixture_cloud: LocalCloud) -> None:
    response = fixture_cloud.get("/behave/cookies")
    assert response.status_code == 201
    assert response.text == "created"
    assert response.headers["x-one"] == "1"
    assert response.headers.get_list("x-many") == ["a", "b"]
    assert response.headers.get_list("set-cookie") == ["a=1; Path=/", "b=2; HttpOnly"]


def test_base64_response_bodies_are_decoded(fixture_cloud: LocalCloud) -> None:
    response = fixture_cloud.get("/behave/binary")
    assert response.content == bytes(range(256))
    assert response.headers["content-type"] == "application/octet-stream"


def test_a_result_without_status_code_is_json_200(fixture_cloud: LocalCloud) -> None:
    response = fixture_cloud.get("/behave/plain")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"just": "json"}


@pytest.mark.parametrize("what", ["raise", "malformed"])
def test_function_failures_are_api_gateways_500(fixture_cloud: LocalCloud, what: str) -> None:
    response = fixture_cloud.get(f"/behave/{what}")
    assert response.status_code == 500
    assert_gateway_envelope(response, "INTERNAL_ERROR")


def test_function_timeout_kills_the_instance_and_answers_500(fixture_cloud: LocalCloud) -> None:
    before = fixture_cloud.stats("BehaviourFunction")
    started = time.monotonic()
    response = fixture_cloud.get("/behave/sleep?seconds=20")
    assert time.monotonic() - started < 8  # the 1 s Timeout, not the 20 s sleep
    assert response.status_code == 500
    assert_gateway_envelope(response, "INTERNAL_ERROR")
    after = fixture_cloud.stats("BehaviourFunction")
    assert after["timeouts"] == before["timeouts"] + 1
    assert "Task timed out after 1.0" in fixture_cloud.output()
    assert fixture_cloud.get("/behave/plain").status_code == 200  # a fresh instance takes over


def test_integration_timeout_answers_503(fixture_cloud: LocalCloud) -> None:
    response = fixture_cloud.get("/slow/limited")  # TimeoutInMillis 500, the function takes 1 s
    assert response.status_code == 503
    assert_gateway_envelope(response, "SERVICE_UNAVAILABLE")


def test_cors_preflight_and_headers_come_from_the_http_api(fixture_cloud: LocalCloud) -> None:
    preflight = fixture_cloud.request(
        "OPTIONS",
        "/behave/cors",
        headers={"Origin": "http://allowed.test", "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "http://allowed.test"
    assert preflight.headers["access-control-allow-methods"] == "GET,POST"
    assert preflight.headers["access-control-max-age"] == "300"
    response = fixture_cloud.get("/behave/cors", headers={"Origin": "http://allowed.test"})
    assert response.headers["access-control-allow-origin"] == "http://allowed.test"  # not the function's "*"
    assert response.headers["access-control-allow-credentials"] == "true"
    stranger = fixture_cloud.get("/behave/cors", headers={"Origin": "http://evil.test"})
    assert "access-control-allow-origin" not in stranger.headers


# ============================================================================ gateway: hostile input


def raw_exchange(cloud: LocalCloud, data: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send raw bytes; return the reply's status, headers and body (fails on a dropped connection)."""
    host, port = cloud.base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(data)
        received = b""
        while b"\r\n\r\n" not in received:
            chunk = sock.recv(65536)
            assert chunk, f"connection dropped without a reply (got {received!r})"
            received += chunk
        head, _, body = received.partition(b"\r\n\r\n")
        status_line, *lines = head.decode("latin-1").split("\r\n")
        headers = {
            name.strip().lower(): value.strip() for name, _, value in (line.partition(":") for line in lines)
        }
        while len(body) < int(headers.get("content-length", "0")):
            chunk = sock.recv(65536)
            assert chunk, "connection dropped in the middle of the body"
            body += chunk
    return int(status_line.split(" ")[1]), headers, body


@pytest.mark.parametrize(
    ("request_bytes", "status", "code"),
    [
        (b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400, "BAD_REQUEST"),
        (b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: ten\r\n\r\n", 400, "BAD_REQUEST"),
        (b"GET /" + b"a" * 40_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414, "URI_TOO_LONG"),
        (b"GET /echo HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 40_000 + b"\r\n\r\n", 431, "HEADERS_TOO_LARGE"),
        (b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: br\r\n\r\n", 400, "BAD_REQUEST"),
    ],
)
def test_malformed_framing_gets_an_envelope_not_a_dropped_connection(
    fixture_cloud: LocalCloud, request_bytes: bytes, status: int, code: str
) -> None:
    got, headers, body = raw_exchange(fixture_cloud, request_bytes)
    assert got == status
    document = json.loads(body)
    assert document["code"] == code
    assert set(document) == {"error", "code", "requestId"}
    for name, _ in SECURITY_HEADERS:
        assert name in headers


def test_the_gateways_own_pages_and_errors_carry_the_security_headers(fixture_cloud: LocalCloud) -> None:
    for path in ("/_local", "/_local/health", "/_local/mail", "/docs", "/openapi.json"):
        response = fixture_cloud.get(path)
        assert response.status_code == 200, path
        assert_secure(response)
    assert "script-src" in fixture_cloud.get("/docs").headers["content-security-policy"]
    missing = fixture_cloud.get("/_local/nothing")
    assert missing.status_code == 404
    assert_gateway_envelope(missing, "NOT_FOUND")
    recycle = fixture_cloud.post("/_local/functions/NoSuchFunction/recycle")
    assert recycle.status_code == 404
    assert recycle.json()["error"] == "no function NoSuchFunction"
    assert_secure(fixture_cloud.get("/echo"))  # a function that sets none gets them too


@pytest.mark.parametrize("method", ["TRACE", "PROPFIND", "CONNECT"])
def test_unusual_methods_reach_the_fallback_route_never_a_5xx(local_cloud: LocalCloud, method: str) -> None:
    response = local_cloud.request(method, "/api/health")
    assert response.status_code == 405
    assert response.json()["code"] == "METHOD_NOT_ALLOWED"
    assert "GET" in response.headers["allow"]


def test_head_is_answered_without_a_body(fixture_cloud: LocalCloud) -> None:
    for path in ("/_local/health", "/openapi.json", "/docs"):
        head = fixture_cloud.request("HEAD", path)
        assert head.status_code == 200, path
        assert head.content == b""
        assert int(head.headers["content-length"]) > 0


def test_the_console_redacts_query_values_and_escapes_control_characters(fixture_cloud: LocalCloud) -> None:
    response = fixture_cloud.get("/items/%1b%5B2J%07?password=hunter2&token=abc&flag")
    assert response.status_code == 200
    output = fixture_cloud.output()
    assert "hunter2" not in output
    assert "abc&" not in output
    assert "/items/%1b%5B2J%07?password=[REDACTED]&token=[REDACTED]&flag → EchoFunction 200" in output
    assert "\x1b" not in output  # the terminal never gets the raw bytes
    assert "\x07" not in output
    assert "echo handling /items/\\x1b[2J\\x07" in output  # the function printed the decoded path


# ============================================================================ instances


def test_concurrent_requests_run_in_parallel_instances(fixture_cloud: LocalCloud) -> None:
    fixture_cloud.get("/slow")  # warm: one instance
    responses, elapsed = concurrently([lambda: fixture_cloud.get("/slow")] * 2)
    assert [r.status_code for r in responses] == [200, 200]
    assert len({r.text for r in responses}) == 2  # two processes
    # They overlapped (peak concurrency 2, below). No wall-clock bound: a cold start on a loaded
    # machine can take long, and serial execution is already caught by the peak.
    assert elapsed >= 1.0
    stats = fixture_cloud.stats("SlowFunction")
    assert stats["instances"] == 2
    assert stats["peakConcurrency"] == 2


def test_requests_beyond_max_instances_wait_their_turn(fixture_cloud: LocalCloud) -> None:
    responses, elapsed = concurrently([lambda: fixture_cloud.get("/slow")] * 3)  # --max-instances 2
    assert [r.status_code for r in responses] == [200, 200, 200]
    assert elapsed >= 1.9  # the third waited for a free instance
    stats = fixture_cloud.stats("SlowFunction")
    assert stats["instances"] <= 2
    assert stats["peakConcurrency"] == 2


# ============================================================================ SQS


def test_sqs_batches_partial_failures_and_dlq(fixture_cloud: LocalCloud, fixture_dir: Path) -> None:
    sqs = fixture_cloud.client("sqs")
    queue_url = fixture_cloud.ref("JobsQueue")
    dlq_url = fixture_cloud.ref("JobsDLQ")
    sqs.send_message_batch(
        QueueUrl=queue_url,
        Entries=[
            {
                "Id": "ok",
                "MessageBody": json.dumps({"id": "ok-1", "action": "ok"}),
                "MessageAttributes": {"kind": {"DataType": "String", "StringValue": "test"}},
            },
            {"Id": "fail", "MessageBody": json.dumps({"id": "fail-1", "action": "fail"})},
        ],
    )

    dead: set[str] = set()

    def failed_one_in_dlq() -> bool:
        for message in sqs.receive_message(QueueUrl=dlq_url, MaxNumberOfMessages=10).get("Messages", []):
            dead.add(json.loads(message["Body"])["id"])
        return "fail-1" in dead

    wait_until(failed_one_in_dlq, timeout=20, what="the failing message in the DLQ")
    assert "ok-1" not in dead
    seen = records(fixture_dir, "jobs")
    ok = [r for r in seen if r["job"] == "ok-1"]
    failed = [r for r in seen if r["job"] == "fail-1"]
    assert len(ok) == 1  # deleted after its first, successful delivery
    assert ok[0]["batch"] == 2  # both messages in one batch (batching window)
    assert ok[0]["attr"] == "test"
    assert [r["receiveCount"] for r in failed] == [1, 2]  # maxReceiveCount 2, then the DLQ
    assert ok[0]["keys"] == sorted(
        [
            "attributes",
            "awsRegion",
            "body",
            "eventSource",
            "eventSourceARN",
            "md5OfBody",
            "md5OfMessageAttributes",
            "messageAttributes",
            "messageId",
            "receiptHandle",
        ]
    )
    assert ok[0]["arn"] == fixture_cloud.attribute("JobsQueue", "Arn")
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])["Attributes"]
    assert attributes["ApproximateNumberOfMessages"] == "0"
    assert attributes["ApproximateNumberOfMessagesNotVisible"] == "0"


def test_sqs_function_error_fails_the_whole_batch(fixture_cloud: LocalCloud, fixture_dir: Path) -> None:
    sqs = fixture_cloud.client("sqs")
    sqs.send_message_batch(
        QueueUrl=fixture_cloud.ref("JobsQueue"),
        Entries=[
            {"Id": "a", "MessageBody": json.dumps({"id": "bystander-1", "action": "ok"})},
            {"Id": "b", "MessageBody": json.dumps({"id": "bomb-1", "action": "raise"})},
        ],
    )
    wait_until(
        lambda: len([r for r in records(fixture_dir, "jobs") if r["job"] == "bystander-1"]) >= 2,
        timeout=20,
        what="the bystander's redelivery",
    )
    bystander = [r for r in records(fixture_dir, "jobs") if r["job"] == "bystander-1"]
    assert bystander[0]["batch"] == 2
    assert [r["receiveCount"] for r in bystander][:2] == [1, 2]  # not deleted: the batch failed


# ============================================================================ schedules


def test_schedules_are_listed_with_their_next_fire_time(fixture_cloud: LocalCloud) -> None:
    listing = {item["event"]: item for item in fixture_cloud.get("/_local/schedules").json()}
    assert set(listing) == {"WithInput", "Envelope", "Disabled"}
    assert listing["WithInput"]["schedule"] == "rate(1 minute)"
    assert listing["WithInput"]["nextFire"] is not None
    assert listing["Envelope"]["rule"] == "fixture-envelope"
    assert listing["Disabled"]["enabled"] is False
    assert listing["Disabled"]["nextFire"] is None


def test_firing_a_schedule_delivers_its_input(fixture_cloud: LocalCloud) -> None:
    fired = fixture_cloud.post("/_local/schedules/TickFunction/WithInput/fire").json()
    assert fired["ok"] is True
    assert fired["result"] == {"task": "tick"}  # exactly the Input, no envelope


def test_firing_a_schedule_without_input_delivers_the_envelope(fixture_cloud: LocalCloud) -> None:
    fired = fixture_cloud.post("/_local/schedules/TickFunction/Envelope/fire").json()
    event = fired["result"]
    assert event["detail-type"] == "Scheduled Event"
    assert event["source"] == "aws.events"
    assert event["resources"] == ["arn:aws:events:us-east-1:123456789012:rule/fixture-envelope"]
    assert event["detail"] == {}


def test_fire_command_uses_the_running_cloud(fixture_cloud: LocalCloud) -> None:
    port = fixture_cloud.base_url.rsplit(":", 1)[1]
    done = run_local("fire", "TickFunction", "Disabled", "--port", port)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["ok"] is True
    missing = run_local("fire", "TickFunction", "Nope", "--port", port)
    assert missing.returncode == 1
    assert "no schedule TickFunction/Nope" in missing.stderr


# ============================================================================ mailbox, docs


def test_email_sent_by_a_function_lands_in_the_mailbox(fixture_cloud: LocalCloud) -> None:
    assert fixture_cloud.get("/behave/mail?to=ann@example.com").status_code == 202
    mail = fixture_cloud.wait_for_mail(lambda m: m["to"] == ["ann@example.com"])
    assert mail["from"] == "sender@example.com"
    assert mail["subject"] == "<b>Hi</b> & welcome"
    assert mail["html"] is True
    page = fixture_cloud.get("/_local/mail").text
    assert "&lt;b&gt;Hi&lt;/b&gt; &amp; welcome" in page
    assert "<script>alert(1)</script>" not in page
    assert '<iframe sandbox=""' in page


def test_openapi_merges_only_routed_paths(fixture_cloud: LocalCloud) -> None:
    document = fixture_cloud.get("/openapi.json").json()
    assert document["openapi"] == "3.1.0"
    assert set(document["paths"]) == {"/items/{id}", "/behave/{what}"}
    schemas = document["components"]["schemas"]
    assert schemas["Thing"]["title"] in ("echo thing", "behave thing")
    assert len(set(schemas) - {"GatewayError"}) == 2  # the other function's Thing was renamed
    # the gateway's own answers are declared on every operation
    responses = document["paths"]["/items/{id}"]["get"]["responses"]
    assert {"200", "413", "414", "431", "500", "503"} <= set(responses)
    assert responses["414"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/GatewayError"
    }
    docs = fixture_cloud.get("/docs")
    assert docs.status_code == 200
    assert "swagger-ui" in docs.text
    assert fixture_cloud.get("/docs/assets/swagger-ui-bundle.min.js").status_code == 200


# ============================================================================ CLI


def run_local(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "local", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        input=stdin,
        timeout=120,
        check=False,
    )


def test_invoke_command_with_its_own_emulator(fixture_dir: Path) -> None:
    template = str(fixture_dir / "template.yaml")
    overrides = ["--parameter-overrides", f"RecordDir={fixture_dir / 'records'}"]
    event = {"rawPath": "/direct", "note": "invoked"}
    done = run_local(
        "invoke", "EchoFunction", "--event", "-", "--template", template, *overrides, stdin=json.dumps(event)
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert json.loads(result["body"])["event"] == event
    assert "[EchoFunction:1] echo handling /direct" in done.stderr

    failed = run_local(
        "invoke",
        "BehaviourFunction",
        "--event",
        "-",
        "--template",
        template,
        *overrides,
        stdin=json.dumps({"pathParameters": {"what": "raise"}}),
    )
    assert failed.returncode == 1
    assert json.loads(failed.stdout)["errorType"] == "RuntimeError"


def test_invoke_command_against_a_running_cloud(fixture_cloud: LocalCloud, fixture_dir: Path) -> None:
    done = run_local(
        "invoke",
        "BehaviourFunction",
        "--event",
        "-",
        "--template",
        str(fixture_dir / "template.yaml"),
        "--endpoint-url",  # its parameter values (RecordDir has no default) come from the running cloud
        fixture_cloud.base_url,
        stdin=json.dumps(
            {"pathParameters": {"what": "mail"}, "queryStringParameters": {"to": "cli@example.com"}}
        ),
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["statusCode"] == 202
    fixture_cloud.wait_for_mail(lambda m: m["to"] == ["cli@example.com"])  # the running cloud's SES


def test_a_busy_port_is_a_one_line_error(fixture_cloud: LocalCloud, fixture_dir: Path) -> None:
    port = fixture_cloud.base_url.rsplit(":", 1)[1]
    done = run_local("--port", port, "--template", str(fixture_dir / "template.yaml"))
    assert done.returncode == 1
    assert done.stderr.strip().count("\n") == 0
    assert f"port {port} on 127.0.0.1 is already in use" in done.stderr
    assert "Traceback" not in done.stderr


def test_sigterm_stops_every_instance(
    local_cloud_factory: Callable[..., LocalCloud], fixture_dir: Path
) -> None:
    cloud = local_cloud_factory(
        "--template",
        str(fixture_dir / "template.yaml"),
        "--parameter-overrides",
        f"RecordDir={fixture_dir / 'records'}",
        name="sigterm",
    )
    pid = int(cloud.get("/echo").json()["pid"])
    assert cloud.stop() == 0
    assert "stopped" in cloud.output()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


# ============================================================================ the project's template


def test_health_exposes_endpoints_and_resolved_resources(local_cloud: LocalCloud) -> None:
    health = local_cloud.health
    assert health["status"] == "ok"
    assert health["endpointUrl"].startswith("http://127.0.0.1:")
    assert local_cloud.table_name == "app-backend-dev"
    assert set(local_cloud.queue_urls) == set(resources_of_type("AWS::SQS::Queue"))
    assert {"EmailQueue", "EmailDLQ", "OrderQueue", "OrderDLQ"} <= set(local_cloud.queue_urls)
    assert health["parameters"]["HousekeepingSchedule"] == "rate(1 minute)"


def test_the_template_is_provisioned_in_the_emulator(local_cloud: LocalCloud) -> None:
    table = local_cloud.client("dynamodb").describe_table(TableName=local_cloud.table_name)["Table"]
    declared = load_template()["Resources"]["AppTable"]["Properties"]["GlobalSecondaryIndexes"]
    assert sorted(i["IndexName"] for i in table["GlobalSecondaryIndexes"]) == sorted(
        i["IndexName"] for i in declared
    )
    sqs = local_cloud.client("sqs")
    attributes = sqs.get_queue_attributes(
        QueueUrl=local_cloud.queue_urls["EmailQueue"], AttributeNames=["All"]
    )["Attributes"]
    assert attributes["VisibilityTimeout"] == "2"
    assert json.loads(attributes["RedrivePolicy"])["deadLetterTargetArn"] == local_cloud.attribute(
        "EmailDLQ", "Arn"
    )
    secret = local_cloud.client("secretsmanager").get_secret_value(
        SecretId=local_cloud.ref("TokenSigningSecret")
    )
    assert len(secret["SecretString"]) == 64
    # the identity the worker's role may send as (SesIdentity, by default the domain of MailFrom)
    assert "example.com" in local_cloud.client("ses").list_identities()["Identities"]


def test_unknown_paths_reach_the_fallback_route(local_cloud: LocalCloud) -> None:
    response = local_cloud.get("/api/nope")
    assert response.status_code == 404
    assert response.json()["code"] == "NOT_FOUND"  # the app's envelope, via the $default route


def test_head_on_the_health_route_answers_like_get_without_a_body(local_cloud: LocalCloud) -> None:
    get = local_cloud.get("/api/health")
    head = local_cloud.request("HEAD", "/api/health")
    assert head.status_code == get.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == get.headers["content-length"] == str(len(get.content))
    assert head.headers["content-type"] == get.headers["content-type"]
    assert head.headers["x-request-id"]
    assert_secure(head)


def test_a_nesting_bomb_is_400_through_the_local_cloud(local_cloud: LocalCloud) -> None:
    body = "[" * 100_000 + "]" * 100_000
    response = local_cloud.post("/api/users", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.json()["code"] == "MALFORMED_JSON"
    for constant in ("NaN", "Infinity", "-Infinity", "1e999999"):
        response = local_cloud.post(
            "/api/users", content=constant, headers={"content-type": "application/json"}
        )
        assert response.json()["code"] == "MALFORMED_JSON", constant


def test_the_housekeeping_schedule_is_listed(local_cloud: LocalCloud) -> None:
    schedules = {entry["event"]: entry for entry in local_cloud.get("/_local/schedules").json()}
    assert set(schedules) == {"DlqMonitor", "OrderSweeper", "LowStockDigest"}
    assert schedules["OrderSweeper"]["schedule"] == "rate(5 minutes)"
    assert schedules["LowStockDigest"]["schedule"] == "cron(0 7 * * ? *)"
    dlq_monitor = schedules["DlqMonitor"]
    assert dlq_monitor["function"] == "ScheduledFunction"
    assert dlq_monitor["event"] == "DlqMonitor"
    assert dlq_monitor["schedule"] == "rate(1 minute)"
    assert dlq_monitor["input"] == '{"task": "dlq-monitor"}'
    assert dlq_monitor["nextFire"] is not None


def test_concurrent_requests_to_the_app_start_parallel_instances(local_cloud: LocalCloud) -> None:
    local_cloud.post("/_local/functions/AuthFunction/recycle")
    before = local_cloud.stats("AuthFunction")
    responses, _ = concurrently([lambda: local_cloud.get("/api/health")] * 3)
    assert [r.status_code for r in responses] == [200, 200, 200]
    after = local_cloud.stats("AuthFunction")
    assert after["coldStarts"] - before["coldStarts"] == 3  # no idle instance: each request started one
    assert after["peakConcurrency"] >= 3


def test_the_merged_openapi_document(local_cloud: LocalCloud) -> None:
    document = local_cloud.get("/openapi.json").json()
    assert document["openapi"].startswith("3.1")
    assert "/api/health" in document["paths"]
    prefixes = (
        "/api/health",
        "/api/auth/",
        "/api/me",
        "/api/users",
        "/api/products",
        "/api/posts",
        "/api/categories",
        "/api/orders",
    )
    assert all(path.startswith(prefixes) for path in document["paths"])


def test_email_jobs_are_delivered_and_poison_goes_to_the_dlq(local_cloud: LocalCloud) -> None:
    sqs = local_cloud.client("sqs")
    job_id = f"it-{time.time_ns()}"
    job = {
        "type": "email.send",
        "jobId": job_id,
        "to": f"{job_id}@example.com",
        "template": "welcome",
        "data": {"name": "Ada"},
    }
    sqs.send_message(QueueUrl=local_cloud.queue_urls["EmailQueue"], MessageBody=json.dumps(job))
    sqs.send_message(QueueUrl=local_cloud.queue_urls["EmailQueue"], MessageBody=f"not json {job_id}")
    mail = local_cloud.wait_for_mail(lambda m: m["to"] == [f"{job_id}@example.com"])
    assert mail["from"] == "no-reply@example.com"

    def poison_in_dlq() -> bool:
        messages = sqs.receive_message(
            QueueUrl=local_cloud.queue_urls["EmailDLQ"], MaxNumberOfMessages=10
        ).get("Messages", [])
        return any(message["Body"] == f"not json {job_id}" for message in messages)

    wait_until(poison_in_dlq, timeout=30, what="the poison message in the email DLQ (3 receives, 2 s apart)")
