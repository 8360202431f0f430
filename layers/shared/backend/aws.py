"""boto3 clients for SQS, SES and S3, created lazily and once per process (a client costs ~50 ms to build).

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
    from mypy_boto3_s3 import S3Client
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


#: Attempts per call, the first included (botocore's ``total_max_attempts``), in botocore's standard
#: retry mode: throttling and transient errors are retried with exponential backoff and jitter (a
#: random wait of up to 1 s, 2 s, 4 s, 8 s... before retry 1, 2, 3, 4...). SES gets one more than the
#: others: a burst over the account's sending rate is refused with "Throttling - Maximum sending rate
#: exceeded", which a retry a moment later usually gets through (at most 15 s of waits, 7.5 s on
#: average, within the worker's 30 s timeout; a send still throttled after them is deferred by the
#: worker, see ``backend.services.email``).
MAX_ATTEMPTS: dict[str, int] = {"ses": 5}
DEFAULT_MAX_ATTEMPTS = 4


@cache
def _client(service: str) -> Any:
    from botocore.config import Config

    config = Config(
        connect_timeout=2,
        read_timeout=5,
        retries={"mode": "standard", "total_max_attempts": MAX_ATTEMPTS.get(service, DEFAULT_MAX_ATTEMPTS)},
        # S3: presigned POSTs signed with SigV4 (the policy's x-amz-* fields), as AWS requires in
        # every region opened since 2014 and recommends everywhere
        signature_version="s3v4" if service == "s3" else None,
    )
    return boto3_session().client(service, config=config)  # type: ignore[call-overload]


def sqs() -> SQSClient:
    client: SQSClient = _client("sqs")
    return client


def ses() -> SESClient:
    client: SESClient = _client("ses")
    return client


def s3() -> S3Client:
    client: S3Client = _client("s3")
    return client


def reset_clients() -> None:
    """Forget cached clients and this thread's sessions (tests switch endpoints and mocks between
    cases; a copy restored from a SnapStart snapshot resolves its own credentials)."""
    _client.cache_clear()
    _sessions.__dict__.clear()
