"""Categories through the ContentFunction handler: public reads (cached), admin writes, uniqueness."""

from __future__ import annotations

import pytest

from backend.models.enums import Role
from tests.support.catalog import Catalog, make_catalog
from tests.support.ddb import count_requests
from tests.support.identity import Api


@pytest.fixture
def catalog(api: Api, monkeypatch: pytest.MonkeyPatch) -> Catalog:
    return make_catalog(api, monkeypatch)


def test_admin_creates_categories_and_everyone_lists_them_by_name(catalog: Catalog) -> None:
    science = catalog.category("Science")
    art = catalog.category("Art & Design")
    assert art["slug"] == "art-design"  # generated from the name
    assert science["slug"] == "science"
    listed = catalog.get("/api/categories")
    assert listed.status == 200
    assert [c["slug"] for c in listed.data] == ["art-design", "science"]
    assert set(listed.data[0]) == {"id", "name", "slug", "createdAt", "updatedAt"}
    assert listed.body["meta"] == {
        "page": 1,
        "limit": None,
        "total": 2,
        "totalPages": 1,
        "nextCursor": None,
    }  # returned whole
    assert listed.headers["cache-control"] == "public, max-age=60"


def test_get_by_slug(catalog: Catalog) -> None:
    created = catalog.category("Science", slug="sci")
    found = catalog.get("/api/categories/by-slug/sci")
    assert found.status == 200
    assert found.data == created
    assert found.headers["etag"]
    for missing in ("nothing", "Not%20A%20Slug", "SCI-"):
        response = catalog.get(f"/api/categories/by-slug/{missing}")
        assert response.status == 404, missing
        assert response.body["code"] == "NOT_FOUND"
    assert catalog.get("/api/categories/by-slug/SCI").status == 200  # slugs are case-insensitive


def test_category_reads_are_cached(catalog: Catalog) -> None:
    catalog.category("Science")
    with count_requests() as miss:
        catalog.get("/api/categories")
    assert miss.operations() == ["Query"]  # AP16: every category in one Query
    with count_requests() as hit:
        catalog.get("/api/categories")
        catalog.get("/api/categories/by-slug/science")
    assert hit.total == 0
    catalog.category("Art")
    assert [c["name"] for c in catalog.get("/api/categories").data] == ["Art", "Science"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": "Ok", "slug": "Not a slug"}, "slug"),
        ({"name": "Ok", "slug": "a--b"}, "slug"),
        ({"name": "Ok", "slug": ""}, "slug"),
        ({"name": "!!!"}, "name"),  # nothing to make a slug from
        ({"name": "Ok", "extra": 1}, "extra"),
    ],
)
def test_create_validation_is_400(catalog: Catalog, body: dict[str, object], field: str) -> None:
    response = catalog.call("POST", "/api/categories", as_=catalog.admin, body=body)
    assert response.status == 400, response.body
    assert response.body["code"] == "VALIDATION_ERROR"
    assert field in {d["field"] for d in response.body["details"]}


def test_name_and_slug_are_each_unique(catalog: Catalog) -> None:
    catalog.category("Science", slug="science")
    same_name = catalog.call(
        "POST", "/api/categories", as_=catalog.admin, body={"name": " SCIENCE ", "slug": "s2"}
    )
    assert same_name.status == 409
    assert same_name.body["code"] == "CONFLICT"
    assert [d["field"] for d in same_name.body["details"]] == ["name"]
    same_slug = catalog.call(
        "POST", "/api/categories", as_=catalog.admin, body={"name": "Other", "slug": "science"}
    )
    assert same_slug.status == 409
    assert [d["field"] for d in same_slug.body["details"]] == ["slug"]
    other = catalog.category("Art")
    rename = catalog.call(
        "PATCH", f"/api/categories/{other['id']}", as_=catalog.admin, body={"name": "science"}
    )
    assert rename.status == 409
    reslug = catalog.call(
        "PATCH", f"/api/categories/{other['id']}", as_=catalog.admin, body={"slug": "science"}
    )
    assert reslug.status == 409


