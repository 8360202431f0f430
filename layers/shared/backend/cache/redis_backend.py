"""The Redis backend: Redis, Valkey or ElastiCache Serverless at ``CACHE_URL`` (redis-py, no hiredis).

Keys, all under one prefix (``<table>:`` by default, so two stacks or two local clouds sharing a
server never read each other's entries), every one with a TTL:

- ``{<prefix>}ns:<namespace>``: the namespace's stamp (epoch ms of its last write), expiring
  ``stamp_ttl_seconds`` (a day) after the last write to it;
- ``<prefix>e:<key>``: an entry (``<filled_at> <etag>\\n<body>``), expiring after the TTL.

Cluster mode (ElastiCache Serverless, a Redis Cluster): a command that names several keys is
refused with ``CROSSSLOT`` unless they hash to one slot, and redis-py's cluster pipeline refuses
multi-key commands outright. So no command here names two keys: a read is one ``GET`` per stamp
and one for the entry, sent in one non-transactional pipeline (one round trip on a plain client; a
cluster client sends each node its commands). The stamps carry the hash tag ``{<prefix>}``, so all
of a stack's stamps sit in one slot (one node), while entries spread over every slot. A fill is one
``SET … EX``, an invalidation one pipelined ``SET … EX`` per namespace: no ``KEYS``, no ``SCAN``,
no ``MGET``, no transaction. A stamp that is missing (a new or
restarted server, expired or evicted) is set so that every entry stored before that moment is
stale and what is computed afterwards is trusted: the safe reading of "unknown".

Timeouts are short (``CACHE_TIMEOUT_MS``, 200 ms by default, for connecting and for each reply)
and nothing is retried on the request path; ``ReadCache`` falls back to DynamoDB and skips Redis
for a few seconds after a failure.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Final, cast
from urllib.parse import urlsplit

from backend.cache.core import CacheUnavailableError, Entry, now_ms

if TYPE_CHECKING:
    from redis import Redis


#: How long a namespace stamp outlives its last write (entries live far less: CACHE_TTL_SECONDS).
STAMP_TTL_SECONDS: Final = 86_400


def connect(
    url: str,
    *,
    timeout_ms: int,
    password: Callable[[], str | None] | None = None,
    cluster: bool = False,
) -> Redis:
    """A client for ``url`` (``redis://`` or ``rediss://`` for TLS) with short timeouts and no retries.

    ``password``: where the AUTH password comes from when the URL has none (a Secrets Manager secret).
    ``cluster``: a cluster-mode endpoint (``CACHE_CLUSTER_MODE``): redis-py's ``RedisCluster``, which
    reads the slot map from the endpoint (``CLUSTER SLOTS``) when it is built and sends each command
    to the node holding its key's slot. It has the plain client's commands (it is typed as one here).
    """
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    options: dict[str, Any] = {
        "socket_connect_timeout": timeout_ms / 1000,
        "socket_timeout": timeout_ms / 1000,
        "retry": Retry(NoBackoff(), 0),
        "retry_on_timeout": False,
        "health_check_interval": 0,
        "client_name": "app-backend",
    }
    if password is not None and not urlsplit(url).password:
        options["password"] = password()
    if cluster:
        from redis.cluster import RedisCluster

        # ``retry`` (no retries) is the cluster client's own too: a refused or slow cluster is
        # skipped by ReadCache's breaker, not retried on the request path.
        return cast("Redis", RedisCluster.from_url(url, **options))
    return redis.Redis.from_url(url, **options)


def describe(url: str) -> str:
    """``url`` without credentials, for logs and the local cloud's banner."""
    parts = urlsplit(url)
    host = parts.hostname or "?"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


class RedisBackend:
    name = "redis"

    def __init__(
        self,
        client: Callable[[], Redis],
        *,
        prefix: str,
        settle_ms: int = 1_000,
        stamp_ttl_seconds: int = STAMP_TTL_SECONDS,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        """``client``: builds the client on first use (so a container that never reads the cache
        never imports redis-py or fetches the password)."""
        self._factory = client
        self._client: Redis | None = None
        self._prefix = prefix
        self._settle_ms = settle_ms
        self._stamp_ttl_seconds = stamp_ttl_seconds
        self._clock = clock
        self._lock = threading.Lock()

    def _redis(self) -> Redis:
        if self._client is None:
            with self._lock:
                if self._client is None:
                    try:
                        self._client = self._factory()
                    except Exception as exc:  # e.g. the password's secret cannot be read
                        raise CacheUnavailableError(f"redis client: {type(exc).__name__}") from exc
        return self._client

    def _stamp_key(self, namespace: str) -> str:
        """``{<prefix>}ns:<namespace>``: the hash tag puts every stamp of the stack in one slot."""
        return f"{{{self._prefix}}}ns:{namespace}"

    def _entry_key(self, key: str) -> str:
        return f"{self._prefix}e:{key}"

    def get(self, key: str, namespaces: Sequence[str], *, strict: bool) -> Entry | None:
        """The stamps and the entry, one ``GET`` each in one pipeline; always current (``strict``
        changes nothing here)."""
        stamp_keys = [self._stamp_key(ns) for ns in namespaces]
        with _translated():
            pipe = self._redis().pipeline(transaction=False)
            for stamp_key in stamp_keys:
                pipe.get(stamp_key)
            pipe.get(self._entry_key(key))
            *stamp_values, raw = pipe.execute()
        missing = [k for k, v in zip(stamp_keys, stamp_values, strict=True) if v is None]
        if missing:
            # Unknown (new server, restart, eviction): whatever is stored now is not trusted, what is
            # computed from now on is.
            stamp = self._clock() - self._settle_ms - 1
            with _translated():
                pipe = self._redis().pipeline(transaction=False)
                for stamp_key in missing:
                    pipe.set(stamp_key, stamp, nx=True, ex=self._stamp_ttl_seconds)
                pipe.execute()
            return None
        if raw is None:
            return None
        entry = Entry.decode(raw if isinstance(raw, bytes) else str(raw).encode())
        if entry is None:
            return None
        stamps = {ns: int(v or 0) for ns, v in zip(namespaces, stamp_values, strict=True)}
        return entry if entry.valid(stamps, namespaces, self._settle_ms) else None

    def put(self, key: str, entry: Entry, ttl_seconds: int) -> None:
        with _translated():
            self._redis().set(self._entry_key(key), entry.encode(), ex=ttl_seconds)

    def bump(self, namespaces: Sequence[str], at_ms: int) -> None:
        with _translated():
            pipe = self._redis().pipeline(transaction=False)
            for namespace in namespaces:
                pipe.set(self._stamp_key(namespace), at_ms, ex=self._stamp_ttl_seconds)
            pipe.execute()

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


@contextmanager
def _translated() -> Iterator[None]:
    """Redis and socket failures become CacheUnavailableError (the caller degrades to DynamoDB):
    refusals (``CROSSSLOT``, ``CLUSTERDOWN``, ``MOVED`` past the client's handling) are RedisErrors;
    a cluster client's own failures (no node answers, a slot no node holds) RedisClusterExceptions."""
    from redis.exceptions import RedisClusterException, RedisError

    try:
        yield
    except (RedisError, RedisClusterException, OSError) as exc:
        raise CacheUnavailableError(f"redis: {type(exc).__name__}: {exc}") from exc
