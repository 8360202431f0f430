"""Fixed-window rate limits: ``PK=RATELIMIT#<bucket>, SK=WINDOW#<start>``, one UpdateItem per hit.

``ADD hits 1`` conditioned on ``hits < limit`` counts and checks atomically, however many Lambda
instances run in parallel. Each window is its own item, expiring (TTL) when the window ends, so an
old window is never read again and DynamoDB's lazy deletion does not matter.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pynamodb.exceptions import UpdateError

from backend.models import keys
from backend.models.clock import Clock, utcnow
from backend.models.system import RateLimitModel
from backend.records.users import RateLimitResult
from backend.repositories.dynamo import retrying, translated_errors


class RateLimitsRepository:
    def __init__(self, *, clock: Clock = utcnow) -> None:
        self._clock = clock

    def hit(self, bucket: str, *, limit: int, window_seconds: int) -> RateLimitResult:
        """Count one request in ``bucket``'s current window; ``allowed`` is False once ``limit`` is hit."""
        if limit < 1 or window_seconds < 1:
            raise ValueError("limit and window_seconds must be positive")
        now = int(self._clock().timestamp())
        start = now - now % window_seconds
        reset = start + window_seconds
        reset_at = datetime.fromtimestamp(reset, tz=UTC)
        model = RateLimitModel(keys.rate_limit_pk(bucket), keys.rate_limit_sk(start))

        def count() -> None:
            with translated_errors():
                model.update(
                    [
                        RateLimitModel.hits.add(1),
                        RateLimitModel.expires_at.set(reset_at),
                        RateLimitModel.item_type.set(RateLimitModel),
                    ],
                    condition=RateLimitModel.hits.does_not_exist() | (RateLimitModel.hits < limit),
                )

        try:
            retrying(count)
        except UpdateError as exc:
            if exc.cause_response_code != "ConditionalCheckFailedException":
                raise
            return RateLimitResult(
                allowed=False,
                limit=limit,
                remaining=0,
                retry_after_seconds=max(1, reset - now),
                reset_at=reset_at,
            )
        hits = int(model.hits)
        return RateLimitResult(
            allowed=True,
            limit=limit,
            remaining=max(0, limit - hits),
            retry_after_seconds=0,
            reset_at=reset_at,
        )
