"""Powertools idempotency for use cases: one plain function, run at most once per key.

    place = idempotency.wrap(_place, key_prefix="orders.place", event_key="[userId, key]",
                             payload_key="items", serializer=ORDER_SERIALIZER)
    order = place(deps, data={"userId": ..., "key": ..., "items": [...]}, lambda_context=ctx)

- The key is a hash of ``event_key`` (a JMESPath over ``data``); ``payload_key`` is hashed as well,
  so the same key with another payload is ``UnprocessableError`` ``IDEMPOTENCY_KEY_REUSED`` (422, as
  the IETF Idempotency-Key draft says) instead of a replay.
- A call whose key is already running elsewhere waits for it (``wait_seconds``, polling with
  backoff) and then returns the stored result; past the wait it is ``IdempotencyInProgressError``
  (409 ``IDEMPOTENCY_IN_PROGRESS`` with Retry-After).
- An exception from the function deletes the record: a retry runs it again.
- ``Idempotent.run`` says whether the result was executed now or replayed from a stored record
  (``Outcome.replayed``; Powertools' ``response_hook`` runs only on a replay, with either store), so
  an HTTP route can mark a replayed response (``Idempotent-Replayed: true``, docs/api.md).
- Records live in the app table under ``PK=IDEMPOTENCY#<service>`` (``SK=<key_prefix>#<hash>``,
  expiring through the table's TTL attribute), or in Redis/Valkey when ``CACHE_URL`` is set and
  ``CACHE_IDEMPOTENCY`` is true, under
  ``<stack prefix>IDEMPOTENCY#<service>#<key_prefix>#<hash>`` (the read cache's prefix: two stacks
  sharing a server never replay each other's records), every key with its expiry (``SET … EX``).
  Powertools' Redis store sends single-key commands only (``SET NX EX``, ``GET``, ``DEL``, and
  ``SET NX EX`` of ``<key>:lock``), so it works on a cluster-mode endpoint as it is.

Powertools is imported on first use: a function whose first request only reads never loads it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from backend.errors import ConflictError, UnavailableError, UnprocessableError
from backend.models import keys
from backend.observability import logger
from backend.settings import Settings

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency import BasePersistenceLayer, IdempotencyConfig

#: How long records are kept: a client may retry with the same key for a day.
DEFAULT_EXPIRY_SECONDS: Final = 24 * 3600
#: Waits between polls of a record another invocation is still writing.
_POLL_DELAYS: Final = (0.05, 0.1, 0.2, 0.3, 0.5)


class IdempotencyInProgressError(ConflictError):
    """The same key is still being processed by another request; retry after a moment."""

    code = "IDEMPOTENCY_IN_PROGRESS"
    default_message = "A request with this Idempotency-Key is still in progress; retry shortly"

    def __init__(self, retry_after_seconds: int = 1, **kwargs: Any) -> None:
        self.retry_after_seconds = max(1, int(retry_after_seconds))
        super().__init__(**kwargs)


#: The replays seen by the ``Idempotent.run`` calls running in this context (one list per call).
_replays: ContextVar[list[bool] | None] = ContextVar("idempotency_replays", default=None)


def _note_replay(response: Any, idempotent_data: Any) -> Any:
    """Powertools' ``response_hook``: called only when the response comes from a stored record."""
    replays = _replays.get()
    if replays is not None:
        replays.append(True)
    return response


@dataclass(frozen=True, slots=True)
class Outcome[T]:
    """What an idempotent call returned, and whether it was replayed from a stored record (the use
    case did not run) rather than executed by this call."""

    value: T
    replayed: bool


def key_reused_error() -> UnprocessableError:
    return UnprocessableError(
        "This Idempotency-Key was already used with a different request body",
        code="IDEMPOTENCY_KEY_REUSED",
    )


