"""The read cache's namespace stamps: ``PK=CACHE#STAMPS, SK=STAMPS``, one item for every namespace.

Each attribute is the time (epoch milliseconds) of the last write that changed a namespace of the
read cache (docs/caching.md). Only the in-process cache backend keeps its stamps here (Redis keeps
its own): a container reads the item (one strongly consistent GetItem) at most once a second, and
every write sets its namespaces' stamps with one UpdateItem after it commits.
"""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute

from backend.models import keys
from backend.models.base import TableItem


class CacheStampsModel(TableItem, discriminator="CacheStamps"):
    products = NumberAttribute(null=True)
    categories = NumberAttribute(null=True)
    posts = NumberAttribute(null=True)

    def sync_keys(self) -> None:
        self.pk, self.sk = keys.CACHE_STAMPS_PK, keys.CACHE_STAMPS_SK
