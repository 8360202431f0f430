"""Typed domain errors. Services and repositories raise these; they know nothing about HTTP.

The HTTP status of each is decided in one place, ``backend.http.errors``. Every error carries a
human ``message``, a stable machine ``code`` and optional structured ``details``.
"""

from __future__ import annotations

from typing import Any


class AppError(Exception):
    """Base of every error the application raises on purpose."""

    code: str = "INTERNAL_ERROR"
    default_message: str = "Internal server error"

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        details: list[dict[str, Any]] | None = None,
    ) -> None:
        self.message = message or self.default_message
        if code is not None:
            self.code = code
        self.details = details
        super().__init__(self.message)


class ValidationError(AppError):
    """Input is well-formed but breaks a rule (missing field, out-of-range value...)."""

    code = "VALIDATION_ERROR"
    default_message = "Validation error"


class BadRequestError(AppError):
    """Input cannot be understood at all (for example malformed JSON or a forged cursor)."""

    code = "BAD_REQUEST"
    default_message = "Bad request"


class InvalidTokenError(BadRequestError):
    """An emailed link's token is unknown, used, expired, or made for another purpose."""

    code = "INVALID_TOKEN"
    default_message = "The link is invalid, used or expired; ask for a new one"


class UnauthorizedError(AppError):
    """No valid credentials."""

    code = "UNAUTHORIZED"
    default_message = "Authentication required"


class ForbiddenError(AppError):
    """Valid credentials, but not allowed to do this."""

    code = "FORBIDDEN"
    default_message = "You are not allowed to do this"


class NotFoundError(AppError):
    """The thing asked for does not exist (or is expired, or is not the caller's to see)."""

    code = "NOT_FOUND"
    default_message = "Not found"

    def __init__(self, resource: str = "Resource", **kwargs: Any) -> None:
        kwargs.setdefault("message", f"{resource} not found")
        super().__init__(**kwargs)


class ConflictError(AppError):
    """The request conflicts with existing state (for example a duplicate unique value)."""

    code = "CONFLICT"
    default_message = "Conflict with existing data"


class ConcurrentModificationError(ConflictError):
    """An optimistic-locking check failed: someone else changed the item first."""

    code = "CONCURRENT_MODIFICATION"
    default_message = "The resource was modified by someone else; reload and try again"


class UnprocessableError(AppError):
    """Well-formed and valid, but it cannot be processed as asked (e.g. an idempotency key reused
    with another body: the IETF Idempotency-Key draft's 422)."""

    code = "UNPROCESSABLE"
    default_message = "The request cannot be processed"


class PayloadTooLargeError(AppError):
    code = "PAYLOAD_TOO_LARGE"
    default_message = "Request body is too large"


class UnsupportedMediaTypeError(AppError):
    code = "UNSUPPORTED_MEDIA_TYPE"
    default_message = "Request body must be JSON (Content-Type: application/json)"


class RateLimitedError(AppError):
    code = "RATE_LIMITED"
    default_message = "Too many requests"

    def __init__(self, retry_after_seconds: int, **kwargs: Any) -> None:
        self.retry_after_seconds = max(1, int(retry_after_seconds))
        super().__init__(**kwargs)


class UnavailableError(AppError):
    """A dependency (table, queue, secret store) cannot be reached right now."""

    code = "SERVICE_UNAVAILABLE"
    default_message = "Service temporarily unavailable"
    #: What the 503's Retry-After says.
    retry_after_seconds = 5


class BusyError(UnavailableError):
    """DynamoDB refused a write (or a transactional read) because another request was changing one
    of its items at that moment (``TransactionConflict``), or throttled a transaction, and the retries
    did not get through: nothing was written, and the same request a moment later should."""

    code = "SERVICE_BUSY"
    default_message = "The data this request changes is busy with other requests: retry shortly"
    retry_after_seconds = 1


class ConfigurationError(AppError):
    """A setting is missing or invalid. Raised at cold start; the message names the setting."""

    code = "CONFIGURATION_ERROR"
    default_message = "Invalid configuration"
