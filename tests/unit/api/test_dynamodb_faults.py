"""What the product does when DynamoDB behaves as it does under contention (local.faults):
transaction conflicts, throttling, and global secondary indexes that lag behind the table."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from backend.errors import BusyError
from backend.models import keys
from backend.models.system import UniqueGuardModel
from backend.records import PageRequest
from backend.records.orders import OrderLine
from backend.repositories.dynamo import CONFLICT_ATTEMPTS, get_item
from local.faults import Faults, FaultSpec, FaultSpecError
from tests.support.identity import PASSWORD, Api

Inject = Callable[[str], Faults]


# ----------------------------------------------------------------------------- the vocabulary
def test_the_spec_reads_every_fault_and_prints_back_the_same() -> None:
    spec = FaultSpec.parse(" conflict:0.2, throttle:0.1 ,index-lag:500ms,seed:7")
    assert (spec.conflict, spec.throttle, spec.index_lag_ms, spec.seed) == (0.2, 0.1, 500, 7)
    assert FaultSpec.parse(str(spec)) == spec
    assert FaultSpec.parse("index-lag:1.5s").index_lag_ms == 1500
    assert not FaultSpec.parse("").active
    assert not FaultSpec.parse("seed:3").active


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("conflict", "expected name:value"),
        ("conflict:1.5", "between 0 and 1"),
        ("throttle:lots", "between 0 and 1"),
        ("index-lag:5", "a duration such as 500ms"),
        ("index-lag:2m", "a duration such as 500ms"),
        ("index-lag:61s", "at most 60s"),
        ("latency:5ms", "unknown fault 'latency'"),
        ("seed:-1", "whole number"),
    ],
)
def test_a_bad_spec_says_which_part_and_what_is_expected(text: str, message: str) -> None:
    with pytest.raises(FaultSpecError, match=message):
        FaultSpec.parse(text)


# ----------------------------------------------------------------------------- conflicts
def _guard(email: str) -> UniqueGuardModel | None:
    return get_item(UniqueGuardModel, keys.unique_pk("EMAIL", email), keys.UNIQUE_SK, consistent=True)


def test_a_transaction_that_meets_conflicts_is_sent_again_and_nothing_is_half_written(
    api: Api, dynamodb_faults: Inject
) -> None:
    faults = dynamodb_faults("conflict:0.5,seed:11")
    created, busy = [], []
    for n in range(20):
        email = f"racer{n}@example.com"
        try:
            created.append(api.container.users.create(email=email, password_hash="x", name=None))
        except BusyError:
            busy.append(email)
    cancelled = faults.counts["TransactionCanceledException"]
    dynamodb_faults("")
    assert cancelled > CONFLICT_ATTEMPTS * len(busy), "no transaction was retried into success"
    assert created, "every sign-up gave up"
    for email in busy:  # given up after its attempts: not one of its items is there
        assert _guard(email) is None
    for user in created:
        assert _guard(user.email) is not None
        assert api.container.users.get(user.id, consistent=True).email == user.email
    assert api.container.users.list(_first_page()).meta.total == len(created)  # the counter too


def test_conflicts_that_do_not_end_are_a_503_to_retry_never_email_taken_or_a_500(
    api: Api, auth: Any, dynamodb_faults: Inject
) -> None:
    body = {"email": "ada@example.com", "password": "analytical engine 1843", "name": "Ada"}
    faults = dynamodb_faults("conflict:1")
    refused = api.call(auth, "POST", "/api/auth/sign-up", body=body)
    assert refused.status == 503, refused.body
    assert refused.body["code"] == "SERVICE_BUSY"
    assert refused.headers["retry-after"] == "1"
    assert sum(faults.counts.values()) == CONFLICT_ATTEMPTS  # one write, sent five times in all
    dynamodb_faults("")
    assert _guard("ada@example.com") is None
    created = api.call(auth, "POST", "/api/auth/sign-up", body=body)  # the address was never taken
    assert created.status == 201, created.body


def test_throttling_is_a_503_with_retry_after_not_a_500(api: Api, auth: Any, dynamodb_faults: Inject) -> None:
    account = api.account(email="grace@example.com")
    dynamodb_faults("throttle:1")
    refused = api.call(
        auth, "POST", "/api/auth/sign-in", body={"email": account.user.email, "password": PASSWORD}
    )
    assert refused.status == 503, refused.body
    assert refused.body["code"] == "SERVICE_UNAVAILABLE"
    assert refused.headers["retry-after"] == "5"


# ----------------------------------------------------------------------------- index lag
def test_sign_in_right_after_sign_up_reads_the_table_not_the_lagging_index(
    api: Api, auth: Any, dynamodb_faults: Inject
) -> None:
    faults = dynamodb_faults("index-lag:60s")
    body = {"email": "lin@example.com", "password": "difference engine 1822", "name": "Lin"}
    assert api.call(auth, "POST", "/api/auth/sign-up", body=body).status == 201
    signed_in = api.call(
        auth, "POST", "/api/auth/sign-in", body={"email": body["email"], "password": body["password"]}
    )
    assert signed_in.status == 200, signed_in.body
    # ... while the index really does lag: the new user is not in the newest-first listing yet
    listing = api.container.users.list(_first_page())
    assert all(user.email != body["email"] for user in listing.items)
    assert faults.counts.get("IndexLag", 0) >= 1


def _first_page() -> PageRequest:
    return PageRequest(limit=20)


def test_an_order_resent_after_conflicts_takes_its_stock_once(
    api: Api, make_product: Callable[..., Any], dynamodb_faults: Inject
) -> None:
    """The order transaction updates a versioned product: its resend must not carry the version
    increment twice (PynamoDB appends it to the actions it is given)."""
    product = make_product(stock=100)
    buyer = api.user()
    line = OrderLine(product_id=product.id, product_name=product.name, quantity=1, unit_price=product.price)
    faults = dynamodb_faults("conflict:0.5,seed:5")
    placed = busy = 0
    for _ in range(12):
        try:
            api.container.orders.create(buyer.id, [line])
            placed += 1
        except BusyError:
            busy += 1
    assert faults.counts["TransactionCanceledException"] > CONFLICT_ATTEMPTS * busy
    dynamodb_faults("")
    assert placed > 0
    assert api.container.products.get(product.id, consistent=True).stock == 100 - placed
