"""Lambda events as AWS services build them, and HTTP API's reading of a function's response.

- `http_event`: API Gateway HTTP API, payload format 2.0.
- `http_response`: a payload 2.0 response (or any other JSON result) → status, headers, body.
- `sqs_record`: one record of an SQS event source mapping's event.
- `scheduled_event`: what an EventBridge Schedule rule delivers (its `Input`, or the envelope).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, unquote

from local.intrinsics import ACCOUNT_ID, REGION
from local.routes import RouteMatch
from local.stack import HTTP_API_ID

# RFC 9110: a header name is a token; a value has no CR, LF or NUL.
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_BAD_HEADER_VALUE = re.compile(r"[\r\n\x00]")
_TEXT_TYPES = ("application/json", "application/javascript", "application/xml", "application/ecmascript")


@dataclass(frozen=True)
class HttpRequest:
    """An incoming HTTP request, as received (raw target, headers in order, body bytes)."""

    method: str
    target: str
    headers: list[tuple[str, str]]
    body: bytes
    source_ip: str = "127.0.0.1"
    protocol: str = "HTTP/1.1"
    port: int = 3000

    @property
    def raw_path(self) -> str:
        return self.target.split("?", 1)[0]

    @property
    def path(self) -> str:
        """The percent-decoded path (what HTTP API routes on and puts in rawPath)."""
        return unquote(self.raw_path)

    @property
    def raw_query(self) -> str:
        return self.target.split("?", 1)[1] if "?" in self.target else ""

    def header(self, name: str) -> str | None:
        values = [value for key, value in self.headers if key.lower() == name.lower()]
        return ",".join(values) if values else None


@dataclass
class HttpResponse:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    @classmethod
    def json(cls, status: int, document: Any, headers: Iterable[tuple[str, str]] = ()) -> HttpResponse:
        body = json.dumps(document, default=str).encode()
        return cls(status, [("content-type", "application/json"), *headers], body)

    @classmethod
    def error(
        cls,
        status: int,
        code: str,
        message: str,
        *,
        request_id: str | None = None,
        details: list[dict[str, Any]] | None = None,
        headers: Iterable[tuple[str, str]] = (),
    ) -> HttpResponse:
        """An error the gateway gives itself, in the API's envelope (with `apigw-requestid`)."""
        request_id = request_id or new_api_request_id()
        document: dict[str, Any] = {"error": message, "code": code}
        if details:
            document["details"] = details
        document["requestId"] = request_id
        return cls.json(status, document, [("apigw-requestid", request_id), *headers])

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None


def new_api_request_id() -> str:
    """An id shaped like API Gateway's (`apigw-requestid`, requestContext.requestId)."""
    return base64.b64encode(secrets.token_bytes(10)).decode()


def is_text_content(content_type: str | None) -> bool:
    """Bodies HTTP API passes as text; everything else arrives base64-encoded."""
    if content_type is None:
        return True
    mime = content_type.split(";", 1)[0].strip().lower()
    return mime.startswith("text/") or mime in _TEXT_TYPES or mime.endswith("+json") or mime.endswith("+xml")


def http_event(
    request: HttpRequest,
    match: RouteMatch,
    *,
    request_id: str,
    now: datetime | None = None,
    api_id: str = HTTP_API_ID,
    account_id: str = ACCOUNT_ID,
) -> dict[str, Any]:
    """The payload 2.0 event API Gateway HTTP API sends for this request and route."""
    now = now or datetime.now(UTC)
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in request.headers:
        key = name.lower()
        if key == "cookie":
            cookies.extend(part.strip() for part in value.split(";") if part.strip())
            continue
        headers[key] = f"{headers[key]},{value}" if key in headers else value
    host = headers.get("host", f"127.0.0.1:{request.port}")
    headers.setdefault("host", host)
    headers.setdefault("content-length", str(len(request.body)))
    headers["x-amzn-trace-id"] = f"Root=1-{int(now.timestamp()):08x}-{secrets.token_hex(12)}"
    forwarded = headers.get("x-forwarded-for")
    headers["x-forwarded-for"] = f"{forwarded},{request.source_ip}" if forwarded else request.source_ip
    headers["x-forwarded-port"] = str(request.port)
    headers["x-forwarded-proto"] = "http"

    path = request.path
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": match.route.route_key,
        "rawPath": path,
        "rawQueryString": request.raw_query,
    }
    if cookies:
        event["cookies"] = cookies
    event["headers"] = headers
    if request.raw_query:
        query: dict[str, str] = {}
        for key, value in parse_qsl(request.raw_query, keep_blank_values=True):
            query[key] = f"{query[key]},{value}" if key in query else value
        event["queryStringParameters"] = query
    domain = host.split(":", 1)[0]
    event["requestContext"] = {
        "accountId": account_id,
        "apiId": api_id,
        "domainName": domain,
        "domainPrefix": domain.split(".", 1)[0],
        "http": {
            "method": request.method.upper(),
            "path": path,
            "protocol": request.protocol,
            "sourceIp": request.source_ip,
            "userAgent": headers.get("user-agent", ""),
        },
        "requestId": request_id,
        "routeKey": match.route.route_key,
        "stage": "$default",
        "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
        "timeEpoch": int(now.timestamp() * 1000),
    }
    if request.body:
        if is_text_content(headers.get("content-type")) and _is_utf8(request.body):
            event["body"] = request.body.decode("utf-8")
            event["isBase64Encoded"] = False
        else:
            event["body"] = base64.b64encode(request.body).decode()
            event["isBase64Encoded"] = True
    else:
        event["isBase64Encoded"] = False
    if match.path_parameters:
        event["pathParameters"] = dict(match.path_parameters)
    return event


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


