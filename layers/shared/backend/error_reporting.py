"""Optional error reporting to Sentry: off unless ``SENTRY_DSN_PARAMETER_NAME`` is set.

The template parameter ``SentryDsnParameterName`` names an SSM SecureString that holds the DSN
(docs/operations.md, "Error reporting (Sentry)"); only then does a function get the sentry-sdk
layer and the read of that one parameter. Every entry point calls ``start()`` once at cold start
and wraps its handler with ``wrap()``:

- off (the default): ``start()`` reads one setting and returns; ``sentry_sdk`` is never imported,
  ``wrap()`` returns the handler itself and ``capture()`` returns at once: no cost per request;
- on: ``sentry_sdk.init`` with no default integrations besides de-duplication, Lambda's
  integration, no traces, no PII, no local variables, and ``before_send`` = :func:`scrub`.

Only unexpected errors are reported (what the API answers with 500, what fails a job): the domain
errors the API answers with a 4xx, and ``UnavailableError`` (503, retried; the alarms cover it), are
not. If the SDK cannot be imported or the DSN cannot be read, one warning is logged and the
function carries on without reporting: error reporting never fails a function.
"""

from __future__ import annotations

import contextlib
import functools
import re
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from backend import errors
from backend.observability import REDACTED, logger, redact

if TYPE_CHECKING:
    from backend.settings import Settings

#: The domain errors that are answers, not faults: each is a 4xx of the API (``STATUS_BY_ERROR`` in
#: backend.http.errors; a test keeps the two in step) or a 503 to retry. Never reported.
EXPECTED_ERRORS: tuple[type[errors.AppError], ...] = (
    errors.BadRequestError,
    errors.ValidationError,
    errors.UnauthorizedError,
    errors.ForbiddenError,
    errors.NotFoundError,
    errors.ConflictError,
    errors.PayloadTooLargeError,
    errors.UnprocessableError,
    errors.UnsupportedMediaTypeError,
    errors.RateLimitedError,
    errors.UnavailableError,
)

#: How long the end of an invocation waits for its events to be sent (Lambda freezes the process).
FLUSH_TIMEOUT_SECONDS = 2.0

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
#: What is kept of the request an event describes: how it was asked, not what it carried.
_REQUEST_KEYS = ("method", "url")


class _State:
    started = False
    sdk: Any = None  # the sentry_sdk module, once reporting is on


_state = _State()


def enabled() -> bool:
    return _state.sdk is not None


def reportable(exc: BaseException) -> bool:
    """Whether an error is a fault worth an event (not a 4xx answer, not a 503 to retry)."""
    return not isinstance(exc, EXPECTED_ERRORS) and isinstance(exc, Exception)


def start(
    settings: Settings | None = None,
    *,
    read_dsn: Callable[[str], str | None] | None = None,
    transport: Any = None,
) -> bool:
    """Turn reporting on if this function is configured for it (once per process); whether it is on.

    ``read_dsn`` and ``transport`` are the tests' (a fake secret store, a transport that keeps the
    events); by default the DSN is read from SSM (decrypted, through Powertools parameters).
    """
    if _state.started:
        return enabled()
    _state.started = True
    if settings is None:
        from backend.settings import get_settings

        settings = get_settings()
    name = settings.sentry_dsn_parameter_name
    if not name:
        return False
    try:
        import sentry_sdk
        from sentry_sdk.integrations.aws_lambda import AwsLambdaIntegration
        from sentry_sdk.integrations.dedupe import DedupeIntegration
    except ImportError:
        logger.warning("error reporting is configured but sentry_sdk is not installed: not reporting")
        return False
    try:
        dsn = (read_dsn or _dsn_from_ssm(settings))(name)
    except Exception as exc:  # noqa: BLE001 - reporting must never fail the function
        logger.warning(
            "error reporting: the DSN cannot be read: not reporting", extra={"error": type(exc).__name__}
        )
        return False
    if not dsn:
        logger.warning("error reporting: the DSN parameter is empty: not reporting")
        return False
    options: dict[str, Any] = {}
    if transport is not None:
        options["transport"] = transport
    with warnings.catch_warnings():
        # 2.x deprecates send_default_pii for data_collection; False is still honoured, and said here
        warnings.simplefilter("ignore", DeprecationWarning)
        _init(sentry_sdk, dsn, settings, [AwsLambdaIntegration(), DedupeIntegration()], options)
    _state.sdk = sentry_sdk
    return True


