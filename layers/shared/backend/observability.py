"""Logger, Tracer and Metrics (Powertools), shared by every function.

- Logger: structured JSON with the correlation id and cold-start flag; values under sensitive keys
  (password, token, authorization, cookie, secret...) and bearer credentials inside strings are
  redacted before a line is written.
- Tracer: X-Ray SDK subsegments are **opt-in** (template parameter ``XRaySdkTracing``, environment
  variable ``XRAY_SDK_TRACING``). Lambda's own trace segment (``Tracing: Active``) is recorded
  either way and costs nothing at import. Importing the X-Ray SDK costs about half a bare boto3
  handler's cold start (it builds a botocore client for its sampler at import: see
  docs/performance.md), so with the flag off ``tracer`` is a stand-in whose decorators return the
  function unchanged and nothing from ``aws_xray_sdk`` is imported. With the flag on, the first use
  of ``tracer`` builds Powertools' Tracer, patching only botocore (the one library we call out
  through).
- Metrics: CloudWatch EMF, namespace from POWERTOOLS_METRICS_NAMESPACE.
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Final, Protocol, TypeVar, cast, overload

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

if TYPE_CHECKING:
    from aws_lambda_powertools import Tracer

REDACTED = "[REDACTED]"
_SENSITIVE_KEY = re.compile(
    r"pass(word|wd)?|secret|token|authorization|cookie|api[-_]?key|credential|signature|otp",
    re.IGNORECASE,
)
_BEARER = re.compile(r"\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+", re.IGNORECASE)
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]+")
# Keys Powertools itself writes that merely contain a sensitive word.
_SAFE_KEYS = frozenset({"xray_trace_id", "cold_start", "function_request_id", "correlation_id"})

#: The environment variable (set from the template parameter XRaySdkTracing) that turns X-Ray SDK
#: subsegments on.
XRAY_SDK_TRACING_ENV = "XRAY_SDK_TRACING"

F = TypeVar("F", bound=Callable[..., Any])


# Cheap first look for an inline credential: most strings of a log line have none, and need no rewrite.
_CREDENTIAL_HINT = re.compile(r"eyJ|bearer|basic", re.IGNORECASE)


@lru_cache(maxsize=1024)
def _sensitive_key(key: str) -> bool:
    """Whether a field name says its value is a credential (log lines reuse the same few names)."""
    return key not in _SAFE_KEYS and _SENSITIVE_KEY.search(key) is not None


def redact(value: Any, _depth: int = 0) -> Any:
    """A copy of ``value`` with sensitive fields and inline credentials masked."""
    if _depth > 20:
        return value
    if isinstance(value, dict):
        return {
            k: REDACTED if isinstance(k, str) and _sensitive_key(k) else redact(v, _depth + 1)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(v, _depth + 1) for v in value]
    if isinstance(value, BaseException):
        value = str(value)  # Powertools' stack_trace carries the exception itself (JSON: its str())
    if isinstance(value, str):
        if _CREDENTIAL_HINT.search(value) is None:
            return value
        return _JWT.sub(REDACTED, _BEARER.sub(lambda m: f"{m.group(1)} {REDACTED}", value))
    return value


class RedactingFormatter(LambdaPowertoolsFormatter):
    """Powertools' JSON formatter with redaction applied to the whole record."""

    def serialize(self, log: dict[str, Any] | Any) -> str:
        return super().serialize(redact(log))


def xray_sdk_enabled(environ: dict[str, str] | None = None) -> bool:
    """Whether X-Ray SDK subsegments are on (``XRAY_SDK_TRACING=true``)."""
    value = (os.environ if environ is None else environ).get(XRAY_SDK_TRACING_ENV, "false")
    return value.strip().lower() in ("1", "true", "yes", "on")


