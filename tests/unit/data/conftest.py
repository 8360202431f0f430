"""Fixtures of the data-layer tests: repositories over the moto table built from template.yaml."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from backend.records.catalog import CategoryRecord, ProductRecord
from backend.records.users import UserRecord
from backend.repositories.categories import CategoriesRepository
from backend.repositories.counters import CountersRepository
from backend.repositories.orders import OrdersRepository
from backend.repositories.posts import PostsRepository
from backend.repositories.products import ProductsRepository
from backend.repositories.profiles import ProfilesRepository
from backend.repositories.rate_limits import RateLimitsRepository
from backend.repositories.sessions import SessionsRepository
from backend.repositories.users import UsersRepository
from tests.support.ddb import RequestLog, count_requests
from tests.support.tables import create_app_table

CURSOR_KEY = b"test-cursor-key-0123456789abcdef"


class FakeClock:
    """A controllable clock (timezone-aware UTC), for expiry and window tests."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def table(aws: None) -> Any:
    """The app table, from template.yaml's AppTable, like tests/unit/conftest.py's ``table``.

    Overridden here for speed: it is created through the data layer's own botocore client, which
    lives for the whole session, instead of a new boto3 client per test (~0.2 s each under moto).
    Returns that client, for tests that inspect raw items.
    """
    from backend.repositories.dynamo import connection

    client = connection().connection.client
    create_app_table(client)
    return client


@pytest.fixture
def db(table: Any) -> Any:
    """The raw botocore DynamoDB client of the data layer, bound to the test table."""
    return table


@pytest.fixture
def users(db: Any) -> UsersRepository:
    return UsersRepository(CURSOR_KEY)


@pytest.fixture
def profiles(db: Any) -> ProfilesRepository:
    return ProfilesRepository()


@pytest.fixture
def sessions(db: Any, clock: FakeClock) -> SessionsRepository:
    return SessionsRepository(clock=clock)


@pytest.fixture
def posts(db: Any) -> PostsRepository:
    return PostsRepository(CURSOR_KEY)


@pytest.fixture
def categories(db: Any) -> CategoriesRepository:
    return CategoriesRepository()


@pytest.fixture
def products(db: Any) -> ProductsRepository:
    return ProductsRepository(CURSOR_KEY)


@pytest.fixture
def orders(db: Any) -> OrdersRepository:
    return OrdersRepository(CURSOR_KEY)


@pytest.fixture
def rate_limits(db: Any, clock: FakeClock) -> RateLimitsRepository:
    return RateLimitsRepository(clock=clock)


@pytest.fixture
def counters(db: Any) -> CountersRepository:
    return CountersRepository()


@pytest.fixture
def requests() -> Iterator[RequestLog]:
    """A request log for the whole test (prefer ``count_requests()`` around the call under test)."""
    with count_requests() as log:
        yield log


# ----------------------------------------------------------------------------- builders
_sequence = iter(range(1, 1_000_000))


def unique(prefix: str) -> str:
    return f"{prefix}-{next(_sequence)}"


@pytest.fixture
def make_user(users: UsersRepository) -> Any:
    def make(**kwargs: Any) -> UserRecord:
        kwargs.setdefault("email", f"{unique('user')}@example.com")
        kwargs.setdefault("password_hash", "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA")
        return users.create(**kwargs)

    return make


@pytest.fixture
def make_category(categories: CategoriesRepository) -> Any:
    def make(**kwargs: Any) -> CategoryRecord:
        name = kwargs.pop("name", unique("Category"))
        return categories.create(name=name, slug=kwargs.pop("slug", name.lower()))

    return make


@pytest.fixture
def make_product(products: ProductsRepository) -> Any:
    def make(**kwargs: Any) -> ProductRecord:
        kwargs.setdefault("name", unique("Product"))
        kwargs.setdefault("price", Decimal("9.99"))
        kwargs.setdefault("stock", 10)
        return products.create(**kwargs)

    return make
