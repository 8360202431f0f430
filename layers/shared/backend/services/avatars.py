"""Avatars: the upload form (a presigned S3 POST), the uploads' processing, and removal.

The flow (docs/avatars.md): ``POST /api/me/avatar/upload`` signs a POST policy for one key under
``uploads/<userId>/``; the browser posts the file straight to the upload bucket, whose
``s3:ObjectCreated:*`` event runs AvatarFunction; it decodes the image (``backend.services.imaging``,
Pillow, only in AvatarFunction's own layer), writes the square WebP sizes to the served bucket
under ``avatars/<userId>/<content hash>-<px>.webp``, and sets the profile's URLs with one
conditional UpdateItem (a stale upload never overwrites a newer avatar). The upload is deleted in
every case; a file that is no acceptable image leaves the old avatar as it was.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final, Literal

from botocore.exceptions import ClientError

from backend.errors import ConfigurationError, ConflictError, NotFoundError
from backend.models.clock import Clock, utcnow
from backend.observability import logger
from backend.records.users import AvatarUpload
from backend.services.principal import Principal

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import ObjectIdentifierTypeDef

    from backend.repositories.profiles import ProfilesRepository

#: What the upload policy accepts (and what the function decodes: the real format must be one too).
CONTENT_TYPES: Final = ("image/jpeg", "image/png", "image/webp")
MIN_UPLOAD_BYTES: Final = 1024
MAX_UPLOAD_BYTES: Final = 5 * 1024 * 1024
#: How long a signed upload form stays valid.
UPLOAD_EXPIRES_SECONDS: Final = 300
UPLOAD_PREFIX: Final = "uploads/"
SERVED_PREFIX: Final = "avatars/"
#: The square sizes written, in px; the profile's ``avatar`` is the 256 px one.
SIZES: Final = (64, 256, 512)
DEFAULT_SIZE: Final = 256
#: Served images never change (their key holds a hash of the upload): cached for a year.
CACHE_CONTROL: Final = "public, max-age=31536000, immutable"


@dataclass(frozen=True, slots=True)
class AvatarStorage:
    """The two buckets and the CDN base URL (``None`` where this function kind has none)."""

    s3: Callable[[], S3Client]
    upload_bucket: str | None = None
    bucket: str | None = None
    base_url: str | None = None

    def need(self, name: Literal["upload_bucket", "bucket", "base_url"]) -> str:
        value = getattr(self, name)
        if not value:
            variable = {
                "upload_bucket": "AVATAR_UPLOAD_BUCKET",
                "bucket": "AVATAR_BUCKET",
                "base_url": "AVATAR_BASE_URL",
            }
            raise ConfigurationError(f"Missing setting {variable[name]}: this function needs it")
        return str(value)


@dataclass(frozen=True, slots=True)
class AvatarDeps:
    profiles: ProfilesRepository
    storage: AvatarStorage
    clock: Clock = utcnow


# ----------------------------------------------------------------------------- the API side
def upload_form(deps: AvatarDeps, principal: Principal, *, content_type: str) -> AvatarUpload:
    """A presigned POST for one new key under the caller's prefix: the type, the size range, the key
    and a 5-minute expiry are conditions of the signed policy, so S3 itself refuses anything else.

    The profile is created (empty) if the user has none, so the function has an item to update."""
    if content_type not in CONTENT_TYPES:  # the schema already refuses it; a service call may not
        raise ValueError(f"content type {content_type!r} is not accepted")
    bucket = deps.storage.need("upload_bucket")
    if deps.profiles.find(principal.user_id) is None:
        try:
            deps.profiles.create(principal.user_id)
        except ConflictError:
            pass  # created meanwhile (another request): there is one now
        except NotFoundError:
            raise NotFoundError("User") from None
    key = f"{UPLOAD_PREFIX}{principal.user_id}/{secrets.token_hex(16)}"
    post = deps.storage.s3().generate_presigned_post(
        Bucket=bucket,
        Key=key,
        Fields={"Content-Type": content_type},
        Conditions=[
            {"Content-Type": content_type},
            ["content-length-range", MIN_UPLOAD_BYTES, MAX_UPLOAD_BYTES],
        ],
        ExpiresIn=UPLOAD_EXPIRES_SECONDS,
    )
    logger.info("avatar upload signed", extra={"user_id": principal.user_id, "key": key})
    return AvatarUpload(
        url=post["url"],
        fields={str(k): str(v) for k, v in post["fields"].items()},
        key=key,
        content_type=content_type,
        min_bytes=MIN_UPLOAD_BYTES,
        max_bytes=MAX_UPLOAD_BYTES,
        expires_at=deps.clock() + timedelta(seconds=UPLOAD_EXPIRES_SECONDS),
    )


def delete_avatar(deps: AvatarDeps, principal: Principal) -> None:
    """Clear the profile's avatar and delete its images (idempotent: no avatar, nothing to do)."""
    profile = deps.profiles.find(principal.user_id)
    if profile is None or (profile.avatar_key is None and profile.avatar is None):
        return
    deps.profiles.clear_avatar(profile, at=_epoch_ms(deps.clock()))
    if profile.avatar_key:
        _delete_keys(deps.storage, image_keys(profile.avatar_key))
    logger.info("avatar removed", extra={"user_id": principal.user_id})


