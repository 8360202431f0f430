"""Settings from the environment, validated once per cold start.

Every function reads its configuration here. A missing or invalid setting fails the cold start
with a ``ConfigurationError`` that names the environment variable, instead of failing later in
some request. Runtime-tunable values (token lifetimes, rate limits) live in SSM instead: see
``backend.config``.

The variables are declared once, in small parts (``Core``, ``Api``, ``EmailQueue``...); each kind
of function (the ``POWERTOOLS_SERVICE_NAME`` the template gives it) is a model composed of the
parts it reads (``AuthSettings`` = core + API + runtime config + email queue + web links...), the
way per-handler environment models are built from mixins. ``load_settings`` validates the
environment against the kind's model only, so a bad value in a variable the function does not
read cannot fail it, and ``require`` refuses a setting outside the kind by name. The template test
(tests/unit/test_template_config.py) derives from these models which variables each function must
be given, and that it is given no other.

Code is typed against the whole ``Settings`` (every part): what a kind does not read keeps its
default there. Processes that are no function (the tests, the local cloud's tools, scripts) get
the whole model.
"""

from __future__ import annotations

import os
from functools import cache
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError

from backend.errors import ConfigurationError


def _split_csv(value: Any) -> Any:
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


CsvList = Annotated[list[str], BeforeValidator(_split_csv)]


class _Part(BaseModel):
    """Field aliases are the environment variable names (set by template.yaml)."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    #: Whether functions of this kind use the read cache (``backend.cache.settings``).
    reads_cache: ClassVar[bool] = False


# ----------------------------------------------------------------------------- the parts
class Core(_Part):
    """What every function reads."""

    stage: Literal["dev", "prod", "test", "local"] = Field("dev", alias="APP_STAGE")
    version: str = Field("0.0.0", alias="APP_VERSION", min_length=1)
    service: str = Field("backend", alias="POWERTOOLS_SERVICE_NAME", min_length=1)
    region: str = Field("us-east-1", alias="AWS_REGION", min_length=1)
    table_name: str = Field(alias="TABLE_NAME", min_length=3, max_length=255)
    #: How long SSM/Secrets Manager values are cached (Powertools parameters).
    parameters_max_age_seconds: int = Field(300, alias="PARAMETERS_MAX_AGE_SECONDS", ge=0, le=3600)


class Api(_Part):
    """What every function behind API Gateway reads: CORS, the body limit, the signing key."""

    cors_allowed_origins: CsvList = Field(default_factory=list, alias="CORS_ALLOWED_ORIGINS")
    token_secret_name: str | None = Field(None, alias="TOKEN_SECRET_NAME")
    max_body_bytes: int = Field(1_048_576, alias="MAX_BODY_BYTES", ge=1024, le=10 * 1_048_576)


class RuntimeConfigPart(_Part):
    """The SSM document of runtime-tunable values (``backend.config``)."""

    config_parameter_name: str | None = Field(None, alias="CONFIG_PARAMETER_NAME")


class EmailQueue(_Part):
    email_queue_url: str | None = Field(None, alias="EMAIL_QUEUE_URL")


class OrderQueue(_Part):
    order_queue_url: str | None = Field(None, alias="ORDER_QUEUE_URL")


class MaintenanceQueue(_Part):
    maintenance_queue_url: str | None = Field(None, alias="MAINTENANCE_QUEUE_URL")


class WebLinks(_Part):
    #: The web app whose pages the links in emails open (verify email, reset password...).
    web_app_url: str = Field("http://localhost:5173", alias="WEB_APP_URL", min_length=1)


class Mail(_Part):
    """Sending through SES."""

    mail_from: str | None = Field(None, alias="MAIL_FROM")
    #: The SES configuration set that publishes bounces and complaints (empty: none).
    ses_configuration_set: str | None = Field(None, alias="SES_CONFIGURATION_SET")


class Housekeeping(_Part):
    """The scheduled tasks' thresholds and where their reports go."""

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


class AvatarUploads(_Part):
    """The bucket avatar uploads go to (presigned POSTs under ``uploads/<userId>/``)."""

    avatar_upload_bucket: str | None = Field(None, alias="AVATAR_UPLOAD_BUCKET")


class AvatarStore(_Part):
    """The bucket that holds the served avatar images (``avatars/<userId>/``), behind the CDN."""

    avatar_bucket: str | None = Field(None, alias="AVATAR_BUCKET")


