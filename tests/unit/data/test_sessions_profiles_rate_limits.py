"""Sessions (expiry read as absence, rotation), profiles (one per user), rate-limit windows."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from backend.errors import ConcurrentModificationError, ConflictError, NotFoundError, ValidationError
from backend.models import keys
from tests.support.ddb import count_requests


class TestSessions:
    def test_an_expired_session_reads_as_absent_although_the_item_is_still_stored(
        self, sessions: Any, make_user: Any, clock: Any, db: Any
    ) -> None:
        user = make_user()
        short = sessions.create(user.id, token_hash="a", expires_at=clock() + timedelta(minutes=5))
        long = sessions.create(user.id, token_hash="b", expires_at=clock() + timedelta(days=1))
        clock.advance(minutes=5)
        stored = db.get_item(
            TableName="app-backend-test",
            Key={"PK": {"S": keys.user_pk(user.id)}, "SK": {"S": keys.session_sk(short.id)}},
        )
        assert "Item" in stored  # TTL deletes lazily (and moto never does)
        with count_requests() as log, pytest.raises(NotFoundError):
            sessions.get(user.id, short.id)
        assert log.operations() == ["GetItem"]
        assert [s.id for s in sessions.list_for_user(user.id)] == [long.id]

    def test_create_needs_an_existing_user_and_a_future_expiry(
        self, sessions: Any, make_user: Any, clock: Any
    ) -> None:
        with pytest.raises(NotFoundError, match="User"):
            sessions.create(
                "01ARZ3NDEKTSV4RRFFQ69G5FAV", token_hash="h", expires_at=clock() + timedelta(hours=1)
            )
        with pytest.raises(ValidationError):
            sessions.create(make_user().id, token_hash="h", expires_at=clock())

    def test_rotation_accepts_the_current_token_once(self, sessions: Any, make_user: Any, clock: Any) -> None:
        user = make_user()
        session = sessions.create(user.id, token_hash="one", expires_at=clock() + timedelta(hours=1))
        clock.advance(minutes=1)
        with count_requests() as log:
            rotated = sessions.rotate(
                user.id,
                session.id,
                old_token_hash="one",
                new_token_hash="two",
                expires_at=clock() + timedelta(hours=2),
            )
        assert log.operations() == ["UpdateItem"]
        assert (rotated.token_hash, rotated.rotated_at, rotated.created_at) == (
            "two",
            clock(),
            session.created_at,
        )
        with pytest.raises(ConflictError) as replay:
            sessions.rotate(
                user.id,
                session.id,
                old_token_hash="one",
                new_token_hash="x",
                expires_at=clock() + timedelta(hours=1),
            )
        assert replay.value.code == "REFRESH_TOKEN_REUSED"
        clock.advance(hours=3)
        with pytest.raises(NotFoundError):
            sessions.rotate(
                user.id,
                session.id,
                old_token_hash="two",
                new_token_hash="y",
                expires_at=clock() + timedelta(hours=1),
            )
        with pytest.raises(NotFoundError):
            sessions.rotate(
                user.id,
                "01ARZ3NDEKTSV4RRFFQ69G5FAV",
                old_token_hash="two",
                new_token_hash="y",
                expires_at=clock() + timedelta(hours=1),
            )

    def test_delete_one_and_all(self, sessions: Any, make_user: Any, clock: Any) -> None:
        user = make_user()
        created = [
            sessions.create(user.id, token_hash="h", expires_at=clock() + timedelta(hours=1))
            for _ in range(3)
        ]
        sessions.delete(user.id, created[0].id)
        sessions.delete(user.id, created[0].id)  # idempotent
        assert len(sessions.list_for_user(user.id)) == 2
        assert sessions.delete_all_for_user(user.id) == 2
        assert sessions.list_for_user(user.id) == []


class TestProfiles:
    def test_one_profile_per_existing_user(self, profiles: Any, make_user: Any) -> None:
        user = make_user()
        with pytest.raises(NotFoundError, match="User"):
            profiles.create("01ARZ3NDEKTSV4RRFFQ69G5FAV", bio="x")
        profile = profiles.create(user.id, bio="hello")
        with pytest.raises(ConflictError):
            profiles.create(user.id, bio="again")
        assert profiles.get(user.id) == profile

    def test_update_is_optimistic_and_upsert_creates_or_updates(self, profiles: Any, make_user: Any) -> None:
        user = make_user()
        assert profiles.find(user.id) is None
        created = profiles.upsert(user.id, bio="v1")
        updated = profiles.upsert(user.id, bio="v2", avatar="a.png")
        assert (updated.bio, updated.avatar, updated.version) == ("v2", "a.png", created.version + 1)
        with pytest.raises(ConcurrentModificationError):
            profiles.update(created, bio="stale")
        profiles.delete(updated)
        with pytest.raises(NotFoundError):
            profiles.get(user.id)
        with pytest.raises(NotFoundError):
            profiles.update(updated, bio="gone")


class TestRateLimits:
    def test_fixed_window_allows_limit_hits_then_refuses_until_the_next_window(
        self, rate_limits: Any, clock: Any
    ) -> None:
        clock.now = clock.now.replace(second=10, microsecond=0)
        results = [rate_limits.hit("ip:1", limit=3, window_seconds=60) for _ in range(4)]
        assert [r.allowed for r in results] == [True, True, True, False]
        assert [r.remaining for r in results] == [2, 1, 0, 0]
        assert results[3].retry_after_seconds == 50
        assert rate_limits.hit("ip:2", limit=3, window_seconds=60).allowed  # buckets are independent
        clock.advance(seconds=50)
        fresh = rate_limits.hit("ip:1", limit=3, window_seconds=60)
        assert (fresh.allowed, fresh.remaining) == (True, 2)

    def test_windows_expire_through_ttl(self, rate_limits: Any, clock: Any, db: Any) -> None:
        clock.now = clock.now.replace(second=0, microsecond=0)
        result = rate_limits.hit("user:7", limit=1, window_seconds=60)
        item = db.get_item(
            TableName="app-backend-test",
            Key={
                "PK": {"S": keys.rate_limit_pk("user:7")},
                "SK": {"S": keys.rate_limit_sk(int(clock().timestamp()))},
            },
        )["Item"]
        assert int(item[keys.TTL_ATTRIBUTE]["N"]) == int(result.reset_at.timestamp())
        assert item["type"] == {"S": "RateLimit"}

    def test_concurrent_hits_never_exceed_the_limit(self, rate_limits: Any) -> None:
        from tests.support.ddb import run_concurrently, serializable_moto

        with serializable_moto():
            results = run_concurrently([lambda: rate_limits.hit("burst", limit=5, window_seconds=3600)] * 12)
        assert sum(1 for r in results if not isinstance(r, BaseException) and r.allowed) == 5
