"""S3 in the local cloud: browser POST uploads as S3 checks them, and the S3 event notifications.

moto's server stores a form (POST) upload without checking its policy: any file, any size, any key
(moto/s3/responses.py ``_bucket_response_post``). `S3Front`, a WSGI wrapper around the emulator,
checks what S3 checks before moto sees the request (AWS: "Creating a POST policy",
https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-HTTPPOSTConstructPolicy.html, and
"Authenticating requests in browser-based uploads using POST",
https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-UsingHTTPPOST.html):

- the policy's signature (SigV4 over the base64 policy, with the emulator's fake secret key), so a
  policy edited by the client is refused (403 ``SignatureDoesNotMatch``);
- its expiration (403 ``AccessDenied``, "Policy expired");
- every condition: exact matches (``{"field": value}``, ``["eq", "$field", value]``),
  ``["starts-with", "$field", prefix]``, and ``content-length-range`` (400 ``EntityTooSmall`` or
  ``EntityTooLarge``); a form field that no condition names is refused ("Extra input fields"),
  except ``x-amz-signature``, ``file``, ``policy`` and ``x-ignore-*``.

``GET <endpoint>/_cdn/<bucket>/<key>`` stands in for CloudFront: it reads the (private) bucket's
object for an unsigned caller, as the distribution does with its Origin Access Control.

After a successful upload (a POST form, or a PUT of an object), the front tells the listener
registered for its port (`listen`): the local cloud (`S3Notifier`) builds the event S3 sends
(`s3_event`, AWS's event message structure,
https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html) and
invokes every function whose template ``S3`` event matches the bucket, the event type and the key
filter, asynchronously as S3 does.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import io
import json
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus, unquote
from xml.sax.saxutils import escape

from local.emulator import FAKE_CREDENTIALS
from local.intrinsics import ACCOUNT_ID, REGION

#: (bucket, key, size, etag, event name, source ip) → None; called after an object was created.
Listener = Callable[["ObjectCreated"], None]

_listeners: dict[int, Listener] = {}

#: Where the emulator serves buckets as a CDN would (``<endpoint>/_cdn/<bucket>/<key>``).
CDN_PATH = "/_cdn"
_lock = threading.Lock()

#: Form fields the policy does not have to name (AWS: sigv4-HTTPPOSTConstructPolicy, "Conditions").
_EXEMPT_FIELDS = ("x-amz-signature", "file", "policy")


@dataclass(frozen=True)
class ObjectCreated:
    bucket: str
    key: str
    size: int
    etag: str
    event_name: str  # "ObjectCreated:Post", "ObjectCreated:Put", "ObjectCreated:Copy"
    source_ip: str = "127.0.0.1"


@dataclass(frozen=True)
class S3Subscription:
    """One SAM ``S3`` event: the bucket (its name), the event types and the key filter rules."""

    function: str
    event: str
    bucket: str
    events: tuple[str, ...]
    prefix: str = ""
    suffix: str = ""

    def matches(self, created: ObjectCreated) -> bool:
        return (
            created.bucket == self.bucket
            and any(fnmatchcase(f"s3:{created.event_name}", pattern) for pattern in self.events)
            and created.key.startswith(self.prefix)
            and created.key.endswith(self.suffix)
        )


def subscription(function: str, event: str, props: Mapping[str, Any]) -> S3Subscription:
    """The resolved properties of a SAM ``S3`` event (``Bucket`` resolved to its name)."""
    events = props.get("Events") or []
    rules = ((props.get("Filter") or {}).get("S3Key") or {}).get("Rules") or []
    by_name = {str(rule.get("Name", "")).lower(): str(rule.get("Value", "")) for rule in rules}
    return S3Subscription(
        function=function,
        event=event,
        bucket=str(props["Bucket"]),
        events=tuple([events] if isinstance(events, str) else [str(e) for e in events]),
        prefix=by_name.get("prefix", ""),
        suffix=by_name.get("suffix", ""),
    )


def s3_event(
    created: ObjectCreated,
    *,
    configuration_id: str = "local",
    region: str = REGION,
    event_time: datetime | None = None,
) -> dict[str, Any]:
    """The event S3 delivers to Lambda for one created object (event message structure 2.1: the
    key URL-encoded as S3 encodes it)."""
    when = (event_time or datetime.now(UTC)).astimezone(UTC)
    principal = f"AWS:{ACCOUNT_ID}"
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": region,
                "eventTime": when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z",
                "eventName": created.event_name,
                "userIdentity": {"principalId": principal},
                "requestParameters": {"sourceIPAddress": created.source_ip},
                "responseElements": {
                    "x-amz-request-id": uuid.uuid4().hex[:16].upper(),
                    "x-amz-id-2": base64.b64encode(uuid.uuid4().bytes).decode(),
                },
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "configurationId": configuration_id,
                    "bucket": {
                        "name": created.bucket,
                        "ownerIdentity": {"principalId": ACCOUNT_ID},
                        "arn": f"arn:aws:s3:::{created.bucket}",
                    },
                    "object": {
                        "key": quote_plus(created.key, safe="/"),
                        "size": created.size,
                        "eTag": created.etag.strip('"'),
                        "sequencer": f"{int(when.timestamp() * 1_000_000):016X}",
                    },
                },
            }
        ]
    }


# ----------------------------------------------------------------------------- listeners
def listen(port: int, listener: Listener) -> None:
    """Send the objects created through the emulator on ``port`` to ``listener``."""
    with _lock:
        _listeners[port] = listener


def unlisten(port: int) -> None:
    with _lock:
        _listeners.pop(port, None)


def _notify(port: int, created: ObjectCreated) -> None:
    with _lock:
        listener = _listeners.get(port)
    if listener is not None:
        listener(created)


# ----------------------------------------------------------------------------- the WSGI front
class PolicyRefused(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class S3Front:
    """WSGI wrapper: POST policies checked as S3 checks them, created objects reported."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "")
        path = unquote(str(environ.get("PATH_INFO", "")))
        content_type = str(environ.get("CONTENT_TYPE", ""))
        if (
            method == "POST"
            and content_type.startswith("multipart/form-data")
            and not environ.get("QUERY_STRING")
        ):
            return self._form_upload(environ, start_response, path)
        if method == "PUT" and _object_path(path) and not environ.get("QUERY_STRING"):
            return self._put(environ, start_response, path)
        if method in ("GET", "HEAD") and path.startswith(CDN_PATH + "/"):
            return self._cdn(environ, start_response, path)
        return self.app(environ, start_response)

    # -------------------------------------------------------------- GET /_cdn/ (the CDN's stand-in)
    def _cdn(self, environ: dict[str, Any], start_response: Callable[..., Any], path: str) -> Iterable[bytes]:
        """``/_cdn/<bucket>/<key>``: the object, read with the emulator's credentials, as CloudFront
        reads a private bucket through its Origin Access Control (the bucket itself stays private:
        moto refuses an anonymous GET of it, as S3 does)."""
        if not _object_path(path.removeprefix(CDN_PATH)):
            return _error(start_response, PolicyRefused(403, "AccessDenied", "Access Denied"), resource=path)
        environ = dict(environ)
        environ["PATH_INFO"] = path.removeprefix(CDN_PATH)
        environ["QUERY_STRING"] = ""
        for raw in ("RAW_URI", "REQUEST_URI"):  # what werkzeug builds the request's URL from
            if raw in environ:
                environ[raw] = str(environ[raw]).replace(CDN_PATH, "", 1)
        today = datetime.now(UTC).strftime("%Y%m%d")
        environ["HTTP_AUTHORIZATION"] = (
            f"AWS4-HMAC-SHA256 Credential={FAKE_CREDENTIALS['AWS_ACCESS_KEY_ID']}/{today}/{REGION}/s3/aws4_request, "
            "SignedHeaders=host, Signature=" + "0" * 64
        )
        return self.app(environ, start_response)

    # -------------------------------------------------------------- POST (browser uploads)
    def _form_upload(
        self, environ: dict[str, Any], start_response: Callable[..., Any], path: str
    ) -> Iterable[bytes]:
        from werkzeug.formparser import parse_form_data

        bucket = path.strip("/").split("/", 1)[0]
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        probe = dict(environ)
        probe["wsgi.input"] = io.BytesIO(body)
        probe["CONTENT_LENGTH"] = str(len(body))
        _stream, form, files = parse_form_data(probe)
        upload = files.get("file")
        data = upload.read() if upload is not None else form.get("file", "").encode()
        fields = {name.lower(): value for name, value in form.items()}
        try:
            check_post_policy(fields, bucket=bucket, size=len(data))
        except PolicyRefused as refused:
            return _error(start_response, refused, resource=f"/{bucket}")
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        key = fields.get("key", "")
        if upload is not None and "${filename}" in key:
            key = key.replace("${filename}", upload.filename or "")
        created = ObjectCreated(
            bucket,
            key,
            len(data),
            hashlib.md5(data, usedforsecurity=False).hexdigest(),
            "ObjectCreated:Post",
            str(environ.get("REMOTE_ADDR", "127.0.0.1")),
        )
        return self._then_notify(environ, start_response, created)

    # -------------------------------------------------------------- PUT (SDK uploads, copies)
    def _put(self, environ: dict[str, Any], start_response: Callable[..., Any], path: str) -> Iterable[bytes]:
        bucket, key = path.lstrip("/").split("/", 1)
        size = int(environ.get("HTTP_X_AMZ_DECODED_CONTENT_LENGTH") or environ.get("CONTENT_LENGTH") or 0)
        kind = "ObjectCreated:Copy" if environ.get("HTTP_X_AMZ_COPY_SOURCE") else "ObjectCreated:Put"
        created = ObjectCreated(bucket, key, size, "", kind, str(environ.get("REMOTE_ADDR", "127.0.0.1")))
        return self._then_notify(environ, start_response, created)

    def _then_notify(
        self, environ: dict[str, Any], start_response: Callable[..., Any], created: ObjectCreated
    ) -> Iterable[bytes]:
        seen: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            seen["status"] = int(status.split(" ", 1)[0])
            seen["etag"] = next((v for k, v in headers if k.lower() == "etag"), "")
            return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)

        response = list(self.app(environ, capture))  # moto builds the response while iterating
        if 200 <= seen.get("status", 500) < 300:
            etag = str(seen.get("etag") or created.etag).strip('"')
            port = int(environ.get("SERVER_PORT") or 0)
            _notify(port, ObjectCreated(**{**created.__dict__, "etag": etag}))
        return response


