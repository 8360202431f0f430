"""Categories: all in one partition (``PK=CATEGORIES``), unique by name (case-insensitive) and slug."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from backend.errors import NotFoundError, ValidationError
from backend.models import keys
from backend.models.category import CategoryModel
from backend.models.clock import Clock, utcnow
from backend.models.ids import new_id
from backend.records import UNSET, Unset
from backend.records.catalog import CategoryRecord
from backend.repositories import counters, guards
from backend.repositories.dynamo import (
    QuerySpec,
    batch_get,
    for_write,
    get_item,
    query_all,
    query_page,
    to_models,
)
from backend.repositories.transaction import Transaction, stale, unexpected
from backend.values import normalize_slug


def name_key(name: str) -> str:
    """Category names are unique ignoring case and surrounding spaces."""
    key = name.strip().casefold()
    if not key:
        raise ValidationError("Invalid name", details=[{"field": "name", "message": "must not be empty"}])
    return key


def to_category_record(model: CategoryModel) -> CategoryRecord:
    return CategoryRecord(
        id=model.id,
        name=model.name,
        slug=model.slug,
        created_at=model.created_at,
        updated_at=model.updated_at,
        version=int(model.version),
    )


def _to_model(record: CategoryRecord, *, new: bool = False) -> CategoryModel:
    model = CategoryModel(
        id=record.id,
        name=record.name,
        slug=record.slug,
        created_at=record.created_at,
        updated_at=record.updated_at,
    )
    return for_write(model, record.version, new=new)


class CategoriesRepository:
    def __init__(self, *, clock: Clock = utcnow) -> None:
        self._clock = clock

    def get(self, category_id: str) -> CategoryRecord:
        """GetItem ``CATEGORIES/CATEGORY#<id>``."""
        model = get_item(CategoryModel, keys.CATEGORIES_PK, keys.category_sk(category_id))
        if model is None:
            raise NotFoundError("Category")
        return to_category_record(model)

    def get_by_slug(self, slug: str) -> CategoryRecord:
        """Query GSI3 ``CATEGORY_SLUG#<slug>`` (one item)."""
        spec = QuerySpec(keys.category_slug_lookup(normalize_slug(slug)), index=keys.GSI3)
        items, _ = query_page(spec, limit=1)
        models = [m for m in to_models(items) if isinstance(m, CategoryModel)]
        if not models:
            raise NotFoundError("Category")
        return to_category_record(models[0])

    def get_many(self, category_ids: Sequence[str]) -> list[CategoryRecord]:
        """Categories by id in one BatchGetItem (e.g. a post's ``category_ids``), in the given order."""
        wanted = [(keys.CATEGORIES_PK, keys.category_sk(i)) for i in dict.fromkeys(category_ids)]
        found = batch_get(wanted)
        return [to_category_record(m) for k in wanted if isinstance(m := found.get(k), CategoryModel)]

    def list_all(self) -> list[CategoryRecord]:
        """Every category, by name: one Query on ``PK=CATEGORIES`` (strongly consistent)."""
        spec = QuerySpec(
            keys.CATEGORIES_PK,
            range_condition=CategoryModel.sk.startswith(keys.CATEGORY_SK_PREFIX),
            consistent=True,
        )
        models = [m for m in to_models(query_all(spec)) if isinstance(m, CategoryModel)]
        return sorted((to_category_record(m) for m in models), key=lambda c: (c.name.casefold(), c.id))

    def create(self, *, name: str, slug: str) -> CategoryRecord:
        """One transaction: the category and its name and slug guards."""
        now = self._clock()
        record = CategoryRecord(
            id=new_id(),
            name=name.strip(),
            slug=normalize_slug(slug),
            created_at=now,
            updated_at=now,
            version=0,
        )
        model = _to_model(record, new=True)
        tx = Transaction()
        tx.put(model, on_fail=unexpected)
        guards.claim(tx, guards.CATEGORY_NAME, name_key(name), owner=keys.category_sk(model.id), field="name")
        guards.claim(tx, guards.CATEGORY_SLUG, record.slug, owner=keys.category_sk(model.id), field="slug")
        tx.commit()
        return to_category_record(model)

    def update(
        self, category: CategoryRecord, *, name: str | Unset = UNSET, slug: str | Unset = UNSET
    ) -> CategoryRecord:
        changed = replace(
            category,
            name=category.name if isinstance(name, Unset) else name.strip(),
            slug=category.slug if isinstance(slug, Unset) else normalize_slug(slug),
            updated_at=self._clock(),
        )
        model = _to_model(changed)
        tx = Transaction()
        tx.put(model, on_fail=stale("Category"))
        guards.swap(
            tx,
            guards.CATEGORY_NAME,
            name_key(category.name),
            name_key(changed.name),
            owner=keys.category_sk(model.id),
            field="name",
        )
        guards.swap(
            tx,
            guards.CATEGORY_SLUG,
            category.slug,
            changed.slug,
            owner=keys.category_sk(model.id),
            field="slug",
        )
        tx.commit()
        return to_category_record(model)

    def delete(self, category: CategoryRecord) -> None:
        """One transaction: the category, its guards and its counters, only while no post or
        product refers to it (ConflictError naming ``posts`` or ``products`` otherwise)."""
        tx = Transaction()
        tx.delete(_to_model(category), on_fail=stale("Category"))
        guards.release(tx, guards.CATEGORY_NAME, name_key(category.name), owner=keys.category_sk(category.id))
        guards.release(tx, guards.CATEGORY_SLUG, category.slug, owner=keys.category_sk(category.id))
        in_use = (
            (counters.category_posts(category.id), "posts"),
            (counters.category_published_posts(category.id), "posts"),
            (counters.category_products(category.id), "products"),
            (counters.category_active_products(category.id), "products"),
        )
        for ref, field in in_use:
            message = f"The category still has {field}"
            counters.delete_counter(tx, ref, expected=0, on_fail=counters.restrict(field, message))
        tx.commit()
