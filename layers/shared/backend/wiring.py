"""The composition root: everything an entry point needs, built once per Lambda container, lazily.

Every adapter gets its collaborators here: the HTTP routes through FastAPI's ``Depends``
(``backend.http.deps``), the worker's jobs and the scheduled tasks (``backend.jobs``), the local
cloud's seeding and sample identity (``local/``) and the scripts (``scripts/``):

    @router.get("/api/things/{thing_id}")
    def get_thing(thing_id: str, c: Container = Depends(get_container)) -> ...:
        return things_service.get(c.things, thing_id)

Nothing is built at import: each member is created on first use and kept for the container's life
(so a route that only reads products never imports the users repository or argon2, and an email
batch never loads posts). Everything a container keeps lives on the ``Container`` (or in the
module caches ``reset()`` names), so one call, ``reset()``, makes a process fresh: SnapStart's
after-restore hook (``backend.snapstart``), the local cloud's sample identity and the tests' autouse
fixture (tests/conftest.py) all use it. Tests swap the whole container with
``backend.http.deps.override``.
"""

from __future__ import annotations

import secrets
import sys
from collections.abc import Callable
from functools import cache, cached_property
from typing import TYPE_CHECKING, Any

from backend.models.clock import Clock, utcnow
from backend.settings import Settings, get_settings

if TYPE_CHECKING:
    from redis import Redis

    from backend.cache import ReadCache
    from backend.cache.settings import CacheSettings
    from backend.config import RuntimeConfig
    from backend.repositories.action_tokens import ActionTokensRepository
    from backend.repositories.categories import CategoriesRepository
    from backend.repositories.orders import OrdersRepository
    from backend.repositories.posts import PostsRepository
    from backend.repositories.products import ProductsRepository
    from backend.repositories.profiles import ProfilesRepository
    from backend.repositories.rate_limits import RateLimitsRepository
    from backend.repositories.sessions import SessionsRepository
    from backend.repositories.suppressions import SuppressionsRepository
    from backend.repositories.users import UsersRepository
    from backend.services.auth import IdentityDeps
    from backend.services.avatars import AvatarDeps, AvatarStorage
    from backend.services.categories import CategoriesDeps, CategoryIndexMemo
    from backend.services.email import EmailSender
    from backend.services.idempotency import Idempotency, Idempotent
    from backend.services.keyring import Keyring
    from backend.services.orders import JobDeps, PlaceDeps
    from backend.services.posts import ContentDeps
    from backend.services.products import CatalogDeps
    from backend.services.users import UsersDeps


