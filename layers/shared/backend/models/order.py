"""Order (``PK=ORDER#<id>, SK=ORDER``) and its lines (``PK=ORDER#<id>, SK=ITEM#<nnn>``).

One Query on ``PK=ORDER#<id>`` returns the order with all its lines. Orders by status are written to
``ORDERS#STATUS#<status>#<shard>`` in GSI2 and every order to ``ORDERS#ALL#<shard>`` in GSI3 (write
sharding; readers merge the shards). A user's orders in one status are
``USER#<userId>#ORDERS#STATUS#<status>`` in GSI4 (keys only): the owner's status filter is a key
condition, so it never reads another status's orders.
"""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, VersionAttribute

from backend.models import keys
from backend.models.attributes import EnumAttribute, IsoDateTimeAttribute, MoneyAttribute
from backend.models.base import TableItem
from backend.models.enums import OrderStatus


class OrderModel(TableItem, discriminator="Order"):
    id = UnicodeAttribute()
    user_id = UnicodeAttribute(attr_name="userId")
    status = EnumAttribute(OrderStatus)
    total = MoneyAttribute()
    item_count = NumberAttribute(attr_name="itemCount")
    created_at = IsoDateTimeAttribute(attr_name="createdAt")
    updated_at = IsoDateTimeAttribute(attr_name="updatedAt")
    version = VersionAttribute()

    def sync_keys(self) -> None:
        self.pk, self.sk = keys.order_pk(self.id), keys.ORDER_SK
        self.gsi1pk, self.gsi1sk = keys.user_orders(self.user_id), self.id
        shard = keys.shard_of(self.id, keys.ORDER_STATUS_SHARDS)
        self.gsi2pk, self.gsi2sk = keys.orders_by_status(self.status, shard), self.id
        self.gsi3pk, self.gsi3sk = keys.all_orders(shard), self.id
        self.gsi4pk, self.gsi4sk = keys.user_orders_with_status(self.user_id, self.status), self.id


class OrderItemModel(TableItem, discriminator="OrderItem"):
    order_id = UnicodeAttribute(attr_name="orderId")
    position = NumberAttribute()
    product_id = UnicodeAttribute(attr_name="productId")
    product_name = UnicodeAttribute(attr_name="productName")  # snapshot at order time
    quantity = NumberAttribute()
    unit_price = MoneyAttribute(attr_name="unitPrice")  # snapshot at order time

    def sync_keys(self) -> None:
        self.pk, self.sk = keys.order_pk(self.order_id), keys.order_item_sk(int(self.position))
