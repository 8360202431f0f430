from __future__ import annotations

import pytest

from backend.errors import ConfigurationError
from backend.settings import load_settings


def test_valid_settings_parse_lists_and_defaults() -> None:
    settings = load_settings(
        {
            "TABLE_NAME": "app-table",
            "CORS_ALLOWED_ORIGINS": "https://a.example, https://b.example,",
            "APP_STAGE": "prod",
        }
    )
    assert settings.table_name == "app-table"
    assert settings.cors_allowed_origins == ["https://a.example", "https://b.example"]
    assert settings.stage == "prod"
    assert settings.max_body_bytes == 1_048_576


def test_missing_setting_is_named() -> None:
    with pytest.raises(ConfigurationError, match="TABLE_NAME"):
        load_settings({})


def test_bad_setting_is_named() -> None:
    with pytest.raises(ConfigurationError, match="MAX_BODY_BYTES"):
        load_settings({"TABLE_NAME": "app-table", "MAX_BODY_BYTES": "lots"})
    with pytest.raises(ConfigurationError, match="APP_STAGE"):
        load_settings({"TABLE_NAME": "app-table", "APP_STAGE": "staging"})


def test_require_names_the_variable() -> None:
    settings = load_settings({"TABLE_NAME": "app-table"})
    with pytest.raises(ConfigurationError, match="EMAIL_QUEUE_URL"):
        settings.require("email_queue_url")
