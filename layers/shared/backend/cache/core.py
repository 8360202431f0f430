"""The backend-independent part of the read cache: entries, validity, degradation, invalidation.

An entry is the rendered body of a response (bytes), its strong ETag and the time its computation
*started* (``filled_at``, epoch milliseconds). It is valid while, for each of its namespaces,

    filled_at > stamp(namespace) + settle

where ``stamp`` is the time of the last write to the namespace. Taking ``filled_at`` before the
computation makes a write that lands while it runs invalidate its result; the ``settle`` margin
(1 s) covers the lag of DynamoDB's global secondary indexes (a list read right after a write may not
show it yet, so it must not be kept) and the clock skew between containers.

A backend failure never fails a request: the read is computed from DynamoDB, ``CacheUnavailable``
is counted, a warning is logged, and the backend is skipped for a few seconds (a circuit breaker,
so a down or slow Redis costs one short timeout per container every few seconds, not one per
request). Invalidations that could not reach the backend are retried before its next use.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Protocol

#: How long a failed backend is skipped before it is tried again.
RETRY_AFTER_MS: Final = 5_000


class CacheUnavailableError(Exception):
    """The backend could not answer (connection refused, timeout, its stamp store failed...)."""


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def etag_of(body: bytes) -> str:
    """A strong ETag: a hash of the exact bytes of the body."""
    return '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'


@dataclass(frozen=True, slots=True)
class Entry:
    """A cached response body, its ETag and when it was filled."""

    filled_at: int
    etag: str
    body: bytes

    def encode(self) -> bytes:
        return b"%d %s\n" % (self.filled_at, self.etag.encode("ascii")) + self.body

    @classmethod
    def decode(cls, raw: bytes) -> Entry | None:
        """The entry in ``raw``, or None if it is not one (then it is treated as a miss)."""
        head, newline, body = raw.partition(b"\n")
        filled_at, space, etag = head.partition(b" ")
        if not (newline and space and filled_at.isdigit() and etag.startswith(b'"')):
            return None
        return cls(filled_at=int(filled_at), etag=etag.decode("ascii"), body=body)

    def valid(self, stamps: Mapping[str, int], namespaces: Iterable[str], settle_ms: int) -> bool:
        return all(self.filled_at > stamps.get(ns, 0) + settle_ms for ns in namespaces)


class CacheBackend(Protocol):
    """Where entries and stamps live. Methods raise CacheUnavailableError when the store fails."""

    name: str

    def get(self, key: str, namespaces: Sequence[str], *, strict: bool) -> Entry | None:
        """The entry under ``key`` if it is still valid for ``namespaces``, else None.

        ``strict``: the caller must see every write committed before this call (a backend that
        remembers stamps for a moment re-reads them).
        """
        ...

    def put(self, key: str, entry: Entry, ttl_seconds: int) -> None: ...

    def bump(self, namespaces: Sequence[str], at_ms: int) -> None:
        """Record a write to ``namespaces`` at ``at_ms``: their entries filled before it are stale."""
        ...


@dataclass(frozen=True, slots=True)
class NotCached:
    """What a computation returns for a result that must not be shared (a draft shown to its author)."""

    body: bytes


@dataclass(frozen=True, slots=True)
class Rendered:
    """A response body ready to send: its bytes, its strong ETag, and whether it came from the cache
    (``hit``) and may be shared with other callers (``shared``: False for results only the caller
    may see)."""

    body: bytes
    etag: str
    hit: bool = False
    shared: bool = True


type Reporter = Callable[[str, BaseException], None]


def report_unavailable(operation: str, error: BaseException) -> None:
    """The default failure report: a ``CacheUnavailable`` metric and a warning (no secrets in it)."""
    from aws_lambda_powertools.metrics import MetricUnit

    from backend.observability import logger, metrics

    metrics.add_metric(name="CacheUnavailable", unit=MetricUnit.Count, value=1)
    logger.warning(
        "read cache unavailable: serving from DynamoDB",
        extra={"cache_operation": operation, "error_type": type(error).__name__, "reason": str(error)[:200]},
    )


class ReadCache:
    """Read-through cache of rendered bodies with namespace invalidation (see the module doc)."""

    def __init__(
        self,
        backend: CacheBackend,
        *,
        ttl_seconds: int = 60,
        settle_ms: int = 1_000,
        clock: Callable[[], int] = now_ms,
        report: Reporter = report_unavailable,
        retry_after_ms: int = RETRY_AFTER_MS,
    ) -> None:
        self.backend = backend
        self.ttl_seconds = ttl_seconds
        self.settle_ms = settle_ms
        self._clock = clock
        self._report = report
        self._retry_after_ms = retry_after_ms
        self._open_until = 0
        self._pending: set[str] = set()
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return self.backend.name

    def is_available(self) -> bool:
        """False while the breaker is open after a failure (reads go straight to DynamoDB)."""
        return self._clock() >= self._open_until

    # ------------------------------------------------------------------ reads
    def fetch(
        self,
        key: str,
        namespaces: Sequence[str],
        compute: Callable[[], bytes | NotCached],
        *,
        strict: bool = False,
    ) -> Rendered:
        """The body under ``key``: from the cache if valid, else ``compute()`` (stored unless it
        returns ``NotCached``). Exceptions of ``compute`` propagate and nothing is stored."""
        backend = self._usable()
        if backend is not None:
            try:
                entry = backend.get(key, namespaces, strict=strict)
            except CacheUnavailableError as exc:
                self._failed("get", exc)
                backend = None
            else:
                if entry is not None:
                    return Rendered(entry.body, entry.etag, hit=True)
        started = self._clock()
        computed = compute()
        if isinstance(computed, NotCached):
            return Rendered(computed.body, etag_of(computed.body), shared=False)
        entry = Entry(filled_at=started, etag=etag_of(computed), body=computed)
        if backend is not None:
            try:
                backend.put(key, entry, self.ttl_seconds)
            except CacheUnavailableError as exc:
                self._failed("put", exc)
        return Rendered(entry.body, entry.etag)

    # ------------------------------------------------------------------ writes
    def invalidate(self, *namespaces: str) -> None:
        """After a write committed: every entry of these namespaces, in every container, is stale.

        Never raises: if the backend cannot be reached, the namespaces are remembered and stamped
        again before the backend's next use (docs/caching.md says what that means for staleness).
        """
        if not namespaces:
            return
        with self._lock:
            self._pending.update(namespaces)
        if self.is_available():  # else flushed before the backend's next use, once the breaker closes
            self._flush()

    def _flush(self) -> None:
        with self._lock:
            pending = sorted(self._pending)
            self._pending.clear()
        if not pending:
            return
        try:
            self.backend.bump(pending, self._clock())
        except CacheUnavailableError as exc:
            with self._lock:
                self._pending.update(pending)
            self._failed("invalidate", exc)

    # ------------------------------------------------------------------ degradation
    def _usable(self) -> CacheBackend | None:
        if not self.is_available():
            return None
        if self._pending:
            self._flush()
            if not self.is_available():
                return None
        return self.backend

    def _failed(self, operation: str, exc: CacheUnavailableError) -> None:
        self._open_until = self._clock() + self._retry_after_ms
        with contextlib.suppress(Exception):  # reporting must never fail the request
            self._report(operation, exc.__cause__ or exc)
