"""Products through the ProductsFunction handler (moto in-process): every route, rule and permission,
the read cache's request counts, ETags and Cache-Control."""

from __future__ import annotations

from typing import Any

import pytest

from backend.models.enums import Role
from tests.support.catalog import Catalog, make_catalog
from tests.support.ddb import count_requests
from tests.support.identity import Api

VALID = {"name": "Mug", "price": "12.50", "category": "kitchen", "stock": 3}


@pytest.fixture
def catalog(api: Api, monkeypatch: pytest.MonkeyPatch) -> Catalog:
    return make_catalog(api, monkeypatch)


@pytest.fixture
def kitchen(catalog: Catalog) -> dict[str, Any]:
    return catalog.category("Kitchen")


def _problem_fields(body: dict[str, Any]) -> set[str]:
    return {detail["field"] for detail in body.get("details", [])}


# ----------------------------------------------------------------------------- create
def test_admin_creates_a_product(catalog: Catalog, kitchen: dict[str, Any]) -> None:
    body = {**VALID, "description": "<script>alert(1)</script>", "price": "12.50", "active": True}
    created = catalog.call("POST", "/api/products", as_=catalog.admin, body=body)
    assert created.status == 201, created.body
    data = created.data
    assert data["name"] == "Mug"
    assert data["description"] == "<script>alert(1)</script>"  # stored and returned as given
    assert data["price"] == "12.50"  # money is a decimal string with two places (docs/api.md)
    assert data["stock"] == 3
    assert data["active"] is True
    assert data["category"] == "kitchen"
    assert data["categoryId"] == kitchen["id"]
    assert created.headers["location"] == f"/api/products/{data['id']}"
    assert created.headers["cache-control"] == "no-store"


def test_category_is_a_slug_or_a_name_normalized_to_one(catalog: Catalog, kitchen: dict[str, Any]) -> None:
    created = catalog.product(category="  Kitchen ")
    assert created["category"] == "kitchen"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"price": 0}, "price"),
        ({"price": "0.00"}, "price"),
        ({"price": -1}, "price"),
        ({"price": "-1.00"}, "price"),
        ({"price": 1.005}, "price"),
        ({"price": "1.005"}, "price"),
        ({"price": 100_000_000}, "price"),
        ({"price": "100000000.00"}, "price"),
        ({"price": "abc"}, "price"),
        ({"price": "1e3"}, "price"),
        ({"price": ""}, "price"),
        ({"price": True}, "price"),
        ({"price": None}, "price"),
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"stock": -1}, "stock"),
        ({"stock": 1.5}, "stock"),
        ({"stock": "3"}, "stock"),
        ({"active": "yes"}, "active"),
        ({"category": ""}, "category"),
        ({"description": "x" * 5001}, "description"),
        ({"role": "ADMIN"}, "role"),
    ],
)
def test_create_validation_is_400(
    catalog: Catalog, kitchen: dict[str, Any], change: dict[str, Any], field: str
) -> None:
    response = catalog.call("POST", "/api/products", as_=catalog.admin, body={**VALID, **change})
    assert response.status == 400, response.body
    assert response.body["code"] == "VALIDATION_ERROR"
    assert field in _problem_fields(response.body)


@pytest.mark.parametrize("missing", ["name", "price", "category"])
def test_create_requires_name_price_and_category(
    catalog: Catalog, kitchen: dict[str, Any], missing: str
) -> None:
    body = {k: v for k, v in VALID.items() if k != missing}
    response = catalog.call("POST", "/api/products", as_=catalog.admin, body=body)
    assert response.status == 400
    assert missing in _problem_fields(response.body)


def test_a_201_character_name_is_refused_and_200_accepted(catalog: Catalog, kitchen: dict[str, Any]) -> None:
    assert (
        catalog.call("POST", "/api/products", as_=catalog.admin, body={**VALID, "name": "x" * 201}).status
        == 400
    )
    assert catalog.product(name="x" * 200)["name"] == "x" * 200


def test_unknown_category_is_400_naming_it(catalog: Catalog, kitchen: dict[str, Any]) -> None:
    response = catalog.call("POST", "/api/products", as_=catalog.admin, body={**VALID, "category": "garden"})
    assert response.status == 400
    assert response.body["code"] == "VALIDATION_ERROR"
    assert response.body["details"] == [
        {"field": "category", "message": "unknown category: use the slug of an existing category"}
    ]


def test_a_user_creating_a_product_gets_403_and_anonymous_401(
    catalog: Catalog, kitchen: dict[str, Any]
) -> None:
    user = catalog.api.account(Role.USER)
    forbidden = catalog.call("POST", "/api/products", as_=user, body=VALID)
    assert forbidden.status == 403
    assert forbidden.body["code"] == "FORBIDDEN"
    anonymous = catalog.call("POST", "/api/products", body=VALID)
    assert anonymous.status == 401
    assert anonymous.body["code"] == "UNAUTHORIZED"
    assert catalog.get("/api/products").data == []