def _init(
    sentry_sdk: Any, dsn: str, settings: Settings, integrations: list[Any], options: dict[str, Any]
) -> None:
    sentry_sdk.init(
        dsn=dsn,
        environment=settings.stage,
        release=settings.version,
        send_default_pii=False,
        include_local_variables=False,
        max_request_body_size="never",
        traces_sample_rate=0,
        default_integrations=False,
        auto_enabling_integrations=False,
        integrations=integrations,
        before_send=scrub,
        before_breadcrumb=lambda _crumb, _hint: None,
        **options,
    )


def _dsn_from_ssm(settings: Settings) -> Callable[[str], str | None]:
    def read(name: str) -> str | None:
        from backend.config import get_secure_string

        return get_secure_string(name, max_age=settings.parameters_max_age_seconds)

    return read


def stop() -> None:
    """Turn reporting off and forget that it was started (tests; a process that starts again)."""
    if _state.sdk is not None:
        _state.sdk.get_client().close(timeout=0)
        _state.sdk.get_global_scope().set_client(None)
    _state.sdk = None
    _state.started = False


def capture(exc: BaseException) -> None:
    """Report an unexpected error that was handled (the API's 500, a job that failed)."""
    sdk = _state.sdk
    if sdk is None or not reportable(exc):
        return
    with contextlib.suppress(Exception):  # reporting must never fail the request
        sdk.capture_exception(exc)


def wrap[H: Callable[..., Any]](handler: H) -> H:
    """The handler itself when reporting is off; else one that reports what escapes it and sends
    the invocation's events before returning."""
    if _state.sdk is None:
        return handler

    @functools.wraps(handler)
    def reporting(event: Any, context: Any) -> Any:
        try:
            return handler(event, context)
        except BaseException as exc:
            capture(exc)
            raise
        finally:
            flush()

    return reporting  # type: ignore[return-value]


def flush() -> None:
    sdk = _state.sdk
    if sdk is not None:
        with contextlib.suppress(Exception):  # reporting must never fail the request
            sdk.flush(timeout=FLUSH_TIMEOUT_SECONDS)


# ----------------------------------------------------------------------------- scrubbing
def scrub(event: dict[str, Any], hint: dict[str, Any] | None) -> dict[str, Any] | None:
    """``before_send``: drop what is not a fault; keep no PII.

    Dropped: events of expected errors (4xx, 503). Removed: the user, the request's headers,
    cookies, query string, body and environment (only its method and path stay), breadcrumbs,
    frames' local variables. Masked in every remaining string: credentials (the Logger's
    ``redact``: bearer tokens, JWTs, values under sensitive keys) and email addresses.
    """
    exc_info = (hint or {}).get("exc_info")
    if exc_info and exc_info[1] is not None and not reportable(exc_info[1]):
        return None
    event.pop("user", None)
    event.pop("breadcrumbs", None)
    request = event.get("request")
    if isinstance(request, dict):
        kept = {key: request[key] for key in _REQUEST_KEYS if key in request}
        if isinstance(kept.get("url"), str):
            kept["url"] = kept["url"].split("?", 1)[0]
        event["request"] = kept
    for value in (event.get("exception") or {}).get("values") or []:
        for frame in (value.get("stacktrace") or {}).get("frames") or []:
            frame.pop("vars", None)
    scrubbed: dict[str, Any] = _mask(redact(event))
    return scrubbed


def _mask(value: Any, depth: int = 0) -> Any:
    """Email addresses masked in every string of the event."""
    if depth > 30:
        return value
    if isinstance(value, dict):
        return {key: _mask(item, depth + 1) for key, item in value.items()}
    if isinstance(value, list):
        return [_mask(item, depth + 1) for item in value]
    if isinstance(value, str) and "@" in value:
        return _EMAIL.sub(REDACTED, value)
    return value
