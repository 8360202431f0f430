"""Custom PynamoDB attributes: UTC ISO-8601 timestamps, exact money, string enums, string maps."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from pynamodb.attributes import Attribute
from pynamodb.constants import MAP, NUMBER, STRING

from backend.models.clock import iso, parse_iso
from backend.values import CENTS, MONEY_MAX, to_money

__all__ = [
    "CENTS",
    "MONEY_MAX",
    "EnumAttribute",
    "IsoDateTimeAttribute",
    "MoneyAttribute",
    "StringMapAttribute",
    "to_money",
]


class IsoDateTimeAttribute(Attribute[datetime]):
    """A timezone-aware datetime stored as fixed-width ISO-8601 UTC text (sortable as text)."""

    attr_type = STRING

    def serialize(self, value: datetime) -> str:
        return iso(value)

    def deserialize(self, value: str) -> datetime:
        return parse_iso(value)


class MoneyAttribute(Attribute[Decimal]):
    """An exact decimal amount (two places) stored as a DynamoDB number; never a float."""

    attr_type = NUMBER

    def serialize(self, value: Decimal) -> str:
        return str(to_money(value))

    def deserialize(self, value: str) -> Decimal:
        return Decimal(value).quantize(CENTS)


class EnumAttribute[E: StrEnum](Attribute[E]):
    """A string enum stored as its value."""

    attr_type = STRING

    def __init__(self, enum_type: type[E], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.enum_type = enum_type

    def serialize(self, value: E) -> str:
        return self.enum_type(value).value

    def deserialize(self, value: str) -> E:
        return self.enum_type(value)


class StringMapAttribute(Attribute[dict[str, str]]):
    """A map of strings to strings (a DynamoDB map of S values), e.g. an avatar's URLs by size."""

    attr_type = MAP

    def serialize(self, value: dict[str, str]) -> dict[str, dict[str, str]]:
        return {str(key): {STRING: str(item)} for key, item in value.items()}

    def deserialize(self, value: dict[str, dict[str, str]]) -> dict[str, str]:
        return {key: item[STRING] for key, item in value.items() if STRING in item}
