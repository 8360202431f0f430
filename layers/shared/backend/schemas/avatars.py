"""Avatar uploads on the wire: the presigned S3 POST a browser uploads the picture with."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from backend.schemas.common import CamelModel, StrictIn

if TYPE_CHECKING:
    from backend.records.users import AvatarUpload


class AvatarUploadIn(StrictIn):
    content_type: Literal["image/jpeg", "image/png", "image/webp"] = Field(
        description="The picture's type; the presigned policy only accepts a file posted with it"
    )


class AvatarUploadOut(CamelModel):
    """POST ``fields`` (in this order, as multipart/form-data) and then ``file`` to ``url``."""

    url: str = Field(description="Where to POST the form (the upload bucket)")
    fields: dict[str, str] = Field(description="Form fields to send as they are, before the file")
    key: str = Field(description="The object key the upload gets (under the caller's prefix)")
    content_type: str
    min_bytes: int = Field(description="The smallest file accepted (S3 refuses smaller: EntityTooSmall)")
    max_bytes: int = Field(description="The largest file accepted (S3 refuses larger: EntityTooLarge)")
    expires_at: datetime = Field(description="The policy expires then (S3 refuses later posts)")

    @classmethod
    def of(cls, upload: AvatarUpload) -> AvatarUploadOut:
        return cls(
            url=upload.url,
            fields=dict(upload.fields),
            key=upload.key,
            content_type=upload.content_type,
            min_bytes=upload.min_bytes,
            max_bytes=upload.max_bytes,
            expires_at=upload.expires_at,
        )