def delete_user_images(storage: AvatarStorage, user_id: str) -> int:
    """Account deletion: every served image of the user (all of ``avatars/<userId>/``)."""
    bucket = storage.need("bucket")
    client = storage.s3()
    keys: list[str] = []
    for page in client.get_paginator("list_objects_v2").paginate(
        Bucket=bucket, Prefix=f"{SERVED_PREFIX}{user_id}/"
    ):
        keys.extend(str(item["Key"]) for item in page.get("Contents", []))
    _delete_keys(storage, keys)
    return len(keys)


# ----------------------------------------------------------------------------- the function side
@dataclass(frozen=True, slots=True)
class UploadOutcome:
    key: str
    status: Literal["accepted", "rejected", "stale", "ignored"]
    reason: str | None = None


def user_of_upload(key: str) -> str | None:
    """The user id an upload key belongs to (``uploads/<userId>/<random>``), or None."""
    parts = key.split("/")
    if len(parts) != 3 or parts[0] + "/" != UPLOAD_PREFIX or not parts[1] or not parts[2]:
        return None
    return parts[1]


def image_keys(stem: str) -> list[str]:
    return [f"{stem}-{size}.webp" for size in SIZES]


def process_upload(
    deps: AvatarDeps, *, bucket: str, key: str, size: int | None, event_time: datetime
) -> UploadOutcome:
    """Turn one upload into the profile's avatar, or refuse it; the upload is deleted once it has
    an outcome (accepted, refused, stale or ignored).

    ``size`` is the S3 event's object size: a file over the limit is refused before it is read. An
    error (S3 or DynamoDB unavailable) leaves the upload where it is and propagates: the invocation
    fails, Lambda retries the event twice and then dead-letters it to AvatarDLQ, and both the
    retries and a redrive need the upload (the bucket's lifecycle rule expires it after a day).
    """
    user_id = user_of_upload(key)
    if user_id is None:
        logger.warning("not an avatar upload key: ignored", extra={"key": key})
        return UploadOutcome(key, "ignored", "not under uploads/<userId>/")
    client = deps.storage.s3()
    outcome = _process(
        deps, client, bucket=bucket, key=key, user_id=user_id, size=size, event_time=event_time
    )
    client.delete_object(Bucket=bucket, Key=key)  # only once there is an outcome: never on an error
    return outcome


