"""Password rules and hashing (argon2id). Plain functions: no I/O besides reading the shipped list.

Parameters: argon2id with t=2 iterations, m=19 MiB, p=1 — OWASP's minimum recommendation
(docs/auth.md has the measured hash time on a 512 MB Lambda and on this machine). A hash made with
older parameters is upgraded at the next successful sign-in (``needs_rehash``).

Sign-in takes the same time whether or not the email exists: for an unknown email the presented
password is verified against a dummy hash made with the same parameters (``burn``).
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Final

from backend.errors import ValidationError
from backend.values import PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH

if TYPE_CHECKING:
    from argon2 import PasswordHasher

MIN_LENGTH: Final = PASSWORD_MIN_LENGTH
MAX_LENGTH: Final = PASSWORD_MAX_LENGTH
TIME_COST: Final = 2
MEMORY_COST_KIB: Final = 19 * 1024
PARALLELISM: Final = 1


@cache
def hasher() -> PasswordHasher:
    from argon2 import PasswordHasher, Type

    return PasswordHasher(
        time_cost=TIME_COST,
        memory_cost=MEMORY_COST_KIB,
        parallelism=PARALLELISM,
        hash_len=32,
        salt_len=16,
        type=Type.ID,
    )


@cache
def common_passwords() -> frozenset[str]:
    text = resources.files("backend.services").joinpath("data/common-passwords.txt").read_text("utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))


def check_policy(password: str, *, field: str = "password", context: tuple[str, ...] = ()) -> None:
    """ValidationError naming ``field`` unless the password is acceptable.

    ``context`` holds values the password must not equal (the user's email, name).
    """
    problem = None
    if len(password) < MIN_LENGTH:
        problem = f"must be at least {MIN_LENGTH} characters"
    elif len(password) > MAX_LENGTH:
        problem = f"must be at most {MAX_LENGTH} characters"
    elif password.strip().lower() in common_passwords():
        problem = "is too common; choose another"
    elif any(value and password.strip().lower() == value.strip().lower() for value in context):
        problem = "must not be your email or name"
    if problem:
        raise ValidationError("Weak password", details=[{"field": field, "message": problem}])


def hash_password(password: str) -> str:
    return hasher().hash(password)


def verify(password_hash: str, password: str) -> bool:
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return bool(hasher().verify(password_hash, password))
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    from argon2.exceptions import InvalidHashError

    try:
        return bool(hasher().check_needs_rehash(password_hash))
    except InvalidHashError:
        return True


@cache
def _dummy_hash() -> str:
    return hash_password("dummy password for unknown accounts")


def burn(password: str) -> None:
    """Spend the time a verification costs, for an account that does not exist."""
    verify(_dummy_hash(), password)
