"""Builds the read cache from its settings (``backend.cache.settings``), once per container."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from backend.cache.core import ReadCache
from backend.cache.memory import MemoryBackend, StampStore
from backend.cache.settings import CacheSettings, default_prefix, load_cache_settings
from backend.errors import ConfigurationError

if TYPE_CHECKING:
    from redis import Redis


def build_read_cache(
    *,
    table_name: str,
    stamps: Callable[[], StampStore],
    environ: Mapping[str, str] | None = None,
    settings: CacheSettings | None = None,
    redis: Callable[[], Redis | None] = lambda: None,
) -> ReadCache:
    """Redis when ``CACHE_URL`` is set, else the in-process backend with ``stamps()`` (the table).

    ``redis``: the client to use with ``CACHE_URL`` (the container's one client, ``backend.wiring``,
    which connects on first use)."""
    settings = settings or load_cache_settings(environ)
    if settings.url:
        from backend.cache.redis_backend import STAMP_TTL_SECONDS, RedisBackend

        def client() -> Redis:
            given = redis()
            if given is None:
                raise ConfigurationError("CACHE_URL is set but no Redis client was given")
            return given

        backend: MemoryBackend | RedisBackend = RedisBackend(
            client,
            prefix=settings.key_prefix or default_prefix(table_name, environ),
            settle_ms=settings.settle_ms,
            # a stamp must outlive the entries it judges (a missing stamp makes them all stale)
            stamp_ttl_seconds=max(STAMP_TTL_SECONDS, 2 * settings.ttl_seconds),
        )
    else:
        backend = MemoryBackend(
            stamps(),
            max_entries=settings.max_entries,
            max_bytes=settings.max_bytes,
            stamp_max_age_ms=settings.stamp_max_age_ms,
            settle_ms=settings.settle_ms,
        )
    return ReadCache(backend, ttl_seconds=settings.ttl_seconds, settle_ms=settings.settle_ms)


def secret_reader(name: str) -> Callable[[], str | None]:
    """The AUTH password from Secrets Manager (Powertools parameters, cached like the other secrets)."""

    def read() -> str | None:
        from aws_lambda_powertools.utilities import parameters

        from backend.settings import get_settings

        value = parameters.get_secret(name, max_age=get_settings().parameters_max_age_seconds)
        return value if isinstance(value, str) else None

    return read
