"""Posts through the ContentFunction handler: drafts and publishing, ownership, filters, the cache."""

from __future__ import annotations

from typing import Any

import pytest

from backend.models.enums import Role
from tests.support.catalog import Catalog, make_catalog
from tests.support.ddb import count_requests
from tests.support.identity import Account, Api


@pytest.fixture
def catalog(api: Api, monkeypatch: pytest.MonkeyPatch) -> Catalog:
    return make_catalog(api, monkeypatch)


@pytest.fixture
def author(catalog: Catalog) -> Account:
    return catalog.api.account(Role.USER, name="Ada")


@pytest.fixture
def science(catalog: Catalog) -> dict[str, Any]:
    return catalog.category("Science")


def _ids(response: Any) -> list[str]:
    return [item["id"] for item in response.data]


# ----------------------------------------------------------------------------- create
def test_a_user_writes_a_draft(catalog: Catalog, author: Account, science: dict[str, Any]) -> None:
    content = "<p onclick=\"x()\">Hi</p> & 'quotes'"
    created = catalog.call(
        "POST",
        "/api/posts",
        as_=author,
        body={"title": "  Héllo, Wörld!  ", "content": content, "categoryIds": [science["id"]]},
    )
    assert created.status == 201, created.body
    post = created.data
    assert post["title"] == "Héllo, Wörld!"
    assert post["slug"] == "hello-world"  # generated: lowercase ASCII with hyphens
    assert post["content"] == content  # stored and returned as given, never rendered
    assert post["published"] is False
    assert post["publishedAt"] is None
    assert post["authorId"] == author.id
    assert post["categories"] == [{"id": science["id"], "name": "Science", "slug": "science"}]
    assert created.headers["location"] == "/api/posts/by-slug/hello-world"


def test_slugs_are_unique(catalog: Catalog, author: Account) -> None:
    catalog.post(author, title="Notes")
    generated = catalog.call("POST", "/api/posts", as_=author, body={"title": "notes!"})
    assert generated.status == 409
    assert generated.body["code"] == "SLUG_TAKEN"
    assert generated.body["details"] == [{"field": "slug", "message": "slug is already in use"}]
    explicit = catalog.call("POST", "/api/posts", as_=author, body={"title": "Other", "slug": "NOTES"})
    assert explicit.status == 409
    assert catalog.post(author, title="Other", slug="notes-2")["slug"] == "notes-2"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": " "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({}, "title"),
        ({"title": "Ok", "slug": "not a slug"}, "slug"),
        ({"title": "Ok", "slug": "x" * 121}, "slug"),
        ({"title": "Ok", "content": 5}, "content"),
        ({"title": "Ok", "content": "x" * 50_001}, "content"),
        ({"title": "Ok", "categoryIds": "abc"}, "categoryIds"),
        ({"title": "Ok", "categoryIds": [f"c{i}" for i in range(11)]}, "categoryIds"),
        ({"title": "Ok", "categoryIds": ["01JNB7X2000000000000000000"]}, "categoryIds"),
        ({"title": "Ok", "authorId": "someone"}, "authorId"),
        ({"title": "Ok", "published": True}, "published"),
    ],
)
def test_create_validation_is_400(
    catalog: Catalog, author: Account, body: dict[str, Any], field: str
) -> None:
    response = catalog.call("POST", "/api/posts", as_=author, body=body)
    assert response.status == 400, response.body
    assert response.body["code"] == "VALIDATION_ERROR"
    assert field in {d["field"] for d in response.body["details"]}


def test_writing_needs_an_account(catalog: Catalog) -> None:
    response = catalog.call("POST", "/api/posts", body={"title": "Hi"})
    assert response.status == 401
    assert response.body["code"] == "UNAUTHORIZED"


# ----------------------------------------------------------------------------- read
def test_a_draft_is_visible_to_its_author_and_admins_only(catalog: Catalog, author: Account) -> None:
    catalog.post(author, title="Secret")
    path = "/api/posts/by-slug/secret"
    assert catalog.get(path).status == 404
    assert catalog.get(path, as_=catalog.api.account()).status == 404
    mine = catalog.get(path, as_=author)
    assert mine.status == 200
    assert mine.data["published"] is False
    assert mine.headers["cache-control"] == "private, no-cache"
    assert catalog.get(path, as_=catalog.admin).status == 200
    assert catalog.get(path).status == 404  # the draft was never cached for others
    assert catalog.get("/api/posts/by-slug/Not%20a%20slug").status == 404


def test_publish_and_unpublish(catalog: Catalog, author: Account) -> None:
    post = catalog.post(author, title="News")
    published = catalog.call("POST", f"/api/posts/{post['id']}/publish", as_=author)
    assert published.status == 200
    assert published.data["published"] is True
    published_at = published.data["publishedAt"]
    assert published_at
    again = catalog.call("POST", f"/api/posts/{post['id']}/publish", as_=author)
    assert again.data["publishedAt"] == published_at  # publishing twice keeps the date
    public = catalog.get("/api/posts/by-slug/news")
    assert public.status == 200
    assert public.headers["cache-control"] == "public, max-age=60"
    assert _ids(catalog.get("/api/posts")) == [post["id"]]
    unpublished = catalog.call("POST", f"/api/posts/{post['id']}/unpublish", as_=author)
    assert unpublished.status == 200
    assert unpublished.data["published"] is False
    assert unpublished.data["publishedAt"] is None
    assert catalog.get("/api/posts/by-slug/news").status == 404
    assert catalog.get("/api/posts").data == []


