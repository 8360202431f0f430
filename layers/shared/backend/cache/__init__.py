"""The read cache: public reads served without DynamoDB, invalidated across containers by writes.

One small interface (``ReadCache.fetch`` / ``ReadCache.invalidate``, the original's
``cached(key, fn, ttl)`` and its invalidation) over two backends:

- ``memory``: an in-process TTL cache with a size bound, per Lambda container (the default);
- ``redis``: Redis, Valkey or ElastiCache Serverless at ``CACHE_URL`` (TLS and auth supported).

Invalidation never lists keys: every entry depends on one or more *namespaces* (``products``,
``categories``, ``posts``); a write sets its namespaces' *stamps* (the time of the write), and an
entry filled before the last stamp of one of its namespaces (plus a settle margin) is stale.
docs/caching.md explains the design, its consistency and its failure modes.

Nothing here imports the Redis client, PynamoDB or boto3 at import time.
"""

from backend.cache.core import (
    CacheBackend,
    CacheUnavailableError,
    NotCached,
    ReadCache,
    Rendered,
    etag_of,
)

__all__ = ["CacheBackend", "CacheUnavailableError", "NotCached", "ReadCache", "Rendered", "etag_of"]