class LazyTracer:
    """Powertools' Tracer when ``XRAY_SDK_TRACING`` is on, built on first use; a no-op otherwise.

    The decorators are the Tracer's own (``capture_lambda_handler``, ``capture_method``, with or
    without arguments). With the flag off they return the decorated function itself, so a traced
    function costs nothing per call; ``put_annotation``/``put_metadata`` do nothing. Any other
    attribute builds the real Tracer (the X-Ray SDK is then imported), whatever the flag says.
    The flag is read once, at the first decoration or call.
    """

    def __init__(self, *, patch_modules: Sequence[str] = ("botocore",)) -> None:
        self._patch_modules = tuple(patch_modules)
        self._tracer: Tracer | None = None
        self._enabled: bool | None = None

    @property
    def enabled(self) -> bool:
        if self._enabled is None:
            self._enabled = xray_sdk_enabled()
        return self._enabled

    @property
    def real(self) -> Tracer:
        """Powertools' Tracer (imports the X-Ray SDK and patches botocore the first time)."""
        if self._tracer is None:
            from aws_lambda_powertools import Tracer

            self._tracer = Tracer(patch_modules=self._patch_modules)
        return self._tracer

    def reset(self, *, enabled: bool | None = None) -> None:
        """Forget the flag (and the Tracer built from it): tests switch it; None re-reads it."""
        self._tracer = None
        self._enabled = enabled

    # ------------------------------------------------------------------ decorators

    @overload
    def capture_lambda_handler(
        self, lambda_handler: F, capture_response: bool | None = None, capture_error: bool | None = None
    ) -> F: ...

    @overload
    def capture_lambda_handler(
        self,
        lambda_handler: None = None,
        capture_response: bool | None = None,
        capture_error: bool | None = None,
    ) -> Callable[[F], F]: ...

    def capture_lambda_handler(
        self,
        lambda_handler: F | None = None,
        capture_response: bool | None = None,
        capture_error: bool | None = None,
    ) -> F | Callable[[F], F]:
        def decorate(function: F) -> F:
            if not self.enabled:
                return function
            real: Any = self.real
            return cast(
                F,
                real.capture_lambda_handler(
                    function, capture_response=capture_response, capture_error=capture_error
                ),
            )

        return decorate if lambda_handler is None else decorate(lambda_handler)

    @overload
    def capture_method(
        self, method: F, capture_response: bool | None = None, capture_error: bool | None = None
    ) -> F: ...

    @overload
    def capture_method(
        self,
        method: None = None,
        capture_response: bool | None = None,
        capture_error: bool | None = None,
    ) -> Callable[[F], F]: ...

    def capture_method(
        self,
        method: F | None = None,
        capture_response: bool | None = None,
        capture_error: bool | None = None,
    ) -> F | Callable[[F], F]:
        def decorate(function: F) -> F:
            if not self.enabled:
                return function
            real: Any = self.real
            return cast(
                F,
                real.capture_method(function, capture_response=capture_response, capture_error=capture_error),
            )

        return decorate if method is None else decorate(method)

    # ------------------------------------------------------------------ annotations

    def put_annotation(self, key: str, value: str | float | bool) -> None:
        if self.enabled:
            real: Any = self.real
            real.put_annotation(key=key, value=value)

    def put_metadata(self, key: str, value: Any, namespace: str | None = None) -> None:
        if self.enabled:
            self.real.put_metadata(key=key, value=value, namespace=namespace)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.real, name)


# Powertools warns on every invocation that adds no metric besides the cold start: noise, not news.
warnings.filterwarnings("ignore", message="No application metrics to publish")

logger = Logger(logger_formatter=RedactingFormatter(), utc=True)
tracer = LazyTracer(patch_modules=("botocore",))
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "AppBackend"))


# ---------------------------------------------------------------------------- business metrics
# Each business event is a Count in POWERTOOLS_METRICS_NAMESPACE with the ``service`` dimension
# Powertools adds (POWERTOOLS_SERVICE_NAME: one value per function). Without further dimensions an
# event joins the invocation's metrics, which ``metrics.log_metrics`` (around every handler) writes
# as one EMF line at the end; with dimensions it is its own EMF line at once (``single_metric``),
# so a job type never leaks onto another metric of the same invocation. Dimension values must come
# from a small fixed set (a job type, a limit's kind): never a user, order or product id.
# docs/operations.md lists every metric, its alarms and its dashboard widget.
SIGN_UPS: Final = "SignUps"
SIGN_INS_FAILED: Final = "SignInsFailed"
ORDERS_PLACED: Final = "OrdersPlaced"
ORDERS_CANCELLED: Final = "OrdersCancelled"
ORDERS_FAILED_STOCK: Final = "OrdersFailedStock"
JOBS_PROCESSED: Final = "JobsProcessed"
JOBS_FAILED: Final = "JobsFailed"
JOBS_RETRIED: Final = "JobsRetried"
RATE_LIMITED: Final = "RateLimited"
CACHE_HITS: Final = "CacheHits"
CACHE_MISSES: Final = "CacheMisses"
#: The dimensions a business metric may carry besides ``service`` (each with a bounded set of values).
METRIC_DIMENSIONS: Final = frozenset({"job_type", "limit"})


def count(name: str, value: float = 1, **dimensions: str) -> None:
    """Count one business event (``value`` of them), optionally under low-cardinality dimensions."""
    from aws_lambda_powertools.metrics import MetricUnit, single_metric

    if not dimensions:
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
        return
    unknown = set(dimensions) - METRIC_DIMENSIONS
    if unknown:
        raise ValueError(f"not a business metric dimension: {sorted(unknown)}")
    with single_metric(name=name, unit=MetricUnit.Count, value=value) as metric:
        for key, dimension in dimensions.items():
            metric.add_dimension(name=key, value=dimension)


class _CacheAnswer(Protocol):
    @property
    def hit(self) -> bool: ...


def cache_outcome[A: _CacheAnswer](answer: A) -> A:
    """Count a read cache's answer (``CacheHits`` or ``CacheMisses``) and return it unchanged."""
    count(CACHE_HITS if answer.hit else CACHE_MISSES)
    return answer