class Container:
    """Per-container collaborators. Cheap to create; every member is built on first use."""

    def __init__(self, settings: Settings, *, clock: Clock = utcnow) -> None:
        self.settings = settings
        self.clock = clock

    def close(self) -> None:
        """Close the connections this container opened (its Redis client), if it opened any."""
        client = vars(self).pop("redis", None)
        if client is None:
            return
        try:
            client.close()
        except Exception as exc:  # noqa: BLE001 - a connection that is already gone is closed enough
            from backend.observability import logger

            logger.warning("redis client not closed cleanly", extra={"error": type(exc).__name__})

    # ------------------------------------------------------------------ configuration and keys
    def config(self) -> RuntimeConfig:
        """The SSM runtime configuration (Powertools parameters: cached, re-read when stale)."""
        from backend.config import get_runtime_config

        return get_runtime_config()

    @cached_property
    def keyring(self) -> Keyring:
        from backend.services.keyring import Keyring

        return Keyring()

    @property
    def cursor_key(self) -> bytes:
        """The key that signs pagination cursors: derived from the token-signing secret, so that a
        cursor one API container hands out is good in every other; a function without that secret
        (the worker, the scheduled one: their listings page internally, and their cursors never
        leave the process) signs with a random key of its own."""
        if not self.settings.token_secret_name:
            return self._private_cursor_key
        from backend.repositories.paging import derive_cursor_key

        return derive_cursor_key(self.keyring.current().secret)

    @cached_property
    def _private_cursor_key(self) -> bytes:
        return secrets.token_bytes(32)

    @property
    def issuer(self) -> str:
        from backend.services.tokens import issuer_for

        return issuer_for(self.settings.stage)

    # ------------------------------------------------------------------ repositories
    @cached_property
    def users(self) -> UsersRepository:
        from backend.repositories.users import UsersRepository

        return UsersRepository(lambda: self.cursor_key, clock=self.clock)

    @cached_property
    def sessions(self) -> SessionsRepository:
        from backend.repositories.sessions import SessionsRepository

        return SessionsRepository(clock=self.clock)

    @cached_property
    def profiles(self) -> ProfilesRepository:
        from backend.repositories.profiles import ProfilesRepository

        return ProfilesRepository(clock=self.clock)

    @cached_property
    def rate_limits(self) -> RateLimitsRepository:
        from backend.repositories.rate_limits import RateLimitsRepository

        return RateLimitsRepository(clock=self.clock)

    @cached_property
    def products(self) -> ProductsRepository:
        from backend.repositories.products import ProductsRepository

        return ProductsRepository(lambda: self.cursor_key, clock=self.clock)

    @cached_property
    def categories(self) -> CategoriesRepository:
        from backend.repositories.categories import CategoriesRepository

        return CategoriesRepository(clock=self.clock)

    @cached_property
    def posts(self) -> PostsRepository:
        from backend.repositories.posts import PostsRepository

        return PostsRepository(lambda: self.cursor_key, clock=self.clock)

    @cached_property
    def orders(self) -> OrdersRepository:
        from backend.repositories.orders import OrdersRepository

        return OrdersRepository(lambda: self.cursor_key, clock=self.clock)

    # ------------------------------------------------------------------ the cache (Redis)
    @cached_property
    def cache_settings(self) -> CacheSettings:
        """``CACHE_*``, validated once (a bad value fails the first request that needs the cache)."""
        from backend.cache.settings import load_cache_settings

        return load_cache_settings()

    @cached_property
    def redis(self) -> Redis | None:
        """The one Redis client of the container (``CACHE_URL``; None without it), shared by the read
        cache and the idempotency store: the AUTH password from ``CACHE_AUTH_SECRET_NAME`` when the
        URL has none, short timeouts, no retries. It connects on first use."""
        settings = self.cache_settings
        if not settings.url:
            return None
        from backend.cache.factory import secret_reader
        from backend.cache.redis_backend import connect

        password = secret_reader(settings.auth_secret_name) if settings.auth_secret_name else None
        return connect(
            settings.url, timeout_ms=settings.timeout_ms, password=password, cluster=settings.cluster_mode
        )

    @cached_property
    def cache(self) -> ReadCache:
        """The read cache: Redis at CACHE_URL, else in-process (stamps in the table); docs/caching.md."""
        from backend.cache.factory import build_read_cache

        def stamps() -> Any:
            from backend.repositories.cache_stamps import CacheStampsRepository

            return CacheStampsRepository()

        return build_read_cache(
            table_name=self.settings.table_name,
            stamps=stamps,
            settings=self.cache_settings,
            redis=lambda: self.redis,
        )

    def invalidate(self, *namespaces: str) -> None:
        """``ReadCache.invalidate`` of this container's cache, built only when a write calls it."""
        self.cache.invalidate(*namespaces)

    @cached_property
    def category_index(self) -> CategoryIndexMemo:
        """The parsed category list, kept while its cached body is unchanged (shared by the routes)."""
        from backend.services.categories import CategoryIndexMemo

        return CategoryIndexMemo()

    # ------------------------------------------------------------------ services' collaborators
    @cached_property
    def catalog_deps(self) -> CatalogDeps:
        from backend.services.products import CatalogDeps

        return CatalogDeps(
            products=self.products,
            categories=self.categories,
            cache=self.cache,
            category_index=self.category_index,
        )

    @cached_property
    def categories_deps(self) -> CategoriesDeps:
        from backend.services.categories import CategoriesDeps

        return CategoriesDeps(
            categories=self.categories, cache=self.cache, category_index=self.category_index
        )

    @cached_property
    def content_deps(self) -> ContentDeps:
        from backend.services.posts import ContentDeps

        return ContentDeps(
            posts=self.posts,
            categories=self.categories,
            cache=self.cache,
            category_index=self.category_index,
        )

    @cached_property
    def identity(self) -> IdentityDeps:
        from backend.services.auth import IdentityDeps

        return IdentityDeps(
            users=self.users,
            sessions=self.sessions,
            rate_limiter=self.rate_limits,
            keyring=self.keyring,
            clock=self.clock,
            config=self.config,
            issuer=self.issuer,
            send_email=_queued("enqueue_email"),
            action_tokens=self.action_tokens,
            web_app_url=self.settings.web_app_url,
            enqueue_reset_request=_queued("enqueue_reset_request"),
        )

    @cached_property
    def action_tokens(self) -> ActionTokensRepository:
        from backend.repositories.action_tokens import ActionTokensRepository

        return ActionTokensRepository(clock=self.clock)

    @cached_property
    def suppressions(self) -> SuppressionsRepository:
        from backend.repositories.suppressions import SuppressionsRepository

        return SuppressionsRepository(clock=self.clock)

    @cached_property
    def users_deps(self) -> UsersDeps:
        from backend.services.users import UsersDeps

        return UsersDeps(
            users=self.users,
            profiles=self.profiles,
            purge_posts=_queued("enqueue_purge_user_posts"),
            send_email=_queued("enqueue_email"),
            invalidate=self.invalidate,  # lazy: only a deletion builds the cache
            delete_avatar_images=self._delete_avatar_images,
        )

    # ------------------------------------------------------------------ avatars
    @cached_property
    def avatar_storage(self) -> AvatarStorage:
        """The upload and served buckets and the CDN base URL (each None where the kind has none)."""
        from backend import aws
        from backend.services.avatars import AvatarStorage

        return AvatarStorage(
            s3=aws.s3,
            upload_bucket=self.settings.avatar_upload_bucket,
            bucket=self.settings.avatar_bucket,
            base_url=self.settings.avatar_base_url,
        )

    @cached_property
    def avatar_deps(self) -> AvatarDeps:
        from backend.services.avatars import AvatarDeps

        return AvatarDeps(profiles=self.profiles, storage=self.avatar_storage, clock=self.clock)

    def _delete_avatar_images(self, user_id: str) -> int:
        """Account deletion: the user's served avatar images (none where no bucket is configured)."""
        if not self.settings.avatar_bucket:
            return 0
        from backend.services import avatars

        return avatars.delete_user_images(self.avatar_storage, user_id)

    # ------------------------------------------------------------------ email
    @cached_property
    def email(self) -> EmailSender:
        """Sends email jobs through SES, once per job id, never to a suppressed address (worker)."""
        from backend.services.email import EmailSender

        return EmailSender(self.settings, suppressions=lambda: self.suppressions)

    # ------------------------------------------------------------------ orders
    @cached_property
    def idempotency(self) -> Idempotency:
        """Powertools idempotency over the table (or the container's Redis with CACHE_URL and
        CACHE_IDEMPOTENCY=true)."""
        from backend.services.idempotency import Idempotency

        redis = (lambda: self.redis) if self.cache_settings.idempotency else None
        return Idempotency(self.settings, redis=redis, redis_prefix=self.cache_key_prefix)

    @property
    def cache_key_prefix(self) -> str:
        """The stack's prefix of every Redis key (``CACHE_KEY_PREFIX``, else from the table)."""
        from backend.cache.settings import default_prefix

        return self.cache_settings.key_prefix or default_prefix(self.settings.table_name)

    @cached_property
    def order_placement(self) -> Idempotent:
        from backend.services import orders

        return orders.placement(self.idempotency)

    @cached_property
    def place_order(self) -> PlaceDeps:
        from backend.services import queues
        from backend.services.orders import PlaceDeps

        return PlaceDeps(
            orders=self.orders,
            products=self.products,
            enqueue_job=queues.enqueue_order_job,
            placement=lambda: self.order_placement,
            invalidate=self.invalidate,
        )

    @cached_property
    def order_process(self) -> Idempotent:
        """The ``order.process`` job, run once per job id (worker)."""
        from backend.services import orders

        return orders.process_job(self.idempotency)

    @cached_property
    def order_jobs(self) -> JobDeps:
        from backend.services import queues
        from backend.services.orders import JobDeps

        return JobDeps(
            orders=self.orders,
            users=self.users,
            enqueue_job=queues.enqueue_order_job,
            send_email_job=self.email.send,
        )


