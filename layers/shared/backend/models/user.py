"""User item: ``PK=USER#<id>, SK=USER`` (the user's item collection also holds profile and sessions)."""

from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, UnicodeAttribute, VersionAttribute

from backend.models import keys
from backend.models.attributes import EnumAttribute, IsoDateTimeAttribute
from backend.models.base import TableItem
from backend.models.enums import Role


def search_text(name: str | None, email: str) -> str:
    """What the users text search matches against: case-folded name and email."""
    return f"{(name or '').casefold()}\n{email.casefold()}"


class UserModel(TableItem, discriminator="User"):
    id = UnicodeAttribute()
    email = UnicodeAttribute()  # normalised (trimmed, lower case); unique via UNIQUE#EMAIL#<email>
    name = UnicodeAttribute(null=True)
    role = EnumAttribute(Role)
    password_hash = UnicodeAttribute(attr_name="passwordHash")
    email_verified = BooleanAttribute(attr_name="emailVerified", default=False)
    #: ACTIVE, or BOUNCED / COMPLAINED once SES reported the address (the email job skips it then).
    email_status = UnicodeAttribute(attr_name="emailStatus", default="ACTIVE")
    search_text = UnicodeAttribute(attr_name="searchText")
    created_at = IsoDateTimeAttribute(attr_name="createdAt")
    updated_at = IsoDateTimeAttribute(attr_name="updatedAt")
    version = VersionAttribute()

    def sync_keys(self) -> None:
        self.pk, self.sk = keys.user_pk(self.id), keys.USER_SK
        self.gsi1pk, self.gsi1sk = keys.USERS_ALL, self.id
        self.gsi2pk, self.gsi2sk = keys.users_by_role(self.role), self.id
        self.gsi3pk, self.gsi3sk = keys.user_email_lookup(self.email), keys.USER_SK
        self.gsi4pk, self.gsi4sk = keys.USERS_ALL, self.id
        self.search_text = search_text(self.name, self.email)
