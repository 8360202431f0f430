"""Single-use action tokens: ``PK=TOKEN#<sha256>, SK=TOKEN`` (see backend/models/account.py).

``issue`` is one PutItem, ``find`` one strongly consistent GetItem (an expired token reads as
absent), and ``consume`` adds a conditional delete to the caller's transaction: the write the token
authorizes (verify the address, set the password, move the email) and the token's deletion commit
together or not at all, so a token can never be used twice, nor be spent without effect.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from backend.errors import InvalidTokenError
from backend.models import keys
from backend.models.account import ActionTokenModel
from backend.models.clock import Clock, utcnow
from backend.models.enums import TokenPurpose
from backend.records.users import ActionTokenRecord
from backend.repositories.dynamo import get_item
from backend.repositories.transaction import Transaction, fixed, unexpected

VERIFY_EMAIL = TokenPurpose.VERIFY_EMAIL
PASSWORD_RESET = TokenPurpose.PASSWORD_RESET
EMAIL_CHANGE = TokenPurpose.EMAIL_CHANGE


def invalid_token() -> InvalidTokenError:
    return InvalidTokenError()


def _key_model(token_hash: str) -> ActionTokenModel:
    model = ActionTokenModel(keys.action_token_pk(token_hash), keys.ACTION_TOKEN_SK)
    model.token_hash = token_hash
    return model


def to_record(model: ActionTokenModel) -> ActionTokenRecord:
    return ActionTokenRecord(
        purpose=model.purpose,
        user_id=model.user_id,
        email=model.email,
        created_at=model.created_at,
        expires_at=model.expires_at,
    )


class ActionTokensRepository:
    def __init__(self, *, clock: Clock = utcnow) -> None:
        self._clock = clock

    def issue(
        self, *, token_hash: str, purpose: str, user_id: str, email: str, ttl: timedelta
    ) -> ActionTokenRecord:
        now = self._clock()
        model = _key_model(token_hash)
        model.purpose, model.user_id, model.email = purpose, user_id, email
        model.created_at, model.expires_at = now, now + ttl
        tx = Transaction()
        tx.put(model, condition=ActionTokenModel.pk.does_not_exist(), on_fail=unexpected)
        tx.commit()
        return to_record(model)

    def find(self, token_hash: str, purpose: str) -> ActionTokenRecord:
        """The live token of that purpose; BadRequestError INVALID_TOKEN otherwise (absent, used,
        expired, or made for another purpose: a reset link is no verification link)."""
        model = get_item(
            ActionTokenModel, keys.action_token_pk(token_hash), keys.ACTION_TOKEN_SK, consistent=True
        )
        if model is None or model.purpose != purpose or model.expires_at <= self._clock():
            raise invalid_token()
        return to_record(model)

    def consume(self, tx: Transaction, token_hash: str, purpose: str) -> None:
        """Delete the token in ``tx``, only if it still exists, has ``purpose`` and has not expired."""
        now: datetime = self._clock()
        condition = (
            ActionTokenModel.pk.exists()
            & (ActionTokenModel.purpose == purpose)
            & (ActionTokenModel.expires_at > now)
        )
        tx.delete(_key_model(token_hash), condition=condition, on_fail=fixed(invalid_token))

    def delete(self, token_hash: str) -> None:
        tx = Transaction()
        tx.delete(_key_model(token_hash), on_fail=unexpected)
        tx.commit()


__all__ = ["EMAIL_CHANGE", "PASSWORD_RESET", "VERIFY_EMAIL", "ActionTokensRepository", "invalid_token"]