def _object_path(path: str) -> bool:
    parts = path.lstrip("/").split("/", 1)
    return len(parts) == 2 and bool(parts[0]) and bool(parts[1]) and not path.endswith("/")


def check_post_policy(
    fields: Mapping[str, str], *, bucket: str, size: int, now: datetime | None = None
) -> None:
    """Raise PolicyRefused unless the form (field names lower-case) is one S3 accepts."""
    encoded = fields.get("policy")
    if not encoded:
        raise PolicyRefused(403, "AccessDenied", "Bucket POST must contain a field named 'policy'")
    try:
        policy = json.loads(base64.b64decode(encoded, validate=True))
    except (binascii.Error, ValueError):
        raise PolicyRefused(400, "InvalidPolicyDocument", "Invalid Policy: Invalid JSON.") from None
    _check_signature(fields, encoded)
    expiration = datetime.fromisoformat(str(policy.get("expiration", "")).replace("Z", "+00:00"))
    if expiration <= (now or datetime.now(UTC)):
        raise PolicyRefused(403, "AccessDenied", "Invalid according to Policy: Policy expired.")
    values = {**fields, "bucket": bucket}
    named: set[str] = set()
    for condition in policy.get("conditions") or []:
        if isinstance(condition, dict):
            for name, expected in condition.items():
                named.add(name.lower())
                if values.get(name.lower()) != str(expected):
                    _failed(f'["eq", "${name}", "{expected}"]')
        elif (
            isinstance(condition, list) and condition and str(condition[0]).lower() == "content-length-range"
        ):
            low, high = int(condition[1]), int(condition[2])
            if size < low:
                raise PolicyRefused(
                    400, "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed size"
                )
            if size > high:
                raise PolicyRefused(
                    400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size"
                )
        elif isinstance(condition, list) and len(condition) == 3:
            operator, name, expected = (
                str(condition[0]).lower(),
                str(condition[1]).lstrip("$").lower(),
                str(condition[2]),
            )
            named.add(name)
            actual = values.get(name, "")
            if (operator == "eq" and actual != expected) or (
                operator == "starts-with" and not actual.startswith(expected)
            ):
                _failed(json.dumps(condition))
            if operator not in ("eq", "starts-with"):
                raise PolicyRefused(
                    400, "InvalidPolicyDocument", f"Invalid Policy: unknown operator {operator}"
                )
        else:
            raise PolicyRefused(400, "InvalidPolicyDocument", "Invalid Policy: Invalid Condition.")
    extra = sorted(
        name
        for name in fields
        if name not in named and name not in _EXEMPT_FIELDS and not name.startswith("x-ignore-")
    )
    if extra:
        raise PolicyRefused(
            403, "AccessDenied", f"Invalid according to Policy: Extra input fields: {', '.join(extra)}"
        )


