"""The product's foundation end to end: the local cloud running template.yaml, over real HTTP and
real queues (issue "Foundation", Done when)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from typing import Any

import pytest

from tests.integration.conftest import LocalCloud, wait_until

pytestmark = pytest.mark.integration

SECURITY_HEADERS = {
    "strict-transport-security",
    "x-content-type-options",
    "x-frame-options",
    "content-security-policy",
    "referrer-policy",
}


def assert_envelope(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == code
    assert body["error"]
    assert body["requestId"] == response.headers["x-request-id"]
    assert set(response.headers) >= SECURITY_HEADERS, response.headers
    return dict(body)


def test_health_is_data_envelope_with_security_headers(local_cloud: LocalCloud) -> None:
    response = local_cloud.get("/api/health")
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["status"] == "ok"
    assert data["checks"] == {"table": "ok"}
    assert data["version"] == "0.1.0"
    assert data["stage"] == "dev"
    assert set(response.headers) >= SECURITY_HEADERS
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-request-id"]


@pytest.mark.parametrize("path", ["/api/nope", "/", "/api/users/nobody/anything", "/api/auth/nothing-here"])
def test_unknown_routes_are_404_envelopes(local_cloud: LocalCloud, path: str) -> None:
    assert_envelope(local_cloud.get(path), 404, "NOT_FOUND")


def test_wrong_method_is_405_envelope_with_allow(local_cloud: LocalCloud) -> None:
    response = local_cloud.request("DELETE", "/api/health")
    assert_envelope(response, 405, "METHOD_NOT_ALLOWED")
    assert response.headers["allow"] == "GET"


def test_malformed_json_is_400_envelope(local_cloud: LocalCloud) -> None:
    response = local_cloud.post(
        "/api/health", content=b'{"email": ', headers={"content-type": "application/json"}
    )
    assert_envelope(response, 400, "MALFORMED_JSON")


def test_oversized_body_is_413_envelope(local_cloud: LocalCloud) -> None:
    body = json.dumps({"blob": "x" * (1_048_576 + 10)}).encode()
    response = local_cloud.post("/api/users", content=body, headers={"content-type": "application/json"})
    assert_envelope(response, 413, "PAYLOAD_TOO_LARGE")


def test_non_json_body_is_415_envelope(local_cloud: LocalCloud) -> None:
    response = local_cloud.post("/api/products", content=b"name=x", headers={"content-type": "text/plain"})
    assert_envelope(response, 415, "UNSUPPORTED_MEDIA_TYPE")


def test_docs_and_openapi_cover_every_api_function(local_cloud: LocalCloud) -> None:
    document = local_cloud.get("/openapi.json").json()
    assert "get" in document["paths"]["/api/health"]
    assert "ErrorEnvelope" in document["components"]["schemas"]
    description = document["info"]["description"]
    for function in (
        "AuthFunction",
        "UsersFunction",
        "ProductsFunction",
        "ContentFunction",
        "OrdersFunction",
    ):
        assert function in description
    docs = local_cloud.get("/docs")
    assert docs.status_code == 200
    assert "text/html" in docs.headers["content-type"]
    assert "/openapi.json" in docs.text


def test_email_job_reaches_the_mailbox(local_cloud: LocalCloud) -> None:
    job_id = f"system-{time.time_ns()}"
    local_cloud.client("sqs").send_message(
        QueueUrl=local_cloud.queue_urls["EmailQueue"],
        MessageBody=json.dumps(
            {
                "type": "email.send",
                "jobId": job_id,
                "to": f"{job_id}@example.com",
                "template": "welcome",
                "data": {"name": "Grace <3"},
            }
        ),
    )
    mail = local_cloud.wait_for_mail(lambda m: m["to"] == [f"{job_id}@example.com"])
    assert mail["subject"] == "Welcome, Grace <3!"
    assert mail["html"] is True
    assert "Grace &lt;3" in mail["body"]


def test_poison_message_in_a_batch_goes_to_the_dlq_and_ops_are_alerted(local_cloud: LocalCloud) -> None:
    """One batch: good, poison, good. The good ones are sent once; the poison one is retried
    maxReceiveCount (3) times, lands in the DLQ, and the DLQ monitor (fired on demand) emails ops."""
    sqs = local_cloud.client("sqs")
    run = time.time_ns()
    poison = f"poison {run}"
    good = [
        {
            "type": "email.send",
            "jobId": f"batch-{run}-{n}",
            "to": f"batch-{run}-{n}@example.com",
            "template": "welcome",
            "data": {"name": "Ada"},
        }
        for n in range(2)
    ]
    sqs.send_message_batch(
        QueueUrl=local_cloud.queue_urls["EmailQueue"],
        Entries=[
            {"Id": "good0", "MessageBody": json.dumps(good[0])},
            {"Id": "poison", "MessageBody": poison},
            {"Id": "good1", "MessageBody": json.dumps(good[1])},
        ],
    )
    for job in good:
        local_cloud.wait_for_mail(lambda m, to=job["to"]: m["to"] == [to])

    def poison_in_dlq() -> list[dict[str, Any]]:
        messages = sqs.receive_message(
            QueueUrl=local_cloud.queue_urls["EmailDLQ"],
            MaxNumberOfMessages=10,
            AttributeNames=["ApproximateReceiveCount"],
            VisibilityTimeout=0,
        ).get("Messages", [])
        return [m for m in messages if m["Body"] == poison]

    wait_until(poison_in_dlq, timeout=40, what="the poison message in the email DLQ")
    for job in good:  # retries of the poison message never re-sent the good ones
        assert len([m for m in local_cloud.mail() if m["to"] == [job["to"]]]) == 1

    fired = local_cloud.post("/_local/schedules/ScheduledFunction/DlqMonitor/fire").json()
    assert fired["ok"] is True, fired
    assert fired["result"]["depths"]["app-backend-email-dlq-dev"] >= 1
    alert = local_cloud.wait_for_mail(
        lambda m: m["to"] == ["ops@example.com"] and "app-backend-email-dlq-dev" in m["body"]
    )
    assert "dead-letter" in alert["subject"]


def test_the_schedule_fires_on_its_own(local_cloud: LocalCloud) -> None:
    """HousekeepingSchedule is rate(1 minute) in the test cloud: it fires without being asked."""

    def fired_by_clock() -> dict[str, Any] | None:
        (entry,) = [e for e in local_cloud.get("/_local/schedules").json() if e["event"] == "DlqMonitor"]
        return entry if entry["firedOnSchedule"] >= 1 else None

    entry = wait_until(
        fired_by_clock, timeout=90, what="the DLQ monitor to fire on its rate(1 minute) schedule"
    )
    assert entry["lastFire"] is not None
    # Counted once an instance takes the event (after a cold start): a moment after the fire itself.
    wait_until(
        lambda: local_cloud.stats("ScheduledFunction")["invocations"] >= 1,
        timeout=30,
        what="the scheduled invocation to reach an instance",
    )


def test_send_command_puts_a_job_on_a_queue_of_the_running_cloud(local_cloud: LocalCloud) -> None:
    port = local_cloud.base_url.rsplit(":", 1)[1]
    job_id = f"cli-{time.time_ns()}"
    to = f"{job_id}@example.com"
    job = {"type": "email.send", "jobId": job_id, "to": to, "template": "welcome", "data": {"name": "Cli"}}
    done = subprocess.run(
        [sys.executable, "-m", "local", "send", "EmailQueue", json.dumps(job), "--port", port],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["queue"] == "EmailQueue"
    local_cloud.wait_for_mail(lambda m: m["to"] == [to])
    missing = subprocess.run(
        [sys.executable, "-m", "local", "send", "NoSuchQueue", "{}", "--port", port],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert missing.returncode == 1
    assert "EmailQueue" in missing.stderr
