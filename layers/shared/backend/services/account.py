"""The account lifecycle: email verification, forgotten and changed passwords, email change,
sessions, and what SES tells us about undeliverable addresses.

Links in emails carry a single-use token: 256 random bits, stored only as a SHA-256 with an expiry
and a purpose (``repositories/action_tokens.py``). The write a token authorizes and the token's
deletion commit in one transaction. Every endpoint that sends an email is rate limited per client
IP and per address (or per user).
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any, Final

from backend.errors import ConflictError, InvalidTokenError, UnauthorizedError, ValidationError
from backend.models.enums import TokenPurpose as purposes
from backend.observability import logger
from backend.records.users import SessionRecord, UserRecord
from backend.services import passwords, rate_limit, tokens
from backend.services.auth import IdentityDeps
from backend.services.principal import Principal
from backend.values import normalize_email

VERIFY_TTL: Final = timedelta(hours=24)
RESET_TTL: Final = timedelta(minutes=30)
EMAIL_CHANGE_TTL: Final = timedelta(hours=24)
#: Emails a user or an address may trigger per hour (verification, reset, email change).
EMAIL_WINDOW_SECONDS: Final = 3600


def _link(deps: IdentityDeps, page: str, token: str) -> str:
    return f"{deps.web_app_url.rstrip('/')}/{page}?token={token}"


def _limit_emails(deps: IdentityDeps, action: str, *, subject: str, client_ip: str) -> None:
    limit = deps.config().email_requests_per_hour
    for kind, value in (("ip", client_ip), ("subject", subject)):
        rate_limit.enforce(
            deps.rate_limiter,
            rate_limit.bucket(f"{action}:{kind}", value),
            limit=limit,
            window_seconds=EMAIL_WINDOW_SECONDS,
        )


def _issue(deps: IdentityDeps, purpose: str, user: UserRecord, email: str, ttl: timedelta) -> str:
    secret = tokens.new_refresh_secret()
    deps.action_tokens.issue(
        token_hash=tokens.hash_secret(secret), purpose=purpose, user_id=user.id, email=email, ttl=ttl
    )
    return secret


def _send(deps: IdentityDeps, **job: Any) -> None:
    try:
        deps.send_email(**job)
    except Exception:  # noqa: BLE001 - logged; the caller's write has committed either way
        logger.exception("could not enqueue email", extra={"template": job.get("template")})


# ----------------------------------------------------------------------------- verification
def send_verification(deps: IdentityDeps, user: UserRecord) -> None:
    """Email a link that verifies ``user``'s current address (24 h)."""
    secret = _issue(deps, purposes.VERIFY_EMAIL, user, user.email, VERIFY_TTL)
    _send(
        deps,
        to=user.email,
        template="verify-email",
        data={"name": user.name or "", "link": _link(deps, "verify-email", secret)},
        job_id=f"verify-{tokens.hash_secret(secret)[:24]}",
    )


def request_verification(deps: IdentityDeps, principal: Principal, *, client_ip: str) -> bool:
    """A new verification link for the caller; False (and nothing sent) if already verified."""
    user = deps.users.get(principal.user_id, consistent=True)
    if user.email_verified:
        return False
    _limit_emails(deps, "verify-email", subject=user.id, client_ip=client_ip)
    send_verification(deps, user)
    return True


def verify_email(deps: IdentityDeps, token: str) -> UserRecord:
    """Mark the address the token was sent to as verified; the token then stops working."""
    token_hash = _token_hash(token)
    record = deps.action_tokens.find(token_hash, purposes.VERIFY_EMAIL)
    user = deps.users.get(record.user_id, consistent=True)
    if user.email != record.email:  # the address changed since the link was sent
        raise InvalidTokenError()
    return deps.users.update(
        user, email_verified=True, consume_token=(deps.action_tokens, token_hash, purposes.VERIFY_EMAIL)
    )