def _failed(condition: str) -> None:
    raise PolicyRefused(
        403, "AccessDenied", f"Invalid according to Policy: Policy Condition failed: {condition}"
    )


def _check_signature(fields: Mapping[str, str], encoded_policy: str) -> None:
    """SigV4 for POST: HMAC-SHA256 of the base64 policy with the key derived from the secret key,
    the credential's date and region, and "s3" (the emulator's one fake secret key)."""
    credential = fields.get("x-amz-credential", "").split("/")
    signature = fields.get("x-amz-signature", "")
    if fields.get("x-amz-algorithm") != "AWS4-HMAC-SHA256" or len(credential) != 5 or not signature:
        raise PolicyRefused(
            400, "InvalidRequest", "POST requires SigV4 fields (x-amz-algorithm, credential, signature)"
        )
    _access_key, date, region, service, _terminal = credential
    key = ("AWS4" + FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"]).encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    expected = hmac.new(key, encoded_policy.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature):
        raise PolicyRefused(
            403,
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided.",
        )


def _error(start_response: Callable[..., Any], refused: PolicyRefused, *, resource: str) -> list[bytes]:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{escape(refused.code)}</Code><Message>{escape(refused.message)}</Message>"
        f"<Resource>{escape(resource)}</Resource><RequestId>{uuid.uuid4().hex[:16].upper()}</RequestId></Error>"
    ).encode()
    reasons = {400: "Bad Request", 403: "Forbidden"}
    start_response(
        f"{refused.status} {reasons.get(refused.status, 'Error')}",
        [("Content-Type", "application/xml"), ("Content-Length", str(len(body)))],
    )
    return [body]


