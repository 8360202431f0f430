"""Builds the read cache from its settings (``backend.cache.settings``), once per container."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from backend.cache.core import ReadCache
from backend.cache.memory import MemoryBackend, StampStore
from backend.cache.settings import CacheSettings, default_prefix, load_cache_settings


def build_read_cache(
    *,
    table_name: str,
    stamps: Callable[[], StampStore],
    environ: Mapping[str, str] | None = None,
    settings: CacheSettings | None = None,
) -> ReadCache:
    """Redis when ``CACHE_URL`` is set, else the in-process backend with ``stamps()`` (the table)."""
    settings = settings or load_cache_settings(environ)
    if settings.url:
        from backend.cache.redis_backend import RedisBackend, connect

        url, timeout_ms = settings.url, settings.timeout_ms
        password = _secret_reader(settings.auth_secret_name) if settings.auth_secret_name else None
        backend: MemoryBackend | RedisBackend = RedisBackend(
            lambda: connect(url, timeout_ms=timeout_ms, password=password),
            prefix=settings.key_prefix or default_prefix(table_name, environ),
            settle_ms=settings.settle_ms,
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


def _secret_reader(name: str) -> Callable[[], str | None]:
    """The AUTH password from Secrets Manager (Powertools parameters, cached like the other secrets)."""

    def read() -> str | None:
        from aws_lambda_powertools.utilities import parameters

        from backend.settings import get_settings

        value = parameters.get_secret(name, max_age=get_settings().parameters_max_age_seconds)
        return value if isinstance(value, str) else None

    return read
