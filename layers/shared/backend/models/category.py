"""Category item: ``PK=CATEGORIES, SK=CATEGORY#<id>``.

All categories share one partition: "all categories" is one strongly consistent Query without an
index. Categories are few and rarely written, far below one partition's limits.
"""

from __future__ import annotations

from pynamodb.attributes import UnicodeAttribute, VersionAttribute

from backend.models import keys
from backend.models.attributes import IsoDateTimeAttribute
from backend.models.base import TableItem


class CategoryModel(TableItem, discriminator="Category"):
    id = UnicodeAttribute()
    name = UnicodeAttribute()
    slug = UnicodeAttribute()
    created_at = IsoDateTimeAttribute(attr_name="createdAt")
    updated_at = IsoDateTimeAttribute(attr_name="updatedAt")
    version = VersionAttribute()

    def sync_keys(self) -> None:
        self.pk, self.sk = keys.CATEGORIES_PK, keys.category_sk(self.id)
        self.gsi3pk, self.gsi3sk = keys.category_slug_lookup(self.slug), keys.category_sk(self.id)
