"""Sign-up → sign-in → refresh → sign-out through the AuthFunction handler (moto in-process)."""

from __future__ import annotations

from typing import Any

from tests.support.identity import Api, cookie_value


def test_sign_up_sign_in_refresh_sign_out(api: Api, auth: Any) -> None:
    body = {"email": "Ada@Example.com", "password": "analytical engine 1843", "name": "Ada Lovelace"}
    created = api.call(auth, "POST", "/api/auth/sign-up", body=body)
    assert created.status == 201, created.body
    data = created.data
    assert data["user"]["email"] == "ada@example.com"
    assert data["user"]["role"] == "USER"
    assert "passwordHash" not in data["user"]
    assert data["tokenType"] == "Bearer"
    assert data["expiresIn"] == 900
    assert cookie_value(created, "auth-token") == data["accessToken"]
    assert any("HttpOnly" in c and c.startswith("auth-token=") for c in created.cookies)

    signed_in = api.call(
        auth, "POST", "/api/auth/sign-in", body={"email": "ada@example.com", "password": body["password"]}
    )
    assert signed_in.status == 200, signed_in.body

    refreshed = api.call(
        auth, "POST", "/api/auth/refresh", body={"refreshToken": signed_in.data["refreshToken"]}
    )
    assert refreshed.status == 200, refreshed.body
    assert refreshed.data["refreshToken"] != signed_in.data["refreshToken"]

    out = api.call(auth, "POST", "/api/auth/sign-out", token=refreshed.data["accessToken"])
    assert out.status == 204
    assert out.body is None
    again = api.call(auth, "POST", "/api/auth/sign-out", token=refreshed.data["accessToken"])
    assert again.status == 401
    assert again.body["code"] == "UNAUTHORIZED"
