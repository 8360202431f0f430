"""Avatars through the local cloud: the presigned POST to the emulated upload bucket (its policy
checked as S3 checks it), the S3 event delivered to AvatarFunction, the images served locally."""

from __future__ import annotations

import base64
import io
import itertools
import json
import struct
import time
import zlib
from typing import Any

import httpx
import pytest
from PIL import Image

from tests.integration.conftest import LocalCloud, wait_until

pytestmark = pytest.mark.integration

PASSWORD = "difference engine 1822"


_addresses = itertools.count(60)


class User:
    """A signed-up user calling the API from a loopback address of its own, so the sign-up rate
    limit per IP (5 a minute) is not shared with the other modules' users."""

    def __init__(self, cloud: LocalCloud) -> None:
        transport = httpx.HTTPTransport(local_address=f"127.0.0.{next(_addresses)}")
        self.http = httpx.Client(base_url=cloud.base_url, transport=transport, timeout=30)
        email = f"avatar-{time.time_ns()}@example.com"
        response = self.http.post(
            "/api/auth/sign-up", json={"email": email, "password": PASSWORD, "name": "Ada Avatar"}
        )
        assert response.status_code == 201, response.text
        self.headers = {"authorization": f"Bearer {response.json()['data']['accessToken']}"}

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return self.http.request(method, path, headers=self.headers, **kwargs)


def sign_up(cloud: LocalCloud) -> User:
    return User(cloud)


def form(cloud: LocalCloud, headers: User, content_type: str = "image/jpeg") -> dict[str, Any]:
    response = headers.request("POST", "/api/me/avatar/upload", json={"contentType": content_type})
    assert response.status_code == 201, response.text
    return dict(response.json()["data"])


def post(
    signed: dict[str, Any], data: bytes, *, content_type: str | None = None, **changes: str
) -> httpx.Response:
    fields = {**signed["fields"], **changes}
    if content_type is not None:
        fields["Content-Type"] = content_type
    return httpx.post(
        signed["url"], data=fields, files={"file": ("picture", data, fields["Content-Type"])}, timeout=10
    )


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.effect_noise((320, 240), 40).convert("RGB").save(out, "JPEG", quality=90)
    return out.getvalue()


def bomb_png() -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 4096, 9)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", idat)
        + chunk(b"IEND", b"")
        + b"\0" * 2048
    )


def profile(cloud: LocalCloud, headers: User) -> Any:
    return headers.request("GET", "/api/me").json()["data"]["profile"]


def upload_exists(cloud: LocalCloud, key: str) -> bool:
    listing = cloud.client("s3").list_objects_v2(Bucket=cloud.ref("AvatarUploadBucket"), Prefix=key)
    return bool(listing.get("Contents"))


def test_a_real_image_posted_with_the_presigned_form_becomes_the_resized_avatars(
    local_cloud: LocalCloud,
) -> None:
    headers = sign_up(local_cloud)
    signed = form(local_cloud, headers)
    assert signed["url"].startswith(local_cloud.endpoint_url)

    response = post(signed, jpeg())
    assert response.status_code == 204, response.text

    images = wait_until(
        lambda: profile(local_cloud, headers)["avatarImages"], timeout=30, what="the avatar on the profile"
    )
    assert set(images) == {"64", "256", "512"}
    served = f"{local_cloud.endpoint_url}/_cdn/{local_cloud.ref('AvatarBucket')}/avatars/"
    for px, url in images.items():
        assert url.startswith(served)
        image = httpx.get(url, timeout=10)
        assert image.status_code == 200
        assert image.headers["cache-control"] == "public, max-age=31536000, immutable"
        picture = Image.open(io.BytesIO(image.content))
        assert (picture.format, picture.size) == ("WEBP", (int(px), int(px)))
    assert profile(local_cloud, headers)["avatar"] == images["256"]
    assert not upload_exists(local_cloud, signed["key"])  # processed uploads are deleted
    # the bucket itself is private: only the CDN path serves it
    direct = images["64"].replace("/_cdn/", "/")
    assert httpx.get(direct, timeout=10).status_code == 403

    # DELETE /api/me/avatar: the profile's URLs cleared, the images gone
    assert headers.request("DELETE", "/api/me/avatar").status_code == 204
    assert profile(local_cloud, headers)["avatarImages"] is None
    assert httpx.get(images["64"], timeout=10).status_code == 404


@pytest.mark.parametrize(
    ("make", "changes", "status", "code"),
    [
        (lambda: b"\xff" * (5 * 1024 * 1024 + 1), {}, 400, "EntityTooLarge"),
        (lambda: b"\xff" * 1000, {}, 400, "EntityTooSmall"),
        (jpeg, {"content_type": "image/gif"}, 403, "AccessDenied"),  # not the type the policy names
        (jpeg, {"key": "uploads/someone-else/x"}, 403, "AccessDenied"),  # not the signed key
        (jpeg, {"success_action_status": "201"}, 403, "AccessDenied"),  # a field the policy does not name
    ],
    ids=["oversized", "undersized", "wrong-type", "other-key", "extra-field"],
)
def test_s3_refuses_what_the_policy_does_not_allow_and_nothing_changes(
    local_cloud: LocalCloud, make: Any, changes: dict[str, str], status: int, code: str
) -> None:
    headers = sign_up(local_cloud)
    signed = form(local_cloud, headers)
    before = profile(local_cloud, headers)  # the form made sure of a profile
    content_type = changes.pop("content_type", None)
    response = post(signed, make(), content_type=content_type, **changes)
    assert response.status_code == status, response.text
    assert f"<Code>{code}</Code>" in response.text
    assert not upload_exists(local_cloud, signed["key"])
    assert not upload_exists(local_cloud, "uploads/someone-else/")
    time.sleep(0.5)
    assert profile(local_cloud, headers) == before


def test_a_tampered_policy_is_refused(local_cloud: LocalCloud) -> None:
    headers = sign_up(local_cloud)
    signed = form(local_cloud, headers)
    policy = json.loads(base64.b64decode(signed["fields"]["policy"]))
    policy["conditions"] = [c for c in policy["conditions"] if not isinstance(c, list)]  # no size range
    forged = base64.b64encode(json.dumps(policy).encode()).decode()
    response = post(signed, jpeg(), policy=forged)
    assert response.status_code == 403
    assert "<Code>SignatureDoesNotMatch</Code>" in response.text


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        (b"plain text, not a picture, posted as a PNG\n" * 60, "image/png"),
        (bomb_png(), "image/png"),
    ],
    ids=["non-image", "bomb"],
)
def test_a_file_s3_accepts_but_that_is_no_safe_image_is_deleted_and_the_old_avatar_stays(
    local_cloud: LocalCloud, data: bytes, content_type: str
) -> None:
    headers = sign_up(local_cloud)
    first = form(local_cloud, headers)
    assert post(first, jpeg()).status_code == 204
    wait_until(lambda: profile(local_cloud, headers)["avatarImages"], timeout=30, what="the first avatar")
    before = profile(local_cloud, headers)

    signed = form(local_cloud, headers, content_type)
    assert post(signed, data).status_code == 204  # S3 cannot tell: the function decodes it
    wait_until(lambda: not upload_exists(local_cloud, signed["key"]), timeout=30, what="the upload deleted")
    assert profile(local_cloud, headers) == before
    for url in before["avatarImages"].values():
        assert httpx.get(url, timeout=10).status_code == 200
