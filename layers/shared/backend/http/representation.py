"""Conditional GET for cacheable reads: ``ETag``, ``Cache-Control``, and 304 on ``If-None-Match``.

- Anonymous callers get ``Cache-Control: public, max-age=<TTL>``: browsers and shared caches may
  keep the body as long as the read cache does.
- Callers with credentials get ``private, no-cache``: their view may differ (an admin sees inactive
  products, an author a draft) and they must see their own writes, so every use is revalidated.
- ``Vary: Authorization, Cookie`` keeps a cache from handing one caller's response to another.
- ``If-None-Match`` naming the current ETag (or ``*``) gets 304 with no body.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response

from backend.cache import Rendered
from backend.http import docs

VARY = "Authorization, Cookie"

_CACHE_HEADERS: dict[str, Any] = {"Cache-Control": docs.CACHE_CONTROL, "ETag": docs.ETAG, "Vary": docs.VARY}
#: The ``responses=`` of a cacheable read: its 200 and its 304 carry the cache headers.
CONDITIONAL_GET: dict[int | str, dict[str, Any]] = {
    200: {"headers": _CACHE_HEADERS},
    304: {
        "description": "Not modified: the If-None-Match ETag is current (no body)",
        "headers": _CACHE_HEADERS,
    },
}


def represent(request: Request, rendered: Rendered, *, anonymous: bool, max_age: int) -> Response:
    cache_control = f"public, max-age={max_age}" if anonymous and rendered.shared else "private, no-cache"
    headers = {"etag": rendered.etag, "cache-control": cache_control, "vary": VARY}
    if etag_matches(request.headers.get("if-none-match"), rendered.etag):
        return Response(status_code=304, headers=headers)
    return Response(rendered.body, media_type="application/json", headers=headers)


def etag_matches(header: str | None, etag: str) -> bool:
    """RFC 9110 If-None-Match: ``*`` or a list of entity tags, compared weakly."""
    if not header:
        return False
    if header.strip() == "*":
        return True
    wanted = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == wanted for tag in header.split(","))
