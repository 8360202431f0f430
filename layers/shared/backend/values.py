"""The value rules shared by schemas, services and repositories: email, slug, money, paging.

One definition each, stdlib only (so any layer may import it without cost): request schemas
validate with these patterns, services and repositories normalise with these functions, and so
one rule can never disagree with another copy of itself.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation
from typing import Final

from backend.errors import ValidationError

# ----------------------------------------------------------------------------- email
EMAIL_MAX_LENGTH: Final = 254
#: The password policy's length bounds (backend.services.passwords.check_policy): argon2 takes any
#: length; the upper bound keeps a request from buying CPU time.
PASSWORD_MIN_LENGTH: Final = 10
PASSWORD_MAX_LENGTH: Final = 128
EMAIL_PATTERN: Final = r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
_EMAIL = re.compile(EMAIL_PATTERN)


def normalize_email(email: str, *, field: str = "email") -> str:
    """Emails are unique case-insensitively: stored trimmed and lower-cased."""
    normalized = email.strip().lower()
    if len(normalized) > EMAIL_MAX_LENGTH or not _EMAIL.match(normalized):
        raise ValidationError("Invalid email", details=[{"field": field, "message": "not an email address"}])
    return normalized


# ----------------------------------------------------------------------------- slug
SLUG_MAX_LENGTH: Final = 120
#: Lowercase ASCII words separated by single hyphens.
SLUG_PATTERN: Final = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
_SLUG = re.compile(SLUG_PATTERN)


def normalize_slug(slug: str, *, field: str = "slug") -> str:
    """A slug as stored: trimmed, lower-cased, and then it must match ``SLUG_PATTERN``."""
    normalized = slug.strip().lower()
    if not normalized:
        raise ValidationError("Invalid slug", details=[{"field": field, "message": "must not be empty"}])
    if len(normalized) > SLUG_MAX_LENGTH or not _SLUG.match(normalized):
        message = "lowercase letters, digits and single hyphens only"
        raise ValidationError("Invalid slug", details=[{"field": field, "message": message}])
    return normalized


def slugify(text: str) -> str:
    """A slug made from a title: accents folded to ASCII, other characters become hyphens."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    slug = slug[:SLUG_MAX_LENGTH].rstrip("-")
    return slug or "post"


# ----------------------------------------------------------------------------- money
CENTS: Final = Decimal("0.01")
#: Decimal(10, 2) in the original schema: at most 8 integer digits.
MONEY_MAX: Final = Decimal("99999999.99")


def to_money(value: Decimal | int | str) -> Decimal:
    """``value`` as an exact amount with two decimal places; refuses floats and sub-cent amounts."""
    if isinstance(value, float):
        raise TypeError("money must never be a float; pass a Decimal or a string")
    try:
        amount = Decimal(value)
    except InvalidOperation as exc:
        raise ValueError(f"not an amount: {value!r}") from exc
    if not amount.is_finite():
        raise ValueError("amount must be finite")
    quantized = amount.quantize(CENTS)
    if quantized != amount:
        raise ValueError("amount has more than two decimal places")
    if abs(quantized) > MONEY_MAX:
        raise ValueError("amount is too large")
    return quantized


def money(value: Decimal | int | str, field: str = "price") -> Decimal:
    """An amount a repository stores: :func:`to_money`, not negative; 400 naming ``field`` if not."""
    try:
        amount = to_money(value)
    except (TypeError, ValueError) as exc:
        raise ValidationError("Invalid amount", details=[{"field": field, "message": str(exc)}]) from None
    if amount < 0:
        raise ValidationError("Invalid amount", details=[{"field": field, "message": "must not be negative"}])
    return amount
