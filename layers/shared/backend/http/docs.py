"""OpenAPI helpers for routers: document each error an operation can answer, in the envelope."""

from __future__ import annotations

from typing import Any

#: An error envelope response body, by reference: the app's OpenAPI hook (``backend.http.app``) puts
#: the ``ErrorEnvelope`` schema in the components. A reference costs nothing at import, where a
#: ``model`` would cost FastAPI a pydantic field per route and status.
JSON_ERROR: dict[str, Any] = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorEnvelope"}}}


def errors(**by_status: str) -> dict[int | str, dict[str, Any]]:
    """``responses=errors(_404="Product not found", _409="...")``: error envelopes by status code.

    The statuses every operation shares (400, 413, 415, 429, 500, 503, and 401/403 off the public
    list) are added by the app factory; list here what is specific to the operation.
    """
    return {
        int(status.lstrip("_")): {"description": description, "content": JSON_ERROR}
        for status, description in by_status.items()
    }
