"""Enumerations stored in items. Pure stdlib, shared with ``backend.records``."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    USER = "USER"
    ADMIN = "ADMIN"


class OrderStatus(StrEnum):
    PENDING = "PENDING"
    PROCESSING = "PROCESSING"
    SHIPPED = "SHIPPED"
    DELIVERED = "DELIVERED"
    CANCELLED = "CANCELLED"


class TokenPurpose(StrEnum):
    """What a single-use action token (an emailed link) is for."""

    VERIFY_EMAIL = "verify-email"
    PASSWORD_RESET = "password-reset"  # noqa: S105 - a purpose, not a password
    EMAIL_CHANGE = "email-change"
