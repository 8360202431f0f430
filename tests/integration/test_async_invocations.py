"""An S3 event the function fails, through the local cloud: Lambda's two retries, then AvatarDLQ.

On AWS an asynchronous invocation that fails is retried twice and then sent to the function's
DeadLetterQueue, the event as the message body with RequestID, ErrorCode and ErrorMessage
attributes (docs/local-cloud.md, "Schedules"). Here every DynamoDB request of the functions is
throttled while a real upload's event is delivered, so AvatarFunction fails all three attempts.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.integration.conftest import APP_CLOUD_ARGS, LocalCloud, wait_until
from tests.integration.test_avatars import form, jpeg, post, sign_up

# One cloud of its own (its DynamoDB is made to fail), on one xdist worker.
pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("async-invocations")]


@pytest.fixture(scope="module")
def cloud(local_cloud_factory: Any) -> LocalCloud:
    return local_cloud_factory(*APP_CLOUD_ARGS, "--async-retry-delays", "0.2,0.4", name="async")


def test_a_failed_s3_event_is_retried_twice_then_dead_lettered(cloud: LocalCloud) -> None:
    user = sign_up(cloud)
    signed = form(cloud, user)
    assert cloud.request("PUT", "/_local/faults", json={"spec": "throttle:1"}).status_code == 200
    try:
        assert post(signed, jpeg()).status_code == 204
        sqs = cloud.client("sqs")
        dlq = cloud.ref("AvatarDLQ")

        def dead_lettered() -> list[dict[str, Any]]:
            reply = sqs.receive_message(QueueUrl=dlq, MessageAttributeNames=["All"], WaitTimeSeconds=1)
            return list(reply.get("Messages", []))

        messages = wait_until(dead_lettered, timeout=60, what="the event in AvatarDLQ")
    finally:
        cloud.request("PUT", "/_local/faults", json={"spec": ""})
    event = json.loads(messages[0]["Body"])
    assert event["Records"][0]["s3"]["object"]["key"] == signed["key"]  # the event as S3 sent it
    attributes = {name: value["StringValue"] for name, value in messages[0]["MessageAttributes"].items()}
    assert set(attributes) == {"RequestID", "ErrorCode", "ErrorMessage"}
    assert attributes["ErrorCode"] == "200"
    output = cloud.output()
    assert "s3 event: attempt 1 failed" in output
    assert "s3 event: attempt 2 failed" in output
    assert "s3 event: failed every attempt → dead-letter queue" in output
