"""Runtime configuration and secrets, read through Powertools parameters with caching.

- The JSON document in SSM (``CONFIG_PARAMETER_NAME``) holds values operators tune without a
  deploy: token lifetimes, rate limits.
- The token-signing key lives in Secrets Manager (``TOKEN_SECRET_NAME``), never in the template,
  the environment or a log line.

Both are fetched on first use and cached for ``PARAMETERS_MAX_AGE_SECONDS`` (default 300 s), so a
warm function does not call SSM/Secrets Manager per request.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError
from pydantic.alias_generators import to_camel

from backend.errors import ConfigurationError, UnavailableError
from backend.settings import get_settings


class RuntimeConfig(BaseModel):
    """The SSM document (camelCase keys). Every field has a default: the document sets what operators
    tune (template.yaml's RuntimeConfigParameter); a field it leaves out keeps the default here.
    The request body limit is not here: it is the ``MAX_BODY_BYTES`` environment setting."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True, extra="ignore")

    #: Lifetime of an access token.
    access_token_ttl_seconds: int = Field(900, ge=60, le=3600)
    #: Lifetime of a refresh token (a session).
    refresh_token_ttl_seconds: int = Field(604_800, ge=3600, le=90 * 86400)
    #: Sign-in and sign-up attempts per minute, per client IP and per email.
    auth_attempts_per_minute: int = Field(5, ge=1, le=10_000)
    #: Refreshes per minute and session.
    refresh_per_minute: int = Field(10, ge=1, le=10_000)
    #: Emails (verification, password reset, email change) per hour, per client IP and per address.
    email_requests_per_hour: int = Field(5, ge=1, le=10_000)


def _parameters(kind: str) -> Any:
    """Powertools parameters, with its default ``kind`` provider ("ssm", "secrets") built on this
    thread's shared botocore session (``backend.aws``) rather than a session of its own."""
    from aws_lambda_powertools.utilities import parameters

    providers: dict[str, Any] = parameters.base.DEFAULT_PROVIDERS  # type: ignore[attr-defined]
    if kind not in providers:
        from backend import aws

        provider = parameters.SSMProvider if kind == "ssm" else parameters.SecretsProvider
        providers[kind] = provider(boto3_session=aws.boto3_session())
    return parameters


def get_secure_string(name: str, *, max_age: int) -> str | None:
    """An SSM SecureString parameter, decrypted and stripped (None if it is not a string), through
    Powertools' cache: read at most once per ``max_age`` seconds per container."""
    value = _parameters("ssm").get_parameter(name, decrypt=True, max_age=max_age)
    return value.strip() if isinstance(value, str) else None


def get_runtime_config() -> RuntimeConfig:
    """The SSM configuration document (defaults when no parameter is configured)."""
    settings = get_settings()
    if not settings.config_parameter_name:
        return RuntimeConfig()
    parameters = _parameters("ssm")

    try:
        raw = parameters.get_parameter(
            settings.config_parameter_name, transform="json", max_age=settings.parameters_max_age_seconds
        )
    except parameters.exceptions.GetParameterError as exc:
        raise UnavailableError("Configuration store unavailable") from exc
    except parameters.exceptions.TransformParameterError as exc:
        raise ConfigurationError(f"{settings.config_parameter_name} is not valid JSON") from exc
    try:
        return RuntimeConfig.model_validate(raw)
    except PydanticValidationError as exc:
        raise ConfigurationError(f"{settings.config_parameter_name} is invalid: {exc.errors()}") from None


def get_token_signing_key(*, force_fetch: bool = False) -> str:
    """The HMAC key for tokens and cursors, from Secrets Manager (cached; the AWSCURRENT version)."""
    settings = get_settings()
    name = settings.require("token_secret_name")
    parameters = _parameters("secrets")

    try:
        value = parameters.get_secret(
            name, max_age=settings.parameters_max_age_seconds, force_fetch=force_fetch
        )
    except parameters.exceptions.GetParameterError as exc:
        raise UnavailableError("Secret store unavailable") from exc
    return _checked_key(name, value)


@cache
def _previous_versions() -> Any:
    # Its own provider, so its own cache: Powertools keys its cache on name and transform only, and
    # the version stage is an SDK option, so AWSCURRENT and AWSPREVIOUS would share one entry.
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

    from backend import aws

    return SecretsProvider(boto3_session=aws.boto3_session())


def get_previous_token_signing_key() -> str | None:
    """The key before the last rotation (the AWSPREVIOUS version), or None if there is none.

    Tokens it signed stay valid until they expire (at most the access-token lifetime).
    """
    settings = get_settings()
    name = settings.require("token_secret_name")
    from aws_lambda_powertools.utilities import parameters

    try:
        value = _previous_versions().get(
            name, max_age=settings.parameters_max_age_seconds, VersionStage="AWSPREVIOUS"
        )
    except parameters.exceptions.GetParameterError as exc:
        if "ResourceNotFoundException" in str(exc) or "AWSPREVIOUS" in str(exc):
            return None  # never rotated
        raise UnavailableError("Secret store unavailable") from exc
    return _checked_key(name, value)


def _checked_key(name: str, value: Any) -> str:
    if not isinstance(value, str) or len(value) < 32:
        raise ConfigurationError(f"Secret {name} must be a string of at least 32 characters")
    return value


def clear_caches() -> None:
    """Forget cached configuration and secrets (tests; SnapStart restore)."""
    from aws_lambda_powertools.utilities import parameters

    parameters.clear_caches()  # type: ignore[no-untyped-call]
    if _previous_versions.cache_info().currsize:
        _previous_versions().clear_cache()