def _process(
    deps: AvatarDeps,
    client: Any,
    *,
    bucket: str,
    key: str,
    user_id: str,
    size: int | None,
    event_time: datetime,
) -> UploadOutcome:
    from backend.services import imaging  # Pillow: only AvatarFunction has it (its own layer)

    if size is not None and not MIN_UPLOAD_BYTES <= size <= MAX_UPLOAD_BYTES:
        return _rejected(key, user_id, f"size {size} bytes is outside {MIN_UPLOAD_BYTES}-{MAX_UPLOAD_BYTES}")
    try:
        body = client.get_object(Bucket=bucket, Key=key)["Body"]
    except ClientError as exc:
        # Without s3:ListBucket (not granted) S3 answers a missing key with 403, not 404 (AWS
        # GetObject reference): an event delivered twice finds its upload processed already.
        if str(exc.response.get("Error", {}).get("Code")) not in (
            "NoSuchKey",
            "404",
            "AccessDenied",
            "403",
        ):
            raise
        logger.warning("avatar upload gone or unreadable", extra={"user_id": user_id, "key": key})
        return UploadOutcome(key, "ignored", "the upload is gone (processed already)")
    data = body.read(MAX_UPLOAD_BYTES + 1)
    if not MIN_UPLOAD_BYTES <= len(data) <= MAX_UPLOAD_BYTES:
        return _rejected(key, user_id, f"{len(data)} bytes is outside {MIN_UPLOAD_BYTES}-{MAX_UPLOAD_BYTES}")
    try:
        rendered = imaging.square_webps(data, SIZES)
    except imaging.RejectedImage as exc:
        return _rejected(key, user_id, str(exc))
    stem = f"{SERVED_PREFIX}{user_id}/{hashlib.sha256(data).hexdigest()[:20]}"
    return _publish(deps, user_id=user_id, key=key, stem=stem, rendered=rendered, event_time=event_time)


def _publish(
    deps: AvatarDeps,
    *,
    user_id: str,
    key: str,
    stem: str,
    rendered: dict[int, bytes],
    event_time: datetime,
) -> UploadOutcome:
    from backend.repositories.profiles import StaleAvatarError

    bucket = deps.storage.need("bucket")
    base_url = deps.storage.need("base_url").rstrip("/")
    client = deps.storage.s3()
    previous = deps.profiles.find(user_id)
    for px, image in rendered.items():
        client.put_object(
            Bucket=bucket,
            Key=f"{stem}-{px}.webp",
            Body=image,
            ContentType="image/webp",
            CacheControl=CACHE_CONTROL,
        )
    images = {str(px): f"{base_url}/{stem}-{px}.webp" for px in rendered}
    try:
        deps.profiles.set_avatar(
            user_id, images=images, key=stem, avatar=images[str(DEFAULT_SIZE)], at=_epoch_ms(event_time)
        )
    except StaleAvatarError:
        if previous is None or previous.avatar_key != stem:  # the same picture again: keep its images
            _delete_keys(deps.storage, image_keys(stem))
        logger.info("stale avatar upload dropped", extra={"user_id": user_id, "key": key})
        return UploadOutcome(key, "stale", "the profile is gone or has a newer avatar")
    if previous is not None and previous.avatar_key and previous.avatar_key != stem:
        _delete_keys(deps.storage, image_keys(previous.avatar_key))
    logger.info("avatar set", extra={"user_id": user_id, "key": key, "stem": stem})
    return UploadOutcome(key, "accepted")


def _rejected(key: str, user_id: str, reason: str) -> UploadOutcome:
    logger.warning("avatar upload rejected", extra={"user_id": user_id, "key": key, "reason": reason})
    return UploadOutcome(key, "rejected", reason)


def _delete_keys(storage: AvatarStorage, keys: Iterable[str]) -> None:
    batch: list[ObjectIdentifierTypeDef] = [{"Key": key} for key in keys]
    if not batch:
        return
    bucket = storage.need("bucket")
    client = storage.s3()
    for start in range(0, len(batch), 1000):  # DeleteObjects takes at most 1,000 keys
        client.delete_objects(Bucket=bucket, Delete={"Objects": batch[start : start + 1000], "Quiet": True})


def _epoch_ms(moment: datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)
