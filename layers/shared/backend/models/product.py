"""Product item: ``PK=PRODUCT#<id>, SK=PRODUCT``.

Active products are in GSI1 (``PRODUCTS#ACTIVE``) and, with a category, GSI2 (``CATEGORY#<id>#PRODUCTS``);
every product is in GSI3 (``PRODUCTS#ALL``) and, with a category, GSI4
(``CATEGORY#<id>#PRODUCTS#ALL``), the listings admins see (inactive products included).
"""

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
        self.gsi3pk, self.gsi3sk = keys.PRODUCTS_ALL, self.id
        if self.category_id is not None:
            self.gsi4pk, self.gsi4sk = keys.category_all_products(self.category_id), self.id
