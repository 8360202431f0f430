"""local/s3_events.py: POST policies checked as S3 checks them, S3 events as S3 delivers them."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.config import Config

from local.s3_events import (
    ObjectCreated,
    PolicyRefused,
    S3Subscription,
    check_post_policy,
    s3_event,
    subscription,
)

BUCKET = "uploads-bucket"


def signed(**conditions: Any) -> dict[str, str]:
    client = boto3.client(
        "s3",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(signature_version="s3v4"),
    )
    post = client.generate_presigned_post(
        Bucket=BUCKET,
        Key="uploads/u1/abc",
        Fields={"Content-Type": "image/png"},
        Conditions=[{"Content-Type": "image/png"}, ["content-length-range", 1024, 2048]],
        ExpiresIn=300,
    )
    return {name.lower(): str(value) for name, value in post["fields"].items()}


def refusal(fields: dict[str, str], size: int = 1500, **kwargs: Any) -> tuple[int, str]:
    with pytest.raises(PolicyRefused) as caught:
        check_post_policy(fields, bucket=BUCKET, size=size, **kwargs)
    return caught.value.status, caught.value.code


def test_a_form_as_signed_is_accepted() -> None:
    check_post_policy(signed(), bucket=BUCKET, size=1500)


@pytest.mark.parametrize(
    ("change", "size", "expected"),
    [
        ({}, 2049, (400, "EntityTooLarge")),
        ({}, 1023, (400, "EntityTooSmall")),
        ({"content-type": "image/gif"}, 1500, (403, "AccessDenied")),
        ({"key": "uploads/u2/abc"}, 1500, (403, "AccessDenied")),
        ({"acl": "public-read"}, 1500, (403, "AccessDenied")),  # a field no condition names
        ({"x-amz-signature": "0" * 64}, 1500, (403, "SignatureDoesNotMatch")),
    ],
)
def test_what_the_policy_does_not_allow_is_refused(
    change: dict[str, str], size: int, expected: tuple[int, str]
) -> None:
    assert refusal({**signed(), **change}, size) == expected


def test_another_bucket_an_expired_or_an_edited_policy_is_refused() -> None:
    fields = signed()
    with pytest.raises(PolicyRefused):
        check_post_policy(fields, bucket="other-bucket", size=1500)
    assert refusal(fields, now=datetime.now(UTC) + timedelta(minutes=6)) == (403, "AccessDenied")
    policy = json.loads(base64.b64decode(fields["policy"]))
    policy["conditions"] = [c for c in policy["conditions"] if not isinstance(c, list)]
    edited = {**fields, "policy": base64.b64encode(json.dumps(policy).encode()).decode()}
    assert refusal(edited, size=10_000_000) == (403, "SignatureDoesNotMatch")


def test_the_event_is_the_one_s3_documents_with_the_key_url_encoded() -> None:
    created = ObjectCreated(BUCKET, "uploads/u1/a b+c", 1500, '"abc"', "ObjectCreated:Post")
    (record,) = s3_event(
        created, configuration_id="cfg", event_time=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    )["Records"]
    assert record["eventSource"] == "aws:s3"
    assert record["eventName"] == "ObjectCreated:Post"
    assert record["eventTime"] == "2026-01-02T03:04:05.000Z"
    assert record["s3"]["bucket"] == {
        "name": BUCKET,
        "ownerIdentity": {"principalId": "123456789012"},
        "arn": f"arn:aws:s3:::{BUCKET}",
    }
    assert record["s3"]["object"]["key"] == "uploads/u1/a+b%2Bc"
    assert (record["s3"]["object"]["size"], record["s3"]["object"]["eTag"]) == (1500, "abc")
    assert record["s3"]["configurationId"] == "cfg"


def test_a_subscription_matches_its_bucket_event_types_and_key_filter() -> None:
    sub = subscription(
        "AvatarFunction",
        "Uploaded",
        {
            "Bucket": BUCKET,
            "Events": "s3:ObjectCreated:*",
            "Filter": {"S3Key": {"Rules": [{"Name": "prefix", "Value": "uploads/"}]}},
        },
    )
    assert sub == S3Subscription("AvatarFunction", "Uploaded", BUCKET, ("s3:ObjectCreated:*",), "uploads/")
    assert sub.matches(ObjectCreated(BUCKET, "uploads/u/x", 1, "", "ObjectCreated:Put"))
    assert not sub.matches(ObjectCreated(BUCKET, "other/u/x", 1, "", "ObjectCreated:Put"))
    assert not sub.matches(ObjectCreated("served", "uploads/u/x", 1, "", "ObjectCreated:Put"))
    assert not sub.matches(ObjectCreated(BUCKET, "uploads/u/x", 1, "", "ObjectRemoved:Delete"))
