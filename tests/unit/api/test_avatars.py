"""Avatars: the presigned POST (UsersFunction), the upload's processing (AvatarFunction, S3 events on
crafted images), removal and account deletion. moto in-process; the buckets have the names
template.yaml gives them with Stage=test (the IAM contract checks these requests)."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from PIL import Image

from local.s3_events import ObjectCreated, s3_event
from tests.support.apigw import FakeContext
from tests.support.identity import Api

UPLOADS = "app-backend-avatar-uploads-123456789012-us-east-1-test"
SERVED = "app-backend-avatars-123456789012-us-east-1-test"
CDN = "https://cdn.example.test"


@pytest.fixture
def buckets(api: Api, monkeypatch: pytest.MonkeyPatch, fresh_process: Callable[[], None]) -> Any:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=UPLOADS)
    s3.create_bucket(Bucket=SERVED)
    monkeypatch.setenv("AVATAR_UPLOAD_BUCKET", UPLOADS)
    monkeypatch.setenv("AVATAR_BUCKET", SERVED)
    monkeypatch.setenv("AVATAR_BASE_URL", CDN)
    fresh_process()
    return s3


def jpeg(size: tuple[int, int] = (600, 400), *, exif: Image.Exif | None = None, color: str = "teal") -> bytes:
    picture = Image.new("RGB", size, color)
    for x in range(0, size[0], 7):  # some detail, so the file is above the 1 KB minimum
        picture.putpixel((x, x % size[1]), (x % 255, 20, 200))
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=95, exif=exif or Image.Exif())
    return out.getvalue()


def gps_exif() -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "CameraMaker"  # Make
    exif[0x0112] = 6  # Orientation: rotate 90° clockwise to show
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (48.0, 51.0, 24.0)  # GPSLatitudeRef, GPSLatitude
    gps[3], gps[4] = "E", (2.0, 21.0, 3.0)
    return exif


def upload(s3: Any, user_id: str, data: bytes, *, name: str = "pic") -> str:
    key = f"uploads/{user_id}/{name}"
    s3.put_object(Bucket=UPLOADS, Key=key, Body=data)
    return key


def run_function(key: str, size: int, *, when: datetime | None = None) -> dict[str, Any]:
    from functions.avatar import app

    event = s3_event(ObjectCreated(UPLOADS, key, size, "etag", "ObjectCreated:Post"), event_time=when)
    result: dict[str, Any] = app.handler(event, FakeContext())
    return result


def member(api: Api) -> Any:
    """A user with a profile (what POST /api/me/avatar/upload makes sure of)."""
    user = api.user()
    api.container.profiles.create(user.id)
    return user


def signed_in(api: Api) -> Any:
    account = api.account()
    api.container.profiles.create(account.id)
    return account


def profile_of(api: Api, user_id: str) -> Any:
    return api.container.profiles.find(user_id)


def served_keys(s3: Any) -> list[str]:
    return sorted(o["Key"] for o in s3.list_objects_v2(Bucket=SERVED).get("Contents", []))


def upload_keys(s3: Any) -> list[str]:
    return sorted(o["Key"] for o in s3.list_objects_v2(Bucket=UPLOADS).get("Contents", []))


# ----------------------------------------------------------------------------- the presigned POST
def test_the_upload_form_is_a_presigned_post_whose_policy_holds_every_limit(api: Api, buckets: Any) -> None:
    from functions.users import app

    account = api.account()
    response = api.call(
        app.handler, "POST", "/api/me/avatar/upload", body={"contentType": "image/png"}, token=account.token
    )
    assert response.status == 201, response.body
    data = response.data
    assert UPLOADS in data["url"]
    assert data["key"].startswith(f"uploads/{account.id}/")
    assert len(data["key"].rsplit("/", 1)[1]) == 32
    assert (data["minBytes"], data["maxBytes"], data["contentType"]) == (1024, 5 * 1024 * 1024, "image/png")
    fields = data["fields"]
    assert fields["key"] == data["key"]
    assert fields["Content-Type"] == "image/png"
    assert fields["x-amz-algorithm"] == "AWS4-HMAC-SHA256"
    assert fields["x-amz-signature"]
    policy = json.loads(base64.b64decode(fields["policy"]))
    conditions = policy["conditions"]
    assert {"Content-Type": "image/png"} in conditions
    assert ["content-length-range", 1024, 5 * 1024 * 1024] in conditions
    assert {"key": data["key"]} in conditions
    assert {"bucket": UPLOADS} in conditions
    expires = datetime.fromisoformat(policy["expiration"].replace("Z", "+00:00"))
    assert timedelta(minutes=4) < expires - datetime.now(UTC) <= timedelta(minutes=5)
    # the user had no profile: one now exists for the function to update
    assert profile_of(api, account.id) is not None


@pytest.mark.parametrize("body", [{"contentType": "image/gif"}, {"contentType": "text/plain"}, {}])
def test_other_content_types_are_refused(api: Api, buckets: Any, body: dict[str, Any]) -> None:
    from functions.users import app

    response = api.call(app.handler, "POST", "/api/me/avatar/upload", body=body, token=api.account().token)
    assert response.status == 400
    assert response.body["code"] == "VALIDATION_ERROR"


def test_the_upload_form_needs_a_signed_in_user(api: Api, buckets: Any) -> None:
    from functions.users import app

    response = api.call(app.handler, "POST", "/api/me/avatar/upload", body={"contentType": "image/png"})
    assert response.status == 401


# ----------------------------------------------------------------------------- the function
def test_a_jpeg_becomes_three_square_webps_without_metadata_on_the_profile(api: Api, buckets: Any) -> None:
    user = member(api)
    data = jpeg((600, 400), exif=gps_exif())
    key = upload(buckets, user.id, data)

    assert run_function(key, len(data)) == {"results": [{"key": key, "status": "accepted", "reason": None}]}

    profile = profile_of(api, user.id)
    stem = profile.avatar_key
    assert stem.startswith(f"avatars/{user.id}/")
    assert profile.avatar_images == {str(px): f"{CDN}/{stem}-{px}.webp" for px in (64, 256, 512)}
    assert profile.avatar == f"{CDN}/{stem}-256.webp"
    assert served_keys(buckets) == sorted(f"{stem}-{px}.webp" for px in (64, 256, 512))
    assert upload_keys(buckets) == []  # the upload is deleted
    for px in (64, 256, 512):
        obj = buckets.get_object(Bucket=SERVED, Key=f"{stem}-{px}.webp")
        assert obj["ContentType"] == "image/webp"
        assert obj["CacheControl"] == "public, max-age=31536000, immutable"
        image = Image.open(io.BytesIO(obj["Body"].read()))
        assert (image.format, image.size) == ("WEBP", (px, px))
        assert not image.getexif()
        assert "exif" not in image.info
        assert "xmp" not in image.info
        assert "icc_profile" not in image.info


def test_a_png_and_a_webp_are_accepted_and_the_newer_replaces_the_older(api: Api, buckets: Any) -> None:
    user = member(api)
    first = io.BytesIO()
    picture = Image.effect_noise((300, 300), 60).convert("RGB")
    picture.save(first, "PNG")
    key = upload(buckets, user.id, first.getvalue(), name="one")
    t0 = datetime.now(UTC)
    assert run_function(key, len(first.getvalue()), when=t0)["results"][0]["status"] == "accepted"
    old_stem = profile_of(api, user.id).avatar_key

    second = io.BytesIO()
    Image.effect_noise((200, 300), 90).convert("RGB").save(second, "WEBP", quality=90)
    key = upload(buckets, user.id, second.getvalue(), name="two")
    assert run_function(key, len(second.getvalue()), when=t0 + timedelta(seconds=1))["results"][0][
        "status"
    ] == ("accepted")
    new_stem = profile_of(api, user.id).avatar_key
    assert new_stem != old_stem
    assert served_keys(buckets) == sorted(f"{new_stem}-{px}.webp" for px in (64, 256, 512))  # old ones gone


def test_a_stale_upload_never_overwrites_a_newer_avatar(api: Api, buckets: Any) -> None:
    user = member(api)
    now = datetime.now(UTC)
    newer = jpeg(color="navy")
    assert run_function(upload(buckets, user.id, newer, name="new"), len(newer), when=now)["results"][0][
        "status"
    ] == ("accepted")
    before = profile_of(api, user.id)

    older = jpeg(color="olive")
    key = upload(buckets, user.id, older, name="old")
    outcome = run_function(key, len(older), when=now - timedelta(seconds=30))["results"][0]
    assert outcome["status"] == "stale"
    after = profile_of(api, user.id)
    assert (after.avatar_key, after.avatar_images, after.version) == (
        before.avatar_key,
        before.avatar_images,
        before.version,
    )
    assert served_keys(buckets) == sorted(f"{before.avatar_key}-{px}.webp" for px in (64, 256, 512))
    assert upload_keys(buckets) == []


def bomb_png() -> bytes:
    """A small valid PNG whose header claims 100,000 x 100,000 pixels (a decompression bomb)."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)
    rows = zlib.compress(b"\x00" * 4096, 9)  # far too few rows: it never needs to be decoded
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", rows)
        + chunk(b"IEND", b"")
        + b"\0" * 1024
    )


