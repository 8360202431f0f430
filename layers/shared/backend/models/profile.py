"""Profile item: ``PK=USER#<userId>, SK=PROFILE`` (one per user, deleted with the user)."""

from __future__ import annotations

from pynamodb.attributes import UnicodeAttribute, VersionAttribute

from backend.models import keys
from backend.models.attributes import IsoDateTimeAttribute
from backend.models.base import TableItem


class ProfileModel(TableItem, discriminator="Profile"):
    user_id = UnicodeAttribute(attr_name="userId")
    bio = UnicodeAttribute(null=True)
    website = UnicodeAttribute(null=True)
    avatar = UnicodeAttribute(null=True)
    created_at = IsoDateTimeAttribute(attr_name="createdAt")
    updated_at = IsoDateTimeAttribute(attr_name="updatedAt")
    version = VersionAttribute()

    def sync_keys(self) -> None:
        self.pk, self.sk = keys.user_pk(self.user_id), keys.PROFILE_SK
