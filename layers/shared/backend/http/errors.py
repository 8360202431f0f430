"""The one place where errors become HTTP responses, all in the same envelope.

``{"error": "<human message>", "code": "<MACHINE_CODE>", "details": [...], "requestId": "<id>"}``

Domain errors (``backend.errors``), FastAPI's request validation (400 ``VALIDATION_ERROR`` with
details, as the original spec's ValidationError; 400 ``MALFORMED_JSON`` for a body that is not JSON),
Starlette's routing errors (404, 405) and anything unexpected (500, without internals) all go
through ``error_response``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from backend import error_reporting, errors
from backend.http.context import current_request_id
from backend.observability import logger

# Most specific first: the first class in an error's MRO found here decides its status.
STATUS_BY_ERROR: dict[type[errors.AppError], int] = {
    errors.BadRequestError: 400,
    errors.ValidationError: 400,
    errors.UnauthorizedError: 401,
    errors.ForbiddenError: 403,
    errors.NotFoundError: 404,
    errors.ConcurrentModificationError: 409,
    errors.ConflictError: 409,
    errors.PayloadTooLargeError: 413,
    errors.UnprocessableError: 422,
    errors.UnsupportedMediaTypeError: 415,
    errors.RateLimitedError: 429,
    errors.UnavailableError: 503,
}

# Status codes Starlette/FastAPI raise themselves (routing, HTTPException) → code and message.
_HTTP_STATUS_ERRORS: dict[int, tuple[str, str]] = {
    400: ("BAD_REQUEST", "Bad request"),
    401: ("UNAUTHORIZED", "Authentication required"),
    403: ("FORBIDDEN", "You are not allowed to do this"),
    404: ("NOT_FOUND", "Route not found"),
    405: ("METHOD_NOT_ALLOWED", "Method not allowed"),
    406: ("NOT_ACCEPTABLE", "Not acceptable"),
    409: ("CONFLICT", "Conflict with existing data"),
    413: ("PAYLOAD_TOO_LARGE", "Request body is too large"),
    415: ("UNSUPPORTED_MEDIA_TYPE", "Unsupported media type"),
    429: ("RATE_LIMITED", "Too many requests"),
}

INTERNAL_ERROR_MESSAGE = "Internal server error"


def error_response(
    status: int,
    code: str,
    message: str,
    *,
    details: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {"error": message, "code": code}
    if details:
        body["details"] = details
    body["requestId"] = current_request_id()
    return JSONResponse(body, status_code=status, headers=headers)


def status_for(exc: errors.AppError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
    return 500


def app_error_response(exc: errors.AppError) -> JSONResponse:
    status = status_for(exc)
    if status >= 500 and not isinstance(exc, errors.UnavailableError):
        # Configuration and other internal errors: log the real message, reveal nothing.
        logger.error("internal error", extra={"error_code": exc.code, "reason": exc.message})
        error_reporting.capture(exc)
        return error_response(500, "INTERNAL_ERROR", INTERNAL_ERROR_MESSAGE)
    headers: dict[str, str] = {}
    if isinstance(exc, errors.RateLimitedError):
        headers["Retry-After"] = str(exc.retry_after_seconds)
    elif isinstance(exc, errors.UnauthorizedError):
        headers["WWW-Authenticate"] = 'Bearer realm="api"'
    elif isinstance(exc, errors.UnavailableError):
        headers["Retry-After"] = str(exc.retry_after_seconds)
        logger.warning("dependency unavailable", extra={"reason": exc.message})
    return error_response(status, exc.code, exc.message, details=exc.details, headers=headers or None)


def unexpected_error_response(exc: BaseException) -> JSONResponse:
    logger.exception("unhandled error", exc_info=exc)
    error_reporting.capture(exc)
    return error_response(500, "INTERNAL_ERROR", INTERNAL_ERROR_MESSAGE)


def field_path(loc: Sequence[Any]) -> str:
    """A location as the API names a field everywhere (docs/api.md, "Errors"): ``items[0].quantity``."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


#: Patterns of the API's own types, by what they mean to a person (a regex never reaches a client).
def _pattern_messages() -> dict[str, str]:
    from backend.http.params import ID_PATTERN
    from backend.schemas.common import MONEY_IN_PATTERN
    from backend.schemas.orders import IDEMPOTENCY_KEY_PATTERN
    from backend.values import EMAIL_PATTERN, SLUG_PATTERN

    return {
        ID_PATTERN: "must be an id: 26 characters of 0-9 and A-Z (without I, L, O, U)",
        EMAIL_PATTERN: "must be an email address",
        SLUG_PATTERN: "must be lowercase letters and digits, in words separated by single hyphens",
        IDEMPOTENCY_KEY_PATTERN: "must be 1 to 255 printable ASCII characters",
        MONEY_IN_PATTERN: 'must be an amount such as "19.00"',
    }


