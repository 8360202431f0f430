"""The wiring: what routes need, built once per Lambda container, lazily, handed out by ``Depends``.

    @router.get("/api/things/{thing_id}")
    def get_thing(thing_id: str, c: Container = Depends(get_container)) -> ...:
        return things_service.get(c.things, thing_id)

Nothing is built at import: each property is created on first use and kept for the container's
life (so a route that only reads products never imports the users repository or argon2). Tests
swap the whole container with ``app.dependency_overrides[get_container]``, or call ``reset()``
(the autouse fixture in tests/conftest.py does) to drop every per-container cache.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache, cached_property
from typing import TYPE_CHECKING, Any

from backend.models.clock import Clock, utcnow
from backend.settings import Settings, get_settings

if TYPE_CHECKING:
    from backend.cache import ReadCache
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
    from backend.services.categories import CategoriesDeps
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
        """The key that signs pagination cursors, derived from the token-signing secret."""
        from backend.repositories.paging import derive_cursor_key

        return derive_cursor_key(self.keyring.current().secret)

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

    # ------------------------------------------------------------------ read cache
    @cached_property
    def cache(self) -> ReadCache:
        """The read cache: Redis at CACHE_URL, else in-process (stamps in the table); docs/caching.md."""
        from backend.cache.factory import build_read_cache

        def stamps() -> Any:
            from backend.repositories.cache_stamps import CacheStampsRepository

            return CacheStampsRepository()

        return build_read_cache(table_name=self.settings.table_name, stamps=stamps)

    # ------------------------------------------------------------------ services' collaborators
    @cached_property
    def catalog_deps(self) -> CatalogDeps:
        from backend.services.products import CatalogDeps

        return CatalogDeps(products=self.products, categories=self.categories, cache=self.cache)

    @cached_property
    def categories_deps(self) -> CategoriesDeps:
        from backend.services.categories import CategoriesDeps

        return CategoriesDeps(categories=self.categories, cache=self.cache)

    @cached_property
    def content_deps(self) -> ContentDeps:
        from backend.services.posts import ContentDeps

        return ContentDeps(posts=self.posts, categories=self.categories, cache=self.cache)

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
            invalidate=lambda *namespaces: self.cache.invalidate(*namespaces),  # noqa: PLW0108 - lazy: only a deletion builds the cache
        )

    # ------------------------------------------------------------------ orders
    @cached_property
    def idempotency(self) -> Idempotency:
        """Powertools idempotency over the table (or Redis with CACHE_URL); imported on first use."""
        from backend.services.idempotency import Idempotency

        return Idempotency(self.settings)

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
        )

    @cached_property
    def order_process(self) -> Idempotent:
        """The ``order.process`` job, run once per job id (worker)."""
        from backend.services import orders

        return orders.process_job(self.idempotency)

    @cached_property
    def order_jobs(self) -> JobDeps:
        from backend.services import email, queues
        from backend.services.orders import JobDeps

        return JobDeps(
            orders=self.orders,
            users=self.users,
            enqueue_job=queues.enqueue_order_job,
            send_email_job=email.send_email_job,
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
    """The container of this process (FastAPI dependency; override it in tests)."""
    return Container(get_settings())


def reset() -> None:
    """Drop every per-container cache: the container, settings, AWS clients, cached parameters,
    verified access tokens."""
    from backend import aws, config, snapstart

    get_container.cache_clear()
    get_settings.cache_clear()
    aws.reset_clients()
    config.clear_caches()
    snapstart.forget_verified_tokens()


def override(app: Any, container: Container) -> None:
    """Make ``app`` use ``container`` (tests)."""
    app.dependency_overrides[get_container] = lambda: container