def _queued(name: str) -> Callable[..., Any]:
    """``backend.services.queues.<name>``, imported when first called: every authenticated request
    builds the identity collaborators, few of them send a message (the job schemas cost ~3 ms)."""

    def call(*args: Any, **kwargs: Any) -> Any:
        from backend.services import queues

        return getattr(queues, name)(*args, **kwargs)

    return call


@cache
def get_container() -> Container:
    """The container of this process (a FastAPI dependency too; tests override it)."""
    return Container(get_settings())


def reset() -> None:
    """Make this process fresh: the container (its connections closed), the settings, the AWS
    clients and PynamoDB's connection, cached parameters and secrets, verified access tokens.

    Modules the process never imported are skipped (nothing to reset), so a reset imports nothing.
    The SnapStart hook (``backend.snapstart``) runs this after its own resets of randomness and ids.
    """
    previous = get_container() if get_container.cache_info().currsize else None
    get_container.cache_clear()
    get_settings.cache_clear()
    for module, reset_name in _MODULE_RESETS:
        loaded = sys.modules.get(module)
        if loaded is not None:
            getattr(loaded, reset_name)()
    if previous is not None:
        previous.close()


#: The process caches outside the container: (module, the function that clears it), each called
#: only if the module is loaded. Powertools parameters are cleared on their own too: the cache's
#: password reader uses them without ``backend.config``.
_MODULE_RESETS: tuple[tuple[str, str], ...] = (
    ("backend.aws", "reset_clients"),
    ("backend.models.base", "reset_connection"),
    ("backend.config", "clear_caches"),
    ("aws_lambda_powertools.utilities.parameters", "clear_caches"),
    ("backend.services.tokens", "forget_verified_tokens"),
)