# ----------------------------------------------------------------------------- passwords
def forgot_password(deps: IdentityDeps, *, email: str, client_ip: str) -> None:
    """Always the same answer, in the same time: the request only enqueues a job (one SQS send for
    any address); the worker looks the account up and emails a link only if it exists."""
    try:
        address = normalize_email(email)
    except ValidationError:
        address = email.strip().lower()
    _limit_emails(deps, "password-forgot", subject=address, client_ip=client_ip)
    deps.enqueue_reset_request(email=address)


def handle_reset_request(deps: IdentityDeps, *, email: str, job_id: str, send_now: Any) -> dict[str, Any]:
    """In the worker: issue a reset token and email the link, if an account has this address.

    ``send_now(EmailJob-like kwargs)`` sends idempotently by job id, so a redelivered request sends
    one email (a second token may be issued, but it is never sent and expires in 30 minutes).
    """
    from backend.errors import NotFoundError

    try:
        user = deps.users.get_by_email(email)
    except (NotFoundError, ValidationError):
        logger.info("password reset requested for an unknown address", extra={"job_id": job_id})
        return {"jobId": job_id, "sent": False}
    secret = _issue(deps, purposes.PASSWORD_RESET, user, user.email, RESET_TTL)
    send_now(
        to=user.email,
        template="password-reset",
        data={"name": user.name or "", "resetUrl": _link(deps, "reset-password", secret)},
        job_id=f"{job_id}-email",
    )
    return {"jobId": job_id, "sent": True}


def reset_password(deps: IdentityDeps, *, token: str, password: str) -> UserRecord:
    """Set a new password with a reset token; every session of the user is revoked (all refresh
    and access tokens stop working) and a notice is emailed."""
    token_hash = _token_hash(token)
    record = deps.action_tokens.find(token_hash, purposes.PASSWORD_RESET)
    user = deps.users.get(record.user_id, consistent=True)
    passwords.check_policy(password, context=(user.email, user.name or ""))
    updated = deps.users.update(
        user,
        password_hash=passwords.hash_password(password),
        # the link reached the inbox, which proves the address
        email_verified=user.email == record.email or user.email_verified,
        consume_token=(deps.action_tokens, token_hash, purposes.PASSWORD_RESET),
    )
    revoked = deps.sessions.delete_all_for_user(user.id)
    logger.info("password reset", extra={"user_id": user.id, "sessions_revoked": revoked})
    _send(deps, to=user.email, template="password-changed", data={"name": user.name or ""}, job_id=None)
    return updated


def change_password(
    deps: IdentityDeps, principal: Principal, *, current_password: str, new_password: str
) -> int:
    """Change the caller's password; every other session is revoked. Returns how many."""
    user = deps.users.get(principal.user_id, consistent=True)
    if not passwords.verify(user.password_hash, current_password):
        raise UnauthorizedError("The current password is wrong", code="INVALID_CREDENTIALS")
    if current_password == new_password:
        raise ValidationError(
            "Choose a new password", details=[{"field": "newPassword", "message": "same as the current one"}]
        )
    passwords.check_policy(new_password, field="newPassword", context=(user.email, user.name or ""))
    deps.users.update(user, password_hash=passwords.hash_password(new_password))
    revoked = deps.sessions.delete_all_for_user(user.id, keep=principal.session_id)
    _send(deps, to=user.email, template="password-changed", data={"name": user.name or ""}, job_id=None)
    return revoked


# ----------------------------------------------------------------------------- email change
def request_email_change(
    deps: IdentityDeps, principal: Principal, *, email: str, password: str, client_ip: str
) -> None:
    """Send a link to the new address; only following it moves the address."""
    user = deps.users.get(principal.user_id, consistent=True)
    if not passwords.verify(user.password_hash, password):
        raise UnauthorizedError("The password is wrong", code="INVALID_CREDENTIALS")
    address = normalize_email(email)
    if address == user.email:
        raise ValidationError(
            "That is your current address", details=[{"field": "email", "message": "unchanged"}]
        )
    _limit_emails(deps, "email-change", subject=user.id, client_ip=client_ip)
    secret = _issue(deps, purposes.EMAIL_CHANGE, user, address, EMAIL_CHANGE_TTL)
    _send(
        deps,
        to=address,
        template="email-change",
        data={"name": user.name or "", "newEmail": address, "link": _link(deps, "confirm-email", secret)},
        job_id=None,
    )


