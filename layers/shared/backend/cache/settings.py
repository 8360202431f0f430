"""The read cache's settings (environment variables, validated when the cache is first built).

| variable | default | meaning |
| --- | --- | --- |
| ``CACHE_URL`` | empty: in-process | ``redis://`` or ``rediss://`` (TLS) URL of Redis/Valkey/ElastiCache |
| ``CACHE_AUTH_SECRET_NAME`` | none | Secrets Manager secret holding the AUTH password (when the URL has none) |
| ``CACHE_TTL_SECONDS`` | 60 | lifetime of an entry (the original's ``cacheStrategy: { ttl: 60 }``) |
| ``CACHE_TIMEOUT_MS`` | 200 | Redis connect and reply timeout |
| ``CACHE_MAX_ENTRIES`` / ``CACHE_MAX_BYTES`` | 1000 / 4 MiB | bound of the in-process cache |
| ``CACHE_STAMP_MAX_AGE_MS`` | 1000 | in-process: how long a container trusts the stamps it read |
| ``CACHE_SETTLE_MS`` | 1000 | entries computed this soon after a write are not trusted (index lag) |
| ``CACHE_KEY_PREFIX`` | ``<table>:`` | prefix of every Redis key (no ``{`` or ``}``: the stamps' hash tag is built from it) |
| ``CACHE_IDEMPOTENCY`` | false | ``true``: Powertools idempotency records in this Redis instead of the table (the table survives evictions and restarts; Redis does not) |
| ``CACHE_CLUSTER_MODE`` | false | ``true`` for a cluster-mode endpoint (ElastiCache Serverless, Redis Cluster): redis-py's ``RedisCluster`` |
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator
from pydantic import ValidationError as PydanticValidationError

from backend.errors import ConfigurationError


def _blank_is_none(value: Any) -> Any:
    if isinstance(value, str) and not value.strip():
        return None
    return value.strip() if isinstance(value, str) else value


def _redis_url(value: str | None) -> str | None:
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("redis", "rediss") or not parts.hostname:
        raise ValueError("must be a redis:// or rediss:// URL (or empty for the in-process cache)")
    return value


def _no_braces(value: str | None) -> str | None:
    if value is not None and ("{" in value or "}" in value):
        raise ValueError("must not contain { or } (the stamps' hash tag is built from the prefix)")
    return value


OptionalText = Annotated[str | None, BeforeValidator(_blank_is_none)]


class CacheSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    url: Annotated[OptionalText, AfterValidator(_redis_url)] = Field(None, alias="CACHE_URL")
    auth_secret_name: OptionalText = Field(None, alias="CACHE_AUTH_SECRET_NAME")
    ttl_seconds: int = Field(60, alias="CACHE_TTL_SECONDS", ge=1, le=86_400)
    timeout_ms: int = Field(200, alias="CACHE_TIMEOUT_MS", ge=10, le=5_000)
    max_entries: int = Field(1_000, alias="CACHE_MAX_ENTRIES", ge=0, le=100_000)
    max_bytes: int = Field(4 * 1024 * 1024, alias="CACHE_MAX_BYTES", ge=0, le=256 * 1024 * 1024)
    stamp_max_age_ms: int = Field(1_000, alias="CACHE_STAMP_MAX_AGE_MS", ge=0, le=60_000)
    settle_ms: int = Field(1_000, alias="CACHE_SETTLE_MS", ge=0, le=60_000)
    key_prefix: Annotated[OptionalText, AfterValidator(_no_braces)] = Field(None, alias="CACHE_KEY_PREFIX")
    #: A cluster-mode endpoint: ElastiCache Serverless is one (docs/caching.md, "Cluster mode").
    cluster_mode: bool = Field(False, alias="CACHE_CLUSTER_MODE")
    #: Idempotency records in Redis too (off: they stay in the table even with CACHE_URL, which the
    #: orders function has for invalidating the product views).
    idempotency: bool = Field(False, alias="CACHE_IDEMPOTENCY")

    @model_validator(mode="after")
    def _cluster_has_one_database(self) -> CacheSettings:
        if self.cluster_mode and self.url and urlsplit(self.url).path.strip("/") not in ("", "0"):
            raise ValueError(
                "CACHE_URL must name database 0 (or none) with CACHE_CLUSTER_MODE: a cluster has no SELECT"
            )
        return self

    @property
    def backend(self) -> str:
        return "redis" if self.url else "memory"


def load_cache_settings(environ: Mapping[str, str] | None = None) -> CacheSettings:
    env = dict(os.environ if environ is None else environ)
    try:
        return CacheSettings.model_validate(env)
    except PydanticValidationError as exc:
        problems = [f"{err['loc'][0] if err['loc'] else '?'}: {err['msg']}" for err in exc.errors()]
        raise ConfigurationError("Invalid cache settings: " + "; ".join(problems)) from None


def default_prefix(table_name: str, environ: Mapping[str, str] | None = None) -> str:
    """``<table>:``, plus the DynamoDB endpoint when one is configured (the local cloud's emulator):
    the prefix names the data the entries are copies of."""
    env = os.environ if environ is None else environ
    endpoint = env.get("AWS_ENDPOINT_URL_DYNAMODB") or env.get("AWS_ENDPOINT_URL")
    if endpoint:
        return f"{table_name}@{urlsplit(endpoint).netloc}:"
    return f"{table_name}:"
