"""Sortable unique ids (ULID layout), stdlib only.

128 bits: a 48-bit millisecond Unix timestamp followed by 80 random bits, written as 26 characters of
Crockford base32. Text order equals creation order, so an id doubles as a "newest first" sort key.
Within one process ids are strictly increasing even inside the same millisecond (the random part is
incremented, as the ULID spec's monotonic mode does), which keeps listings stable in tests and bursts.
"""

from __future__ import annotations

import secrets
import threading
import time
from datetime import UTC, datetime

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
ID_LENGTH = 26
_DECODE = {char: index for index, char in enumerate(ALPHABET)}
_RANDOM_BITS = 80
_RANDOM_MAX = (1 << _RANDOM_BITS) - 1
_TIME_MAX = (1 << 48) - 1

_lock = threading.Lock()
_last_ms = -1
_last_random = 0


def _encode(value: int) -> str:
    chars = []
    for _ in range(ID_LENGTH):
        chars.append(ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def _decode(text: str) -> int:
    value = 0
    for char in text:
        value = (value << 5) | _DECODE[char]
    return value


def new_id() -> str:
    """A new id: later calls in this process always return greater ids."""
    global _last_ms, _last_random  # noqa: PLW0603 - the monotonic state is process-wide by design
    with _lock:
        now_ms = time.time_ns() // 1_000_000
        if now_ms > _last_ms:
            _last_ms, _last_random = now_ms, secrets.randbits(_RANDOM_BITS)
        elif _last_random < _RANDOM_MAX:
            _last_random += 1  # same millisecond (or the clock stepped back): stay monotonic
        else:
            _last_ms, _last_random = _last_ms + 1, secrets.randbits(_RANDOM_BITS)
        value = (_last_ms << _RANDOM_BITS) | _last_random
    return _encode(value)


def reset() -> None:
    """Forget the monotonic state: a copy restored from a SnapStart snapshot must not share it."""
    global _last_ms, _last_random
    with _lock:
        _last_ms, _last_random = -1, 0


def is_valid_id(text: str) -> bool:
    """Whether ``text`` is a well-formed id (26 Crockford base32 characters, 128 bits)."""
    return len(text) == ID_LENGTH and text[0] in "01234567" and all(c in _DECODE for c in text)


def id_time(text: str) -> datetime:
    """The creation time encoded in an id (millisecond precision, UTC)."""
    if not is_valid_id(text):
        raise ValueError(f"not an id: {text!r}")
    return datetime.fromtimestamp((_decode(text) >> _RANDOM_BITS) / 1000, tz=UTC)


def min_id_at(moment: datetime) -> str:
    """The smallest id that can be created at ``moment``: a range-key bound for "created before"."""
    ms = int(moment.timestamp() * 1000)
    if not 0 <= ms <= _TIME_MAX:
        raise ValueError("moment out of range")
    return _encode(ms << _RANDOM_BITS)
