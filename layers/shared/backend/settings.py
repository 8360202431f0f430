"""Settings from the environment, validated once per cold start.

Every function reads its configuration here. A missing or invalid setting fails the cold start
with a ``ConfigurationError`` that names the environment variable, instead of failing later in
some request. Runtime-tunable values (token lifetimes, rate limits) live in SSM instead: see
``backend.config``.
"""

from __future__ import annotations

import os
from functools import cache
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError

from backend.errors import ConfigurationError


def _split_csv(value: Any) -> Any:
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


CsvList = Annotated[list[str], BeforeValidator(_split_csv)]


class Settings(BaseModel):
    """Field aliases are the environment variable names (set by template.yaml)."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    stage: Literal["dev", "prod", "test", "local"] = Field("dev", alias="APP_STAGE")
    version: str = Field("0.0.0", alias="APP_VERSION", min_length=1)
    service: str = Field("backend", alias="POWERTOOLS_SERVICE_NAME", min_length=1)
    region: str = Field("us-east-1", alias="AWS_REGION", min_length=1)
    table_name: str = Field(alias="TABLE_NAME", min_length=3, max_length=255)
    cors_allowed_origins: CsvList = Field(default_factory=list, alias="CORS_ALLOWED_ORIGINS")
    config_parameter_name: str | None = Field(None, alias="CONFIG_PARAMETER_NAME")
    token_secret_name: str | None = Field(None, alias="TOKEN_SECRET_NAME")
    email_queue_url: str | None = Field(None, alias="EMAIL_QUEUE_URL")
    order_queue_url: str | None = Field(None, alias="ORDER_QUEUE_URL")
    maintenance_queue_url: str | None = Field(None, alias="MAINTENANCE_QUEUE_URL")
    mail_from: str | None = Field(None, alias="MAIL_FROM")
    #: The web app whose pages the links in emails open (verify email, reset password...).
    web_app_url: str = Field("http://localhost:5173", alias="WEB_APP_URL", min_length=1)
    #: The SES configuration set that publishes bounces and complaints (empty: none).
    ses_configuration_set: str | None = Field(None, alias="SES_CONFIGURATION_SET")
    ops_email: str | None = Field(None, alias="OPS_EMAIL")
    monitored_dlq_urls: CsvList = Field(default_factory=list, alias="MONITORED_DLQ_URLS")
    #: The order sweeper re-enqueues ``order.process`` for PENDING orders older than this.
    pending_order_requeue_after_seconds: int = Field(
        600, alias="PENDING_ORDER_REQUEUE_AFTER_SECONDS", ge=0, le=86_400
    )
    #: ... and cancels (stock restored) PENDING orders older than this.
    pending_order_cancel_after_seconds: int = Field(
        86_400, alias="PENDING_ORDER_CANCEL_AFTER_SECONDS", ge=60, le=30 * 86_400
    )
    #: The daily digest lists active products with less stock than this.
    low_stock_threshold: int = Field(5, alias="LOW_STOCK_THRESHOLD", ge=1, le=1_000_000)
    max_body_bytes: int = Field(1_048_576, alias="MAX_BODY_BYTES", ge=1024, le=10 * 1_048_576)
    parameters_max_age_seconds: int = Field(300, alias="PARAMETERS_MAX_AGE_SECONDS", ge=0, le=3600)

    def require(self, field: str) -> str:
        """The value of an optional setting this code path needs; fails naming its variable."""
        value = getattr(self, field)
        if not value:
            alias = type(self).model_fields[field].alias or field.upper()
            raise ConfigurationError(f"Missing setting {alias}: this function needs it")
        return str(value)


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    """Validate settings from a mapping (the process environment by default)."""
    env = dict(os.environ if environ is None else environ)
    try:
        return Settings.model_validate(env)
    except PydanticValidationError as exc:
        problems = []
        for err in exc.errors():
            name = str(err["loc"][0]) if err["loc"] else "?"
            problems.append(f"{name}: {err['msg']}")
        raise ConfigurationError("Invalid settings: " + "; ".join(problems)) from None


@cache
def get_settings() -> Settings:
    """The settings of this process, validated on first use (once per cold start)."""
    return load_settings()
