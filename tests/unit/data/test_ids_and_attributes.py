"""Sortable ids, UTC timestamps and exact money."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from backend.models.attributes import IsoDateTimeAttribute, MoneyAttribute, to_money
from backend.models.clock import iso, parse_iso
from backend.models.ids import ALPHABET, id_time, is_valid_id, min_id_at, new_id


def test_ids_are_26_crockford_chars_and_carry_their_time() -> None:
    before = datetime.now(UTC) - timedelta(milliseconds=1)
    value = new_id()
    after = datetime.now(UTC) + timedelta(milliseconds=1)
    assert len(value) == 26
    assert set(value) <= set(ALPHABET)
    assert is_valid_id(value)
    assert before <= id_time(value) <= after


def test_ids_are_strictly_increasing_even_across_threads() -> None:
    per_thread: list[list[str]] = [[] for _ in range(4)]

    def make(bucket: list[str]) -> None:
        bucket.extend(new_id() for _ in range(2_000))

    threads = [threading.Thread(target=make, args=(b,)) for b in per_thread]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    everything = [i for bucket in per_thread for i in bucket]
    assert len(set(everything)) == len(everything)
    for bucket in per_thread:
        assert bucket == sorted(bucket)


def test_min_id_at_bounds_ids_created_later() -> None:
    moment = datetime.now(UTC)
    assert min_id_at(moment) <= new_id()
    assert min_id_at(moment + timedelta(seconds=5)) > new_id()


@pytest.mark.parametrize(
    "text", ["", "0" * 25, "8" + "0" * 25, "01ARZ3NDEKTSV4RRFFQ69G5FAU", "01arz3ndektsv4rrffq69g5fav"]
)
def test_invalid_ids_are_rejected(text: str) -> None:
    assert not is_valid_id(text)


def test_timestamps_are_fixed_width_utc_iso_8601() -> None:
    attribute = IsoDateTimeAttribute()
    paris = timezone(timedelta(hours=1))
    value = datetime(2025, 1, 2, 3, 4, 5, 6, tzinfo=paris)
    text = attribute.serialize(value)
    assert text == "2025-01-02T02:04:05.000006Z"
    assert attribute.deserialize(text) == value
    assert attribute.deserialize(text).tzinfo == UTC
    assert iso(datetime(2025, 1, 1, tzinfo=UTC)) < iso(datetime(2025, 1, 1, 0, 0, 0, 1, tzinfo=UTC))
    assert parse_iso("2025-01-02T02:04:05+00:00") == datetime(2025, 1, 2, 2, 4, 5, tzinfo=UTC)


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        IsoDateTimeAttribute().serialize(datetime(2025, 1, 1))


def test_money_is_exact_with_two_places() -> None:
    attribute = MoneyAttribute()
    assert attribute.serialize(Decimal("10")) == "10.00"
    assert attribute.deserialize("10") == Decimal("10.00")
    assert attribute.deserialize("0.1") + attribute.deserialize("0.2") == Decimal("0.30")
    assert to_money("19.99") == Decimal("19.99")


@pytest.mark.parametrize(
    ("value", "error"),
    [
        (0.1, TypeError),
        ("1.001", ValueError),
        ("NaN", ValueError),
        ("abc", ValueError),
        ("100000000.00", ValueError),
    ],
)
def test_bad_amounts_are_refused(value: object, error: type[Exception]) -> None:
    with pytest.raises(error):
        to_money(value)  # type: ignore[arg-type]
