"""Paged listings: the spec's page/limit/total metadata over DynamoDB Queries, with signed cursors.

A page is read with Queries of ``limit + 1`` items (the extra item only tells whether more exist).
The next page is reached through an opaque cursor: the keys of the last item returned (one per shard
for sharded listings) and the next page number, as base64url JSON, signed with HMAC-SHA256 over the
query's identity (listing, filters and limit). A cursor therefore cannot be edited, forged, or
replayed against another query: any of that is a BadRequestError with code ``INVALID_CURSOR``.

Without a cursor, ``page=N`` is honoured by walking past ``(N-1) * limit`` items (DynamoDB has no
offsets): deep pages cost reads proportional to their depth, so the offset is capped (``MAX_OFFSET``)
and clients are expected to follow ``next_cursor``. ``total`` comes from a counter item, never from
reading the listing.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from backend.errors import BadRequestError, ValidationError
from backend.records import MAX_LIMIT, Page, PageMeta, PageRequest
from backend.repositories.dynamo import QuerySpec, RawItem, query_page, string_of
from backend.values import MAX_OFFSET

#: Items fetched per Query while walking past skipped items.
_SKIP_BATCH: Final = 1_000
_CURSOR_VERSION: Final = 1
_MAC_BYTES: Final = 16


def derive_cursor_key(secret: str | bytes) -> bytes:
    """A key dedicated to cursors, derived from an application secret (e.g. the token-signing key)."""
    material = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(material, b"app-backend/pagination-cursor/v1", hashlib.sha256).digest()


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def invalid_cursor() -> BadRequestError:
    return BadRequestError("The cursor is invalid or does not belong to this query", code="INVALID_CURSOR")


class CursorCodec:
    """Signs and verifies cursors. The key comes from the caller (settings/secrets), never from here."""

    def __init__(self, key: bytes | Callable[[], bytes]) -> None:
        """``key``, or a function returning it: then it is fetched on first use, so a repository
        whose caller never pages (a read by id, a worker job) never needs the secret it comes from."""
        self._source = key
        self._resolved: bytes | None = None
        if isinstance(key, bytes):
            self._resolved = self._checked(key)

    @staticmethod
    def _checked(key: bytes) -> bytes:
        if len(key) < 16:
            raise ValueError("cursor key must be at least 16 bytes")
        return key

    @property
    def _key(self) -> bytes:
        if self._resolved is None:
            assert callable(self._source)
            self._resolved = self._checked(self._source())
        return self._resolved

    def _mac(self, query_id: str, payload: str) -> bytes:
        message = f"{query_id}\x00{payload}".encode()
        return hmac.new(self._key, message, hashlib.sha256).digest()[:_MAC_BYTES]

    def encode(self, query_id: str, state: dict[str, Any]) -> str:
        payload = _b64encode(json.dumps({"v": _CURSOR_VERSION, **state}, separators=(",", ":")).encode())
        return f"{payload}.{_b64encode(self._mac(query_id, payload))}"

    def decode(self, query_id: str, cursor: str) -> dict[str, Any]:
        """The state inside ``cursor``; BadRequestError(INVALID_CURSOR) unless signed for this query."""
        try:
            payload, signature = cursor.split(".")
            mac = _b64decode(signature)
        except (ValueError, binascii.Error):
            raise invalid_cursor() from None
        if not hmac.compare_digest(mac, self._mac(query_id, payload)):
            raise invalid_cursor()
        try:
            state = json.loads(_b64decode(payload))
        except (ValueError, binascii.Error):
            raise invalid_cursor() from None
        if not isinstance(state, dict) or state.get("v") != _CURSOR_VERSION:
            raise invalid_cursor()
        return state


# ----------------------------------------------------------------------------- shard state
@dataclass(frozen=True, slots=True)
class _Shard:
    """Where one Query resumes: after ``key`` (None: from the start); ``done``: nothing left."""

    key: dict[str, str] | None = None
    done: bool = False

    def start_key(self) -> RawItem | None:
        return None if self.key is None else {name: {"S": value} for name, value in self.key.items()}

    def to_json(self) -> list[Any]:
        return [self.key, self.done]

    @classmethod
    def from_json(cls, data: Any, key_names: tuple[str, ...]) -> _Shard:
        if not (isinstance(data, list) and len(data) == 2 and isinstance(data[1], bool)):
            raise invalid_cursor()
        key, done = data
        if key is not None and not (
            isinstance(key, dict)
            and set(key) == set(key_names)
            and all(isinstance(v, str) for v in key.values())
        ):
            raise invalid_cursor()
        return cls(key=key, done=done)


def _plain_key(raw: RawItem, spec: QuerySpec) -> dict[str, str]:
    return {name: string_of(raw, name) for name in spec.key_attributes}


def _fetch(
    specs: Sequence[QuerySpec], shards: list[_Shard], count: int, *, keys_only: bool = False
) -> tuple[list[RawItem], list[_Shard]]:
    """Up to ``count`` items in listing order (merging shards) and the state after the last one."""
    candidates: list[tuple[str, str, int, RawItem]] = []  # (sort key, PK, shard, item)
    exhausted: list[bool] = []
    for index, (spec, shard) in enumerate(zip(specs, shards, strict=True)):
        if shard.done:
            exhausted.append(True)
            continue
        items, more = _read(spec, shard, count + 1, keys_only=keys_only)
        exhausted.append(not more and len(items) <= count)
        sort_attr = spec.sort_key_attribute
        candidates.extend((string_of(i, sort_attr), string_of(i, "PK"), index, i) for i in items)
    if len(specs) > 1:  # merge shards; a single Query is already in DynamoDB's order
        candidates.sort(key=lambda c: (c[0], c[1]), reverse=not specs[0].forward)
    taken = candidates[:count]
    fetched_per_shard = [sum(1 for c in candidates if c[2] == i) for i in range(len(specs))]
    new_shards = list(shards)
    for index, spec in enumerate(specs):
        consumed = [c[3] for c in taken if c[2] == index]
        if consumed:
            done = exhausted[index] and len(consumed) == fetched_per_shard[index]
            new_shards[index] = _Shard(key=_plain_key(consumed[-1], spec), done=done)
        elif fetched_per_shard[index] == 0 and not shards[index].done:
            new_shards[index] = _Shard(key=shards[index].key, done=True)
    return [c[3] for c in taken], new_shards


def _read(spec: QuerySpec, shard: _Shard, want: int, *, keys_only: bool) -> tuple[list[RawItem], bool]:
    """Up to ``want`` items of one Query from the shard's position; and whether more may follow."""
    attributes = spec.key_attributes if keys_only else None
    items: list[RawItem] = []
    start = shard.start_key()
    while len(items) < want:
        page, start = query_page(spec, limit=want - len(items), start_key=start, attributes=attributes)
        items.extend(page)
        if start is None:
            return items, False
    return items, True


