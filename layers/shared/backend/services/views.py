"""Helpers shared by the catalog and content use cases: rendering bodies, cache keys, who reads.

Cacheable reads return the rendered body (``Rendered``: bytes and a strong ETag), because that is
what the read cache keeps: a hit then costs no DynamoDB request and no serialization.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from backend.cache import NotCached, Rendered, etag_of
from backend.schemas.common import ListEnvelope, PageMeta

if TYPE_CHECKING:
    from pydantic import BaseModel

    from backend.records import Page, PageRequest
    from backend.services.principal import Principal

#: Namespaces of the read cache (docs/caching.md): a write invalidates the ones it changes.
PRODUCTS = "products"
CATEGORIES = "categories"
POSTS = "posts"


def render(model: BaseModel) -> bytes:
    """The JSON body of a response model (camelCase, as every response)."""
    return model.model_dump_json().encode()


def render_list(envelope: type[ListEnvelope[Any]], items: list[Any], page: Page[Any]) -> bytes:
    """A list body: ``{"data": [...], "meta": {page, limit, total, totalPages, nextCursor}}``."""
    meta = PageMeta.of(page)
    return render(envelope(data=items, meta=meta))


def page_request(page: int, limit: int, cursor: str | None) -> PageRequest:
    from backend.records import PageRequest

    return PageRequest(limit=limit, page=page, cursor=cursor)


def empty_page(request: PageRequest) -> Page[Any]:
    """The page of a listing that cannot have members (a filter naming nothing)."""
    from backend.records import Page
    from backend.records import PageMeta as RecordPageMeta
    from backend.repositories.paging import validate

    validate(request)
    return Page(items=(), meta=RecordPageMeta(page=request.page, limit=request.limit, total=0, total_pages=0))


def fresh(body: bytes) -> Rendered:
    """A body computed for this caller only (never stored, never shared)."""
    return Rendered(body, etag_of(body), shared=False)


def private(body: bytes) -> NotCached:
    return NotCached(body)


def strict(viewer: Principal | None) -> bool:
    """Callers with credentials read their own writes at once, whichever container served them."""
    return viewer is not None


def key(kind: str, *parts: object) -> str:
    """A cache key: ``kind`` and a short digest of the parts (a cursor can be long)."""
    if not parts:
        return kind
    text = json.dumps([str(p) if p is not None else None for p in parts], separators=(",", ":"))
    return f"{kind}:{hashlib.blake2b(text.encode(), digest_size=12).hexdigest()}"


def data_of(body: bytes) -> Any:
    """The ``data`` member of a rendered body."""
    return json.loads(body)["data"]


def unique(ids: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(ids))