def test_list_is_published_only_newest_publication_first(catalog: Catalog, author: Account) -> None:
    older = catalog.post(author, title="Older")  # created first, published last
    newer = catalog.post(author, title="Newer")
    catalog.post(author, title="Draft")
    for post in (newer, older):
        assert catalog.call("POST", f"/api/posts/{post['id']}/publish", as_=author).status == 200
    listed = catalog.get("/api/posts")
    assert _ids(listed) == [older["id"], newer["id"]]
    assert listed.body["meta"] == {"page": 1, "limit": 20, "total": 2, "totalPages": 1, "nextCursor": None}
    first = catalog.get("/api/posts", query="limit=1")
    assert _ids(first) == [older["id"]]
    second = catalog.get("/api/posts", query=f"limit=1&cursor={first.body['meta']['nextCursor']}")
    assert _ids(second) == [newer["id"]]
    assert second.body["meta"]["nextCursor"] is None


def test_filter_by_category_slug(catalog: Catalog, author: Account, science: dict[str, Any]) -> None:
    catalog.category("Art")
    in_science = catalog.post(author, title="Physics", categoryIds=[science["id"]], publish=True)
    catalog.post(author, title="Elsewhere", publish=True)
    catalog.post(author, title="Draft physics", categoryIds=[science["id"]])
    listed = catalog.get("/api/posts", query="category=science")
    assert _ids(listed) == [in_science["id"]]
    assert listed.data[0]["categories"] == [{"id": science["id"], "name": "Science", "slug": "science"}]
    assert listed.body["meta"]["total"] == 1
    assert catalog.get("/api/posts", query="category=art").data == []
    assert catalog.get("/api/posts", query="category=unknown").data == []


def test_filter_by_author(catalog: Catalog, author: Account) -> None:
    other = catalog.api.account()
    first = catalog.post(author, title="One", publish=True)
    draft = catalog.post(author, title="Two")
    catalog.post(other, title="Theirs", publish=True)
    public = catalog.get("/api/posts", query=f"author={author.id}")
    assert _ids(public) == [first["id"]]
    assert public.body["meta"]["total"] == 1
    assert _ids(catalog.get("/api/posts", as_=other, query=f"author={author.id}")) == [first["id"]]
    own = catalog.get("/api/posts", as_=author, query=f"author={author.id}")
    assert _ids(own) == [draft["id"], first["id"]]  # the author sees the drafts too
    assert own.body["meta"]["total"] == 2
    assert own.headers["cache-control"] == "private, no-cache"
    assert _ids(catalog.get("/api/posts", as_=catalog.admin, query=f"author={author.id}")) == [
        draft["id"],
        first["id"],
    ]
    both = catalog.get("/api/posts", query=f"author={author.id}&category=science")
    assert both.status == 400
    assert both.body["code"] == "VALIDATION_ERROR"


# ----------------------------------------------------------------------------- change, delete
def test_author_or_admin_edits_and_others_get_404(
    catalog: Catalog, author: Account, science: dict[str, Any]
) -> None:
    post = catalog.post(author, title="Draft", publish=True)
    path = f"/api/posts/{post['id']}"
    stranger = catalog.api.account()
    for method, suffix, body in (
        ("PATCH", "", {"title": "Mine now"}),
        ("DELETE", "", None),
        ("POST", "/publish", None),
        ("POST", "/unpublish", None),
    ):
        response = catalog.call(method, path + suffix, as_=stranger, body=body)
        assert response.status == 404, (method, suffix)
        assert response.body["code"] == "NOT_FOUND"
        assert catalog.call(method, path + suffix, body=body).status == 401
    edited = catalog.call(
        "PATCH",
        path,
        as_=author,
        body={"title": "Final", "slug": "final", "content": None, "categoryIds": [science["id"]]},
    )
    assert edited.status == 200, edited.body
    assert (edited.data["title"], edited.data["slug"], edited.data["content"]) == ("Final", "final", None)
    assert edited.data["categories"][0]["slug"] == "science"
    assert catalog.get("/api/posts/by-slug/draft").status == 404
    assert catalog.get("/api/posts/by-slug/final").data["title"] == "Final"
    by_admin = catalog.call("PATCH", path, as_=catalog.admin, body={"title": "Moderated"})
    assert by_admin.status == 200
    assert catalog.get("/api/posts/by-slug/final").data["title"] == "Moderated"


