"""Rate limits: a fixed window per bucket, counted atomically by the store (the table or Redis)."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Protocol

from backend import observability
from backend.errors import RateLimitedError

if TYPE_CHECKING:
    from backend.records.users import RateLimitResult


class RateLimiter(Protocol):
    def hit(self, bucket: str, *, limit: int, window_seconds: int) -> RateLimitResult: ...


def enforce(limiter: RateLimiter, bucket: str, *, limit: int, window_seconds: int = 60) -> None:
    """Count one request in ``bucket``; RateLimitedError (429 with Retry-After) once over ``limit``."""
    result = limiter.hit(bucket, limit=limit, window_seconds=window_seconds)
    if not result.allowed:
        observability.count(observability.RATE_LIMITED, limit=bucket.rsplit(":", 1)[0])
        raise RateLimitedError(result.retry_after_seconds, message="Too many attempts; try again later")


def bucket(kind: str, value: str) -> str:
    """A bucket name that does not store the value itself (emails are personal data)."""
    return f"{kind}:{hashlib.sha256(value.encode()).hexdigest()[:32]}"
