"""Sample catalog for `make dev`: a few categories, products and posts, so `/docs` can be tried at once.

    seed_catalog(cloud.emulator.endpoint_url, table_name, author_id=admin_id)   # from the local cloud
    python -m local.seed_catalog --endpoint-url http://127.0.0.1:PORT --table app-backend-dev

Everything is written through the repositories (the same transactions, guards and counters as the
API's writes), in a child process whose environment points at the emulator the way a function's
does, so the local cloud's own process never imports the backend. Seeding is skipped when the
table already has categories. Posts need an author: pass the id of a seeded user (the identity
seed's admin); without one, a "writer@example.com" account that cannot sign in (no password) is
created to hold them.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from local.emulator import FAKE_CREDENTIALS
from local.intrinsics import REGION

ROOT = Path(__file__).resolve().parents[1]

CATEGORIES: tuple[tuple[str, str], ...] = (
    ("Kitchen", "kitchen"),
    ("Garden", "garden"),
    ("Science", "science"),
)
PRODUCTS: tuple[dict[str, Any], ...] = (
    {
        "name": "Enamel mug",
        "price": "12.50",
        "stock": 40,
        "category": "kitchen",
        "description": "Holds 350 ml. <b>Dishwasher safe</b> (returned as written: clients escape it).",
    },
    {"name": "Chef's knife", "price": "89.00", "stock": 12, "category": "kitchen"},
    {"name": "Teapot", "price": "34.90", "stock": 0, "category": "kitchen"},
    {"name": "Pruning shears", "price": "24.99", "stock": 25, "category": "garden"},
    {"name": "Watering can", "price": "19.00", "stock": 8, "category": "garden"},
    {"name": "Old rake (discontinued)", "price": "9.99", "stock": 0, "category": "garden", "active": False},
)
POSTS: tuple[dict[str, Any], ...] = (
    {
        "title": "Welcome to the catalog",
        "slug": "welcome",
        "categories": (),
        "published": True,
        "content": "Products, categories and posts are seeded by `make dev`. Try GET /api/products.",
    },
    {
        "title": "Why water in the morning",
        "slug": "water-in-the-morning",
        "categories": ("garden", "science"),
        "published": True,
        "content": "Less evaporation, drier leaves by night.",
    },
    {
        "title": "Knife care",
        "slug": "knife-care",
        "categories": ("kitchen",),
        "published": True,
        "content": "Hone often, sharpen rarely.",
    },
    {
        "title": "Draft: teapot review",
        "slug": "teapot-review",
        "categories": ("kitchen",),
        "published": False,
        "content": "Only its author and admins can read a draft.",
    },
)
WRITER_EMAIL = "writer@example.com"


@dataclass(frozen=True, slots=True)
class SeedReport:
    seeded: bool
    categories: int = 0
    products: int = 0
    posts: int = 0
    author_id: str | None = None

    def describe(self) -> str:
        if not self.seeded:
            return "already seeded"
        return f"{self.categories} categories, {self.products} products, {self.posts} posts (local/seed_catalog.py)"


def seed_catalog(
    endpoint_url: str,
    table_name: str,
    *,
    author_id: str | None = None,
    cache_url: str = "",
    region: str = REGION,
    timeout: float = 120,
) -> SeedReport:
    """Seed the table of a running emulator (in a child process); returns what was written.

    ``cache_url``: the functions' ``CACHE_URL`` (empty: in-process). The seed invalidates the read
    cache afterwards, as the API's writes do, so a read that came before it is not served on.
    """
    env = {key: os.environ[key] for key in ("PATH", "HOME", "LANG", "TMPDIR") if key in os.environ}
    env.update(FAKE_CREDENTIALS)
    env.update(
        {
            "AWS_ENDPOINT_URL": endpoint_url,
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
            "TABLE_NAME": table_name,
            "APP_STAGE": "local",
            "CACHE_URL": cache_url,
            "PYTHONPATH": os.pathsep.join([str(ROOT / "layers" / "shared"), str(ROOT)]),
        }
    )
    command = [sys.executable, "-m", "local.seed_catalog", "--json"]
    if author_id:
        command += ["--author-id", author_id]
    done = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"seeding the catalog failed:\n{done.stderr.strip()}")
    return SeedReport(**json.loads(done.stdout.strip().splitlines()[-1]))


# ----------------------------------------------------------------------------- in the child process
def _seed(author_id: str | None) -> SeedReport:
    from backend.models.enums import Role
    from backend.repositories.categories import CategoriesRepository
    from backend.repositories.posts import PostsRepository
    from backend.repositories.products import ProductsRepository
    from backend.repositories.users import UsersRepository

    categories = CategoriesRepository()
    if categories.list_all():
        return SeedReport(seeded=False)
    cursor_key = b"seeding-never-pages-0123456789ab"
    users = UsersRepository(cursor_key)
    if author_id is None:
        try:
            author_id = users.get_by_email(WRITER_EMAIL).id
        except Exception:  # noqa: BLE001 - absent: create it
            no_password = "!"  # noqa: S105 - not a hash: nothing verifies against it, nobody signs in as it
            writer = users.create(
                email=WRITER_EMAIL, password_hash=no_password, name="Sample Writer", role=Role.USER
            )
            author_id = writer.id
    by_slug = {slug: categories.create(name=name, slug=slug) for name, slug in CATEGORIES}
    products = ProductsRepository(cursor_key)
    for product in PRODUCTS:
        products.create(
            name=product["name"],
            description=product.get("description"),
            price=Decimal(product["price"]),
            stock=product["stock"],
            active=product.get("active", True),
            category_id=by_slug[product["category"]].id,
        )
    posts = PostsRepository(cursor_key)
    for post in POSTS:
        posts.create(
            author_id=author_id,
            title=post["title"],
            slug=post["slug"],
            content=post["content"],
            published=post["published"],
            category_ids=[by_slug[slug].id for slug in post["categories"]],
        )
    _invalidate_read_cache(table_name=os.environ["TABLE_NAME"])
    return SeedReport(
        seeded=True,
        categories=len(CATEGORIES),
        products=len(PRODUCTS),
        posts=len(POSTS),
        author_id=author_id,
    )


def _invalidate_read_cache(*, table_name: str) -> None:
    """Every namespace the seed wrote to, in the cache the functions use (same settings, same prefix)."""
    from backend.settings import load_settings
    from backend.wiring import Container

    container = Container(load_settings({**os.environ, "TABLE_NAME": table_name}))
    try:
        container.cache.invalidate("products", "categories", "posts")
    finally:
        container.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.seed_catalog", description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint-url", help="the emulator (default: AWS_ENDPOINT_URL)")
    parser.add_argument("--table", help="the table (default: TABLE_NAME)")
    parser.add_argument("--author-id", help="the user id that writes the sample posts")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    if args.endpoint_url or args.table:
        return _reexec(args)
    report = _seed(args.author_id)
    if args.json:
        print(json.dumps(_as_dict(report)))
    else:
        print(report.describe())
    return 0


def _as_dict(report: SeedReport) -> dict[str, Any]:
    return {name: getattr(report, name) for name in SeedReport.__slots__}


def _reexec(args: argparse.Namespace) -> int:
    endpoint = args.endpoint_url or os.environ.get("AWS_ENDPOINT_URL")
    table = args.table or os.environ.get("TABLE_NAME")
    if not endpoint or not table:
        print(
            "error: --endpoint-url and --table (or AWS_ENDPOINT_URL and TABLE_NAME) are needed",
            file=sys.stderr,
        )
        return 1
    print(seed_catalog(endpoint, table, author_id=args.author_id).describe())
    return 0


if __name__ == "__main__":
    sys.exit(main())