def test_patch_rules(catalog: Catalog, author: Account) -> None:
    catalog.post(author, title="Taken")
    post = catalog.post(author, title="Mine")
    path = f"/api/posts/{post['id']}"
    taken = catalog.call("PATCH", path, as_=author, body={"slug": "taken"})
    assert taken.status == 409
    assert taken.body["code"] == "SLUG_TAKEN"
    for bad in ({"title": None}, {"title": ""}, {"slug": "Bad Slug"}, {"categoryIds": ["nope"]}, {"x": 1}):
        response = catalog.call("PATCH", path, as_=author, body=bad)
        assert response.status == 400, bad
    assert catalog.call("PATCH", "/api/posts/01JNBA3J0V8E1M6G3W1F7B2Q9C", as_=author, body={}).status == 404


def test_delete(catalog: Catalog, author: Account) -> None:
    post = catalog.post(author, title="Bye", publish=True)
    assert _ids(catalog.get("/api/posts")) == [post["id"]]
    deleted = catalog.call("DELETE", f"/api/posts/{post['id']}", as_=author)
    assert deleted.status == 204
    assert deleted.body is None
    assert catalog.get("/api/posts/by-slug/bye").status == 404
    assert catalog.get("/api/posts").data == []
    admin_post = catalog.post(author, title="Moderated")
    assert catalog.call("DELETE", f"/api/posts/{admin_post['id']}", as_=catalog.admin).status == 204


# ----------------------------------------------------------------------------- the read cache
def test_request_counts(catalog: Catalog, author: Account, science: dict[str, Any]) -> None:
    catalog.post(author, title="Physics", categoryIds=[science["id"]], publish=True)
    catalog.get("/api/categories")  # the category list is cached in this container
    with count_requests() as page:
        catalog.get("/api/posts")
    assert page.operations() == ["Query", "GetItem"]  # AP13 and its total
    assert page.indexes() == ["GSI2", None]
    with count_requests() as by_category:
        catalog.get("/api/posts", query="category=science")
    assert by_category.operations() == ["Query", "BatchGetItem", "GetItem"]  # AP14: links, posts, total
    with count_requests() as by_author:
        catalog.get("/api/posts", query=f"author={author.id}")
    assert by_author.operations() == ["Query", "BatchGetItem", "GetItem"]  # AP33
    assert by_author.indexes() == ["GSI4", None, None]
    with count_requests() as one:
        catalog.get("/api/posts/by-slug/physics")
    assert one.operations() == ["Query"]  # AP11
    with count_requests() as hits:
        for query in ("", "category=science", f"author={author.id}"):
            catalog.get("/api/posts", query=query)
        catalog.get("/api/posts/by-slug/physics")
    assert hits.total == 0


def test_writes_to_published_posts_invalidate(catalog: Catalog, author: Account) -> None:
    post = catalog.post(author, title="Live", publish=True)
    etag = catalog.get("/api/posts/by-slug/live").headers["etag"]
    assert catalog.get("/api/posts").data[0]["title"] == "Live"
    assert (
        catalog.call("PATCH", f"/api/posts/{post['id']}", as_=author, body={"content": "new"}).status == 200
    )
    fresh = catalog.get("/api/posts/by-slug/live", headers={"if-none-match": etag})
    assert fresh.status == 200
    assert fresh.data["content"] == "new"
    assert catalog.get("/api/posts").data[0]["content"] == "new"
    with count_requests() as draft_write:
        catalog.post(author, title="Quiet draft")
    assert not [c for c in draft_write.calls if c.operation == "UpdateItem" and c.size is None]  # no stamps


def test_a_post_is_read_by_id_with_the_slugs_visibility(catalog: Catalog, author: Account) -> None:
    post = catalog.post(author, title="By id")
    path = f"/api/posts/{post['id']}"
    assert catalog.get(path).status == 404  # a draft: only its author and admins see it
    assert catalog.get(path, as_=catalog.api.account()).status == 404
    assert catalog.get(path, as_=author).data == post
    assert catalog.get(path, as_=catalog.admin).status == 200
    assert catalog.call("POST", f"{path}/publish", as_=author).status == 200
    public = catalog.get(path)
    assert public.status == 200
    assert public.data == catalog.get("/api/posts/by-slug/by-id").data
    assert public.headers["cache-control"] == "public, max-age=60"
    assert catalog.get(path, headers={"if-none-match": public.headers["etag"]}).status == 304
    with count_requests() as hit:
        catalog.get(path)
    assert hit.total == 0
    assert catalog.call("POST", f"{path}/unpublish", as_=author).status == 200
    assert catalog.get(path).status == 404  # the unpublish invalidated the cached body
    missing = catalog.get("/api/posts/01JNBC0Y8Q3ZK6W2V5T9R4M7HX")
    assert (missing.status, missing.body["code"]) == (404, "NOT_FOUND")
    malformed = catalog.get(f"/api/posts/{post['id'].lower()}")
    assert (malformed.status, malformed.body["code"]) == (400, "VALIDATION_ERROR")
    assert malformed.body["details"][0]["field"] == "postId"


def test_a_post_by_id_costs_one_get_item(catalog: Catalog, author: Account) -> None:
    post = catalog.post(author, title="Counted", publish=True)
    with count_requests() as miss:
        catalog.get(f"/api/posts/{post['id']}")
    assert miss.operations() == ["GetItem"]  # AP10 (docs/data-model.md)