@dataclass(frozen=True, slots=True)
class Idempotent:
    """A use case wrapped by Powertools' ``idempotent_function`` (see the module docstring)."""

    call: Callable[..., Any]
    config: IdempotencyConfig
    wait_seconds: float

    def run(self, *args: Any, data: Any, lambda_context: Any = None) -> Outcome[Any]:
        """As calling it, and say whether the result was replayed from a stored record: a completed
        one, or one that was in progress and completed while this call waited for it."""
        replays: list[bool] = []
        token = _replays.set(replays)
        try:
            value = self(*args, data=data, lambda_context=lambda_context)
        finally:
            _replays.reset(token)
        return Outcome(value=value, replayed=bool(replays))

    def __call__(self, *args: Any, data: Any, lambda_context: Any = None) -> Any:
        """Run the use case once per key; ``data`` is its input as the use case takes it (a dict, a
        dataclass or a Pydantic model: Powertools hashes its JSON form)."""
        from aws_lambda_powertools.utilities.idempotency.exceptions import (
            IdempotencyAlreadyInProgressError,
            IdempotencyPersistenceLayerError,
            IdempotencyValidationError,
        )

        if lambda_context is not None:
            # An in-progress record expires when this invocation would time out, so a crashed
            # attempt does not lock its key until the record's own expiry.
            self.config.register_lambda_context(lambda_context)
        deadline = time.monotonic() + self.wait_seconds
        attempt = 0
        while True:
            try:
                return self.call(*args, data=data)
            except IdempotencyValidationError:
                raise key_reused_error() from None
            except IdempotencyAlreadyInProgressError:
                delay = _POLL_DELAYS[min(attempt, len(_POLL_DELAYS) - 1)]
                attempt += 1
                if time.monotonic() + delay > deadline:
                    raise IdempotencyInProgressError(retry_after_seconds=1) from None
                time.sleep(delay)
            except IdempotencyPersistenceLayerError as exc:
                logger.warning("idempotency store unavailable", extra={"reason": str(exc)})
                raise UnavailableError("The idempotency store is temporarily unavailable") from exc


class Idempotency:
    """Builds idempotent use cases over this process's persistence store (one per use case, as
    Powertools configures a store for the first function that uses it)."""

    def __init__(
        self,
        settings: Settings,
        *,
        redis: Callable[[], Any] | None = None,
        redis_prefix: str = "",
        dynamodb_client: Callable[[], Any] | None = None,
    ) -> None:
        """``redis``: the container's Redis client (``backend.wiring``), or None without CACHE_URL;
        ``redis_prefix``: the stack's prefix of Redis keys (the read cache's)."""
        self._settings = settings
        self._redis_client = redis or (lambda: None)
        self._redis_prefix = redis_prefix
        self._dynamodb_client = dynamodb_client

    def _redis(self) -> Any:
        """The Redis client, or None; a client that cannot be built (a cluster client reads the slot
        map when it is built: the endpoint may not answer) is the store being unavailable (503)."""
        try:
            return self._redis_client()
        except Exception as exc:
            logger.warning("idempotency store unavailable", extra={"reason": type(exc).__name__})
            raise UnavailableError("The idempotency store is temporarily unavailable") from exc

    def persistence(self) -> BasePersistenceLayer:
        """A new persistence layer: Redis/Valkey when CACHE_URL is set, else the app table."""
        client = self._redis()
        if client is not None:
            return _cache_persistence(client)
        from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

        client = self._dynamodb_client() if self._dynamodb_client else _table_client()
        store: BasePersistenceLayer = _conflict_retrying(DynamoDBPersistenceLayer)(
            table_name=self._settings.table_name,
            key_attr="PK",
            sort_key_attr="SK",
            static_pk_value=keys.idempotency_pk(self._settings.service),
            expiry_attr=keys.TTL_ATTRIBUTE,
            boto3_client=client,
        )
        return store

    def wrap(
        self,
        function: Callable[..., Any],
        *,
        key_prefix: str,
        event_key: str,
        payload_key: str = "",
        serializer: Any = None,  # a BaseIdempotencySerializer (to_dict/from_dict)
        expires_after_seconds: int = DEFAULT_EXPIRY_SECONDS,
        wait_seconds: float = 0.0,
    ) -> Idempotent:
        from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function

        config = IdempotencyConfig(
            event_key_jmespath=event_key,
            payload_validation_jmespath=payload_key,
            raise_on_no_idempotency_key=True,
            expires_after_seconds=expires_after_seconds,
            hash_function="sha256",
            response_hook=_note_replay,
        )
        if self._redis() is not None:  # a shared keyspace: name the service, as the table's partition does
            key_prefix = f"{self._redis_prefix}{keys.idempotency_pk(self._settings.service)}#{key_prefix}"
        call = idempotent_function(
            data_keyword_argument="data",
            persistence_store=self.persistence(),
            config=config,
            output_serializer=serializer,
            key_prefix=key_prefix,
        )(function)
        return Idempotent(call=call, config=config, wait_seconds=wait_seconds)


