"""The security headers every HTTP response carries (no imports: the local gateway reuses them)."""

from __future__ import annotations

#: Set to ``true`` on a response replayed from a stored idempotency record instead of executed
#: (absent on the response that executed): docs/api.md, "Idempotent requests".
IDEMPOTENT_REPLAYED_HEADER = "idempotent-replayed"

SECURITY_HEADERS: tuple[tuple[str, str], ...] = (
    ("strict-transport-security", "max-age=63072000; includeSubDomains; preload"),
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    (
        "content-security-policy",
        "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    ),
    ("referrer-policy", "no-referrer"),
    ("cross-origin-opener-policy", "same-origin"),
    ("permissions-policy", "camera=(), microphone=(), geolocation=()"),
)
