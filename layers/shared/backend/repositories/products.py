"""Products: by id, active (newest first), active of a category, and every product (newest first,
overall or of a category: the admin's listings); create/update/delete with counters."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from decimal import Decimal

from backend.errors import NotFoundError, ValidationError
from backend.models import keys
from backend.models.clock import Clock, utcnow
from backend.models.ids import new_id
from backend.models.product import ProductModel
from backend.records import UNSET, Page, PageRequest, Unset
from backend.records.catalog import ProductRecord
from backend.repositories import counters
from backend.repositories.checks import require_category
from backend.repositories.dynamo import (
    QuerySpec,
    RawItem,
    batch_get,
    for_write,
    get_item,
    items_of_entries,
    to_models,
)
from backend.repositories.paging import CursorCodec, Listing, list_page
from backend.repositories.transaction import Transaction, stale, unexpected
from backend.values import money


def _stock(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValidationError("Invalid stock", details=[{"field": "stock", "message": "an integer >= 0"}])
    return value


def to_product_record(model: ProductModel) -> ProductRecord:
    return ProductRecord(
        id=model.id,
        name=model.name,
        description=model.description,
        price=model.price,
        stock=int(model.stock),
        active=model.active,
        category_id=model.category_id,
        created_at=model.created_at,
        updated_at=model.updated_at,
        version=int(model.version),
    )


def _to_model(record: ProductRecord, *, new: bool = False) -> ProductModel:
    model = ProductModel(
        id=record.id,
        name=record.name,
        description=record.description,
        price=record.price,
        stock=record.stock,
        active=record.active,
        category_id=record.category_id,
        created_at=record.created_at,
        updated_at=record.updated_at,
    )
    return for_write(model, record.version, new=new)


def _memberships(record: ProductRecord) -> list[counters.CounterRef]:
    """The counters a product in this state counts in."""
    refs = [counters.PRODUCTS_ALL]
    if record.active:
        refs.append(counters.PRODUCTS_ACTIVE)
    if record.category_id is not None:
        refs.append(counters.category_products(record.category_id))
        if record.active:
            refs.append(counters.category_active_products(record.category_id))
    return refs


class ProductsRepository:
    def __init__(self, cursor_key: bytes | Callable[[], bytes], *, clock: Clock = utcnow) -> None:
        self._codec = CursorCodec(cursor_key)
        self._clock = clock
        self._counters = counters.CountersRepository()

    # ------------------------------------------------------------------------- reads
    def get(self, product_id: str, *, consistent: bool = False) -> ProductRecord:
        """GetItem ``PRODUCT#<id>/PRODUCT``."""
        model = get_item(ProductModel, keys.product_pk(product_id), keys.PRODUCT_SK, consistent=consistent)
        if model is None:
            raise NotFoundError("Product")
        return to_product_record(model)

    def get_many(self, product_ids: Sequence[str]) -> dict[str, ProductRecord]:
        """Products by id in one BatchGetItem (e.g. to price an order); missing ids are absent."""
        found = batch_get([(keys.product_pk(i), keys.PRODUCT_SK) for i in product_ids])
        return {m.id: to_product_record(m) for m in found.values() if isinstance(m, ProductModel)}

    def list_active(self, request: PageRequest) -> Page[ProductRecord]:
        """Newest first: GSI1 ``PRODUCTS#ACTIVE`` (sparse: inactive products are not in it)."""
        spec = QuerySpec(keys.PRODUCTS_ACTIVE, index=keys.GSI1, forward=False)
        return list_page(
            Listing.single("products|active", spec),
            request,
            codec=self._codec,
            total=lambda: self._counters.total(counters.PRODUCTS_ACTIVE),
            convert=_products,
        )

    def list_by_category(self, category_id: str, request: PageRequest) -> Page[ProductRecord]:
        """Active products of a category, newest first: GSI2 ``CATEGORY#<id>#PRODUCTS`` (sparse)."""
        spec = QuerySpec(keys.category_products(category_id), index=keys.GSI2, forward=False)
        ref = counters.category_active_products(category_id)
        return list_page(
            Listing.single(f"products|category={category_id}", spec),
            request,
            codec=self._codec,
            total=lambda: self._counters.total(ref),
            convert=_products,
        )

    def list_all(self, request: PageRequest) -> Page[ProductRecord]:
        """Every product, inactive ones too, newest first: GSI3 ``PRODUCTS#ALL``."""
        spec = QuerySpec(keys.PRODUCTS_ALL, index=keys.GSI3, forward=False)
        return list_page(
            Listing.single("products|all", spec),
            request,
            codec=self._codec,
            total=lambda: self._counters.total(counters.PRODUCTS_ALL),
            convert=_products,
        )

    def list_all_by_category(self, category_id: str, request: PageRequest) -> Page[ProductRecord]:
        """Every product of a category, inactive ones too, newest first: GSI4
        ``CATEGORY#<id>#PRODUCTS#ALL`` (keys only), then one BatchGetItem of the page."""
        spec = QuerySpec(keys.category_all_products(category_id), index=keys.GSI4, forward=False)
        ref = counters.category_products(category_id)
        return list_page(
            Listing.single(f"products|all|category={category_id}", spec),
            request,
            codec=self._codec,
            total=lambda: self._counters.total(ref),
            convert=_products_by_keys,
        )

    # ------------------------------------------------------------------------- writes
    def create(
        self,
        *,
        name: str,
        price: Decimal | int | str,
        description: str | None = None,
        stock: int = 0,
        active: bool = True,
        category_id: str | None = None,
    ) -> ProductRecord:
        """One transaction: the product, a check that its category exists, its counters."""
        now = self._clock()
        record = ProductRecord(
            id=new_id(),
            name=name,
            description=description,
            price=money(price),
            stock=_stock(stock),
            active=active,
            category_id=category_id,
            created_at=now,
            updated_at=now,
            version=0,
        )
        model = _to_model(record, new=True)
        tx = Transaction()
        tx.put(model, on_fail=unexpected)
        if category_id is not None:
            require_category(tx, category_id)
        changes = counters.CounterChanges()
        for ref in _memberships(record):
            changes.add(ref, 1)
        changes.apply(tx)
        tx.commit()
        return to_product_record(model)

    def update(
        self,
        product: ProductRecord,
        *,
        name: str | Unset = UNSET,
        description: str | Unset | None = UNSET,
        price: Decimal | int | str | Unset = UNSET,
        stock: int | Unset = UNSET,
        active: bool | Unset = UNSET,
        category_id: str | Unset | None = UNSET,
    ) -> ProductRecord:
        """Optimistic update of ``product`` as read. Orders change stock and bump the version too, so
        an edit based on a stale read fails instead of overwriting sold stock."""
        changed = replace(
            product,
            name=product.name if isinstance(name, Unset) else name,
            description=product.description if isinstance(description, Unset) else description,
            price=product.price if isinstance(price, Unset) else money(price),
            stock=product.stock if isinstance(stock, Unset) else _stock(stock),
            active=product.active if isinstance(active, Unset) else active,
            category_id=product.category_id if isinstance(category_id, Unset) else category_id,
            updated_at=self._clock(),
        )
        model = _to_model(changed)
        tx = Transaction()
        tx.put(model, on_fail=stale("Product"))
        if changed.category_id is not None and changed.category_id != product.category_id:
            require_category(tx, changed.category_id)
        changes = counters.CounterChanges()
        for ref in _memberships(product):
            changes.add(ref, -1)
        for ref in _memberships(changed):
            changes.add(ref, 1)
        changes.apply(tx)
        tx.commit()
        return to_product_record(model)

    def delete(self, product: ProductRecord) -> None:
        """One transaction: the product (optimistic lock) and its counters. Order lines keep their
        snapshot (name, unit price), so order history stays readable; prefer deactivating."""
        tx = Transaction()
        tx.delete(_to_model(product), on_fail=stale("Product"))
        changes = counters.CounterChanges()
        for ref in _memberships(product):
            changes.add(ref, -1)
        changes.apply(tx)
        tx.commit()


def _products(raw_items: list[RawItem]) -> list[ProductRecord]:
    return [to_product_record(m) for m in to_models(raw_items) if isinstance(m, ProductModel)]


def _products_by_keys(raw_items: list[RawItem]) -> list[ProductRecord]:
    """Index entries without the item's attributes: the products themselves, in one BatchGetItem."""
    return [to_product_record(m) for m in items_of_entries(raw_items) if isinstance(m, ProductModel)]
