"""Addresses SES reported as bouncing or complaining: ``PK=SUPPRESSED#<email>, SK=SUPPRESSED``.

Writing one also marks the user with that address (``emailStatus``), so admins see it. The email
job reads one item per send (GetItem) and skips suppressed addresses.
"""

from __future__ import annotations

from backend.models import keys
from backend.models.account import SuppressionModel
from backend.models.clock import Clock, utcnow
from backend.models.user import UserModel
from backend.repositories import guards
from backend.repositories.dynamo import get_item, retrying, translated_errors
from backend.values import normalize_email


class SuppressionsRepository:
    def __init__(self, *, clock: Clock = utcnow) -> None:
        self._clock = clock

    def is_suppressed(self, email: str) -> bool:
        address = email.strip().lower()
        return get_item(SuppressionModel, keys.suppression_pk(address), keys.SUPPRESSION_SK) is not None

    def suppress(self, email: str, *, reason: str, detail: str | None = None) -> str | None:
        """Suppress ``email`` (idempotent: the latest report wins); returns the id of the user with
        that address, whose ``emailStatus`` now says why, or None."""
        address = normalize_email(email)
        model = SuppressionModel(keys.suppression_pk(address), keys.SUPPRESSION_SK)
        model.email, model.reason, model.detail = address, reason, (detail or None)
        model.created_at = self._clock()

        def save() -> None:
            with translated_errors():
                model.save()

        retrying(save)
        owner = guards.owner_of(guards.EMAIL, address)
        user = None if owner is None else get_item(UserModel, owner, keys.USER_SK, consistent=True)
        if user is None:
            return None

        def mark() -> None:
            with translated_errors():
                # No version check: the status is independent of whatever else changes on the user,
                # but the version is still incremented, so a concurrent full write does not undo it.
                user.update(
                    actions=[UserModel.email_status.set(reason), UserModel.updated_at.set(self._clock())],
                    add_version_condition=False,
                )

        retrying(mark)
        return str(user.id)