# ----------------------------------------------------------------------------- the local cloud's side
class S3Notifier:
    """Delivers created objects to the functions subscribed to them, as S3 does: asynchronously."""

    def __init__(
        self,
        subscriptions: Iterable[S3Subscription],
        invoke: Callable[[str, dict[str, Any]], Any],
        report: Callable[[str, str], None],
        *,
        region: str = REGION,
    ) -> None:
        self.subscriptions = list(subscriptions)
        self._invoke = invoke
        self._report = report
        self.region = region
        self.delivered = 0
        self._threads: list[threading.Thread] = []

    def __call__(self, created: ObjectCreated) -> None:
        for sub in self.subscriptions:
            if not sub.matches(created):
                continue
            event = s3_event(created, configuration_id=f"{sub.function}{sub.event}", region=self.region)
            thread = threading.Thread(
                target=self._deliver, args=(sub, event, created), name=f"s3-{sub.function}", daemon=True
            )
            thread.start()
            self._threads = [t for t in self._threads if t.is_alive()] + [thread]

    def _deliver(self, sub: S3Subscription, event: dict[str, Any], created: ObjectCreated) -> None:
        outcome = self._invoke(sub.function, event)
        self.delivered += 1
        ok = getattr(outcome, "ok", True)
        status = "ok" if ok else f"failed: {(getattr(outcome, 'error', None) or {}).get('errorMessage')}"
        self._report(
            sub.function, f"s3 {created.event_name} {created.bucket}/{created.key} → {sub.event}: {status}"
        )


# ----------------------------------------------------------------------------- served buckets
def bucket_url_parameters(
    template_path: Path, endpoint_url: str, overrides: Mapping[str, str]
) -> dict[str, str]:
    """The template's ``Metadata.LocalCloud.BucketUrlParameters`` ({parameter: bucket logical id}):
    each parameter not overridden becomes the emulator's CDN URL of that bucket
    (``<endpoint>/_cdn/<bucket>``: its objects read without signing, as CloudFront serves them)."""
    from local.stack import Stack

    stack = Stack.from_file(template_path, overrides)
    wanted = ((stack.template.get("Metadata") or {}).get("LocalCloud") or {}).get("BucketUrlParameters") or {}
    found: dict[str, str] = {}
    for parameter, bucket in wanted.items():
        if parameter in overrides or parameter not in (stack.template.get("Parameters") or {}):
            continue
        name = stack.prop(str(bucket), "BucketName")
        if name:
            found[str(parameter)] = f"{endpoint_url.rstrip('/')}{CDN_PATH}/{name}"
    return found
