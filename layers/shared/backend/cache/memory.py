"""The in-process backend (the default): entries in this container's memory, stamps in the table.

Entries live in a bounded LRU map (``max_entries`` and ``max_bytes``, both small: the function's
memory budget is tight) and expire after their TTL. Containers share no memory, so the namespace
stamps live in DynamoDB (``repositories/cache_stamps.py``): a write sets them after it commits,
and a container re-reads them (one consistent GetItem) at most every ``stamp_max_age_ms``:

- a miss never reads them (the entry is new: nothing can have invalidated it yet);
- a hit on an entry younger than ``stamp_max_age_ms`` does not read them either, nor does a hit
  while the stamps read last are that young: a hit costs no DynamoDB request;
- otherwise a hit reads them first (one GetItem), and so does every ``strict`` hit (callers with
  credentials: they must see their own writes, whichever container served the write).

So a write made in another container reaches anonymous readers here within ``stamp_max_age_ms``
(1 s); this container's own writes update its stamps at once.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Protocol

from backend.cache.core import CacheUnavailableError, Entry, now_ms


class StampStore(Protocol):
    """Shared namespace stamps (``CacheStampsRepository``)."""

    def read(self) -> dict[str, int]: ...

    def write(self, stamps: dict[str, int]) -> None: ...


class MemoryBackend:
    name = "memory"

    def __init__(
        self,
        stamps: StampStore | None,
        *,
        max_entries: int = 1_000,
        max_bytes: int = 4 * 1024 * 1024,
        stamp_max_age_ms: int = 1_000,
        settle_ms: int = 1_000,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        """``stamps=None`` keeps stamps in this process only (one process, e.g. a script)."""
        self._store = stamps
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._stamp_max_age_ms = stamp_max_age_ms
        self._settle_ms = settle_ms
        self._clock = clock
        self._entries: OrderedDict[str, tuple[Entry, int]] = OrderedDict()  # key -> (entry, expires at)
        self._bytes = 0
        #: namespace -> (stamp, when it was learnt)
        self._known: dict[str, tuple[int, int]] = {}
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ entries
    def get(self, key: str, namespaces: Sequence[str], *, strict: bool) -> Entry | None:
        now = self._clock()
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                return None
            entry, expires_at = found
            if expires_at <= now:
                self._drop(key)
                return None
            self._entries.move_to_end(key)
        stamps = self._stamps(namespaces, entry, now, strict=strict)
        return entry if entry.valid(stamps, namespaces, self._settle_ms) else None

    def put(self, key: str, entry: Entry, ttl_seconds: int) -> None:
        size = len(entry.body) + len(key) + 64
        if size > self.max_bytes // 4:
            return  # one huge body must not flush everything else
        with self._lock:
            if key in self._entries:
                self._drop(key)
            self._entries[key] = (entry, self._clock() + ttl_seconds * 1000)
            self._bytes += size
            while self._entries and (len(self._entries) > self.max_entries or self._bytes > self.max_bytes):
                self._drop(next(iter(self._entries)))

    def _drop(self, key: str) -> None:
        entry, _ = self._entries.pop(key)
        self._bytes -= len(entry.body) + len(key) + 64

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def size_bytes(self) -> int:
        return self._bytes

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0
            self._known.clear()

    # ------------------------------------------------------------------ stamps
    def _stamps(self, namespaces: Sequence[str], entry: Entry, now: int, *, strict: bool) -> dict[str, int]:
        if self._store is not None and (strict or self._must_read(namespaces, entry, now)):
            try:
                stamps = self._store.read()
            except Exception as exc:  # an UnavailableError of the table, or a bug: degrade either way
                raise CacheUnavailableError("cache stamps could not be read") from exc
            with self._lock:
                for name, stamp in stamps.items():
                    self._learn(name, stamp, now)
                for name in namespaces:  # never written: known to be 0 as of now
                    if name not in stamps:
                        self._learn(name, 0, now)
        with self._lock:
            return {name: self._known[name][0] for name in namespaces if name in self._known}

    def _must_read(self, namespaces: Sequence[str], entry: Entry, now: int) -> bool:
        if now - entry.filled_at <= self._stamp_max_age_ms:
            return False
        with self._lock:
            return any(
                name not in self._known or now - self._known[name][1] > self._stamp_max_age_ms
                for name in namespaces
            )

    def _learn(self, name: str, stamp: int, now: int) -> None:
        previous = self._known.get(name)
        self._known[name] = (max(stamp, previous[0]) if previous else stamp, now)

    def bump(self, namespaces: Sequence[str], at_ms: int) -> None:
        with self._lock:
            for name in namespaces:
                self._learn(name, at_ms, self._clock())
        if self._store is not None:
            try:
                self._store.write(dict.fromkeys(namespaces, at_ms))
            except Exception as exc:
                raise CacheUnavailableError("cache stamps could not be written") from exc
