"""Refresh-token sessions: ``PK=USER#<userId>, SK=SESSION#<id>``, expiring via ``expiresAt``.

The refresh token given to the client carries the user id and session id (for example as JWT
claims) plus a secret; only a hash of the secret is stored here. An expired session reads as absent
even while DynamoDB's lazy TTL has not deleted it yet: GetItem results are checked in code, and the
Query of a user's sessions filters on ``expiresAt`` (filtered items still cost their read).
"""

from __future__ import annotations

from datetime import datetime

from pynamodb.exceptions import UpdateError

from backend.errors import ConflictError, NotFoundError, ValidationError
from backend.models import keys
from backend.models.clock import Clock, utcnow
from backend.models.ids import new_id
from backend.models.session import SessionModel
from backend.records.users import SessionRecord
from backend.repositories.checks import require_user
from backend.repositories.dynamo import QuerySpec, get_item, query_all, retrying, to_models, translated_errors
from backend.repositories.transaction import Transaction, unexpected


def to_session_record(model: SessionModel) -> SessionRecord:
    return SessionRecord(
        id=model.id,
        user_id=model.user_id,
        token_hash=model.token_hash,
        user_agent=model.user_agent,
        created_at=model.created_at,
        rotated_at=model.rotated_at,
        expires_at=model.expires_at,
    )


def _key_model(user_id: str, session_id: str) -> SessionModel:
    model = SessionModel(keys.user_pk(user_id), keys.session_sk(session_id))
    model.id, model.user_id = session_id, user_id
    return model


class SessionsRepository:
    def __init__(self, *, clock: Clock = utcnow) -> None:
        self._clock = clock

    def _expired(self, expires_at: datetime) -> bool:
        return expires_at <= self._clock()

    def create(
        self, user_id: str, *, token_hash: str, expires_at: datetime, user_agent: str | None = None
    ) -> SessionRecord:
        """One transaction: the session and a check that the user exists."""
        now = self._clock()
        if expires_at <= now:
            raise ValidationError("A session must expire in the future")
        model = _key_model(user_id, new_id())
        model.token_hash = token_hash
        model.user_agent = user_agent
        model.created_at = now
        model.expires_at = expires_at
        tx = Transaction()
        require_user(tx, user_id)
        tx.put(model, condition=SessionModel.pk.does_not_exist(), on_fail=unexpected)
        tx.commit()
        return to_session_record(model)

    def get(self, user_id: str, session_id: str) -> SessionRecord:
        """GetItem; an expired session is NotFound even if DynamoDB has not deleted it yet."""
        model = get_item(SessionModel, keys.user_pk(user_id), keys.session_sk(session_id), consistent=True)
        if model is None or self._expired(model.expires_at):
            raise NotFoundError("Session")
        return to_session_record(model)

    def list_for_user(self, user_id: str) -> list[SessionRecord]:
        """Live sessions of a user, oldest first: one Query with an ``expiresAt`` filter."""
        spec = QuerySpec(
            keys.user_pk(user_id),
            range_condition=SessionModel.sk.startswith(keys.SESSION_SK_PREFIX),
            filter=SessionModel.expires_at > self._clock(),
            consistent=True,
        )
        return [
            to_session_record(m)
            for m in to_models(query_all(spec))
            if isinstance(m, SessionModel) and not self._expired(m.expires_at)
        ]

    def rotate(
        self, user_id: str, session_id: str, *, old_token_hash: str, new_token_hash: str, expires_at: datetime
    ) -> SessionRecord:
        """Swap the refresh token (one UpdateItem), only if ``old_token_hash`` is current and live.

        NotFoundError: no such (live) session. ConflictError ``REFRESH_TOKEN_REUSED``: the presented
        token was already rotated away (a replay; the caller should revoke the user's sessions).
        """
        now = self._clock()
        model = _key_model(user_id, session_id)
        condition = (
            SessionModel.pk.exists()
            & (SessionModel.token_hash == old_token_hash)
            & (SessionModel.expires_at > now)
        )

        def rotate() -> None:
            with translated_errors():
                model.update(
                    [
                        SessionModel.token_hash.set(new_token_hash),
                        SessionModel.rotated_at.set(now),
                        SessionModel.expires_at.set(expires_at),
                    ],
                    condition=condition,
                )

        try:
            retrying(rotate)
        except UpdateError as exc:
            if exc.cause_response_code != "ConditionalCheckFailedException":
                raise
            # Failure path only: one more read to tell "gone" from "replayed".
            current = get_item(SessionModel, model.pk, model.sk, consistent=True)
            if current is None or self._expired(current.expires_at):
                raise NotFoundError("Session") from None
            raise ConflictError("Refresh token already used", code="REFRESH_TOKEN_REUSED") from None
        return to_session_record(model)

    def delete(self, user_id: str, session_id: str) -> None:
        """Delete one session (idempotent: deleting a missing session is not an error)."""
        tx = Transaction()
        tx.delete(_key_model(user_id, session_id), on_fail=unexpected)
        tx.commit()

    def delete_all_for_user(self, user_id: str, *, keep: str | None = None) -> int:
        """Delete every session of a user (expired ones too) but ``keep``: one Query, then
        BatchWriteItem. Returns how many were deleted."""
        spec = QuerySpec(
            keys.user_pk(user_id),
            range_condition=SessionModel.sk.startswith(keys.SESSION_SK_PREFIX),
            consistent=True,
        )
        sessions = [m for m in to_models(query_all(spec)) if isinstance(m, SessionModel) and m.id != keep]
        with translated_errors(), SessionModel.batch_write() as batch:
            for session in sessions:
                batch.delete(session)
        return len(sessions)
