"""The embedded AWS emulator: moto's server in this process, on a free loopback port.

Running it in-process lets the local cloud read moto's backends directly (the SES mailbox), while
functions in their child processes reach it over HTTP through `AWS_ENDPOINT_URL`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config

from local.faults import Faults, FaultSpec, FaultyDynamoDB, moto_key_schema
from local.intrinsics import REGION

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_ses import SESClient
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_ssm import SSMClient

FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",  # the emulator's fake credentials
    "AWS_SESSION_TOKEN": "testing",
}


@dataclass(frozen=True, eq=False)
class AwsClients:
    """boto3 clients for the emulator (or, with endpoint_url None, whatever boto3 is patched to: moto)."""

    endpoint_url: str | None
    region: str = REGION

    @cached_property
    def _session(self) -> boto3.session.Session:
        return boto3.session.Session(
            aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            aws_session_token=FAKE_CREDENTIALS["AWS_SESSION_TOKEN"],
            region_name=self.region,
        )

    @property
    def _config(self) -> Config:
        # Long polls last up to 20 s; the emulator is local, so retries only hide bugs.
        return Config(
            read_timeout=30, retries={"max_attempts": 1, "mode": "standard"}, max_pool_connections=50
        )

    # Clients are thread-safe and costly to create: one of each per AwsClients.

    @cached_property
    def _dynamodb(self) -> DynamoDBClient:
        return self._session.client("dynamodb", endpoint_url=self.endpoint_url, config=self._config)

    @cached_property
    def _sqs(self) -> SQSClient:
        return self._session.client("sqs", endpoint_url=self.endpoint_url, config=self._config)

    @cached_property
    def _secretsmanager(self) -> SecretsManagerClient:
        return self._session.client("secretsmanager", endpoint_url=self.endpoint_url, config=self._config)

    @cached_property
    def _ssm(self) -> SSMClient:
        return self._session.client("ssm", endpoint_url=self.endpoint_url, config=self._config)

    @cached_property
    def _ses(self) -> SESClient:
        return self._session.client("ses", endpoint_url=self.endpoint_url, config=self._config)

    @cached_property
    def _s3(self) -> S3Client:
        return self._session.client("s3", endpoint_url=self.endpoint_url, config=self._config)

    def dynamodb(self) -> DynamoDBClient:
        return self._dynamodb

    def s3(self) -> S3Client:
        return self._s3

    def sqs(self) -> SQSClient:
        return self._sqs

    def secretsmanager(self) -> SecretsManagerClient:
        return self._secretsmanager

    def ssm(self) -> SSMClient:
        return self._ssm

    def ses(self) -> SESClient:
        return self._ses


class SerializedDynamoDB:
    """WSGI wrapper that runs one DynamoDB request at a time.

    DynamoDB isolates each request (a conditional write or a transaction is atomic), but moto's
    backend is plain Python objects touched by one thread per request: unserialized, two
    concurrent conditional puts can both "win" and a transaction can interleave with a write.
    Since the local cloud runs function instances in parallel precisely so races behave as in the
    cloud, DynamoDB requests take a lock. Other services are left concurrent: SQS long polls would
    otherwise block everything for up to 20 s.
    """

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if not str(environ.get("HTTP_X_AMZ_TARGET", "")).startswith("DynamoDB_"):
            return self.app(environ, start_response)
        with self.lock:
            # Consume the whole response inside the lock: moto builds it while iterating.
            return list(self.app(environ, start_response))


def _threaded_moto_server(host: str, port: int, faults: Faults) -> Any:
    from moto.moto_server.threaded_moto_server import ThreadedMotoServer
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    from local.s3_events import S3Front

    class Server(ThreadedMotoServer):
        def _server_entry(self) -> None:
            app = FaultyDynamoDB(
                S3Front(SerializedDynamoDB(DomainDispatcherApplication(create_backend_app))), faults
            )
            self._server = make_server(
                self._ip_address, self._port, app, True, request_handler=MotoRequestHandler
            )
            self._server_ready_event.set()
            self._server.serve_forever()

    return Server(ip_address=host, port=port, verbose=False)


class Emulator:
    """moto's ThreadedMotoServer on 127.0.0.1 and a free port, DynamoDB requests serialized, and
    the functions' DynamoDB requests meeting the faults of ``faults`` (local.faults: none unless
    configured)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, faults: FaultSpec | None = None) -> None:
        self.faults = Faults(faults, key_schema=moto_key_schema())
        self._server: Any = _threaded_moto_server(host, port, self.faults)
        self._started = False
        self._clients: AwsClients | None = None

    def start(self) -> None:
        # werkzeug logs every emulator request at INFO; the console has better things to show.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self._server.start()
        self._started = True

    @property
    def endpoint_url(self) -> str:
        host, port = self._server.get_host_and_port()
        return f"http://{host}:{port}"

    def clients(self) -> AwsClients:
        if self._clients is None:
            self._clients = AwsClients(self.endpoint_url)
        return self._clients

    def stop(self) -> None:
        if self._started:
            self._started = False
            self._server.stop()
