"""The account lifecycle through the local cloud: links from the local mailbox, bounces via SQS."""

from __future__ import annotations

import json
import re
import time
import uuid
from typing import Any

import pytest

from tests.integration.conftest import LocalCloud, wait_until

pytestmark = pytest.mark.integration

PASSWORD = "difference engine 1822"
NEW_PASSWORD = "analytical engine 1843"


def token_in(mail: dict[str, Any]) -> str:
    match = re.search(r"token=([A-Za-z0-9_-]{43})", mail["body"])
    assert match, mail
    return match.group(1)


def sign_up(cloud: LocalCloud, email: str) -> dict[str, Any]:
    response = cloud.post(
        "/api/auth/sign-up", json={"email": email, "password": PASSWORD, "name": "Life Cycle"}
    )
    assert response.status_code == 201, response.text
    return dict(response.json()["data"])


def test_verify_with_the_emailed_link_then_the_link_fails(local_cloud: LocalCloud) -> None:
    email = f"verify-{time.time_ns()}@example.com"
    data = sign_up(local_cloud, email)
    mail = local_cloud.wait_for_mail(lambda m: m["to"] == [email] and "Confirm your email" in m["subject"])
    assert "http://localhost:5173/verify-email?token=" in mail["body"]
    token = token_in(mail)
    verified = local_cloud.post("/api/auth/verify-email", json={"token": token})
    assert verified.status_code == 200, verified.text
    assert verified.json()["data"]["emailVerified"] is True
    again = local_cloud.post("/api/auth/verify-email", json={"token": token})
    assert again.status_code == 400
    assert again.json()["code"] == "INVALID_TOKEN"
    me = local_cloud.get("/api/me", headers={"authorization": f"Bearer {data['accessToken']}"})
    assert me.json()["data"]["user"]["emailVerified"] is True


def test_move_the_account_to_a_new_address_with_the_link_sent_there(local_cloud: LocalCloud) -> None:
    # PUT /api/me/email is the users function's: it reads the email rate limit from the SSM
    # document (the IAM contract sees the users function's ssm:GetParameter here)
    old, new = f"move-{time.time_ns()}@example.com", f"moved-{time.time_ns()}@example.com"
    data = sign_up(local_cloud, old)
    headers = {"authorization": f"Bearer {data['accessToken']}"}
    wrong = local_cloud.request(
        "PUT", "/api/me/email", json={"email": new, "password": NEW_PASSWORD}, headers=headers
    )
    assert wrong.status_code == 401, wrong.text
    assert wrong.json()["code"] == "INVALID_CREDENTIALS"
    asked = local_cloud.request(
        "PUT", "/api/me/email", json={"email": new, "password": PASSWORD}, headers=headers
    )
    assert asked.status_code == 202, asked.text
    mail = local_cloud.wait_for_mail(lambda m: m["to"] == [new] and "Confirm your new email" in m["subject"])
    moved = local_cloud.post("/api/auth/confirm-email-change", json={"token": token_in(mail)})
    assert moved.status_code == 200, moved.text
    assert moved.json()["data"]["email"] == new
    notice = local_cloud.wait_for_mail(lambda m: m["to"] == [old] and "was changed" in m["subject"])
    assert new in notice["body"]
    signed_in = local_cloud.post("/api/auth/sign-in", json={"email": new, "password": PASSWORD})
    assert signed_in.status_code == 200, signed_in.text
    assert local_cloud.post("/api/auth/sign-in", json={"email": old, "password": PASSWORD}).status_code == 401


def test_forgot_and_reset_password(local_cloud: LocalCloud) -> None:
    email = f"reset-{time.time_ns()}@example.com"
    data = sign_up(local_cloud, email)
    known = local_cloud.post("/api/auth/password/forgot", json={"email": email})
    unknown = local_cloud.post(
        "/api/auth/password/forgot", json={"email": f"nobody-{time.time_ns()}@example.com"}
    )
    assert known.status_code == unknown.status_code == 202
    assert known.json()["data"] == unknown.json()["data"]
    mail = local_cloud.wait_for_mail(lambda m: m["to"] == [email] and "Reset your password" in m["subject"])
    token = token_in(mail)
    reset = local_cloud.post("/api/auth/password/reset", json={"token": token, "password": NEW_PASSWORD})
    assert reset.status_code == 204, reset.text
    assert (
        local_cloud.post(
            "/api/auth/password/reset", json={"token": token, "password": NEW_PASSWORD}
        ).status_code
        == 400
    )
    headers = {"authorization": f"Bearer {data['accessToken']}"}
    assert local_cloud.get("/api/me", headers=headers).status_code == 401
    assert (
        local_cloud.post("/api/auth/refresh", json={"refreshToken": data["refreshToken"]}).status_code == 401
    )
    old = local_cloud.post("/api/auth/sign-in", json={"email": email, "password": PASSWORD})
    assert old.status_code == 401
    assert (
        local_cloud.post("/api/auth/sign-in", json={"email": email, "password": NEW_PASSWORD}).status_code
        == 200
    )


def test_a_bounce_stops_further_sends_to_the_address(local_cloud: LocalCloud) -> None:
    email = f"bounce-{time.time_ns()}@example.com"
    sign_up(local_cloud, email)
    local_cloud.wait_for_mail(lambda m: m["to"] == [email] and "Welcome" in m["subject"])
    event = {
        "eventType": "Bounce",
        "bounce": {
            "bounceType": "Permanent",
            "bounceSubType": "General",
            "bouncedRecipients": [{"emailAddress": email}],
        },
        "mail": {"destination": [email]},
    }
    envelope = {
        "Type": "Notification",
        "MessageId": str(uuid.uuid4()),
        "TopicArn": "arn:aws:sns:x",
        "Message": json.dumps(event),
    }
    sqs = local_cloud.client("sqs")
    sqs.send_message(QueueUrl=local_cloud.queue_urls["EmailEventsQueue"], MessageBody=json.dumps(envelope))

    admin = local_cloud.post(
        "/api/auth/sign-in", json={"email": "admin@example.com", "password": "local-admin-password"}
    )
    headers = {"authorization": f"Bearer {admin.json()['data']['accessToken']}"}

    def status() -> Any:
        found = local_cloud.get("/api/users", params={"search": email}, headers=headers).json()["data"]
        return found and found[0]["emailStatus"] == "BOUNCED"

    wait_until(status, timeout=20, what="the bounce to mark the user")
    before = len([m for m in local_cloud.mail() if m["to"] == [email]])
    job_id = f"after-bounce-{time.time_ns()}"
    sqs.send_message(
        QueueUrl=local_cloud.queue_urls["EmailQueue"],
        MessageBody=json.dumps(
            {"type": "email.send", "jobId": job_id, "to": email, "template": "welcome", "data": {"name": "X"}}
        ),
    )
    control = f"control-{time.time_ns()}@example.com"
    sqs.send_message(
        QueueUrl=local_cloud.queue_urls["EmailQueue"],
        MessageBody=json.dumps(
            {
                "type": "email.send",
                "jobId": f"{job_id}-c",
                "to": control,
                "template": "welcome",
                "data": {"name": "Y"},
            }
        ),
    )
    local_cloud.wait_for_mail(lambda m: m["to"] == [control])  # the batch ran
    assert len([m for m in local_cloud.mail() if m["to"] == [email]]) == before
