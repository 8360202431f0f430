"""Stock reports over the catalogue (the daily low-stock digest).

There is no index on stock (every order line would rewrite it), so "active products with less than
N in stock" reads the sparse active-products listing (GSI1 ``PRODUCTS#ACTIVE``) with a filter: a
Query over every active product, paid once a day by the scheduled digest, never by a request.
"""

from __future__ import annotations

from backend.models import keys
from backend.models.product import ProductModel
from backend.records.catalog import ProductRecord
from backend.repositories.dynamo import QuerySpec, query_all, to_models
from backend.repositories.products import to_product_record


def low_stock_products(threshold: int) -> list[ProductRecord]:
    """Active products with ``stock < threshold``, lowest stock first (AP36)."""
    spec = QuerySpec(
        keys.PRODUCTS_ACTIVE, index=keys.GSI1, filter=ProductModel.stock < threshold, forward=False
    )
    found = [to_product_record(m) for m in to_models(query_all(spec)) if isinstance(m, ProductModel)]
    return sorted(found, key=lambda p: (p.stock, p.name, p.id))
