"""Every key string of the table, in one place (docs/data-model.md describes the same layout).

Partition keys are ``<TYPE>#<id>`` for an entity's own item collection and upper-case constants for
listings. The ``IDEMPOTENCY#`` prefix is reserved for Powertools idempotency records, which share
the table (``key_attr="PK"``, ``sort_key_attr="SK"``, ``static_pk_value=idempotency_pk(service)``,
``expiry_attr="expiresAt"``); no other item may use it.
"""

from __future__ import annotations

import zlib

from backend.models.enums import OrderStatus, Role

# --------------------------------------------------------------------------- index names
GSI1 = "GSI1"  # collections by owner, and unfiltered global listings; newest first by id
GSI2 = "GSI2"  # filtered listings (role, published, category, order status)
GSI3 = "GSI3"  # lookups by a unique alternate key (email, post slug, category slug); all products
GSI4 = "GSI4"  # narrow projection (searchText, role): users text search; keys-only listings

# --------------------------------------------------------------------------- shared attributes
TTL_ATTRIBUTE = "expiresAt"  # epoch seconds; the table's TTL attribute (template.yaml)

# --------------------------------------------------------------------------- users
USER_SK = "USER"
PROFILE_SK = "PROFILE"
SESSION_SK_PREFIX = "SESSION#"
USERS_ALL = "USERS"  # GSI1PK and GSI4PK of every user


def user_pk(user_id: str) -> str:
    return f"USER#{user_id}"


def session_sk(session_id: str) -> str:
    return f"{SESSION_SK_PREFIX}{session_id}"


def users_by_role(role: Role) -> str:
    return f"USERS#ROLE#{role.value}"


def user_email_lookup(email: str) -> str:
    return f"EMAIL#{email}"


# --------------------------------------------------------------------------- posts and categories
POST_SK = "POST"
POSTS_PUBLISHED = "POSTS#PUBLISHED"
CATEGORIES_PK = "CATEGORIES"
CATEGORY_SK_PREFIX = "CATEGORY#"


def post_pk(post_id: str) -> str:
    return f"POST#{post_id}"


def author_posts(author_id: str) -> str:
    return f"USER#{author_id}#POSTS"


def post_slug_lookup(slug: str) -> str:
    return f"POST_SLUG#{slug}"


def published_sort_key(published_at: str, post_id: str) -> str:
    """GSI2SK of published posts and their category links: publication time, then id."""
    return f"{published_at}#{post_id}"


def category_sk(category_id: str) -> str:
    return f"{CATEGORY_SK_PREFIX}{category_id}"


def category_slug_lookup(slug: str) -> str:
    return f"CATEGORY_SLUG#{slug}"


def category_posts(category_id: str) -> str:
    return f"CATEGORY#{category_id}#POSTS"


def category_products(category_id: str) -> str:
    return f"CATEGORY#{category_id}#PRODUCTS"


def category_all_products(category_id: str) -> str:
    """GSI4PK of every product of a category, inactive ones too (the admin's filtered listing)."""
    return f"CATEGORY#{category_id}#PRODUCTS#ALL"


def author_published_posts(author_id: str) -> str:
    """GSI4PK of an author's published posts (sparse), sorted by publication time."""
    return f"USER#{author_id}#POSTS#PUBLISHED"


# --------------------------------------------------------------------------- products and orders
PRODUCT_SK = "PRODUCT"
PRODUCTS_ACTIVE = "PRODUCTS#ACTIVE"
PRODUCTS_ALL = "PRODUCTS#ALL"  # GSI3PK of every product (the admin's listing)
ORDER_SK = "ORDER"
ORDER_ITEM_SK_PREFIX = "ITEM#"
#: Orders by status are written to this many GSI2 partitions per status (write sharding, see docs).
#: The number may grow but never shrink: readers query shards 0..N-1.
ORDER_STATUS_SHARDS = 4


def product_pk(product_id: str) -> str:
    return f"PRODUCT#{product_id}"


def order_pk(order_id: str) -> str:
    return f"ORDER#{order_id}"


def order_item_sk(position: int) -> str:
    return f"{ORDER_ITEM_SK_PREFIX}{position:03d}"


def user_orders(user_id: str) -> str:
    return f"USER#{user_id}#ORDERS"


def user_orders_with_status(user_id: str, status: OrderStatus) -> str:
    """GSI4PK of a user's orders in one status (keys only, newest first by id): the owner's filter."""
    return f"USER#{user_id}#ORDERS#STATUS#{status.value}"


def orders_by_status(status: OrderStatus, shard: int) -> str:
    return f"ORDERS#STATUS#{status.value}#{shard}"


def all_orders(shard: int) -> str:
    """GSI3PK of every order (the admins' listing), write-sharded like the status listing."""
    return f"ORDERS#ALL#{shard}"


def shard_of(entity_id: str, shards: int) -> int:
    """Deterministic shard of an entity: the same id always lands in the same shard."""
    return zlib.crc32(entity_id.encode()) % shards


# --------------------------------------------------------------------------- account lifecycle
ACTION_TOKEN_SK = "TOKEN"  # noqa: S105 - a sort key, not a secret
SUPPRESSION_SK = "SUPPRESSED"


def action_token_pk(token_hash: str) -> str:
    return f"TOKEN#{token_hash}"


def suppression_pk(email: str) -> str:
    return f"SUPPRESSED#{email}"


# --------------------------------------------------------------------------- system items
UNIQUE_SK = "UNIQUE"
COUNTER_SK_PREFIX = "SHARD#"
RATE_LIMIT_SK_PREFIX = "WINDOW#"
IDEMPOTENCY_PK_PREFIX = "IDEMPOTENCY#"
HEALTH_PROBE_PK = "HEALTH#PROBE"  # read (never written) by repositories/health.py
#: The read cache's namespace stamps (in-process cache backend; see docs/caching.md).
CACHE_STAMPS_PK = "CACHE#STAMPS"
CACHE_STAMPS_SK = "STAMPS"


def unique_pk(kind: str, value: str) -> str:
    return f"UNIQUE#{kind}#{value}"


def counter_pk(name: str) -> str:
    return f"COUNTER#{name}"


def counter_sk(shard: int) -> str:
    return f"{COUNTER_SK_PREFIX}{shard}"


def rate_limit_pk(bucket: str) -> str:
    return f"RATELIMIT#{bucket}"


def rate_limit_sk(window_start: int) -> str:
    return f"{RATE_LIMIT_SK_PREFIX}{window_start}"


def idempotency_pk(service: str) -> str:
    """``static_pk_value`` for Powertools' DynamoDBPersistenceLayer of one service."""
    return f"{IDEMPOTENCY_PK_PREFIX}{service}"
