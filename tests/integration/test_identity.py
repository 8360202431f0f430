"""Identity through the local cloud: real HTTP, real queues, functions in their own processes."""

from __future__ import annotations

import re
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from backend.http.auth import PUBLIC_OPERATIONS
from tests.integration.conftest import LocalCloud

pytestmark = pytest.mark.integration

PASSWORD = "difference engine 1822"
SAMPLE_ID = "01JNB9A0M4TNG4YVQ1S6J1Y0RZ"
PUBLIC = PUBLIC_OPERATIONS  # the one explicit list of backend/http/auth.py


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in ("get", "put", "post", "patch", "delete")
    ]


def test_every_operation_needs_credentials_unless_public(local_cloud: LocalCloud) -> None:
    """Deny by default: walk the merged OpenAPI document; without credentials every operation answers
    401 in the envelope, except the ones on the public list, which never do."""
    document = local_cloud.get("/openapi.json").json()
    operations = _operations(document)
    assert len(operations) >= 10
    for method, path, operation in operations:
        url = re.sub(r"\{[^}]+\}", SAMPLE_ID, path)
        kwargs: dict[str, Any] = {"json": {}} if method in ("POST", "PUT", "PATCH") else {}
        response = local_cloud.request(method, url, **kwargs)
        if (method, path) in PUBLIC:
            # never refused for lack of an access token (refresh may still say its token is missing)
            refused = response.status_code == 401 and response.json()["error"] == "Authentication required"
            assert not refused, (method, path, response.text)
            assert operation["security"] == [{}], (method, path)  # no credentials needed, stated
        else:
            assert response.status_code == 401, (method, path, response.text)
            assert response.json()["code"] == "UNAUTHORIZED"
            assert operation.get("security"), f"{method} {path} does not document its security"
            assert "401" in operation["responses"], (method, path)
        # validation is 400; the one 422 is a reused Idempotency-Key (POST /api/orders)
        unprocessable = operation["responses"].get("422")
        assert unprocessable is None or "IDEMPOTENCY_KEY_REUSED" in unprocessable["description"], (
            f"{method} {path} documents 422 for validation"
        )


def test_journey_sign_up_welcome_email_me_refresh_sign_out(local_cloud: LocalCloud) -> None:
    # From a loopback address of its own: the race below spends 127.0.0.1's sign-ups (5 a minute).
    client = httpx.Client(
        base_url=local_cloud.base_url,
        transport=httpx.HTTPTransport(local_address="127.0.0.40"),
        timeout=60,
    )
    email = f"journey-{time.time_ns()}@example.com"
    created = client.post("/api/auth/sign-up", json={"email": email, "password": PASSWORD, "name": "Journey"})
    assert created.status_code == 201, created.text
    local_cloud.wait_for_mail(lambda m: m["to"] == [email] and "Welcome" in m["subject"])
    signed_in = client.post("/api/auth/sign-in", json={"email": email, "password": PASSWORD})
    assert signed_in.status_code == 200, signed_in.text
    tokens = signed_in.json()["data"]
    headers = {"authorization": f"Bearer {tokens['accessToken']}"}
    me = client.get("/api/me", headers=headers)
    assert me.status_code == 200, me.text
    assert me.json()["data"]["user"]["email"] == email
    refreshed = client.post("/api/auth/refresh", json={"refreshToken": tokens["refreshToken"]})
    assert refreshed.status_code == 200, refreshed.text
    new_headers = {"authorization": f"Bearer {refreshed.json()['data']['accessToken']}"}
    assert client.post("/api/auth/sign-out", headers=new_headers).status_code == 204
    assert client.get("/api/me", headers=new_headers).status_code == 401


def test_ten_concurrent_sign_ups_with_one_email_give_exactly_one_201(local_cloud: LocalCloud) -> None:
    email = f"race-{time.time_ns()}@example.com"

    def attempt(index: int) -> int:
        with httpx.Client(base_url=local_cloud.base_url, timeout=60) as client:
            body = {"email": email, "password": PASSWORD, "name": f"Racer {index}"}
            return client.post("/api/auth/sign-up", json=body).status_code

    with ThreadPoolExecutor(max_workers=10) as pool:
        statuses = list(pool.map(attempt, range(10)))
    assert statuses.count(201) == 1, statuses
    assert set(statuses) <= {201, 409, 429}, statuses


def test_the_seeded_admin_can_manage_users(local_cloud: LocalCloud) -> None:
    signed_in = local_cloud.post(
        "/api/auth/sign-in", json={"email": "admin@example.com", "password": "local-admin-password"}
    )
    assert signed_in.status_code == 200, signed_in.text
    assert signed_in.json()["data"]["user"]["role"] == "ADMIN"
    headers = {"authorization": f"Bearer {signed_in.json()['data']['accessToken']}"}
    listing = local_cloud.get("/api/users", params={"search": "ada"}, headers=headers)
    assert listing.status_code == 200, listing.text
    assert "ada@example.com" in [u["email"] for u in listing.json()["data"]]
