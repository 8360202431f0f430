"""System items: unique guards, counters and rate-limit windows."""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, TTLAttribute, UnicodeAttribute

from backend.models import keys
from backend.models.base import TableItem


class UniqueGuardModel(TableItem, discriminator="Unique"):
    """``PK=UNIQUE#<kind>#<value>, SK=UNIQUE``: exists while ``owner`` holds the value.

    Written with ``attribute_not_exists(PK)`` in the same transaction as its owner, so two owners
    can never hold the same value.
    """

    owner = UnicodeAttribute()  # the owner's key, e.g. USER#<id> or CATEGORY#<id>

    def sync_keys(self) -> None:
        self.sk = keys.UNIQUE_SK


class CounterModel(TableItem, discriminator="Counter"):
    """``PK=COUNTER#<name>, SK=SHARD#<n>``: a running total, changed with ADD inside transactions."""

    value = NumberAttribute(default=0, attr_name="count")  # not `count`: Model.count is a method


class RateLimitModel(TableItem, discriminator="RateLimit"):
    """``PK=RATELIMIT#<bucket>, SK=WINDOW#<start>``: hits in one fixed window, expiring after it."""

    hits = NumberAttribute(default=0)
    expires_at = TTLAttribute(attr_name=keys.TTL_ATTRIBUTE)
