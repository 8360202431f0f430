"""Account lifecycle (verification, reset, change, sessions, bounces) through the real handlers."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import boto3
import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from backend.config import RuntimeConfig
from backend.models.enums import Role
from backend.records import PageRequest
from backend.services import account
from tests.support.apigw import FakeContext
from tests.support.ddb import run_concurrently, serializable_moto
from tests.support.identity import PASSWORD, Api

NEW_PASSWORD = "difference engine 1822"
MAIL_FROM = "no-reply@example.com"


@pytest.fixture
def worker(api: Api, monkeypatch: pytest.MonkeyPatch, fresh_process: Callable[[], None]) -> Any:
    monkeypatch.setenv("MAIL_FROM", MAIL_FROM)
    fresh_process()
    boto3.client("ses").verify_email_identity(EmailAddress=MAIL_FROM)
    from backend.jobs.worker import create_worker_handler

    return create_worker_handler()


def queued_emails(api: Api, *, keep: bool = True) -> list[dict[str, Any]]:
    """Every job on the email queue (left in place unless ``keep`` is False)."""
    sqs = boto3.client("sqs")
    url = api.container.settings.email_queue_url
    found = []
    for _ in range(5):
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0).get(
            "Messages", []
        )
        found = [json.loads(m["Body"]) for m in messages]
        if found:
            break
    if not keep:
        for message in messages:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return found


def drain(api: Api) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs")
    url = api.container.settings.email_queue_url
    jobs = []
    while True:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return jobs
        for message in messages:
            jobs.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def token_from(job: dict[str, Any]) -> str:
    link = job["data"].get("link") or job["data"]["resetUrl"]
    return str(re.search(r"token=([A-Za-z0-9_-]{43})", link).group(1))  # type: ignore[union-attr]


def run_worker(worker: Any, jobs: list[dict[str, Any]]) -> dict[str, Any]:
    records = [
        {
            "messageId": str(uuid.uuid4()),
            "receiptHandle": "r",
            "body": json.dumps(job),
            "attributes": {"ApproximateReceiveCount": "1"},
            "messageAttributes": {},
            "md5OfBody": "x",
            "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:app-backend-email-test",
            "awsRegion": "us-east-1",
        }
        for job in jobs
    ]
    result: dict[str, Any] = worker({"Records": records}, FakeContext())
    return result


def sent_mail() -> list[Any]:
    return list(ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages)


# ----------------------------------------------------------------------------- verification
def test_sign_up_emails_a_verification_link_that_works_once(api: Api, auth: Any, users: Any) -> None:
    created = api.call(
        auth,
        "POST",
        "/api/auth/sign-up",
        body={"email": "v@example.com", "password": NEW_PASSWORD, "name": "Vera"},
    )
    assert created.status == 201
    assert created.data["user"]["emailVerified"] is False
    jobs = drain(api)
    verify = next(j for j in jobs if j.get("template") == "verify-email")
    assert verify["to"] == "v@example.com"
    assert verify["data"]["link"].startswith("http://localhost:5173/verify-email?token=")
    token = token_from(verify)
    ok = api.call(auth, "POST", "/api/auth/verify-email", body={"token": token})
    assert ok.status == 200, ok.body
    assert ok.data == {"email": "v@example.com", "emailVerified": True}
    again = api.call(auth, "POST", "/api/auth/verify-email", body={"token": token})
    assert again.status == 400
    assert again.body["code"] == "INVALID_TOKEN"
    me = api.call(users, "GET", "/api/me", token=created.data["accessToken"])
    assert me.data["user"]["emailVerified"] is True
    # nothing more to verify: no new link
    resend = api.call(users, "POST", "/api/me/verify-email", token=created.data["accessToken"])
    assert resend.status == 202
    assert resend.data == {"sent": False}


def test_an_expired_token_fails(api: Api, auth: Any) -> None:
    user = api.account()
    account.send_verification(api.container.identity, api.container.users.get(user.id))
    token = token_from(next(j for j in drain(api) if j.get("template") == "verify-email"))
    later = api.container.clock() + timedelta(hours=24, seconds=1)
    api.container.action_tokens._clock = lambda: later  # the link is a day and a second old
    response = api.call(auth, "POST", "/api/auth/verify-email", body={"token": token})
    assert response.status == 400
    assert response.body["code"] == "INVALID_TOKEN"


def test_a_token_for_another_purpose_fails(api: Api, auth: Any) -> None:
    user = api.account()
    account.send_verification(api.container.identity, api.container.users.get(user.id))
    token = token_from(next(j for j in drain(api) if j.get("template") == "verify-email"))
    response = api.call(
        auth, "POST", "/api/auth/password/reset", body={"token": token, "password": NEW_PASSWORD}
    )
    assert response.status == 400
    assert response.body["code"] == "INVALID_TOKEN"
    for garbage in ("x", "A" * 43):
        assert api.call(auth, "POST", "/api/auth/verify-email", body={"token": garbage}).status == 400


def test_requesting_verification_is_rate_limited(api: Api, users: Any) -> None:
    user = api.account()
    statuses = [api.call(users, "POST", "/api/me/verify-email", token=user.token).status for _ in range(6)]
    assert statuses == [202] * 5 + [429]


# ----------------------------------------------------------------------------- forgotten password
def test_forgot_password_answers_alike_for_known_and_unknown_addresses(
    api: Api, auth: Any, worker: Any
) -> None:
    user = api.account()
    known = api.call(auth, "POST", "/api/auth/password/forgot", body={"email": user.user.email})
    unknown = api.call(auth, "POST", "/api/auth/password/forgot", body={"email": "nobody@example.com"})
    assert known.status == unknown.status == 202
    assert known.body == unknown.body
    jobs = drain(api)
    assert [j["type"] for j in jobs] == ["account.password-reset-request"] * 2  # the same work for both
    result = run_worker(worker, jobs)
    assert result == {"batchItemFailures": []}
    mails = sent_mail()
    assert [m.destinations["ToAddresses"] for m in mails] == [[user.user.email]]


def test_reset_works_once_revokes_every_session_and_the_old_password_fails(
    api: Api, auth: Any, users: Any, worker: Any
) -> None:
    user = api.account()
    other = api.account()
    api.call(auth, "POST", "/api/auth/password/forgot", body={"email": user.user.email})
    run_worker(worker, drain(api))
    body = sent_mail()[-1].body
    token = re.search(r"token=([A-Za-z0-9_-]{43})", body).group(1)  # type: ignore[union-attr]

    reset = api.call(
        auth, "POST", "/api/auth/password/reset", body={"token": token, "password": NEW_PASSWORD}
    )
    assert reset.status == 204, reset.body
    assert (
        api.call(
            auth, "POST", "/api/auth/password/reset", body={"token": token, "password": NEW_PASSWORD}
        ).status
        == 400
    )
    # existing access and refresh tokens are dead
    assert api.call(users, "GET", "/api/me", token=user.token).status == 401
    assert (
        api.call(auth, "POST", "/api/auth/refresh", body={"refreshToken": user.refresh_token}).status == 401
    )
    # the old password fails, the new one works; other users are untouched
    assert (
        api.call(
            auth, "POST", "/api/auth/sign-in", body={"email": user.user.email, "password": PASSWORD}
        ).status
        == 401
    )
    assert (
        api.call(
            auth, "POST", "/api/auth/sign-in", body={"email": user.user.email, "password": NEW_PASSWORD}
        ).status
        == 200
    )
    assert api.call(users, "GET", "/api/me", token=other.token).status == 200
    assert any(j.get("template") == "password-changed" for j in drain(api))


def test_reset_refuses_a_weak_password_and_keeps_the_token(api: Api, auth: Any, worker: Any) -> None:
    user = api.account()
    api.call(auth, "POST", "/api/auth/password/forgot", body={"email": user.user.email})
    run_worker(worker, drain(api))
    token = re.search(r"token=([A-Za-z0-9_-]{43})", sent_mail()[-1].body).group(1)  # type: ignore[union-attr]
    weak = api.call(
        auth, "POST", "/api/auth/password/reset", body={"token": token, "password": "password123"}
    )
    assert weak.status == 400
    assert weak.body["code"] == "VALIDATION_ERROR"
    assert (
        api.call(
            auth, "POST", "/api/auth/password/reset", body={"token": token, "password": NEW_PASSWORD}
        ).status
        == 204
    )


# ----------------------------------------------------------------------------- password change
def test_password_change_revokes_the_other_sessions(api: Api, auth: Any, users: Any) -> None:
    user = api.account()
    second = api.call(
        auth, "POST", "/api/auth/sign-in", body={"email": user.user.email, "password": PASSWORD}
    )
    wrong = api.call(
        users,
        "POST",
        "/api/me/password",
        token=user.token,
        body={"currentPassword": "wrong password 000", "newPassword": NEW_PASSWORD},
    )
    assert wrong.status == 401
    changed = api.call(
        users,
        "POST",
        "/api/me/password",
        token=user.token,
        body={"currentPassword": PASSWORD, "newPassword": NEW_PASSWORD},
    )
    assert changed.status == 204, changed.body
    assert api.call(users, "GET", "/api/me", token=user.token).status == 200  # this session stays
    assert api.call(users, "GET", "/api/me", token=second.data["accessToken"]).status == 401
    assert (
        api.call(auth, "POST", "/api/auth/refresh", body={"refreshToken": second.data["refreshToken"]}).status
        == 401
    )


# ----------------------------------------------------------------------------- email change
def test_email_change_moves_the_address_only_after_verification(api: Api, auth: Any, users: Any) -> None:
    user = api.account()
    old = user.user.email
    asked = api.call(
        users,
        "PUT",
        "/api/me/email",
        token=user.token,
        body={"email": "New@Example.com", "password": PASSWORD},
    )
    assert asked.status == 202, asked.body
    assert api.call(users, "GET", "/api/me", token=user.token).data["user"]["email"] == old  # not yet
    change = next(j for j in drain(api) if j.get("template") == "email-change")
    assert change["to"] == "new@example.com"
    moved = api.call(auth, "POST", "/api/auth/confirm-email-change", body={"token": token_from(change)})
    assert moved.status == 200, moved.body
    assert moved.data == {"email": "new@example.com", "emailVerified": True}
    assert api.call(users, "GET", "/api/me", token=user.token).data["user"]["email"] == "new@example.com"
    notice = next(j for j in drain(api) if j.get("template") == "email-changed")
    assert notice["to"] == old
    # the old address is free again, the new one is taken
    assert api.container.users.get_by_email("new@example.com").id == user.id
    other = api.account(email=old)
    assert other.user.email == old


def test_email_change_needs_the_password(api: Api, users: Any) -> None:
    user = api.account()
    response = api.call(
        users,
        "PUT",
        "/api/me/email",
        token=user.token,
        body={"email": "x@example.com", "password": "wrong password 000"},
    )
    assert response.status == 401


def test_two_users_racing_for_one_address_end_with_exactly_one(api: Api, auth: Any) -> None:
    api.container.config = lambda: RuntimeConfig(email_requests_per_hour=100)  # type: ignore[method-assign]
    racers = [api.account() for _ in range(4)]
    identity = api.container.identity
    for racer in racers:
        account.request_email_change(
            identity, _principal(racer), email="prize@example.com", password=PASSWORD, client_ip="203.0.113.5"
        )
    tokens = [token_from(j) for j in drain(api) if j.get("template") == "email-change"]
    assert len(tokens) == 4

    def confirm(token: str) -> Any:
        return lambda: account.confirm_email_change(identity, token)

    with serializable_moto():
        results = run_concurrently([confirm(t) for t in tokens])
    winners = [r for r in results if not isinstance(r, BaseException)]
    assert len(winners) == 1, results
    assert all(
        getattr(r, "code", None) in ("EMAIL_TAKEN", "CONCURRENT_MODIFICATION")
        for r in results
        if r not in winners
    )
    assert api.container.users.get_by_email("prize@example.com").id == winners[0].id


def _principal(account_: Any) -> Any:
    from backend.services.principal import Principal

    return Principal(user_id=account_.id, role=Role.USER, session_id=account_.session_id)


# ----------------------------------------------------------------------------- sessions
def test_listing_and_revoking_sessions(api: Api, auth: Any, users: Any) -> None:
    user = api.account()
    phone = api.call(
        auth,
        "POST",
        "/api/auth/sign-in",
        body={"email": user.user.email, "password": PASSWORD},
        headers={
            "user-agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Version/17.0 Mobile Safari/604.1"
        },
    )
    listing = api.call(users, "GET", "/api/me/sessions", token=user.token)
    assert listing.status == 200
    by_id = {s["id"]: s for s in listing.data}
    assert len(by_id) == 2
    assert listing.body["meta"] == {"page": 1, "limit": None, "total": 2, "totalPages": 1, "nextCursor": None}
    for session in listing.data:  # one timestamp format: UTC, microseconds always written
        for name in ("createdAt", "lastUsedAt", "expiresAt"):
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", session[name]), session[name]
    assert by_id[user.session_id]["current"] is True
    phone_session = next(s for s in listing.data if not s["current"])
    assert phone_session["device"] == "Safari on iOS"
    assert (
        api.call(users, "DELETE", f"/api/me/sessions/{phone_session['id']}", token=user.token).status == 204
    )
    assert api.call(users, "GET", "/api/me", token=phone.data["accessToken"]).status == 401
    assert (
        api.call(auth, "POST", "/api/auth/refresh", body={"refreshToken": phone.data["refreshToken"]}).status
        == 401
    )
    # another user's session is not yours: 404
    stranger = api.account()
    assert (
        api.call(users, "DELETE", f"/api/me/sessions/{stranger.session_id}", token=user.token).status == 404
    )
    assert api.call(users, "GET", "/api/me", token=stranger.token).status == 200


def test_sign_out_everywhere(api: Api, auth: Any, users: Any) -> None:
    user = api.account()
    second = api.call(
        auth, "POST", "/api/auth/sign-in", body={"email": user.user.email, "password": PASSWORD}
    )
    assert api.call(auth, "POST", "/api/auth/sign-out-all", token=user.token).status == 204
    assert api.call(users, "GET", "/api/me", token=user.token).status == 401
    assert api.call(users, "GET", "/api/me", token=second.data["accessToken"]).status == 401


@pytest.mark.parametrize(
    ("agent", "device"),
    [
        ("Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0", "Firefox on Linux"),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36 Edg/120.0",
            "Edge on Windows",
        ),
        ("curl/8.4.0", "curl"),
        (None, "Unknown device"),
    ],
)
def test_device_descriptions(agent: str | None, device: str) -> None:
    assert account.describe_device(agent) == device


# ----------------------------------------------------------------------------- bounces
def ses_notification(kind: str, address: str) -> dict[str, Any]:
    event: dict[str, Any] = {"eventType": kind, "mail": {"destination": [address]}}
    if kind == "Bounce":
        event["bounce"] = {
            "bounceType": "Permanent",
            "bounceSubType": "General",
            "bouncedRecipients": [{"emailAddress": address}],
        }
    else:
        event["complaint"] = {
            "complainedRecipients": [{"emailAddress": address}],
            "complaintFeedbackType": "abuse",
        }
    return {
        "Type": "Notification",
        "MessageId": str(uuid.uuid4()),
        "TopicArn": "arn:aws:sns:us-east-1:1:t",
        "Message": json.dumps(event),
    }


@pytest.mark.parametrize("kind", ["Bounce", "Complaint"])
def test_a_bounce_or_complaint_stops_further_sends(api: Api, users: Any, worker: Any, kind: str) -> None:
    user = api.account()
    admin = api.account(Role.ADMIN)
    result = run_worker(worker, [ses_notification(kind, user.user.email)])
    assert result == {"batchItemFailures": []}
    before = len(sent_mail())
    job = {
        "type": "email.send",
        "jobId": f"after-{kind}",
        "to": user.user.email,
        "template": "welcome",
        "data": {"name": "X"},
    }
    assert run_worker(worker, [job]) == {"batchItemFailures": []}
    assert len(sent_mail()) == before  # skipped, not failed
    status = "BOUNCED" if kind == "Bounce" else "COMPLAINED"
    seen = api.call(users, "GET", f"/api/users/{user.id}", token=admin.token)
    assert seen.data["emailStatus"] == status
    # other addresses still get their mail
    other = {**job, "jobId": f"other-{kind}", "to": "someone.else@example.com"}
    run_worker(worker, [other])
    assert len(sent_mail()) == before + 1


def test_a_transient_bounce_suppresses_nothing(api: Api, worker: Any) -> None:
    user = api.account()
    notification = ses_notification("Bounce", user.user.email)
    event = json.loads(notification["Message"])
    event["bounce"]["bounceType"] = "Transient"
    notification["Message"] = json.dumps(event)
    run_worker(worker, [notification])
    assert api.container.suppressions.is_suppressed(user.user.email) is False


def test_admins_filter_users_on_email_verified(api: Api, users: Any) -> None:
    admin = api.account(Role.ADMIN)
    plain = api.account()
    verified = api.account()
    api.container.users.update(api.container.users.get(verified.id), email_verified=True)
    unverified = api.call(users, "GET", "/api/users", token=admin.token, query="emailVerified=false")
    assert {u["id"] for u in unverified.data} == {admin.id, plain.id}
    only = api.call(users, "GET", "/api/users", token=admin.token, query="emailVerified=true")
    assert [u["id"] for u in only.data] == [verified.id]
    assert only.body["meta"]["total"] == 1
    assert api.container.users.list(PageRequest()).meta.total == 3