def test_admin_renames_and_reslugs(catalog: Catalog) -> None:
    category = catalog.category("Science")
    path = f"/api/categories/{category['id']}"
    renamed = catalog.call("PATCH", path, as_=catalog.admin, body={"name": "Sciences", "slug": "sciences"})
    assert renamed.status == 200, renamed.body
    assert (renamed.data["name"], renamed.data["slug"]) == ("Sciences", "sciences")
    assert catalog.get("/api/categories/by-slug/science").status == 404
    assert catalog.get("/api/categories/by-slug/sciences").data["name"] == "Sciences"
    assert catalog.call("PATCH", path, as_=catalog.admin, body={"name": None}).status == 400
    assert (
        catalog.call("PATCH", "/api/categories/01JNB7X2000000000000000000", as_=catalog.admin, body={}).status
        == 404
    )


def test_delete_only_while_unused(catalog: Catalog) -> None:
    kitchen = catalog.category("Kitchen")
    science = catalog.category("Science")
    product = catalog.product(category="kitchen")
    in_use = catalog.call("DELETE", f"/api/categories/{kitchen['id']}", as_=catalog.admin)
    assert in_use.status == 409
    assert in_use.body["details"][0]["field"] == "products"
    author = catalog.api.account()
    post = catalog.post(author, categoryIds=[science["id"]])
    by_posts = catalog.call("DELETE", f"/api/categories/{science['id']}", as_=catalog.admin)
    assert by_posts.status == 409
    assert by_posts.body["details"][0]["field"] == "posts"
    assert catalog.call("DELETE", f"/api/posts/{post['id']}", as_=author).status == 204
    deleted = catalog.call("DELETE", f"/api/categories/{science['id']}", as_=catalog.admin)
    assert deleted.status == 204
    assert deleted.body is None
    assert catalog.get("/api/categories/by-slug/science").status == 404
    assert [c["slug"] for c in catalog.get("/api/categories").data] == ["kitchen"]
    assert catalog.call("DELETE", f"/api/categories/{science['id']}", as_=catalog.admin).status == 404
    assert catalog.call("DELETE", f"/api/products/{product['id']}", as_=catalog.admin).status == 204
    assert catalog.call("DELETE", f"/api/categories/{kitchen['id']}", as_=catalog.admin).status == 204


@pytest.mark.parametrize(("method", "suffix"), [("POST", ""), ("PATCH", "/{id}"), ("DELETE", "/{id}")])
def test_writes_are_admin_only(catalog: Catalog, method: str, suffix: str) -> None:
    category = catalog.category("Science")
    path = "/api/categories" + suffix.format(id=category["id"])
    body = {"name": "Other"} if method != "DELETE" else None
    anonymous = catalog.call(method, path, body=body)
    assert anonymous.status == 401
    forbidden = catalog.call(method, path, as_=catalog.api.account(Role.USER), body=body)
    assert forbidden.status == 403
    assert [c["name"] for c in catalog.get("/api/categories").data] == ["Science"]


def test_get_by_id(catalog: Catalog) -> None:
    created = catalog.category("Physics", slug="phys")
    found = catalog.get(f"/api/categories/{created['id']}")
    assert found.status == 200
    assert found.data == created
    assert (
        catalog.get(
            f"/api/categories/{created['id']}", headers={"if-none-match": found.headers["etag"]}
        ).status
        == 304
    )
    missing = catalog.get("/api/categories/01JNBC0Y8Q3ZK6W2V5T9R4M7HX")
    assert (missing.status, missing.body["code"]) == (404, "NOT_FOUND")
    malformed = catalog.get("/api/categories/phys")
    assert (malformed.status, malformed.body["code"]) == (400, "VALIDATION_ERROR")
    renamed = catalog.call(
        "PATCH", f"/api/categories/{created['id']}", as_=catalog.admin, body={"name": "Physik"}
    )
    assert renamed.status == 200
    assert catalog.get(f"/api/categories/{created['id']}").data["name"] == "Physik"  # invalidated
