"""The response envelopes every route uses, and the camelCase base model.

Success: ``{"data": ...}``; lists: ``{"data": [...], "meta": {...}}``; errors:
``{"error": "<human message>", "code": "<MACHINE_CODE>", "details": [...], "requestId": "<id>"}``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

if TYPE_CHECKING:
    from backend.records import Page


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
    """List metadata: page/limit/total (offset style) and/or an opaque cursor for the next page."""

    limit: int
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


class ListEnvelope[T](CamelModel):
    data: list[T]
    meta: PageMeta


class ErrorEnvelope(CamelModel):
    error: str = Field(description="Human-readable message")
    code: str = Field(description="Stable machine-readable code, e.g. NOT_FOUND")
    details: list[dict[str, Any]] | None = None
    request_id: str | None = None