def _plural(count: Any, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def human_message(err: Mapping[str, Any]) -> str:  # noqa: PLR0911, PLR0912 - one case per error type
    """A pydantic error as a sentence for people: no regex, no "Value error," prefix."""
    kind = str(err.get("type", ""))
    ctx: Mapping[str, Any] = err.get("ctx") or {}
    if kind == "missing":
        return "is required"
    if kind == "string_too_short":
        return (
            "must not be empty"
            if ctx.get("min_length") == 1
            else (f"must be at least {_plural(ctx.get('min_length'), 'character')}")
        )
    if kind == "string_too_long":
        return f"must be at most {_plural(ctx.get('max_length'), 'character')}"
    if kind == "string_pattern_mismatch":
        return _pattern_messages().get(str(ctx.get("pattern")), "is not in the expected format")
    if kind == "too_short":
        return f"must have at least {_plural(ctx.get('min_length'), 'item')}"
    if kind == "too_long":
        return f"must have at most {_plural(ctx.get('max_length'), 'item')}"
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        word = {"greater_than": "greater than", "greater_than_equal": "at least"}.get(kind)
        word = word or {"less_than": "less than", "less_than_equal": "at most"}[kind]
        bound = next(iter(ctx.values()), "")
        return f"must be {word} {bound}"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return "must be an integer"
    if kind in ("bool_type", "bool_parsing"):
        return "must be true or false"
    if kind in ("string_type", "string_unicode"):
        return "must be a string"
    if kind in ("list_type", "tuple_type", "set_type"):
        return "must be a list"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return "must be an object"
    if kind in ("enum", "literal_error"):
        return f"must be one of {ctx.get('expected', 'the documented values')}"
    if kind == "extra_forbidden":
        return "is not a field of this request"
    if kind == "value_error":
        return str(ctx.get("error", "")) or "is invalid"
    message = str(err.get("msg", "is invalid"))
    return message.removeprefix("Value error, ")


def _validation_details(exc: RequestValidationError) -> list[dict[str, Any]]:
    """One detail per problem, the shape business rules use too: ``field``, ``message`` and, for
    schema rules, ``in`` (body, query, path or header). The input is never echoed (a password)."""
    details = []
    for err in exc.errors():
        loc = list(err.get("loc", ()))
        where = None
        if loc and loc[0] in ("body", "query", "path", "header", "cookie"):
            where, loc = str(loc[0]), loc[1:]
        detail: dict[str, Any] = {"field": field_path(loc) or where, "message": human_message(err)}
        if where:
            detail["in"] = where
        details.append(detail)
    return details


async def _handle_app_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, errors.AppError)
    return app_error_response(exc)


async def _handle_validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    if any(err.get("type") == "json_invalid" for err in exc.errors()):
        return error_response(400, "MALFORMED_JSON", "Request body is not valid JSON")
    return error_response(400, "VALIDATION_ERROR", "Validation error", details=_validation_details(exc))


async def _handle_http_exception(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code, default_message = _HTTP_STATUS_ERRORS.get(exc.status_code, ("HTTP_ERROR", "Request failed"))
    if exc.status_code >= 500:
        code, default_message = "INTERNAL_ERROR", INTERNAL_ERROR_MESSAGE
    # Starlette's own details are the bare reason phrase; custom ones are worth showing.
    message = default_message
    if isinstance(exc.detail, str) and exc.detail and exc.detail != _reason_phrase(exc.status_code):
        message = exc.detail if exc.status_code < 500 else default_message
    headers = dict(exc.headers) if exc.headers else None
    return error_response(exc.status_code, code, message, headers=headers)


def _reason_phrase(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


async def _handle_unexpected(_: Request, exc: Exception) -> JSONResponse:
    return unexpected_error_response(exc)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(errors.AppError, _handle_app_error)
    app.add_exception_handler(RequestValidationError, _handle_validation_error)
    app.add_exception_handler(StarletteHTTPException, _handle_http_exception)
    app.add_exception_handler(Exception, _handle_unexpected)