class AvatarCdn(_Part):
    """The CDN's base URL the avatar images are served from (``<base>/avatars/...``)."""

    avatar_base_url: str | None = Field(None, alias="AVATAR_BASE_URL")


class ErrorReporting(_Part):
    """Optional error reporting to Sentry (``backend.error_reporting``): the SSM SecureString
    parameter that holds the DSN. Empty (the default): off, and ``sentry_sdk`` is never imported."""

    sentry_dsn_parameter_name: str | None = Field(None, alias="SENTRY_DSN_PARAMETER_NAME")


class CachedReads(_Part):
    """The read cache (its variables are ``backend.cache.settings.CacheSettings``)."""

    reads_cache: ClassVar[bool] = True


# ----------------------------------------------------------------------------- the kinds
class AuthSettings(Core, ErrorReporting, Api, RuntimeConfigPart, EmailQueue, WebLinks):
    """functions/auth: sign-up and sign-in limits (SSM), verification and reset emails."""


class UsersSettings(
    Core,
    ErrorReporting,
    Api,
    RuntimeConfigPart,
    EmailQueue,
    MaintenanceQueue,
    WebLinks,
    CachedReads,
    AvatarUploads,
    AvatarStore,
):
    """functions/users: email changes (SSM limits, emails) and account deletion (purge jobs; the
    deleted posts are invalidated in the read cache); avatar upload forms, and deleting the images."""


class ProductsSettings(Core, ErrorReporting, Api, CachedReads):
    """functions/products: the catalogue, read through the cache."""


class ContentSettings(Core, ErrorReporting, Api, CachedReads):
    """functions/content: posts and categories, read through the cache."""


class OrdersSettings(Core, ErrorReporting, Api, OrderQueue, EmailQueue, CachedReads):
    """functions/orders: placing enqueues processing; cancelling enqueues an email; both change
    stock, which the product views in the read cache show (they are invalidated)."""


class WorkerSettings(
    Core, ErrorReporting, Mail, WebLinks, OrderQueue, MaintenanceQueue, EmailQueue, CachedReads
):
    """functions/worker: SES (links in emails), follow-up order and purge jobs (which invalidate the
    purged posts in the read cache), and email jobs put back on their queue when SES throttles."""


class ScheduledSettings(Core, ErrorReporting, EmailQueue, OrderQueue, Housekeeping, CachedReads):
    """functions/scheduled: the sweeper re-enqueues orders and cancels stale ones (their stock,
    which the product views in the read cache show, is restored: they are invalidated); the digest
    and the DLQ report email ops."""


class AvatarSettings(Core, ErrorReporting, AvatarStore, AvatarCdn):
    """functions/avatar: resizes uploads into the served bucket, sets the profile's URLs."""


class Settings(
    Core,
    ErrorReporting,
    Api,
    RuntimeConfigPart,
    EmailQueue,
    OrderQueue,
    MaintenanceQueue,
    WebLinks,
    Mail,
    Housekeeping,
    AvatarUploads,
    AvatarStore,
    AvatarCdn,
):
    """Every part: what the code is typed against, and what a process that is no function loads."""

    def require(self, field: str) -> str:
        """The value of an optional setting this code path needs; fails naming its variable."""
        info = type(self).model_fields[field]
        alias = info.alias or field.upper()
        kind = self.kind_model
        if kind is not None and field not in kind.model_fields:
            raise ConfigurationError(
                f"Setting {alias} is not one the {self.service} function reads "
                f"({kind.__name__} in backend/settings.py): add the part that declares it"
            )
        value = getattr(self, field)
        if not value:
            raise ConfigurationError(f"Missing setting {alias}: this function needs it")
        return str(value)

    @property
    def kind_model(self) -> type[_Part] | None:
        return KINDS.get(self.service)


#: The settings model of each kind of function, by its POWERTOOLS_SERVICE_NAME.
KINDS: dict[str, type[_Part]] = {
    "auth": AuthSettings,
    "users": UsersSettings,
    "products": ProductsSettings,
    "content": ContentSettings,
    "orders": OrdersSettings,
    "worker": WorkerSettings,
    "scheduled": ScheduledSettings,
    "avatar": AvatarSettings,
}


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    """Validate settings from a mapping (the process environment by default), against the model of
    the function's kind; what the kind does not read keeps its default."""
    env = dict(os.environ if environ is None else environ)
    kind = KINDS.get(env.get("POWERTOOLS_SERVICE_NAME", ""))
    try:
        if kind is None:
            return Settings.model_validate(env)
        values = kind.model_validate(env).model_dump()
        return Settings.model_validate(values)
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
