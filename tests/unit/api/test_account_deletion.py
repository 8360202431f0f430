"""Deleting an account whose posts do not fit in one transaction: the purge job finishes the work."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import boto3
import pytest

from backend.records import PageRequest
from backend.schemas.jobs import PurgeUserPostsJob
from backend.services import maintenance
from local.events import sqs_record
from tests.support.apigw import FakeContext
from tests.support.identity import Api

#: The maintenance queue as template.yaml names it with Stage=test (the IAM contract checks the requests).
MAINTENANCE_QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:app-backend-maintenance-test"


@pytest.fixture
def maintenance_queue(api: Api, monkeypatch: pytest.MonkeyPatch, fresh_process: Callable[[], None]) -> str:
    url: str = boto3.client("sqs").create_queue(QueueName="app-backend-maintenance-test")["QueueUrl"]
    monkeypatch.setenv("MAINTENANCE_QUEUE_URL", url)
    fresh_process()
    return url


def test_posts_that_do_not_fit_are_purged_by_the_worker(api: Api, maintenance_queue: str) -> None:
    from functions.users import app as users_app

    account = api.account()
    posts = api.container.posts
    for index in range(60):  # 60 posts: far more than one 100-operation transaction holds
        posts.create(author_id=account.id, title=f"Post {index}", slug=f"purge-post-{index}")

    response = api.call(users_app.handler, "DELETE", "/api/me", token=account.token)
    assert response.status == 204

    sqs = boto3.client("sqs")
    messages = sqs.receive_message(QueueUrl=maintenance_queue, MaxNumberOfMessages=10)["Messages"]
    assert len(messages) == 1
    job = json.loads(messages[0]["Body"])
    assert job == {"type": "user.purge-posts", "jobId": f"purge-posts-{account.id}-0", "userId": account.id}
    assert posts.list_by_author(account.id, PageRequest(limit=100)).meta.total == 60

    from backend.jobs.worker import create_worker_handler

    record = sqs_record(messages[0], MAINTENANCE_QUEUE_ARN)
    result = create_worker_handler()({"Records": [record]}, FakeContext())
    assert result == {"batchItemFailures": []}
    assert posts.list_by_author(account.id, PageRequest(limit=100)).items == ()
    assert posts.list_by_author(account.id, PageRequest(limit=100)).meta.total == 0


def test_a_purge_that_runs_out_of_time_hands_over_to_a_follow_up_job(api: Api) -> None:
    account = api.account()
    for index in range(30):
        api.container.posts.create(author_id=account.id, title=f"P{index}", slug=f"slow-purge-{index}")
    follow_ups: list[tuple[str, int]] = []

    def enqueue(user_id: str, *, sequence: int) -> Any:
        follow_ups.append((user_id, sequence))
        return PurgeUserPostsJob(job_id=f"purge-posts-{user_id}-{sequence}", user_id=user_id)

    job = PurgeUserPostsJob(job_id=f"purge-posts-{account.id}-0", user_id=account.id)
    result = maintenance.purge_user_posts(
        job, posts=api.container.posts, enqueue_follow_up=enqueue, time_budget=0
    )
    assert result["remaining"] == 5  # one batch of 25 deleted, then the time budget was spent
    assert follow_ups == [(account.id, 1)]


def test_the_worker_enqueues_the_follow_up_on_the_maintenance_queue(
    api: Api, maintenance_queue: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Through the worker's handler with no time left: the follow-up job reaches the real queue
    # (and the IAM contract, tests/contract, sees the worker send it).
    import functools

    from backend.jobs.worker import create_worker_handler

    account = api.account()
    for index in range(30):
        api.container.posts.create(author_id=account.id, title=f"P{index}", slug=f"out-of-time-{index}")
    monkeypatch.setattr(
        maintenance, "purge_user_posts", functools.partial(maintenance.purge_user_posts, time_budget=0)
    )
    job = PurgeUserPostsJob(job_id=f"purge-posts-{account.id}-0", user_id=account.id)
    message = {"MessageId": "m-1", "ReceiptHandle": "r", "Body": job.model_dump_json(by_alias=True)}
    record = sqs_record({**message, "Attributes": {"ApproximateReceiveCount": "1"}}, MAINTENANCE_QUEUE_ARN)
    assert create_worker_handler()({"Records": [record]}, FakeContext()) == {"batchItemFailures": []}
    messages = boto3.client("sqs").receive_message(QueueUrl=maintenance_queue)["Messages"]
    follow_up = json.loads(messages[0]["Body"])
    assert follow_up["jobId"] == f"purge-posts-{account.id}-1"
    assert follow_up["userId"] == account.id


def test_deleting_an_author_makes_cached_post_pages_stale(api: Api) -> None:
    """An anonymous reader who had a deleted author's published post cached gets 404 afterwards."""
    from functions.content import app as content_app
    from functions.users import app as users_app

    author = api.account()
    post = api.container.posts.create(author_id=author.id, title="Soon gone", slug="soon-gone")
    api.container.posts.update(post, published=True)
    assert api.call(content_app.handler, "GET", "/api/posts/by-slug/soon-gone").status == 200  # now cached
    assert api.call(users_app.handler, "DELETE", "/api/me", token=author.token).status == 204
    time.sleep(1.2)  # the cache's settle margin after a write (docs/caching.md)
    assert api.call(content_app.handler, "GET", "/api/posts/by-slug/soon-gone").status == 404
