"""Users: get by id or email, listings (all, by role), text search, create/update/delete.

A user's item collection ``PK=USER#<id>`` holds the user, its profile and its sessions, so account
deletion finds everything it removes with one Query.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from functools import cached_property
from typing import TYPE_CHECKING

from pynamodb.expressions.condition import Condition

from backend.errors import ConcurrentModificationError, NotFoundError
from backend.models import keys
from backend.models.clock import Clock, utcnow
from backend.models.enums import OrderStatus, Role
from backend.models.ids import new_id
from backend.models.profile import ProfileModel
from backend.models.session import SessionModel
from backend.models.user import UserModel
from backend.records import UNSET, Page, PageMeta, PageRequest, Unset
from backend.records.users import ProfileRecord, SessionRecord, UserDeletion, UserRecord
from backend.repositories.dynamo import (
    QuerySpec,
    RawItem,
    batch_get,
    for_write,
    get_item,
    query_all,
    string_of,
    to_models,
    translated_errors,
)
from backend.repositories.profiles import to_profile_model, to_profile_record
from backend.repositories.sessions import to_session_record
from backend.values import normalize_email

if TYPE_CHECKING:
    from backend.repositories.action_tokens import ActionTokensRepository
    from backend.repositories.counters import CountersRepository
    from backend.repositories.paging import CursorCodec

# The module holds the reads every authenticated request makes (the user with its session) and the
# rarer listings and writes: what only those need (paging, counters, guards, transactions, the posts
# cascade) is imported where they use it, so that an authenticated read does not pay for it.


def to_user_record(model: UserModel) -> UserRecord:
    return UserRecord(
        id=model.id,
        email=model.email,
        name=model.name,
        role=model.role,
        password_hash=model.password_hash,
        created_at=model.created_at,
        updated_at=model.updated_at,
        version=int(model.version),
        email_verified=bool(model.email_verified),
        email_status=model.email_status or "ACTIVE",
    )


def _to_model(record: UserRecord, *, new: bool = False) -> UserModel:
    model = UserModel(
        id=record.id,
        email=record.email,
        name=record.name,
        role=record.role,
        password_hash=record.password_hash,
        created_at=record.created_at,
        updated_at=record.updated_at,
        email_verified=record.email_verified,
        email_status=record.email_status,
    )
    return for_write(model, record.version, new=new)


class UsersRepository:
    def __init__(self, cursor_key: bytes | Callable[[], bytes], *, clock: Clock = utcnow) -> None:
        self._cursor_key = cursor_key
        self._clock = clock

    @cached_property
    def _codec(self) -> CursorCodec:
        from backend.repositories.paging import CursorCodec

        return CursorCodec(self._cursor_key)

    @cached_property
    def _counters(self) -> CountersRepository:
        from backend.repositories.counters import CountersRepository

        return CountersRepository()

    # ------------------------------------------------------------------------- reads
    def get(self, user_id: str, *, consistent: bool = False) -> UserRecord:
        """GetItem ``USER#<id>/USER``."""
        model = get_item(UserModel, keys.user_pk(user_id), keys.USER_SK, consistent=consistent)
        if model is None:
            raise NotFoundError("User")
        return to_user_record(model)

    def get_with_profile(self, user_id: str) -> tuple[UserRecord, ProfileRecord | None]:
        """The user and its profile in one BatchGetItem."""
        pk = keys.user_pk(user_id)
        found = batch_get([(pk, keys.USER_SK), (pk, keys.PROFILE_SK)])
        user = found.get((pk, keys.USER_SK))
        if not isinstance(user, UserModel):
            raise NotFoundError("User")
        profile = found.get((pk, keys.PROFILE_SK))
        return to_user_record(user), to_profile_record(profile) if isinstance(profile, ProfileModel) else None

    def get_with_session(self, user_id: str, session_id: str) -> tuple[UserRecord, SessionRecord]:
        """The user and one of its sessions in one strongly consistent BatchGetItem (the check every
        authenticated request makes). NotFoundError if either is missing or the session expired."""
        pk = keys.user_pk(user_id)
        user_key, session_key = (pk, keys.USER_SK), (pk, keys.session_sk(session_id))
        found = batch_get([user_key, session_key], consistent=True)
        user, session = found.get(user_key), found.get(session_key)
        if not isinstance(user, UserModel) or not isinstance(session, SessionModel):
            raise NotFoundError("Session")
        if session.expires_at <= self._clock():
            raise NotFoundError("Session")
        return to_user_record(user), to_session_record(session)

    def get_by_email(self, email: str) -> UserRecord:
        """The user holding the address: its unique guard ``UNIQUE#EMAIL#<email>`` names the owner,
        then the user item; both strongly consistent GetItems of the base table, so a sign-in right
        after a sign-up, an email change or a password change sees the write (GSI3 may not yet)."""
        from backend.repositories import guards

        owner = guards.owner_of(guards.EMAIL, normalize_email(email))
        model = None if owner is None else get_item(UserModel, owner, keys.USER_SK, consistent=True)
        if model is None:
            raise NotFoundError("User")
        return to_user_record(model)

    def list(self, request: PageRequest, *, role: Role | None = None) -> Page[UserRecord]:
        """Newest first: GSI1 ``USERS`` (or GSI2 ``USERS#ROLE#<role>``); total from a counter."""
        from backend.repositories import counters
        from backend.repositories.paging import Listing, list_page

        if role is None:
            listing = Listing.single("users", QuerySpec(keys.USERS_ALL, index=keys.GSI1, forward=False))
            total_ref = counters.USERS
        else:
            spec = QuerySpec(keys.users_by_role(role), index=keys.GSI2, forward=False)
            listing = Listing.single(f"users|role={role.value}", spec)
            total_ref = counters.users_with_role(role)
        return list_page(
            listing,
            request,
            codec=self._codec,
            total=lambda: self._counters.total(total_ref),
            convert=_convert,
        )

    def search(
        self,
        text: str | None,
        request: PageRequest,
        *,
        role: Role | None = None,
        email_verified: bool | None = None,
    ) -> Page[UserRecord]:
        """Users whose name or email contains ``text`` (case-insensitively) and/or whose address is
        (un)verified, newest first.

        Reads the whole narrow GSI4 (keys, searchText, role, emailVerified: ~250 bytes per user) with
        a filter, then BatchGets the page's users. Cost grows with the number of users, not with the
        matches; see docs/data-model.md for the numbers and when to move search elsewhere.
        """
        from backend.repositories.paging import offset_page, validate

        needle = (text or "").strip().casefold()
        if not needle and email_verified is None:
            return self.list(request, role=role)
        validate(request)
        conditions: list[Condition] = []
        if needle:
            conditions.append(UserModel.search_text.contains(needle))
        if role is not None:
            conditions.append(UserModel.role == role)
        if email_verified is True:
            conditions.append(UserModel.email_verified == True)  # noqa: E712 - a DynamoDB condition
        elif email_verified is False:  # never-verified users may lack the attribute (older items)
            conditions.append(UserModel.email_verified.does_not_exist() | (UserModel.email_verified == False))  # noqa: E712
        condition = conditions[0]
        for extra in conditions[1:]:
            condition &= extra
        spec = QuerySpec(keys.USERS_ALL, index=keys.GSI4, filter=condition, forward=False)
        ids = [string_of(raw, "GSI4SK") for raw in query_all(spec)]
        query_id = "users|search=" + json.dumps([needle, role.value if role else None, email_verified])
        page, chunk, next_cursor = offset_page(query_id, request, codec=self._codec, matches=ids)
        found = batch_get([(keys.user_pk(i), keys.USER_SK) for i in chunk])
        users = tuple(
            to_user_record(m)
            for i in chunk
            if isinstance(m := found.get((keys.user_pk(i), keys.USER_SK)), UserModel)
        )
        total = len(ids)
        return Page(
            items=users,
            meta=PageMeta(
                page=page, limit=request.limit, total=total, total_pages=-(-total // request.limit)
            ),
            next_cursor=next_cursor,
        )

    # ------------------------------------------------------------------------- writes
    def create(
        self, *, email: str, password_hash: str, name: str | None = None, role: Role = Role.USER
    ) -> UserRecord:
        """One transaction: the user, its email guard and the user counters."""
        from backend.repositories import counters, guards
        from backend.repositories.transaction import Transaction, unexpected

        now = self._clock()
        record = UserRecord(
            id=new_id(),
            email=normalize_email(email),
            name=name,
            role=role,
            password_hash=password_hash,
            created_at=now,
            updated_at=now,
            version=0,
        )
        model = _to_model(record, new=True)
        tx = Transaction()
        tx.put(model, on_fail=unexpected)
        guards.claim(tx, guards.EMAIL, record.email, owner=model.pk, field="email")
        changes = counters.CounterChanges()
        changes.add(counters.USERS, 1)
        changes.add(counters.users_with_role(role), 1)
        changes.apply(tx)
        tx.commit()
        return to_user_record(model)

    def update(
        self,
        user: UserRecord,
        *,
        email: str | Unset = UNSET,
        name: str | Unset | None = UNSET,
        role: Role | Unset = UNSET,
        password_hash: str | Unset = UNSET,
        email_verified: bool | Unset = UNSET,
        consume_token: tuple[ActionTokensRepository, str, str] | None = None,
    ) -> UserRecord:
        """Optimistic update of ``user`` (as read): email moves its guard, role moves its counters.

        A new email is unverified unless ``email_verified`` says otherwise. ``consume_token``
        (repository, token hash, purpose) deletes that single-use token in the same transaction, so
        the change and the token's use commit together (BadRequestError INVALID_TOKEN if it is gone).
        """
        from backend.repositories import counters, guards
        from backend.repositories.transaction import Transaction, stale

        new_email = user.email if isinstance(email, Unset) else normalize_email(email)
        if isinstance(email_verified, Unset):
            email_verified = user.email_verified if new_email == user.email else False
        changed = replace(
            user,
            email=new_email,
            name=user.name if isinstance(name, Unset) else name,
            role=user.role if isinstance(role, Unset) else role,
            password_hash=user.password_hash if isinstance(password_hash, Unset) else password_hash,
            email_verified=email_verified,
            email_status="ACTIVE" if new_email != user.email else user.email_status,
            updated_at=self._clock(),
        )
        model = _to_model(changed)
        tx = Transaction()
        tx.put(model, on_fail=stale("User"))
        if consume_token is not None:
            tokens_repository, token_hash, purpose = consume_token
            tokens_repository.consume(tx, token_hash, purpose)
        guards.swap(tx, guards.EMAIL, user.email, changed.email, owner=model.pk, field="email")
        if changed.role != user.role:
            changes = counters.CounterChanges()
            changes.add(counters.users_with_role(user.role), -1)
            changes.add(counters.users_with_role(changed.role), 1)
            changes.apply(tx)
        tx.commit()
        return to_user_record(model)

    def save_profile(
        self,
        user: UserRecord,
        profile: ProfileRecord | None,
        *,
        name: str | None,
        bio: str | None,
        website: str | None,
    ) -> tuple[UserRecord, ProfileRecord]:
        """The user's name and its profile (created if ``profile`` is None) in one transaction, both
        conditioned on the versions read (a concurrent edit fails with ConcurrentModificationError)."""
        from backend.repositories.transaction import Transaction, fixed, stale

        now = self._clock()
        changed_user = replace(user, name=name, updated_at=now)
        if profile is None:
            changed_profile = ProfileRecord(
                user_id=user.id,
                bio=bio,
                website=website,
                avatar=None,
                created_at=now,
                updated_at=now,
                version=0,
            )
        else:
            changed_profile = replace(profile, bio=bio, website=website, updated_at=now)
        user_model = _to_model(changed_user)
        profile_model = to_profile_model(changed_profile, new=profile is None)
        tx = Transaction()
        tx.put(user_model, on_fail=stale("User"))
        tx.put(
            profile_model,
            on_fail=stale("Profile") if profile is not None else fixed(ConcurrentModificationError),
        )
        tx.commit()
        return to_user_record(user_model), to_profile_record(profile_model)

    def delete(self, user: UserRecord) -> UserDeletion:
        """Delete the account in one transaction (docs/data-model.md, "Writes: what one transaction covers").

        Always in the transaction: the user (optimistic lock), its email guard, its profile, the user
        counters (the per-status order counters too), and the rule that a user with orders cannot be
        deleted (ConflictError "orders", as the original schema's restrict). The author's posts, with
        their slug guards, category links and counters, join the transaction when they all fit in DynamoDB's 100 operations; otherwise
        they are left to ``PostsRepository.purge_author`` (the worker's job) and reported as
        ``posts_pending``. Sessions fill the remaining room; any left over are deleted right after the
        commit (a session is useless without its user).
        """
        from backend.models.post import PostModel
        from backend.repositories import counters, guards
        from backend.repositories.posts import plan_post_deletion  # only deletions need the cascade
        from backend.repositories.transaction import (
            MAX_TRANSACTION_ITEMS,
            Transaction,
            fixed,
            stale,
            unexpected,
        )

        pk = keys.user_pk(user.id)
        collection = to_models(query_all(QuerySpec(pk, consistent=True)))
        if not any(isinstance(m, UserModel) for m in collection):
            raise NotFoundError("User")
        profile = next((m for m in collection if isinstance(m, ProfileModel)), None)
        sessions = [m for m in collection if isinstance(m, SessionModel)]
        posts = [
            m
            for m in to_models(query_all(QuerySpec(keys.author_posts(user.id), index=keys.GSI1)))
            if isinstance(m, PostModel)
        ]

        tx = Transaction()
        tx.delete(_to_model(user), on_fail=stale("User"))
        guards.release(tx, guards.EMAIL, user.email, owner=pk)
        if profile is not None:
            tx.delete(profile, version_check=False, on_fail=unexpected)
        counters.delete_counter(
            tx,
            counters.orders_of_user(user.id),
            expected=0,
            on_fail=counters.restrict("orders", "The user has orders and cannot be deleted"),
        )
        for status in OrderStatus:  # the per-status counters of the owner's status filter (AP37)
            counters.delete_counter(
                tx,
                counters.orders_of_user_with_status(user.id, status),
                expected=0,
                on_fail=counters.restrict("orders", "The user has orders and cannot be deleted"),
            )
        changes = counters.CounterChanges()
        changes.add(counters.USERS, -1)
        changes.add(counters.users_with_role(user.role), -1)

        cascade, post_changes = Transaction(), counters.CounterChanges()
        for post in posts:
            plan_post_deletion(cascade, post, post_changes, count_author=False)
        counters.delete_counter(
            cascade,
            counters.posts_of_author(user.id),
            expected=len(posts),
            on_fail=fixed(ConcurrentModificationError),  # a post was added meanwhile: retry
        )
        counters.delete_counter(
            cascade,
            counters.published_posts_of_author(user.id),
            expected=sum(1 for p in posts if p.published and p.published_at is not None),
            on_fail=fixed(ConcurrentModificationError),  # a post was published meanwhile: retry
        )
        posts_fit = len(tx) + len(changes) + len(cascade) + len(post_changes) <= MAX_TRANSACTION_ITEMS
        if posts_fit:
            tx.extend(cascade)
            post_changes.apply(tx)

        budget = MAX_TRANSACTION_ITEMS - len(tx) - len(changes)
        in_tx, after = sessions[:budget], sessions[budget:]
        for session in in_tx:
            tx.delete(session, on_fail=unexpected)
        changes.apply(tx)
        tx.commit()

        if after:
            with translated_errors(), SessionModel.batch_write() as batch:
                for session in after:
                    batch.delete(session)
        return UserDeletion(
            user_id=user.id,
            sessions_deleted=len(sessions),
            posts_deleted=len(posts) if posts_fit else 0,
            posts_pending=0 if posts_fit else len(posts),
        )


def _convert(raw_items: list[RawItem]) -> list[UserRecord]:
    return [to_user_record(m) for m in to_models(raw_items) if isinstance(m, UserModel)]
