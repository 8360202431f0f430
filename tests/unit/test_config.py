"""Runtime configuration (SSM) and secrets (Secrets Manager) through Powertools parameters, cached."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import boto3
import pytest

from backend.config import RuntimeConfig, get_runtime_config, get_token_signing_key
from backend.errors import ConfigurationError, UnavailableError
from tests.support.ddb import ApiCall, add_listener, remove_listener

PARAMETER = "/app-backend/test/config"
SECRET = "app-backend/test/token-signing-key"


@pytest.fixture
def configured(
    aws: None, monkeypatch: pytest.MonkeyPatch, fresh_process: Callable[[], None]
) -> Iterator[list[ApiCall]]:
    monkeypatch.setenv("CONFIG_PARAMETER_NAME", PARAMETER)
    monkeypatch.setenv("TOKEN_SECRET_NAME", SECRET)
    fresh_process()
    calls: list[ApiCall] = []
    add_listener(calls.append)
    yield calls
    remove_listener(calls.append)


def put_config(value: str) -> None:
    boto3.client("ssm").put_parameter(Name=PARAMETER, Value=value, Type="String", Overwrite=True)


def test_config_is_read_from_ssm_once_and_cached(configured: list[ApiCall]) -> None:
    put_config(json.dumps({"accessTokenTtlSeconds": 600, "authAttemptsPerMinute": 30}))
    configured.clear()
    first = get_runtime_config()
    second = get_runtime_config()
    assert first == second == RuntimeConfig(access_token_ttl_seconds=600, auth_attempts_per_minute=30)
    assert first.refresh_token_ttl_seconds == 604_800  # default for what the document leaves out
    assert [(c.service, c.operation) for c in configured] == [("ssm", "GetParameter")]


def test_invalid_config_names_the_parameter(
    configured: list[ApiCall], fresh_process: Callable[[], None]
) -> None:
    put_config("{not json")
    with pytest.raises(ConfigurationError, match=PARAMETER):
        get_runtime_config()
    fresh_process()  # the cached value expires
    put_config(json.dumps({"accessTokenTtlSeconds": 5}))
    with pytest.raises(ConfigurationError, match=PARAMETER):
        get_runtime_config()


def test_missing_parameter_is_unavailable(configured: list[ApiCall]) -> None:
    with pytest.raises(UnavailableError):
        get_runtime_config()


def test_defaults_without_a_parameter(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CONFIG_PARAMETER_NAME", raising=False)
    assert get_runtime_config() == RuntimeConfig()


def test_signing_key_comes_from_secrets_manager_and_is_cached(configured: list[ApiCall]) -> None:
    boto3.client("secretsmanager").create_secret(Name=SECRET, SecretString="k" * 64)
    configured.clear()
    assert get_token_signing_key() == "k" * 64
    assert get_token_signing_key() == "k" * 64
    assert [(c.service, c.operation) for c in configured] == [("secretsmanager", "GetSecretValue")]


def test_weak_signing_key_is_refused(configured: list[ApiCall]) -> None:
    boto3.client("secretsmanager").create_secret(Name=SECRET, SecretString="short")
    with pytest.raises(ConfigurationError, match="at least 32"):
        get_token_signing_key()