class MalformedResponse(ValueError):
    """The function's result is not a response HTTP API can send (it answers 500)."""


def http_response(result: Any) -> HttpResponse:
    """How HTTP API turns a function's payload 2.0 result into the HTTP response.

    A dict with `statusCode` is a full response (headers, multiValueHeaders, cookies, body,
    isBase64Encoded). Any other JSON result is sent as-is with status 200 and JSON content type.
    """
    if not (isinstance(result, dict) and "statusCode" in result):
        return HttpResponse.json(200, result)
    try:
        status = int(result["statusCode"])
    except (TypeError, ValueError):
        raise MalformedResponse(f"statusCode {result['statusCode']!r} is not a number") from None
    if not 200 <= status <= 599:  # an informational (1xx) status cannot end an HTTP exchange
        raise MalformedResponse(f"statusCode {status} is out of range")
    headers: list[tuple[str, str]] = []
    single: Mapping[str, Any] = result.get("headers") or {}
    multi: Mapping[str, Any] = result.get("multiValueHeaders") or {}
    if not isinstance(single, Mapping) or not isinstance(multi, Mapping):
        raise MalformedResponse("headers must be an object")
    for name, value in single.items():
        if str(name).lower() not in {str(key).lower() for key in multi}:
            headers.append((_header_name(name), _header_text(value)))
    for name, values in multi.items():
        for value in values if isinstance(values, list) else [values]:
            headers.append((_header_name(name), _header_text(value)))
    for cookie in result.get("cookies") or []:
        headers.append(("set-cookie", _header_text(cookie)))
    body = result.get("body")
    if body is None:
        payload = b""
    elif result.get("isBase64Encoded"):
        try:
            payload = base64.b64decode(str(body), validate=True)
        except ValueError:
            raise MalformedResponse("isBase64Encoded is true but the body is not base64") from None
    else:
        payload = (body if isinstance(body, str) else json.dumps(body)).encode("utf-8")
    return HttpResponse(status, headers, payload)


def _header_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    if _BAD_HEADER_VALUE.search(text):
        raise MalformedResponse("a header value holds CR, LF or NUL")
    return text


def _header_name(name: Any) -> str:
    text = str(name)
    if not _HEADER_NAME.fullmatch(text):
        raise MalformedResponse(f"{text[:40]!r} is not a valid header name")
    return text


# ---------------------------------------------------------------------------------------- SQS


def sqs_record(message: Mapping[str, Any], queue_arn: str, region: str = REGION) -> dict[str, Any]:
    """One record of an SQS event, from a ReceiveMessage result message."""
    body = str(message.get("Body", ""))
    record: dict[str, Any] = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": body,
        "attributes": dict(message.get("Attributes") or {}),
        "messageAttributes": {
            name: _message_attribute(value)
            for name, value in (message.get("MessageAttributes") or {}).items()
        },
        "md5OfBody": message.get("MD5OfBody")
        or hashlib.md5(body.encode(), usedforsecurity=False).hexdigest(),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }
    if message.get("MD5OfMessageAttributes"):
        record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
    return record


def _message_attribute(value: Mapping[str, Any]) -> dict[str, Any]:
    converted: dict[str, Any] = {
        "stringListValues": list(value.get("StringListValues") or []),
        "binaryListValues": [_b64(item) for item in value.get("BinaryListValues") or []],
        "dataType": value.get("DataType", "String"),
    }
    if "StringValue" in value:
        converted["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        converted["binaryValue"] = _b64(value["BinaryValue"])
    return converted


def _b64(data: Any) -> str:
    raw = data if isinstance(data, bytes) else str(data).encode()
    return base64.b64encode(raw).decode()


def sqs_event(records: list[dict[str, Any]]) -> dict[str, Any]:
    return {"Records": records}


def batch_item_failures(result: Any, message_ids: set[str]) -> set[str] | None:
    """Message ids a ReportBatchItemFailures response marks as failed.

    None means the response is invalid, which Lambda treats as the whole batch failing (as it
    does for an unknown or empty itemIdentifier).
    """
    if result is None:
        return set()
    if not isinstance(result, dict):
        return set()
    failures = result.get("batchItemFailures")
    if failures is None:
        return set()
    if not isinstance(failures, list):
        return None
    failed: set[str] = set()
    for item in failures:
        identifier = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not isinstance(identifier, str) or identifier not in message_ids:
            return None
        failed.add(identifier)
    return failed


# ------------------------------------------------------------------------------------ schedules


def scheduled_event(
    rule_arn: str,
    input_json: str | None,
    *,
    now: datetime | None = None,
    region: str = REGION,
    account_id: str = ACCOUNT_ID,
) -> Any:
    """The event a Schedule rule delivers: its constant `Input` if set, else the envelope."""
    if input_json is not None:
        return json.loads(input_json)
    now = now or datetime.now(UTC)
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account_id,
        "time": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [rule_arn],
        "detail": {},
    }
