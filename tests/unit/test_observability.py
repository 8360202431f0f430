from __future__ import annotations

import json
import logging

import pytest

from backend.observability import REDACTED, RedactingFormatter, redact


def test_redacts_sensitive_keys_at_any_depth() -> None:
    record = {
        "message": "login",
        "password": "hunter2",
        "body": {"email": "a@example.com", "newPassword": "x", "refresh_token": "abc"},
        "headers": [{"Authorization": "Bearer abc.def.ghi"}, {"Cookie": "session=1"}],
        "cold_start": True,
    }
    cleaned = redact(record)
    assert cleaned["password"] == REDACTED
    assert cleaned["body"] == {"email": "a@example.com", "newPassword": REDACTED, "refresh_token": REDACTED}
    assert cleaned["headers"] == [{"Authorization": REDACTED}, {"Cookie": REDACTED}]
    assert cleaned["cold_start"] is True


def test_redacts_credentials_inside_strings() -> None:
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NSJ9.c2lnbmF0dXJlLXZhbHVl"  # pragma: allowlist secret (a made-up token: the signature is "signature-value")
    text = redact(f"calling with Bearer abc123 and token {jwt}")
    assert "abc123" not in text
    assert jwt not in text


def test_formatter_output_has_no_secret(caplog: pytest.LogCaptureFixture) -> None:
    formatter = RedactingFormatter()
    record = logging.LogRecord("t", logging.INFO, __file__, 1, "user signed in", None, None)
    record.password = "hunter2"  # what `logger.info(..., extra={"password": ...})` produces
    line = formatter.format(record)
    assert "hunter2" not in line
    assert json.loads(line)["password"] == REDACTED