def gif() -> bytes:
    out = io.BytesIO()
    Image.effect_noise((200, 200), 50).convert("P").save(out, "GIF")
    return out.getvalue() + b"\0" * 1024


def huge_dimensions() -> bytes:
    out = io.BytesIO()
    Image.new("L", (5000, 40)).save(out, "PNG")
    return out.getvalue() + b"\0" * 1024


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        (
            "text.png",
            b"not an image at all, only text pretending to be a PNG\n" * 40,
            "not a JPEG, PNG or WebP",
        ),
        ("bomb.png", bomb_png(), "decompression bomb"),
        ("wide.png", huge_dimensions(), "larger than 4096x4096"),
        ("anim.gif", gif(), "not a JPEG, PNG or WebP"),
        ("truncated.jpg", jpeg()[:1500], "cannot be decoded"),
    ],
)
def test_a_bad_or_hostile_file_leaves_the_old_avatar_and_is_deleted(
    api: Api, buckets: Any, name: str, data: bytes, reason: str
) -> None:
    user = member(api)
    good = jpeg()
    run_function(upload(buckets, user.id, good, name="good"), len(good))
    before = profile_of(api, user.id)
    served = served_keys(buckets)

    key = upload(buckets, user.id, data, name=name)
    (outcome,) = run_function(key, len(data))["results"]
    assert outcome["status"] == "rejected", outcome
    assert reason in outcome["reason"], outcome

    assert profile_of(api, user.id) == before
    assert served_keys(buckets) == served
    assert upload_keys(buckets) == []


