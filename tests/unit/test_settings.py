from __future__ import annotations

import pytest

from backend.errors import ConfigurationError
from backend.settings import KINDS, Settings, load_settings


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


# ----------------------------------------------------------------------------- settings per kind
def test_a_function_kind_validates_only_the_parts_it_reads() -> None:
    environ = {"TABLE_NAME": "app-table", "POWERTOOLS_SERVICE_NAME": "worker", "MAX_BODY_BYTES": "lots"}
    settings = load_settings(environ)  # the worker is not behind API Gateway: no body limit read
    assert settings.service == "worker"
    assert settings.max_body_bytes == 1_048_576
    with pytest.raises(ConfigurationError, match="MAX_BODY_BYTES"):
        load_settings({**environ, "POWERTOOLS_SERVICE_NAME": "orders"})


def test_what_a_kind_does_not_read_keeps_its_default_and_cannot_be_required() -> None:
    settings = load_settings(
        {
            "TABLE_NAME": "app-table",
            "POWERTOOLS_SERVICE_NAME": "auth",
            "EMAIL_QUEUE_URL": "https://sqs/email",
            "ORDER_QUEUE_URL": "https://sqs/orders",  # set by mistake: auth reads no order queue
        }
    )
    assert settings.require("email_queue_url") == "https://sqs/email"
    assert settings.order_queue_url is None
    with pytest.raises(ConfigurationError, match=r"ORDER_QUEUE_URL is not one the auth function reads"):
        settings.require("order_queue_url")


def test_every_kind_is_composed_of_parts_of_the_whole_model() -> None:
    for name, kind in KINDS.items():
        assert set(kind.model_fields) <= set(Settings.model_fields), name
        for field, info in kind.model_fields.items():  # one declaration per variable
            assert info.alias == Settings.model_fields[field].alias, (name, field)
    every = set().union(*(kind.model_fields for kind in KINDS.values()))
    assert every == set(Settings.model_fields), "a part no kind of function reads"


def test_a_process_that_is_no_function_gets_every_part() -> None:
    settings = load_settings({"TABLE_NAME": "app-table", "ORDER_QUEUE_URL": "https://sqs/orders"})
    assert settings.kind_model is None
    assert settings.require("order_queue_url") == "https://sqs/orders"
