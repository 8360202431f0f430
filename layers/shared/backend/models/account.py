"""Account items: single-use action tokens (verify email, reset password, change email) and the
suppression list of addresses SES reported as bouncing or complaining.

- ``PK=TOKEN#<sha256 of the token>, SK=TOKEN``: only the hash is stored; the item expires (TTL), and
  an expired one reads as absent. Consuming it is a conditional delete, so a token works once.
- ``PK=SUPPRESSED#<email>, SK=SUPPRESSED``: the email job never sends to such an address.
"""

from __future__ import annotations

from pynamodb.attributes import TTLAttribute, UnicodeAttribute

from backend.models import keys
from backend.models.attributes import IsoDateTimeAttribute
from backend.models.base import TableItem


class ActionTokenModel(TableItem, discriminator="ActionToken"):
    token_hash = UnicodeAttribute(attr_name="tokenHash")
    purpose = UnicodeAttribute()
    user_id = UnicodeAttribute(attr_name="userId")
    #: The address the token is about (verification: the current one; email change: the new one).
    email = UnicodeAttribute()
    created_at = IsoDateTimeAttribute(attr_name="createdAt")
    expires_at = TTLAttribute(attr_name=keys.TTL_ATTRIBUTE)

    def sync_keys(self) -> None:
        self.pk, self.sk = keys.action_token_pk(self.token_hash), keys.ACTION_TOKEN_SK


class SuppressionModel(TableItem, discriminator="Suppression"):
    email = UnicodeAttribute()
    reason = UnicodeAttribute()  # BOUNCED or COMPLAINED
    detail = UnicodeAttribute(null=True)
    created_at = IsoDateTimeAttribute(attr_name="createdAt")

    def sync_keys(self) -> None:
        self.pk, self.sk = keys.suppression_pk(self.email), keys.SUPPRESSION_SK
