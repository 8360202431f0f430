"""Profile item: ``PK=USER#<userId>, SK=PROFILE`` (one per user, deleted with the user)."""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, VersionAttribute

from backend.models import keys
from backend.models.attributes import IsoDateTimeAttribute, StringMapAttribute
from backend.models.base import TableItem


class ProfileModel(TableItem, discriminator="Profile"):
    user_id = UnicodeAttribute(attr_name="userId")
    bio = UnicodeAttribute(null=True)
    website = UnicodeAttribute(null=True)
    avatar = UnicodeAttribute(null=True)
    #: {"64": url, "256": url, "512": url}: the avatar's WebP images (set by AvatarFunction)
    avatar_images = StringMapAttribute(attr_name="avatarImages", null=True)
    avatar_key = UnicodeAttribute(attr_name="avatarKey", null=True)
    #: epoch ms of the last avatar change: the condition that keeps a stale upload out
    avatar_at = NumberAttribute(attr_name="avatarAt", null=True)
    created_at = IsoDateTimeAttribute(attr_name="createdAt")
    updated_at = IsoDateTimeAttribute(attr_name="updatedAt")
    version = VersionAttribute()

    def sync_keys(self) -> None:
        self.pk, self.sk = keys.user_pk(self.user_id), keys.PROFILE_SK
