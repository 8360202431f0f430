"""Maintenance jobs the worker runs: clean-ups that do not fit in one request's transaction."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

from backend.observability import logger
from backend.schemas.jobs import PurgeUserPostsJob

if TYPE_CHECKING:
    from backend.repositories.posts import PostsRepository

if TYPE_CHECKING:
    from backend.repositories.posts import PostsRepository

#: Stop deleting and hand the rest to a follow-up job after this long (the worker times out at 30 s).
PURGE_TIME_BUDGET_SECONDS: Final = 20.0


def purge_user_posts(
    job: PurgeUserPostsJob,
    *,
    posts: PostsRepository,
    enqueue_follow_up: Callable[..., PurgeUserPostsJob],
    invalidate: Callable[..., None] = lambda *namespaces: None,
    time_budget: float = PURGE_TIME_BUDGET_SECONDS,
) -> dict[str, Any]:
    """Delete a deleted account's posts, each with its own cascade, until none remain.

    If time runs out first, a follow-up job is enqueued for the rest, so an author with thousands of
    posts never needs one long invocation (nor ends in the DLQ for timing out).
    """
    started = time.monotonic()
    remaining = posts.purge_author(job.user_id)
    while remaining and time.monotonic() - started < time_budget:
        remaining = posts.purge_author(job.user_id)
    invalidate("posts")  # the read cache may still serve the deleted posts
    follow_up = None
    if remaining:
        sequence = int(job.job_id.rsplit("-", 1)[-1]) + 1 if job.job_id.rsplit("-", 1)[-1].isdigit() else 1
        follow_up = enqueue_follow_up(job.user_id, sequence=sequence).job_id
    logger.info("purged user posts", extra={"user_id": job.user_id, "remaining": remaining})
    return {"jobId": job.job_id, "remaining": remaining, "followUp": follow_up}