# ----------------------------------------------------------------------------- listing
@dataclass(frozen=True, slots=True)
class Listing:
    """A listing: its identity (bound into cursors) and its Query per shard (usually one)."""

    query_id: str
    specs: tuple[QuerySpec, ...]

    @classmethod
    def single(cls, query_id: str, spec: QuerySpec) -> Listing:
        return cls(query_id, (spec,))


def validate(request: PageRequest) -> None:
    problems = []
    if not 1 <= request.limit <= MAX_LIMIT:
        problems.append({"field": "limit", "message": f"must be between 1 and {MAX_LIMIT}"})
    if request.page < 1:
        problems.append({"field": "page", "message": "must be 1 or more"})
    elif request.cursor is None and (request.page - 1) * request.limit > MAX_OFFSET:
        problems.append(
            {"field": "page", "message": f"too deep: offsets beyond {MAX_OFFSET} need the cursor"}
        )
    if problems:
        raise ValidationError("Invalid pagination", details=problems)


def list_page[T](
    listing: Listing,
    request: PageRequest,
    *,
    codec: CursorCodec,
    total: Callable[[], int],
    convert: Callable[[list[RawItem]], list[T]],
) -> Page[T]:
    """One page of ``listing``: Queries for the items, then ``total()`` (a counter read)."""
    validate(request)
    query_id = f"{listing.query_id}|limit={request.limit}"
    key_names = listing.specs[0].key_attributes
    if request.cursor is not None:
        state = codec.decode(query_id, request.cursor)
        page, raw_shards = state.get("p"), state.get("s")
        if not (isinstance(page, int) and page >= 1 and isinstance(raw_shards, list)):
            raise invalid_cursor()
        if len(raw_shards) != len(listing.specs):
            raise invalid_cursor()
        shards = [_Shard.from_json(s, key_names) for s in raw_shards]
    else:
        page = request.page
        shards = [_Shard() for _ in listing.specs]
        to_skip = (page - 1) * request.limit
        while to_skip > 0 and not all(s.done for s in shards):
            skipped, shards = _fetch(listing.specs, shards, min(to_skip, _SKIP_BATCH), keys_only=True)
            to_skip -= len(skipped)
    if all(s.done for s in shards):
        raw_items: list[RawItem] = []
    else:
        raw_items, shards = _fetch(listing.specs, shards, request.limit)
    next_cursor = None
    if not all(s.done for s in shards) and raw_items:
        next_cursor = codec.encode(query_id, {"p": page + 1, "s": [s.to_json() for s in shards]})
    items = tuple(convert(raw_items))
    count = max(0, total())
    return Page(
        items=items,
        meta=PageMeta(
            page=page,
            limit=request.limit,
            total=count,
            total_pages=math.ceil(count / request.limit),
        ),
        next_cursor=next_cursor,
    )


def offset_page[T](
    query_id: str,
    request: PageRequest,
    *,
    codec: CursorCodec,
    matches: Sequence[T],
) -> tuple[int, Sequence[T], str | None]:
    """Page ``request`` of an in-memory result (text search): (page, slice, next cursor)."""
    validate(request)
    query_id = f"{query_id}|limit={request.limit}"
    page = request.page
    if request.cursor is not None:
        cursor_page = codec.decode(query_id, request.cursor).get("p")
        if not (isinstance(cursor_page, int) and cursor_page >= 1):
            raise invalid_cursor()
        page = cursor_page
    start = (page - 1) * request.limit
    chunk = matches[start : start + request.limit]
    more = start + request.limit < len(matches)
    return page, chunk, codec.encode(query_id, {"p": page + 1}) if more else None
