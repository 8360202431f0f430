"""Logger, Tracer and Metrics (Powertools), shared by every function.

- Logger: structured JSON with the correlation id and cold-start flag; values under sensitive keys
  (password, token, authorization, cookie, secret...) and bearer credentials inside strings are
  redacted before a line is written.
- Tracer: patches only botocore (the one library we call out through), because patching
  everything costs cold-start time.
- Metrics: CloudWatch EMF, namespace from POWERTOOLS_METRICS_NAMESPACE.
"""

from __future__ import annotations

import os
import re
import warnings
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

REDACTED = "[REDACTED]"
_SENSITIVE_KEY = re.compile(
    r"pass(word|wd)?|secret|token|authorization|cookie|api[-_]?key|credential|signature|otp",
    re.IGNORECASE,
)
_BEARER = re.compile(r"\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+", re.IGNORECASE)
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]+")
# Keys Powertools itself writes that merely contain a sensitive word.
_SAFE_KEYS = frozenset({"xray_trace_id", "cold_start", "function_request_id", "correlation_id"})


def redact(value: Any, _depth: int = 0) -> Any:
    """A copy of ``value`` with sensitive fields and inline credentials masked."""
    if _depth > 20:
        return value
    if isinstance(value, dict):
        return {
            k: (
                REDACTED
                if isinstance(k, str) and k not in _SAFE_KEYS and _SENSITIVE_KEY.search(k)
                else redact(v, _depth + 1)
            )
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(v, _depth + 1) for v in value]
    if isinstance(value, str):
        return _JWT.sub(REDACTED, _BEARER.sub(lambda m: f"{m.group(1)} {REDACTED}", value))
    return value


class RedactingFormatter(LambdaPowertoolsFormatter):
    """Powertools' JSON formatter with redaction applied to the whole record."""

    def serialize(self, log: dict[str, Any] | Any) -> str:
        return super().serialize(redact(log))


# Powertools warns on every invocation that adds no metric besides the cold start: noise, not news.
warnings.filterwarnings("ignore", message="No application metrics to publish")

logger = Logger(logger_formatter=RedactingFormatter(), utc=True)
tracer = Tracer(patch_modules=("botocore",))
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "AppBackend"))
