"""Which read cache the local cloud's functions use: the Redis on 127.0.0.1:6379 when one answers
(it stands in for ElastiCache), else the in-process cache. Decided once, at start-up, through the
template's ``CacheUrl`` parameter, so the functions get it the way they would in AWS."""

from __future__ import annotations

from pathlib import Path

from local.template import load_template

LOCAL_REDIS_URL = "redis://127.0.0.1:6379/0"
PARAMETER = "CacheUrl"


def redis_answers(url: str, timeout: float = 0.3) -> bool:
    try:
        import redis
    except ImportError:  # pragma: no cover - redis is a runtime requirement
        return False
    client = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
    try:
        return bool(client.ping())
    except (redis.RedisError, OSError):
        return False
    finally:
        client.close()


def choose_cache(template: Path, overrides: dict[str, str], *, url: str = LOCAL_REDIS_URL) -> str | None:
    """Set ``CacheUrl`` in ``overrides`` unless given; returns the start-up line saying which cache
    runs (None when the template has no such parameter)."""
    if PARAMETER not in (load_template(template).get("Parameters") or {}):
        return None
    if PARAMETER in overrides:
        chosen = overrides[PARAMETER].strip()
        return (
            f"Redis at {_describe(chosen)} (CacheUrl given)" if chosen else "in-process (CacheUrl is empty)"
        )
    if redis_answers(url):
        overrides[PARAMETER] = url
        return f"Redis at {_describe(url)} (it answered; CacheUrl= to use the in-process cache)"
    return f"in-process, per instance (no Redis answered at {_describe(url)})"


def _describe(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port or 6379}"
