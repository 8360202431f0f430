"""boto3 clients for SQS and SES, created lazily and once per process (a client costs ~50 ms to build).

DynamoDB goes through PynamoDB's one shared connection instead (``backend.models.base``). Every
client of a thread is built from one botocore session (:func:`botocore_session`): PynamoDB's, these
clients' and Powertools parameters' (``backend.config``). A session loads botocore's data files
(endpoints, partitions, the list of services) and registers its handlers once, about 40 ms of a cold
start each, so a route that reads the signing key and the table pays that once, not twice.

Endpoints come from the standard AWS configuration, so the local cloud points everything at its
emulator with AWS_ENDPOINT_URL and nothing here knows about it.
"""

from __future__ import annotations

import threading
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import boto3
    import botocore.session
    from mypy_boto3_ses import SESClient
    from mypy_boto3_sqs import SQSClient

# Per thread, as PynamoDB keeps its sessions: creating clients from one session is not thread-safe.
_sessions = threading.local()


def botocore_session() -> botocore.session.Session:
    """This thread's botocore session, shared by every client the thread builds."""
    session: botocore.session.Session | None = getattr(_sessions, "botocore", None)
    if session is None:
        from botocore.session import get_session

        session = _sessions.botocore = get_session()
    return session


def boto3_session() -> boto3.session.Session:
    """A boto3 session over this thread's botocore session (for boto3 clients and Powertools)."""
    session: boto3.session.Session | None = getattr(_sessions, "boto3", None)
    if session is None:
        import boto3

        session = _sessions.boto3 = boto3.session.Session(botocore_session=botocore_session())
    return session


@cache
def _client(service: str) -> Any:
    from botocore.config import Config

    config = Config(
        connect_timeout=2,
        read_timeout=5,
        retries={"mode": "standard", "max_attempts": 3},
    )
    return boto3_session().client(service, config=config)  # type: ignore[call-overload]


def sqs() -> SQSClient:
    client: SQSClient = _client("sqs")
    return client


def ses() -> SESClient:
    client: SESClient = _client("ses")
    return client


def reset_clients() -> None:
    """Forget cached clients and this thread's sessions (tests switch endpoints and mocks between
    cases; a copy restored from a SnapStart snapshot resolves its own credentials)."""
    _client.cache_clear()
    _sessions.__dict__.clear()
