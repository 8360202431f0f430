"""Refresh-token session: ``PK=USER#<userId>, SK=SESSION#<id>``, expiring through ``expiresAt`` (TTL).

Only a hash of the refresh token's secret is stored. DynamoDB deletes expired sessions lazily
(typically within days), so readers treat ``expiresAt <= now`` as absent.
"""

from __future__ import annotations

from pynamodb.attributes import TTLAttribute, UnicodeAttribute

from backend.models import keys
from backend.models.attributes import IsoDateTimeAttribute
from backend.models.base import TableItem


class SessionModel(TableItem, discriminator="Session"):
    id = UnicodeAttribute()
    user_id = UnicodeAttribute(attr_name="userId")
    token_hash = UnicodeAttribute(attr_name="tokenHash")
    user_agent = UnicodeAttribute(null=True, attr_name="userAgent")
    created_at = IsoDateTimeAttribute(attr_name="createdAt")
    rotated_at = IsoDateTimeAttribute(null=True, attr_name="rotatedAt")
    expires_at = TTLAttribute(attr_name=keys.TTL_ATTRIBUTE)

    def sync_keys(self) -> None:
        self.pk, self.sk = keys.user_pk(self.user_id), keys.session_sk(self.id)
