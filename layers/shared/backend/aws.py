"""boto3 clients for SQS and SES, created lazily and once per process (a client costs ~50 ms to build).

DynamoDB goes through PynamoDB's one shared connection instead (``backend.models.base``).

Endpoints come from the standard AWS configuration, so the local cloud points everything at its
emulator with AWS_ENDPOINT_URL and nothing here knows about it.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_ses import SESClient
    from mypy_boto3_sqs import SQSClient


@cache
def _client(service: str) -> Any:
    import boto3
    from botocore.config import Config

    config = Config(
        connect_timeout=2,
        read_timeout=5,
        retries={"mode": "standard", "max_attempts": 3},
    )
    return boto3.session.Session().client(service, config=config)  # type: ignore[call-overload]


def sqs() -> SQSClient:
    client: SQSClient = _client("sqs")
    return client


def ses() -> SESClient:
    client: SESClient = _client("ses")
    return client


def reset_clients() -> None:
    """Forget cached clients (tests switch endpoints and mocks between cases)."""
    _client.cache_clear()