@pytest.mark.parametrize(
    ("method", "body"),
    [("PUT", VALID), ("PATCH", {"stock": 1}), ("DELETE", None)],
)
def test_writes_by_id_are_admin_only(
    catalog: Catalog, kitchen: dict[str, Any], method: str, body: dict[str, Any] | None
) -> None:
    product = catalog.product()
    path = f"/api/products/{product['id']}"
    assert catalog.call(method, path, body=body).status == 401
    assert catalog.call(method, path, as_=catalog.api.account(), body=body).status == 403
    assert catalog.get(path).data == product


# ----------------------------------------------------------------------------- read
def test_get_a_product_and_404s(catalog: Catalog, kitchen: dict[str, Any]) -> None:
    product = catalog.product()
    found = catalog.get(f"/api/products/{product['id']}")
    assert found.status == 200
    assert found.data == product
    missing = catalog.get("/api/products/01JNBC000000000000000000XX")
    assert missing.status == 404
    assert missing.body["code"] == "NOT_FOUND"
    assert missing.body["error"] == "Product not found"
    assert catalog.get("/api/products/" + "x" * 65).status == 400


def test_an_inactive_product_is_404_except_for_admins(catalog: Catalog, kitchen: dict[str, Any]) -> None:
    product = catalog.product(active=False)
    path = f"/api/products/{product['id']}"
    assert catalog.get(path).status == 404
    assert catalog.get(path, as_=catalog.api.account()).status == 404
    as_admin = catalog.get(path, as_=catalog.admin)
    assert as_admin.status == 200
    assert as_admin.data["active"] is False
    assert as_admin.headers["cache-control"] == "private, no-cache"


def test_list_is_active_only_newest_first_and_admins_see_all(
    catalog: Catalog, kitchen: dict[str, Any]
) -> None:
    first = catalog.product(name="First")
    hidden = catalog.product(name="Hidden", active=False)
    last = catalog.product(name="Last")
    public = catalog.get("/api/products")
    assert public.status == 200
    assert [p["id"] for p in public.data] == [last["id"], first["id"]]
    assert public.body["meta"] == {"page": 1, "limit": 20, "total": 2, "totalPages": 1, "nextCursor": None}
    assert [p["id"] for p in catalog.get("/api/products", as_=catalog.api.account()).data] == [
        last["id"],
        first["id"],
    ]
    admin = catalog.get("/api/products", as_=catalog.admin)
    assert [p["id"] for p in admin.data] == [last["id"], hidden["id"], first["id"]]
    assert admin.body["meta"]["total"] == 3


def test_filter_by_category(catalog: Catalog, kitchen: dict[str, Any]) -> None:
    catalog.category("Garden Tools")
    mug = catalog.product(name="Mug")
    rake = catalog.product(name="Rake", category="garden-tools")
    hidden = catalog.product(name="Old rake", category="garden-tools", active=False)
    garden = catalog.get("/api/products", query="category=garden-tools")
    assert [p["id"] for p in garden.data] == [rake["id"]]
    assert garden.body["meta"]["total"] == 1
    by_name = catalog.get("/api/products", query="category=Garden%20Tools")
    assert [p["id"] for p in by_name.data] == [rake["id"]]
    assert [p["id"] for p in catalog.get("/api/products", query="category=kitchen").data] == [mug["id"]]
    admin = catalog.get("/api/products", as_=catalog.admin, query="category=garden-tools")
    assert [p["id"] for p in admin.data] == [hidden["id"], rake["id"]]
    assert admin.body["meta"]["total"] == 2
    unknown = catalog.get("/api/products", query="category=nothing-here")
    assert unknown.status == 200
    assert unknown.data == []
    assert unknown.body["meta"]["total"] == 0


def test_pages_and_cursor(catalog: Catalog, kitchen: dict[str, Any]) -> None:
    made = [catalog.product(name=f"P{i}") for i in range(5)]
    newest_first = [p["id"] for p in reversed(made)]
    first = catalog.get("/api/products", query="limit=2")
    assert [p["id"] for p in first.data] == newest_first[:2]
    assert first.body["meta"]["totalPages"] == 3
    cursor = first.body["meta"]["nextCursor"]
    assert cursor
    second = catalog.get("/api/products", query=f"limit=2&cursor={cursor}")
    assert [p["id"] for p in second.data] == newest_first[2:4]
    assert second.body["meta"]["page"] == 2
    third = catalog.get("/api/products", query="limit=2&page=3")
    assert [p["id"] for p in third.data] == newest_first[4:]
    assert third.body["meta"]["nextCursor"] is None
    for bad in ("limit=0", "limit=101", "page=0", "limit=x"):
        response = catalog.get("/api/products", query=bad)
        assert response.status == 400, bad
        assert response.body["code"] == "VALIDATION_ERROR"
    forged = catalog.get("/api/products", query="limit=2&cursor=abc.def")
    assert forged.status == 400
    assert forged.body["code"] == "INVALID_CURSOR"


