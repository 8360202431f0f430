"""The response envelopes every route uses, and the camelCase base model.

Success: ``{"data": ...}``; lists: ``{"data": [...], "meta": {...}}``; errors:
``{"error": "<human message>", "code": "<MACHINE_CODE>", "details": [...], "requestId": "<id>"}``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Annotated, Any, Final

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, WithJsonSchema
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

from backend.records import DEFAULT_LIMIT, MAX_LIMIT, MAX_OFFSET
from backend.values import CENTS, MONEY_MAX

if TYPE_CHECKING:
    from backend.records import Page


# ----------------------------------------------------------------------------- paging
#: The bounds of every list's ``page`` and ``limit`` (docs/api.md, "Lists"): the largest page any
#: limit allows is ``MAX_PAGE`` (at limit 1); for a given limit it is ``MAX_OFFSET // limit + 1``.
MAX_PAGE: Final = MAX_OFFSET + 1
PAGE_DESCRIPTION: Final = (
    f"1 and up (default 1); not with `cursor`. A page may start at most {MAX_OFFSET:,} items in: "
    f"the last page you can name is {MAX_OFFSET:,} ÷ limit + 1, rounded down "
    f"({MAX_OFFSET // DEFAULT_LIMIT + 1} at the default limit); deeper, follow `meta.nextCursor` "
    "(a deeper page is 400 VALIDATION_ERROR)"
)
LIMIT_DESCRIPTION: Final = f"Items per page: 1 to {MAX_LIMIT} (default {DEFAULT_LIMIT})"


# ----------------------------------------------------------------------------- money
#: Money on the wire (docs/api.md, "Money"): a decimal string with exactly two places in responses.
MONEY_OUT_PATTERN: Final = r"^-?[0-9]{1,8}\.[0-9]{2}$"
#: Money in requests: a decimal string with at most two places ("19", "19.5", "19.00").
MONEY_IN_PATTERN: Final = r"^[0-9]{1,8}(\.[0-9]{1,2})?$"
_MONEY_TEXT = re.compile(r"^[+-]?[0-9]+(\.[0-9]+)?$")
_MONEY_HINT = 'an amount such as "19.00"'


def _parse_money(value: Any) -> Decimal:
    """A request's amount: a decimal string (what clients should send) or, tolerated, a JSON number;
    more than two decimals, more than 99999999.99, booleans and anything else are refused."""
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise PydanticCustomError("money_type", f"must be {_MONEY_HINT}")
    text = value.strip() if isinstance(value, str) else str(value)
    if isinstance(value, str) and not _MONEY_TEXT.match(text):
        raise PydanticCustomError("money_type", f"must be {_MONEY_HINT}")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise PydanticCustomError("money_type", f"must be {_MONEY_HINT}") from None
    if not amount.is_finite():
        raise PydanticCustomError("money_type", f"must be {_MONEY_HINT}")
    if amount > MONEY_MAX:
        raise PydanticCustomError("money_too_large", f"must be at most {MONEY_MAX}")
    if amount <= 0:
        raise PydanticCustomError("money_positive", "must be greater than 0")
    if amount != amount.quantize(CENTS):
        raise PydanticCustomError("money_decimals", "must have at most two decimal places")
    return amount.quantize(CENTS)


def money_text(value: Decimal) -> str:
    """An amount as the API writes it: exactly two decimals."""
    return f"{value.quantize(CENTS)}"


#: A price in a request body: > 0, at most two decimals, at most 99999999.99 (the original's
#: Decimal(10, 2)). Documented as a string; a JSON number is tolerated (it is exact at that size).
MoneyIn = Annotated[
    Decimal,
    BeforeValidator(_parse_money),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": MONEY_IN_PATTERN,
            "maxLength": 11,
            "examples": ["19.00"],
            "description": "An amount: a decimal string with at most two places, greater than 0, "
            f"at most {MONEY_MAX} (a JSON number is accepted too)",
        }
    ),
]
#: An amount in a response: always a decimal string with exactly two places ("19.00").
Money = Annotated[
    Decimal,
    PlainSerializer(money_text, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "pattern": MONEY_OUT_PATTERN, "maxLength": 12, "examples": ["19.00"]}),
]


# ----------------------------------------------------------------------------- timestamps
def timestamp_text(value: datetime) -> str:
    """A timestamp as the API writes it: UTC, microseconds always present, ``Z``
    (``2026-01-02T03:04:05.000000Z``; pydantic drops a zero fraction, which clients then parse twice)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


#: Every timestamp of a response (docs/api.md, "Timestamps"): an RFC 3339 ``date-time``.
Timestamp = Annotated[
    datetime,
    PlainSerializer(timestamp_text, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time", "examples": ["2026-01-02T03:04:05.000000Z"]}),
]


class CamelModel(BaseModel):
    """Base of every API model: snake_case in Python, camelCase on the wire (both accepted in).

    Built on first use (``defer_build``): a model's validator and serializer are made when a route
    first needs them, so a cold start pays only for the models of the route it serves."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, serialize_by_alias=True, defer_build=True
    )


class StrictIn(CamelModel):
    """Base of request bodies: unknown fields are refused (a client never sets its own role)."""

    model_config = ConfigDict(extra="forbid")


class Envelope[T](CamelModel):
    data: T


class PageMeta(CamelModel):
    """List metadata: page/limit/total (offset style) and/or an opaque cursor for the next page.

    A list returned whole (categories, sessions: small by nature) has ``limit`` null (docs/api.md)."""

    limit: int | None = Field(description="The page size; null for a list returned whole")
    page: int | None = None
    total: int | None = None
    total_pages: int | None = None
    next_cursor: str | None = None

    @classmethod
    def of(cls, page: Page[Any]) -> PageMeta:
        """The wire metadata of a repository page."""
        return cls(
            page=page.meta.page,
            limit=page.meta.limit,
            total=page.meta.total,
            total_pages=page.meta.total_pages,
            next_cursor=page.next_cursor,
        )


def whole_list_meta(count: int) -> PageMeta:
    """The metadata of a list returned whole: one page of ``count`` items, no page size."""
    return PageMeta(page=1, limit=None, total=count, total_pages=1 if count else 0)


class ListEnvelope[T](CamelModel):
    data: list[T]
    meta: PageMeta


class ErrorEnvelope(CamelModel):
    error: str = Field(description="Human-readable message")
    code: str = Field(description="Stable machine-readable code, e.g. NOT_FOUND")
    details: list[dict[str, Any]] | None = None
    request_id: str | None = None
