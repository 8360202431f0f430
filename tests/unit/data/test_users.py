"""UsersRepository: uniqueness, optimistic locking, counters, the account-deletion cascade."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from backend.errors import ConcurrentModificationError, ConflictError, NotFoundError, ValidationError
from backend.models import keys
from backend.models.clock import utcnow
from backend.models.enums import Role
from backend.models.ids import new_id
from backend.records import PageRequest
from backend.records.orders import OrderLine
from backend.repositories import counters as refs
from tests.support.ddb import count_requests


def seed_posts(author_id: str, count: int) -> list[Any]:
    """Posts as PostsRepository.create writes them (item, slug guard, counter), seeded with
    BatchWriteItem: creating dozens through moto's transactions would be slow (it copies the table)."""
    from backend.models.post import PostModel
    from backend.models.system import CounterModel, UniqueGuardModel
    from backend.repositories.posts import to_post_record

    models = []
    with PostModel.batch_write() as batch:
        for index in range(count):
            post = PostModel(
                id=new_id(),
                author_id=author_id,
                title=str(index),
                slug=f"seeded-{author_id}-{index}",
                published=False,
                category_ids=[],
                created_at=utcnow(),
                updated_at=utcnow(),
            )
            post.version = 1
            post.sync_keys()
            guard = UniqueGuardModel(keys.unique_pk("POST_SLUG", post.slug), keys.UNIQUE_SK, owner=post.pk)
            batch.save(post)
            batch.save(guard)
            models.append(post)
        pk, sk = refs.posts_of_author(author_id).key(0)
        batch.save(CounterModel(pk, sk, value=count))
    return [to_post_record(m) for m in models]


def _item(db: Any, pk: str, sk: str) -> dict[str, Any] | None:
    return db.get_item(TableName="app-backend-test", Key={"PK": {"S": pk}, "SK": {"S": sk}}).get("Item")


def test_create_normalises_email_and_writes_one_transaction(users: Any, db: Any) -> None:
    with count_requests() as log:
        user = users.create(email="  Ada@Example.COM ", password_hash="h", name="Ada")
    assert log.operations() == ["TransactWriteItems"]
    assert user.email == "ada@example.com"
    assert user.role is Role.USER
    assert user.version == 1
    assert user.created_at.tzinfo is not None
    assert _item(db, keys.unique_pk("EMAIL", "ada@example.com"), keys.UNIQUE_SK)["owner"] == {
        "S": keys.user_pk(user.id)
    }


def test_duplicate_email_is_a_conflict_naming_the_field(users: Any, make_user: Any, counters: Any) -> None:
    make_user(email="dup@example.com")
    with pytest.raises(ConflictError) as caught:
        make_user(email="DUP@example.com")
    assert caught.value.code == "CONFLICT"
    assert caught.value.details == [{"field": "email", "message": "email is already in use"}]
    assert counters.total(refs.USERS) == 1


def test_invalid_email_is_a_validation_error(users: Any) -> None:
    with pytest.raises(ValidationError):
        users.create(email="not-an-email", password_hash="h")


def test_update_changes_fields_and_bumps_the_version(users: Any, make_user: Any) -> None:
    user = make_user(name="Old")
    updated = users.update(user, name="New", password_hash="h2")
    assert (updated.name, updated.password_hash, updated.version) == ("New", "h2", user.version + 1)
    assert updated.updated_at >= user.updated_at
    assert users.get(user.id) == updated
    cleared = users.update(updated, name=None)
    assert cleared.name is None


def test_stale_update_is_a_concurrent_modification(users: Any, make_user: Any) -> None:
    user = make_user()
    users.update(user, name="first writer")
    with pytest.raises(ConcurrentModificationError):
        users.update(user, name="second writer, stale read")
    assert users.get(user.id).name == "first writer"


def test_update_of_a_deleted_user_is_not_found(users: Any, make_user: Any) -> None:
    user = make_user()
    users.delete(user)
    with pytest.raises(NotFoundError):
        users.update(user, name="ghost")


def test_email_change_moves_the_guard(users: Any, make_user: Any, db: Any) -> None:
    user = make_user(email="old@example.com")
    other = make_user(email="taken@example.com")
    with pytest.raises(ConflictError) as caught:
        users.update(user, email="taken@example.com")
    assert caught.value.details[0]["field"] == "email"
    moved = users.update(user, email="new@example.com")
    assert _item(db, keys.unique_pk("EMAIL", "old@example.com"), keys.UNIQUE_SK) is None
    assert users.get_by_email("new@example.com").id == user.id
    make_user(email="old@example.com")  # released: free again
    assert users.get_by_email("taken@example.com").id == other.id
    assert moved.version == user.version + 1


