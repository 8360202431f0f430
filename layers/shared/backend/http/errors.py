"""The one place where errors become HTTP responses, all in the same envelope.

``{"error": "<human message>", "code": "<MACHINE_CODE>", "details": [...], "requestId": "<id>"}``

Domain errors (``backend.errors``), FastAPI's request validation (400 ``VALIDATION_ERROR`` with
details, as the original spec's ValidationError; 400 ``MALFORMED_JSON`` for a body that is not JSON),
Starlette's routing errors (404, 405) and anything unexpected (500, without internals) all go
through ``error_response``.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from backend import errors
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
    return error_response(500, "INTERNAL_ERROR", INTERNAL_ERROR_MESSAGE)


def _validation_details(exc: RequestValidationError) -> list[dict[str, Any]]:
    details = []
    for err in exc.errors():
        loc = [str(part) for part in err.get("loc", ())]
        if loc and loc[0] in ("body", "query", "path", "header", "cookie"):
            where, loc = loc[0], loc[1:]
        else:
            where = None
        # Never echo the input back: it may hold a password.
        detail: dict[str, Any] = {
            "field": ".".join(loc) or where,
            "message": err.get("msg"),
            "type": err.get("type"),
        }
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
