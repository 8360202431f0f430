"""The path parameters every router shares: one rule for an entity's id (docs/api.md, "Identifiers").

Every id the API hands out is a ULID (``backend.models.ids``): 26 characters of Crockford base32 in
upper case. A path segment that is not one is refused with 400 ``VALIDATION_ERROR`` in every group,
before any read, so a malformed id never looks like a missing entity (404). Path parameters are
named in camelCase in the document (``{productId}``), as every field of the API is.
"""

from __future__ import annotations

from typing import Any, Final

from fastapi import Path

from backend.models.ids import ID_LENGTH

#: An entity id: a ULID, upper case (a lowercase one is a malformed id, not another spelling).
ID_PATTERN: Final = r"^[0-9A-HJKMNP-TV-Z]{26}$"


def id_path(name: str, what: str) -> Any:
    """The ``Path`` of an id parameter: ``Annotated[str, id_path("productId", "The product's id")]``."""
    return Path(
        alias=name,
        pattern=ID_PATTERN,  # fixes the length too: one message for every malformed id
        json_schema_extra={"minLength": ID_LENGTH, "maxLength": ID_LENGTH},
        description=f"{what}: 26 characters, a ULID (0-9 and A-Z without I, L, O, U)",
        examples=["01JNBC0Y8Q3ZK6W2V5T9R4M7HX"],
    )


def slug_path(what: str) -> Any:
    """The ``Path`` of a slug parameter (``/by-slug/{slug}``)."""
    return Path(min_length=1, max_length=200, description=f"{what}'s slug (case-insensitive)")


def page_number(page: int | None, cursor: str | None) -> int:
    """The page to read: ``page`` and ``cursor`` are two ways of paging, and a request names one.

    Both at once is 400 ``VALIDATION_ERROR`` (a cursor used to override the page silently)."""
    if page is not None and cursor is not None:
        from backend.errors import ValidationError

        message = "send either page or cursor, not both"
        raise ValidationError(
            "Invalid pagination",
            details=[{"field": "cursor", "message": message, "in": "query"}],
        )
    return 1 if page is None else page