def confirm_email_change(deps: IdentityDeps, token: str) -> UserRecord:
    """Move the address: the email guards swap in the same transaction as the user and the token
    (409 EMAIL_TAKEN if someone took the address meanwhile). The old address gets a notice."""
    token_hash = _token_hash(token)
    record = deps.action_tokens.find(token_hash, purposes.EMAIL_CHANGE)
    user = deps.users.get(record.user_id, consistent=True)
    old_email = user.email
    try:
        updated = deps.users.update(
            user,
            email=record.email,
            email_verified=True,
            consume_token=(deps.action_tokens, token_hash, purposes.EMAIL_CHANGE),
        )
    except ConflictError as exc:
        if exc.details and exc.details[0].get("field") == "email":
            raise ConflictError(
                "Another account took this address meanwhile",
                code="EMAIL_TAKEN",
                details=[{"field": "email", "message": "already in use"}],
            ) from exc
        raise
    _send(
        deps,
        to=old_email,
        template="email-changed",
        data={"name": user.name or "", "newEmail": updated.email},
        job_id=None,
    )
    return updated


# ----------------------------------------------------------------------------- sessions
_BROWSERS = (
    ("Edg/", "Edge"),
    ("OPR/", "Opera"),
    ("Firefox/", "Firefox"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
)
_SYSTEMS = (
    ("iPhone", "iOS"),
    ("iPad", "iPadOS"),
    ("Android", "Android"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("Linux", "Linux"),
)


def describe_device(user_agent: str | None) -> str:
    """A short human description of a User-Agent ("Firefox on Linux"), never the raw string."""
    if not user_agent:
        return "Unknown device"
    browser = next((name for marker, name in _BROWSERS if marker in user_agent), None)
    system = next((name for marker, name in _SYSTEMS if marker in user_agent), None)
    if browser is None:
        match = re.match(r"([A-Za-z][A-Za-z0-9._-]{0,30})/", user_agent)
        browser = match.group(1) if match else "Unknown client"
    return f"{browser} on {system}" if system else browser


def list_sessions(deps: IdentityDeps, principal: Principal) -> list[tuple[SessionRecord, bool]]:
    """The caller's live sessions, newest first, each with whether it is the current one."""
    sessions = deps.sessions.list_for_user(principal.user_id)
    return sorted(
        ((s, s.id == principal.session_id) for s in sessions),
        key=lambda pair: pair[0].created_at,
        reverse=True,
    )


def revoke_session(deps: IdentityDeps, principal: Principal, session_id: str) -> None:
    """Revoke one of the caller's sessions (404 if there is no such live session of theirs)."""
    deps.sessions.get(principal.user_id, session_id)  # NotFoundError otherwise
    deps.sessions.delete(principal.user_id, session_id)


def sign_out_everywhere(deps: IdentityDeps, principal: Principal) -> int:
    return deps.sessions.delete_all_for_user(principal.user_id)


# ----------------------------------------------------------------------------- deliverability
def record_delivery_problem(
    deps: IdentityDeps, *, email: str, reason: str, detail: str | None, suppressions: Any
) -> str | None:
    """SES said ``email`` bounced (permanently) or complained: never send to it again."""
    user_id: str | None = suppressions.suppress(email, reason=reason, detail=detail)
    logger.warning("address suppressed", extra={"reason": reason, "user_id": user_id})
    return user_id


def _token_hash(token: str) -> str:
    token = token.strip()
    if not re.fullmatch(r"[A-Za-z0-9_-]{43}", token):
        raise InvalidTokenError()
    return tokens.hash_secret(token)