def _table_client() -> Any:
    """PynamoDB's botocore client: no second DynamoDB client to build on the way."""
    from backend.repositories.dynamo import connection

    return connection().connection.client


def _conflict_retrying(base: type[Any]) -> type[Any]:
    """Powertools' DynamoDB store whose record writes are sent again when DynamoDB refuses them for a
    transaction conflict (nothing applied; botocore does not retry it), as the repositories' writes
    are (``repositories.dynamo.retrying``). Without it a conflict on the record's final update would
    leave it IN_PROGRESS, locking the key until the in-progress expiry, after a placement that did
    commit; with it, that takes five conflicts in a row."""
    from botocore.exceptions import ClientError

    from backend.errors import BusyError
    from backend.repositories.dynamo import TRANSACTION_CONFLICT, retrying

    def again(method: Callable[..., Any]) -> Callable[..., Any]:
        def call(self: Any, *args: Any, **kwargs: Any) -> Any:
            def once() -> Any:
                try:
                    return method(self, *args, **kwargs)
                except ClientError as exc:
                    if exc.response.get("Error", {}).get("Code") == TRANSACTION_CONFLICT:
                        raise BusyError() from exc
                    raise

            try:
                return retrying(once)
            except BusyError as exc:
                raise exc.__cause__ or exc from None

        return call

    return type(
        "ConflictRetryingDynamoDBPersistenceLayer",
        (base,),
        {name: again(getattr(base, name)) for name in ("_put_record", "_update_record", "_delete_record")},
    )


def _cache_persistence(client: Any) -> BasePersistenceLayer:
    """Powertools' Redis/Valkey store, keeping the payload hash when a record completes.

    Powertools (3.x) rewrites a completed record without its ``validation`` hash, so with payload
    validation an identical retry would be refused as a reused key once the record is read back
    from Redis (powertools-lambda-typescript#5705 fixed the same bug there). The subclass writes
    the hash with the result, as the DynamoDB store does.
    """
    import json
    import warnings

    from aws_lambda_powertools.utilities.idempotency.persistence.cache import CachePersistenceLayer
    from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord

    # CachePersistenceLayer is still an alias of the class Powertools marks deprecated for v4.
    warnings.filterwarnings(
        "ignore", message="RedisCachePersistenceLayer will be removed", category=DeprecationWarning
    )

    class _CachePersistence(CachePersistenceLayer):
        def _update_record(self, data_record: DataRecord) -> None:
            mapping: dict[str, Any] = {
                self.data_attr: data_record.response_data,
                self.status_attr: data_record.status,
                self.expiry_attr: data_record.expiry_timestamp,
            }
            if self.payload_validation_enabled:
                mapping[self.validation_key_attr] = data_record.payload_hash
            ttl = self._get_expiry_second(data_record.expiry_timestamp)
            self.client.set(name=data_record.idempotency_key, value=json.dumps(mapping), ex=ttl)

    return _CachePersistence(client=client)  # the container's client: password, timeouts, one pool