def test_role_change_moves_the_role_counters(users: Any, make_user: Any, counters: Any) -> None:
    user = make_user()
    make_user()
    users.update(user, role=Role.ADMIN)
    assert counters.total(refs.users_with_role(Role.USER)) == 1
    assert counters.total(refs.users_with_role(Role.ADMIN)) == 1
    assert counters.total(refs.USERS) == 2
    assert [u.id for u in users.list(PageRequest(), role=Role.ADMIN).items] == [user.id]


def test_search_filters_by_role_and_pages_by_offset(users: Any, make_user: Any) -> None:
    matches = [make_user(name=f"Match {i}") for i in range(5)]
    make_user(name="Match admin", role=Role.ADMIN)
    make_user(name="Nobody")
    first = users.search("match", PageRequest(limit=2), role=Role.USER)
    assert first.meta.total == 5
    assert first.meta.total_pages == 3
    assert [u.id for u in first.items] == [matches[4].id, matches[3].id]
    second = users.search("match", PageRequest(limit=2, cursor=first.next_cursor), role=Role.USER)
    assert second.meta.page == 2
    assert [u.id for u in second.items] == [matches[2].id, matches[1].id]
    third = users.search("match", PageRequest(limit=2, page=3), role=Role.USER)
    assert [u.id for u in third.items] == [matches[0].id]
    assert third.next_cursor is None
    assert users.search("  ", PageRequest()).meta.total == 7  # blank text: the plain listing


