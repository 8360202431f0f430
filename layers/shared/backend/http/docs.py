"""OpenAPI helpers for routers: document each error an operation can answer, in the envelope."""

from __future__ import annotations

from typing import Any

from backend.schemas.common import ErrorEnvelope


def errors(**by_status: str) -> dict[int | str, dict[str, Any]]:
    """``responses=errors(_404="Product not found", _409="...")``: error envelopes by status code.

    The statuses every operation shares (400, 413, 415, 429, 500, 503, and 401/403 off the public
    list) are added by the app factory; list here what is specific to the operation.
    """
    return {
        int(status.lstrip("_")): {"model": ErrorEnvelope, "description": description}
        for status, description in by_status.items()
    }
