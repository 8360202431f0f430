"""Events as AWS builds them (HTTP API 2.0, SQS, EventBridge) and HTTP API's reading of responses."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest

from local.cors import CorsConfig
from local.events import (
    HttpRequest,
    MalformedResponse,
    batch_item_failures,
    http_event,
    http_response,
    scheduled_event,
    sqs_record,
)
from local.functions import HttpRoute
from local.routes import RouteMatch

NOW = datetime(2026, 3, 12, 19, 3, 58, 390000, tzinfo=UTC)
MATCH = RouteMatch(HttpRoute("Fn", "Items", "GET", "/items/{id}"), {"id": "a b"})


def request(**kwargs: object) -> HttpRequest:
    defaults: dict[str, object] = {
        "method": "GET",
        "target": "/items/a%20b?x=1&x=2&empty=&q=caf%C3%A9",
        "headers": [
            ("Host", "127.0.0.1:3000"),
            ("User-Agent", "pytest"),
            ("X-Multi", "one"),
            ("x-multi", "two"),
            ("Cookie", "a=1; b=2"),
            ("Cookie", "c=3"),
        ],
        "body": b"",
        "source_ip": "127.0.0.9",
        "port": 3000,
    }
    defaults.update(kwargs)
    return HttpRequest(**defaults)  # type: ignore[arg-type]


def test_http_event_has_the_payload_2_0_shape() -> None:
    event = http_event(request(), MATCH, request_id="req-1", now=NOW)
    assert event["version"] == "2.0"
    assert event["routeKey"] == "GET /items/{id}"
    assert event["rawPath"] == "/items/a b"  # HTTP API hands the path over decoded
    assert event["rawQueryString"] == "x=1&x=2&empty=&q=caf%C3%A9"
    assert event["queryStringParameters"] == {"x": "1,2", "empty": "", "q": "café"}
    assert event["cookies"] == ["a=1", "b=2", "c=3"]
    assert "cookie" not in event["headers"]
    assert event["headers"]["x-multi"] == "one,two"
    assert event["headers"]["user-agent"] == "pytest"
    assert event["headers"]["x-forwarded-for"] == "127.0.0.9"
    assert event["headers"]["x-forwarded-proto"] == "http"
    assert all(name == name.lower() for name in event["headers"])
    assert event["pathParameters"] == {"id": "a b"}
    assert event["isBase64Encoded"] is False
    assert "body" not in event
    context = event["requestContext"]
    assert context["accountId"] == "123456789012"
    assert context["apiId"] == "localcloud"
    assert context["domainName"] == "127.0.0.1"
    assert context["http"] == {
        "method": "GET",
        "path": "/items/a b",
        "protocol": "HTTP/1.1",
        "sourceIp": "127.0.0.9",
        "userAgent": "pytest",
    }
    assert context["requestId"] == "req-1"
    assert context["routeKey"] == "GET /items/{id}"
    assert context["stage"] == "$default"
    assert context["time"] == "12/Mar/2026:19:03:58 +0000"
    assert context["timeEpoch"] == 1773342238390


def test_http_event_without_query_or_cookies_leaves_those_keys_out() -> None:
    event = http_event(request(target="/items/1", headers=[("Host", "h")]), MATCH, request_id="r", now=NOW)
    assert "queryStringParameters" not in event
    assert "cookies" not in event
    assert event["rawQueryString"] == ""


@pytest.mark.parametrize(
    ("content_type", "body", "encoded"),
    [
        ("application/json", b'{"a":1}', False),
        ("application/vnd.api+json", b"{}", False),
        ("text/plain; charset=utf-8", "héllo".encode(), False),
        ("application/octet-stream", b"\x00\x01\xff", True),
        ("image/png", b"\x89PNG", True),
        ("application/x-www-form-urlencoded", b"a=1&b=2", True),
        ("text/plain", b"\xff\xfe", True),  # not UTF-8: no way to pass it as text
    ],
)
def test_http_event_base64_encodes_non_text_bodies(content_type: str, body: bytes, encoded: bool) -> None:
    req = request(method="POST", headers=[("content-type", content_type)], body=body)
    event = http_event(req, MATCH, request_id="r", now=NOW)
    assert event["isBase64Encoded"] is encoded
    sent = base64.b64decode(event["body"]) if encoded else event["body"].encode()
    assert sent == body


def test_full_response_maps_status_headers_cookies_and_base64_body() -> None:
    response = http_response(
        {
            "statusCode": 201,
            "headers": {"content-type": "image/png", "x-one": "1"},
            "multiValueHeaders": {"x-many": ["a", "b"]},
            "cookies": ["s=1; HttpOnly", "t=2"],
            "body": base64.b64encode(b"\x89PNG").decode(),
            "isBase64Encoded": True,
        }
    )
    assert response.status == 201
    assert response.body == b"\x89PNG"
    assert ("x-one", "1") in response.headers
    assert [v for k, v in response.headers if k == "x-many"] == ["a", "b"]
    assert [v for k, v in response.headers if k == "set-cookie"] == ["s=1; HttpOnly", "t=2"]


def test_result_without_status_code_is_sent_as_json_200() -> None:
    response = http_response({"hello": "world"})
    assert response.status == 200
    assert response.header("content-type") == "application/json"
    assert json.loads(response.body) == {"hello": "world"}
    assert json.loads(http_response("text").body) == "text"


@pytest.mark.parametrize(
    "result",
    [
        {"statusCode": "abc"},
        {"statusCode": 99},
        {"statusCode": 200, "body": "!!", "isBase64Encoded": True},
        {"statusCode": 200, "headers": ["x"]},
    ],
)
def test_malformed_responses_are_rejected(result: object) -> None:
    with pytest.raises(MalformedResponse):
        http_response(result)


def test_sqs_record_has_the_lambda_shape() -> None:
    message = {
        "MessageId": "m1",
        "ReceiptHandle": "rh",
        "MD5OfBody": "md5",
        "Body": '{"job": 1}',
        "Attributes": {"ApproximateReceiveCount": "2", "SentTimestamp": "1"},
        "MessageAttributes": {
            "kind": {"StringValue": "email", "DataType": "String"},
            "blob": {"BinaryValue": b"\x00\x01", "DataType": "Binary"},
        },
        "MD5OfMessageAttributes": "md5attrs",
    }
    record = sqs_record(message, "arn:aws:sqs:us-east-1:123456789012:q")
    assert record == {
        "messageId": "m1",
        "receiptHandle": "rh",
        "body": '{"job": 1}',
        "attributes": {"ApproximateReceiveCount": "2", "SentTimestamp": "1"},
        "messageAttributes": {
            "kind": {
                "stringValue": "email",
                "stringListValues": [],
                "binaryListValues": [],
                "dataType": "String",
            },
            "blob": {
                "binaryValue": "AAE=",
                "stringListValues": [],
                "binaryListValues": [],
                "dataType": "Binary",
            },
        },
        "md5OfBody": "md5",
        "md5OfMessageAttributes": "md5attrs",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:q",
        "awsRegion": "us-east-1",
    }


@pytest.mark.parametrize(
    ("result", "failed"),
    [
        (None, set()),
        ({}, set()),
        ({"batchItemFailures": []}, set()),
        ({"batchItemFailures": [{"itemIdentifier": "b"}]}, {"b"}),
        ({"batchItemFailures": [{"itemIdentifier": "zzz"}]}, None),  # unknown id: whole batch fails
        ({"batchItemFailures": [{"itemIdentifier": ""}]}, None),
        ({"batchItemFailures": "b"}, None),
    ],
)
def test_batch_item_failures(result: object, failed: set[str] | None) -> None:
    assert batch_item_failures(result, {"a", "b"}) == failed


def test_scheduled_event_delivers_input_or_the_envelope() -> None:
    arn = "arn:aws:events:us-east-1:123456789012:rule/r"
    assert scheduled_event(arn, '{"task": "dlq-monitor"}') == {"task": "dlq-monitor"}
    envelope = scheduled_event(arn, None, now=NOW)
    assert envelope["detail-type"] == "Scheduled Event"
    assert envelope["source"] == "aws.events"
    assert envelope["resources"] == [arn]
    assert envelope["time"] == "2026-03-12T19:03:58Z"
    assert envelope["detail"] == {}
    assert envelope["version"] == "0"


def test_cors_preflight_and_response_headers() -> None:
    cors = CorsConfig.from_template(
        {
            "AllowOrigins": ["http://localhost:5173"],
            "AllowMethods": ["GET", "POST"],
            "AllowHeaders": ["content-type"],
            "ExposeHeaders": ["x-request-id"],
            "AllowCredentials": True,
            "MaxAge": 600,
        }
    )
    assert cors is not None
    preflight = request(
        method="OPTIONS",
        headers=[("Origin", "http://localhost:5173"), ("Access-Control-Request-Method", "POST")],
    )
    assert cors.is_preflight(preflight)
    answer = cors.preflight(preflight)
    assert answer.status == 204
    assert answer.header("access-control-allow-origin") == "http://localhost:5173"
    assert answer.header("access-control-allow-methods") == "GET,POST"
    assert answer.header("access-control-max-age") == "600"
    stranger = request(
        method="OPTIONS", headers=[("Origin", "http://evil.test"), ("Access-Control-Request-Method", "GET")]
    )
    assert cors.preflight(stranger).header("access-control-allow-origin") is None

    response = http_response({"statusCode": 200, "headers": {"access-control-allow-origin": "*"}})
    applied = cors.apply(request(headers=[("Origin", "http://localhost:5173")]), response)
    assert applied.header("access-control-allow-origin") == "http://localhost:5173"
    assert applied.header("access-control-allow-credentials") == "true"
    assert applied.header("access-control-expose-headers") == "x-request-id"