# ----------------------------------------------------------------------------- update, delete
def test_put_replaces_every_field(catalog: Catalog, kitchen: dict[str, Any]) -> None:
    catalog.category("Garden")
    product = catalog.product(description="old")
    body = {
        "name": "Rake",
        "price": 30,
        "category": "garden",
        "stock": 0,
        "active": False,
    }  # a number: tolerated
    replaced = catalog.call("PUT", f"/api/products/{product['id']}", as_=catalog.admin, body=body)
    assert replaced.status == 200, replaced.body
    data = replaced.data
    assert (data["name"], data["price"], data["category"], data["stock"], data["active"]) == (
        "Rake",
        "30.00",
        "garden",
        0,
        False,
    )
    assert data["description"] is None  # PUT is full: an absent optional field is cleared
    partial = catalog.call("PUT", f"/api/products/{product['id']}", as_=catalog.admin, body={"name": "X"})
    assert partial.status == 400
    assert {"price", "category"} <= _problem_fields(partial.body)


def test_patch_changes_only_what_is_sent(catalog: Catalog, kitchen: dict[str, Any]) -> None:
    catalog.category("Garden")
    product = catalog.product(description="keep me")
    path = f"/api/products/{product['id']}"
    patched = catalog.call("PATCH", path, as_=catalog.admin, body={"price": "9.9", "category": "Garden"})
    assert patched.status == 200, patched.body
    assert patched.data["price"] == "9.90"
    assert patched.data["category"] == "garden"
    assert patched.data["name"] == "Mug"
    assert patched.data["description"] == "keep me"
    cleared = catalog.call("PATCH", path, as_=catalog.admin, body={"description": None})
    assert cleared.data["description"] is None
    assert catalog.call("PATCH", path, as_=catalog.admin, body={}).status == 200
    for bad in ({"name": None}, {"price": 0}, {"price": 1.005}, {"name": ""}, {"stock": -1}, {"x": 1}):
        response = catalog.call("PATCH", path, as_=catalog.admin, body=bad)
        assert response.status == 400, bad
        assert response.body["code"] == "VALIDATION_ERROR"
    unknown = catalog.call("PATCH", path, as_=catalog.admin, body={"category": "nope"})
    assert unknown.status == 400
    assert _problem_fields(unknown.body) == {"category"}
    missing = catalog.call("PATCH", "/api/products/01JNBC000000000000000000XX", as_=catalog.admin, body={})
    assert missing.status == 404


def test_delete_is_204_without_body_and_orders_keep_their_snapshot(
    catalog: Catalog, kitchen: dict[str, Any]
) -> None:
    from decimal import Decimal

    from backend.records.orders import OrderLine

    product = catalog.product(stock=5)
    buyer = catalog.api.account()
    order = catalog.api.container.orders.create(
        user_id=buyer.id,
        lines=[
            OrderLine(product_id=product["id"], product_name="Mug", quantity=2, unit_price=Decimal("12.50"))
        ],
    )
    path = f"/api/products/{product['id']}"
    deleted = catalog.call("DELETE", path, as_=catalog.admin)
    assert deleted.status == 204
    assert deleted.body is None
    assert catalog.get(path).status == 404
    assert catalog.call("DELETE", path, as_=catalog.admin).status == 404
    kept = catalog.api.container.orders.get(order.id)
    assert [(i.product_id, i.product_name, i.unit_price) for i in kept.items] == [
        (product["id"], "Mug", Decimal("12.50"))
    ]


# ----------------------------------------------------------------------------- the read cache
def test_reads_go_through_the_cache_and_writes_invalidate(catalog: Catalog, kitchen: dict[str, Any]) -> None:
    product = catalog.product()
    path = f"/api/products/{product['id']}"
    catalog.get("/api/categories")  # the category list is cached in this container
    with count_requests() as miss:
        first = catalog.get(path)
    assert miss.operations() == ["GetItem"]  # a product by id on a miss: one GetItem
    with count_requests() as hit:
        again = catalog.get(path)
    assert hit.total == 0  # a hit: no DynamoDB request
    assert again.body == first.body
    assert again.headers["etag"] == first.headers["etag"]

    with count_requests() as list_miss:
        listed = catalog.get("/api/products")
    assert list_miss.operations() == ["Query", "GetItem"]  # the page, then its total (a counter)
    assert list_miss.indexes() == ["GSI1", None]
    with count_requests() as list_hit:
        catalog.get("/api/products")
    assert list_hit.total == 0

    changed = catalog.call("PATCH", path, as_=catalog.admin, body={"name": "Big mug"})
    assert changed.status == 200
    assert catalog.get(path).data["name"] == "Big mug"  # the write invalidated the item ...
    assert catalog.get("/api/products").data[0]["name"] == "Big mug"  # ... and every page
    assert listed.data[0]["name"] == "Mug"


