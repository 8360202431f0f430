"""Product item: ``PK=PRODUCT#<id>, SK=PRODUCT``; active products are in GSI1 and (with a category) GSI2."""

from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute, VersionAttribute

from backend.models import keys
from backend.models.attributes import IsoDateTimeAttribute, MoneyAttribute
from backend.models.base import TableItem


class ProductModel(TableItem, discriminator="Product"):
    id = UnicodeAttribute()
    name = UnicodeAttribute()
    description = UnicodeAttribute(null=True)
    price = MoneyAttribute()
    stock = NumberAttribute(default=0)
    active = BooleanAttribute(default=True)
    category_id = UnicodeAttribute(null=True, attr_name="categoryId")
    created_at = IsoDateTimeAttribute(attr_name="createdAt")
    updated_at = IsoDateTimeAttribute(attr_name="updatedAt")
    version = VersionAttribute()

    def sync_keys(self) -> None:
        self.pk, self.sk = keys.product_pk(self.id), keys.PRODUCT_SK
        self.clear_index_keys()
        if self.active:
            self.gsi1pk, self.gsi1sk = keys.PRODUCTS_ACTIVE, self.id
            if self.category_id is not None:
                self.gsi2pk, self.gsi2sk = keys.category_products(self.category_id), self.id
