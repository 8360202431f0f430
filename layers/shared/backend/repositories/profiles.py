"""Profiles: one per user at ``PK=USER#<userId>, SK=PROFILE``; deleted with the user."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from backend.errors import ConflictError, NotFoundError
from backend.models import keys
from backend.models.clock import Clock, utcnow
from backend.models.profile import ProfileModel
from backend.records import UNSET, Unset
from backend.records.users import ProfileRecord
from backend.repositories.checks import require_user
from backend.repositories.dynamo import for_write, get_item
from backend.repositories.transaction import Transaction, conflict, fixed, stale


class StaleAvatarError(ConflictError):
    """The profile is gone, or its avatar changed after this upload was made: the upload loses."""

    code = "STALE_AVATAR"
    default_message = "The profile is gone or has a newer avatar"


def to_profile_record(model: ProfileModel) -> ProfileRecord:
    return ProfileRecord(
        user_id=model.user_id,
        bio=model.bio,
        website=model.website,
        avatar=model.avatar,
        created_at=model.created_at,
        updated_at=model.updated_at,
        version=int(model.version),
        avatar_images=dict(model.avatar_images) if model.avatar_images is not None else None,
        avatar_key=model.avatar_key,
        avatar_at=int(model.avatar_at) if model.avatar_at is not None else None,
    )


def to_profile_model(record: ProfileRecord, *, new: bool = False) -> ProfileModel:
    model = ProfileModel(
        user_id=record.user_id,
        bio=record.bio,
        website=record.website,
        avatar=record.avatar,
        created_at=record.created_at,
        updated_at=record.updated_at,
        avatar_images=dict(record.avatar_images) if record.avatar_images is not None else None,
        avatar_key=record.avatar_key,
        avatar_at=record.avatar_at,
    )
    return for_write(model, record.version, new=new)


class ProfilesRepository:
    def __init__(self, *, clock: Clock = utcnow) -> None:
        self._clock = clock

    def get(self, user_id: str) -> ProfileRecord:
        """GetItem ``USER#<id>/PROFILE``."""
        model = get_item(ProfileModel, keys.user_pk(user_id), keys.PROFILE_SK)
        if model is None:
            raise NotFoundError("Profile")
        return to_profile_record(model)

    def find(self, user_id: str) -> ProfileRecord | None:
        try:
            return self.get(user_id)
        except NotFoundError:
            return None

    def create(
        self,
        user_id: str,
        *,
        bio: str | None = None,
        website: str | None = None,
        avatar: str | None = None,
    ) -> ProfileRecord:
        """One transaction: the profile (only if none exists) and a check that the user exists."""
        now = self._clock()
        record = ProfileRecord(
            user_id=user_id,
            bio=bio,
            website=website,
            avatar=avatar,
            created_at=now,
            updated_at=now,
            version=0,
        )
        model = to_profile_model(record, new=True)
        tx = Transaction()
        require_user(tx, user_id)
        tx.put(model, on_fail=conflict("profile", "The user already has a profile"))
        tx.commit()
        return to_profile_record(model)

    def update(
        self,
        profile: ProfileRecord,
        *,
        bio: str | Unset | None = UNSET,
        website: str | Unset | None = UNSET,
        avatar: str | Unset | None = UNSET,
    ) -> ProfileRecord:
        """Optimistic update of ``profile`` as read (one PutItem conditioned on its version)."""
        changed = replace(
            profile,
            bio=profile.bio if isinstance(bio, Unset) else bio,
            website=profile.website if isinstance(website, Unset) else website,
            avatar=profile.avatar if isinstance(avatar, Unset) else avatar,
            updated_at=self._clock(),
        )
        model = to_profile_model(changed)
        tx = Transaction()
        tx.put(model, on_fail=stale("Profile"))
        tx.commit()
        return to_profile_record(model)

    def upsert(
        self,
        user_id: str,
        *,
        bio: str | None = None,
        website: str | None = None,
        avatar: str | None = None,
    ) -> ProfileRecord:
        """Create or replace the profile (GetItem, then one optimistic write)."""
        current = self.find(user_id)
        if current is None:
            return self.create(user_id, bio=bio, website=website, avatar=avatar)
        return self.update(current, bio=bio, website=website, avatar=avatar)

    def delete(self, profile: ProfileRecord) -> None:
        tx = Transaction()
        tx.delete(to_profile_model(profile), on_fail=stale("Profile"))
        tx.commit()

    # ------------------------------------------------------------------ the avatar
    def set_avatar(self, user_id: str, *, images: Mapping[str, str], key: str, avatar: str, at: int) -> None:
        """One UpdateItem (AvatarFunction): the new images, if the profile exists and its avatar last
        changed before ``at`` (epoch ms of the upload), else StaleAvatarError. The version is
        incremented, so a profile edit read before this update fails instead of undoing it."""
        model = ProfileModel(user_id=user_id)
        model.sync_keys()
        model.version = 1  # any: with version_check off, PynamoDB only ADDs 1 to the stored one
        condition = ProfileModel.pk.exists() & (
            ProfileModel.avatar_at.does_not_exist() | (ProfileModel.avatar_at < at)
        )
        tx = Transaction()
        tx.update(
            model,
            [
                ProfileModel.avatar_images.set(dict(images)),
                ProfileModel.avatar_key.set(key),
                ProfileModel.avatar.set(avatar),
                ProfileModel.avatar_at.set(at),
                ProfileModel.updated_at.set(self._clock()),
            ],
            condition=condition,
            version_check=False,
            on_fail=fixed(StaleAvatarError),
        )
        tx.commit()

    def clear_avatar(self, profile: ProfileRecord, *, at: int) -> ProfileRecord:
        """Remove the avatar of ``profile`` as read (optimistic, like ``update``); ``at`` (epoch ms)
        keeps an upload made before the removal from bringing it back."""
        changed = replace(
            profile,
            avatar=None,
            avatar_images=None,
            avatar_key=None,
            avatar_at=max(at, profile.avatar_at or 0),
            updated_at=self._clock(),
        )
        model = to_profile_model(changed)
        tx = Transaction()
        tx.put(model, on_fail=stale("Profile"))
        tx.commit()
        return to_profile_record(model)