class TestDelete:
    def test_removes_user_profile_sessions_guard_posts_and_counters_in_one_transaction(
        self,
        *,
        users: Any,
        profiles: Any,
        sessions: Any,
        posts: Any,
        make_user: Any,
        make_category: Any,
        counters: Any,
        db: Any,
        clock: Any,
    ) -> None:
        user = make_user(email="leaving@example.com")
        profiles.create(user.id, bio="bye")
        for _ in range(3):
            sessions.create(user.id, token_hash="h", expires_at=clock() + timedelta(days=1))
        category = make_category()
        written = [
            posts.create(
                author_id=user.id,
                title=str(i),
                slug=f"leaving-{i}",
                published=True,
                category_ids=[category.id],
            )
            for i in range(3)
        ]
        survivor = make_user()
        with count_requests() as log:
            result = users.delete(user)
        assert log.operations() == ["Query", "Query", "TransactWriteItems"]
        assert (result.sessions_deleted, result.posts_deleted, result.posts_pending) == (3, 3, 0)
        with pytest.raises(NotFoundError):
            users.get(user.id)
        assert (
            db.query(
                TableName="app-backend-test",
                KeyConditionExpression="PK = :pk",
                ExpressionAttributeValues={":pk": {"S": keys.user_pk(user.id)}},
            )["Items"]
            == []
        )
        for post in written:
            with pytest.raises(NotFoundError):
                posts.get(post.id)
            assert _item(db, keys.unique_pk("POST_SLUG", post.slug), keys.UNIQUE_SK) is None
        assert _item(db, keys.unique_pk("EMAIL", "leaving@example.com"), keys.UNIQUE_SK) is None
        totals = counters.totals(
            [
                refs.USERS,
                refs.POSTS_PUBLISHED,
                refs.category_posts(category.id),
                refs.posts_of_author(user.id),
            ]
        )
        assert list(totals.values()) == [1, 0, 0, 0]
        assert users.get(survivor.id) == survivor

    def test_a_user_with_orders_cannot_be_deleted_and_nothing_changes(
        self,
        *,
        users: Any,
        orders: Any,
        profiles: Any,
        posts: Any,
        make_user: Any,
        make_product: Any,
        counters: Any,
    ) -> None:
        user = make_user()
        profiles.create(user.id, bio="keep")
        post = posts.create(author_id=user.id, title="t", slug="kept", published=True)
        product = make_product()
        orders.create(
            user.id,
            [
                OrderLine(
                    product_id=product.id, product_name=product.name, quantity=1, unit_price=product.price
                )
            ],
        )
        with pytest.raises(ConflictError) as caught:
            users.delete(user)
        assert caught.value.details[0]["field"] == "orders"
        assert users.get(user.id) == user
        assert profiles.get(user.id).bio == "keep"
        assert posts.get(post.id) == post
        assert users.get_by_email(user.email).id == user.id
        assert counters.total(refs.USERS) == 1
        assert counters.total(refs.POSTS_PUBLISHED) == 1

    def test_a_cascade_failing_half_way_leaves_everything_in_place(
        self,
        *,
        users: Any,
        posts: Any,
        sessions: Any,
        make_user: Any,
        monkeypatch: Any,
        counters: Any,
        clock: Any,
    ) -> None:
        """A post changes between the cascade's read and its commit: the whole transaction fails."""
        import backend.repositories.users as users_module

        user = make_user()
        session = sessions.create(user.id, token_hash="h", expires_at=clock() + timedelta(days=1))
        created = [posts.create(author_id=user.id, title=str(i), slug=f"half-{i}") for i in range(4)]
        real_query_all = users_module.query_all

        def query_all_then_edit_a_post(spec: Any, **kwargs: Any) -> Any:
            result = real_query_all(spec, **kwargs)
            if spec.index == keys.GSI1:  # the author's posts were just read
                posts.update(posts.get(created[3].id), title="edited meanwhile")
            return result

        monkeypatch.setattr(users_module, "query_all", query_all_then_edit_a_post)
        with pytest.raises(ConcurrentModificationError):
            users.delete(user)
        monkeypatch.undo()
        assert users.get(user.id) == user
        assert sessions.get(user.id, session.id) == session
        assert [posts.get(p.id).id for p in created] == [p.id for p in created]
        assert counters.total(refs.USERS) == 1
        assert counters.total(refs.posts_of_author(user.id)) == 4

    def test_a_post_created_after_the_read_fails_the_deletion(
        self, users: Any, posts: Any, make_user: Any, monkeypatch: Any
    ) -> None:
        import backend.repositories.users as users_module

        user = make_user()
        real_query_all = users_module.query_all

        def query_all_then_post(spec: Any, **kwargs: Any) -> Any:
            result = real_query_all(spec, **kwargs)
            if spec.index == keys.GSI1:
                posts.create(author_id=user.id, title="late", slug="late")
            return result

        monkeypatch.setattr(users_module, "query_all", query_all_then_post)
        with pytest.raises(ConcurrentModificationError):
            users.delete(user)
        monkeypatch.undo()
        assert users.get(user.id) == user

    def test_too_many_posts_for_one_transaction_are_left_to_the_purge_job(
        self, users: Any, posts: Any, make_user: Any, counters: Any
    ) -> None:
        user = make_user()
        written = seed_posts(user.id, 50)  # 50 x (post + slug guard) + the account: over 100 operations
        result = users.delete(user)
        assert (result.posts_deleted, result.posts_pending) == (0, 50)
        with pytest.raises(NotFoundError):
            users.get(user.id)
        assert posts.get(written[0].id) == written[0]  # left for the job
        assert posts.purge_author(user.id, max_posts=3) == 47
        assert counters.total(refs.posts_of_author(user.id)) == 47

    def test_sessions_beyond_the_transaction_are_deleted_after_it(
        self, users: Any, make_user: Any, db: Any, clock: Any
    ) -> None:
        from backend.models.ids import new_id
        from backend.models.session import SessionModel

        user = make_user()
        with SessionModel.batch_write() as batch:  # seeded directly: 100 transactions would be slow
            for _ in range(100):
                session = SessionModel(id=new_id(), user_id=user.id, token_hash="h", created_at=clock())
                session.expires_at = clock() + timedelta(days=1)
                session.sync_keys()
                batch.save(session)
        with count_requests() as log:
            result = users.delete(user)
        assert result.sessions_deleted == 100
        assert log.operations()[:3] == ["Query", "Query", "TransactWriteItems"]
        assert set(log.operations()[3:]) == {"BatchWriteItem"}
        assert (
            db.query(
                TableName="app-backend-test",
                KeyConditionExpression="PK = :pk",
                ExpressionAttributeValues={":pk": {"S": keys.user_pk(user.id)}},
            )["Items"]
            == []
        )

    def test_deleting_twice_is_not_found(self, users: Any, make_user: Any) -> None:
        user = make_user()
        users.delete(user)
        with pytest.raises(NotFoundError):
            users.delete(user)