def test_a_cold_container_also_reads_the_category_list_once(
    catalog: Catalog, kitchen: dict[str, Any]
) -> None:
    product = catalog.product()
    with count_requests() as cold:
        catalog.get(f"/api/products/{product['id']}")
    assert cold.operations() == ["GetItem", "Query"]  # the product, then AP16 (all categories)
    with count_requests() as warm:
        catalog.get("/api/products")
    assert warm.operations() == ["Query", "GetItem"]


def test_renaming_a_category_changes_the_products_it_is_shown_in(
    catalog: Catalog, kitchen: dict[str, Any]
) -> None:
    product = catalog.product()
    assert catalog.get(f"/api/products/{product['id']}").data["category"] == "kitchen"
    renamed = catalog.call(
        "PATCH", f"/api/categories/{kitchen['id']}", as_=catalog.admin, body={"slug": "cooking"}
    )
    assert renamed.status == 200
    assert catalog.get(f"/api/products/{product['id']}").data["category"] == "cooking"
    assert [p["id"] for p in catalog.get("/api/products", query="category=cooking").data] == [product["id"]]


def test_conditional_get_and_cache_control(catalog: Catalog, kitchen: dict[str, Any]) -> None:
    product = catalog.product()
    for path in ("/api/products", f"/api/products/{product['id']}"):
        first = catalog.get(path)
        etag = first.headers["etag"]
        assert etag.startswith('"')  # strong: not W/"..."
        assert etag.endswith('"')
        assert first.headers["cache-control"] == "public, max-age=60"
        assert "Authorization" in first.headers["vary"]
        with count_requests() as log:
            not_modified = catalog.get(path, headers={"if-none-match": etag})
        assert not_modified.status == 304
        assert not_modified.body is None
        assert not_modified.raw.get("body", "") == ""
        assert not_modified.headers["etag"] == etag
        assert log.total == 0
        assert catalog.get(path, headers={"if-none-match": f'"other", W/{etag}'}).status == 304
        assert catalog.get(path, headers={"if-none-match": "*"}).status == 304
        assert catalog.get(path, headers={"if-none-match": '"stale"'}).status == 200
        user = catalog.get(path, as_=catalog.api.account())
        assert user.headers["cache-control"] == "private, no-cache"
        assert user.headers["etag"] == etag  # the same representation
    changed = catalog.call("PATCH", f"/api/products/{product['id']}", as_=catalog.admin, body={"stock": 1})
    assert changed.status == 200
    stale = catalog.get(f"/api/products/{product['id']}", headers={"if-none-match": etag})
    assert stale.status == 200
    assert stale.headers["etag"] != etag


def test_bad_credentials_on_a_public_read_count_as_anonymous(
    catalog: Catalog, kitchen: dict[str, Any]
) -> None:
    catalog.product()
    response = catalog.get("/api/products", headers={"authorization": "Bearer not-a-token"})
    assert response.status == 200
    assert response.headers["cache-control"] == "public, max-age=60"


# ----------------------------------------------------------------------------- money
@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("19", "19.00"),
        ("19.5", "19.50"),
        ("19.00", "19.00"),
        (" 120.10 ", "120.10"),
        ("99999999.99", "99999999.99"),
        (120.1, "120.10"),
        (19, "19.00"),
        ("0.01", "0.01"),
    ],
)
def test_price_is_a_two_decimal_string_whatever_form_came_in(
    catalog: Catalog, kitchen: dict[str, Any], sent: Any, stored: str
) -> None:
    created = catalog.product(price=sent)
    assert created["price"] == stored
    assert catalog.get(f"/api/products/{created['id']}").data["price"] == stored
    listed = catalog.get("/api/products").data
    assert [p["price"] for p in listed if p["id"] == created["id"]] == [stored]


@pytest.mark.parametrize(
    ("sent", "message"),
    [
        ("1.005", "must have at most two decimal places"),
        ("100000000", "must be at most 99999999.99"),
        ("0", "must be greater than 0"),
        ("abc", 'must be an amount such as "19.00"'),
        (True, 'must be an amount such as "19.00"'),
    ],
)
def test_a_bad_price_is_explained_in_words(
    catalog: Catalog, kitchen: dict[str, Any], sent: Any, message: str
) -> None:
    response = catalog.call("POST", "/api/products", as_=catalog.admin, body={**VALID, "price": sent})
    assert response.status == 400
    assert response.body["details"] == [{"field": "price", "message": message, "in": "body"}]