@pytest.mark.parametrize("size", [5 * 1024 * 1024 + 1, 1023])
def test_a_file_outside_the_size_range_is_refused_unread(api: Api, buckets: Any, size: int) -> None:
    user = member(api)
    key = upload(buckets, user.id, b"\0" * min(size, 2048))
    (outcome,) = run_function(key, size)["results"]
    assert outcome["status"] == "rejected"
    assert "outside 1024-5242880" in outcome["reason"]
    assert profile_of(api, user.id).avatar_images is None
    assert upload_keys(buckets) == []


def test_an_upload_for_a_deleted_account_is_dropped_with_its_images(api: Api, buckets: Any) -> None:
    user = api.user()  # no profile: the account is gone as far as the function can tell
    data = jpeg()
    (outcome,) = run_function(upload(buckets, user.id, data), len(data))["results"]
    assert outcome["status"] == "stale"
    assert served_keys(buckets) == []
    assert upload_keys(buckets) == []


def test_an_error_keeps_the_upload_for_lambdas_retries_and_the_dead_letter_redrive(
    api: Api, buckets: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DynamoDB unavailable: the invocation fails (Lambda retries it, then AvatarDLQ), and the
    upload stays, so the retry or the redrive still has it to process."""
    from backend.errors import UnavailableError

    user = member(api)
    data = jpeg()
    key = upload(buckets, user.id, data)
    profiles = type(api.container.profiles)
    original = profiles.set_avatar

    def unavailable(self: Any, *args: Any, **kwargs: Any) -> Any:
        raise UnavailableError("The database is temporarily unavailable")

    monkeypatch.setattr(profiles, "set_avatar", unavailable)
    with pytest.raises(UnavailableError):
        run_function(key, len(data))
    assert upload_keys(buckets) == [key]  # kept: the retry needs it
    assert profile_of(api, user.id).avatar_images is None
    monkeypatch.setattr(profiles, "set_avatar", original)
    (outcome,) = run_function(key, len(data))["results"]  # Lambda's retry, or the redrive
    assert outcome["status"] == "accepted"
    assert upload_keys(buckets) == []
    assert profile_of(api, user.id).avatar_images


def test_a_key_outside_a_user_prefix_is_ignored(api: Api, buckets: Any) -> None:
    (outcome,) = run_function("uploads/not-a-user-key", 2048)["results"]
    assert outcome["status"] == "ignored"


# ----------------------------------------------------------------------------- removal
def test_delete_avatar_clears_the_profile_and_deletes_the_images(api: Api, buckets: Any) -> None:
    from functions.users import app

    account = signed_in(api)
    data = jpeg()
    run_function(upload(buckets, account.id, data), len(data))
    assert len(served_keys(buckets)) == 3

    response = api.call(app.handler, "DELETE", "/api/me/avatar", token=account.token)
    assert response.status == 204
    me = api.call(app.handler, "GET", "/api/me", token=account.token).data
    assert (me["profile"]["avatar"], me["profile"]["avatarImages"]) == (None, None)
    assert served_keys(buckets) == []
    # idempotent
    assert api.call(app.handler, "DELETE", "/api/me/avatar", token=account.token).status == 204


def test_get_me_shows_the_absolute_urls(api: Api, buckets: Any) -> None:
    from functions.users import app

    account = signed_in(api)
    data = jpeg()
    run_function(upload(buckets, account.id, data), len(data))
    profile = api.call(app.handler, "GET", "/api/me", token=account.token).data["profile"]
    assert set(profile["avatarImages"]) == {"64", "256", "512"}
    assert all(url.startswith(f"{CDN}/avatars/{account.id}/") for url in profile["avatarImages"].values())
    assert profile["avatar"] == profile["avatarImages"]["256"]


def test_a_profile_edit_keeps_the_avatar(api: Api, buckets: Any) -> None:
    from functions.users import app

    account = signed_in(api)
    data = jpeg()
    run_function(upload(buckets, account.id, data), len(data))
    response = api.call(app.handler, "PUT", "/api/me/profile", body={"name": "New Name"}, token=account.token)
    assert response.status == 200
    assert set(response.data["profile"]["avatarImages"]) == {"64", "256", "512"}


def test_account_deletion_deletes_the_images(api: Api, buckets: Any) -> None:
    from functions.users import app

    account = signed_in(api)
    other = member(api)
    for user_id in (account.id, other.id):
        data = jpeg()
        run_function(upload(buckets, user_id, data), len(data))
    assert len(served_keys(buckets)) == 6

    assert api.call(app.handler, "DELETE", "/api/me", token=account.token).status == 204
    remaining = served_keys(buckets)
    assert len(remaining) == 3
    assert all(key.startswith(f"avatars/{other.id}/") for key in remaining)
