"""template.yaml's table and the PynamoDB models agree (keys, GSIs, projections, TTL)."""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

import backend.models
from backend.models import keys
from backend.models.base import TableItem
from local.template import table_definition, ttl_attribute

_TYPE_CODES = {"S": "S", "N": "N", "B": "B"}


def _all_models() -> list[type[TableItem]]:
    for module in pkgutil.iter_modules(backend.models.__path__):
        importlib.import_module(f"backend.models.{module.name}")

    def walk(cls: type[TableItem]) -> list[type[TableItem]]:
        return [cls] + [s for sub in cls.__subclasses__() for s in walk(sub)]

    return walk(TableItem)


def _template_indexes(definition: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {gsi["IndexName"]: gsi for gsi in definition.get("GlobalSecondaryIndexes", [])}


def test_every_model_uses_the_tables_keys_and_indexes() -> None:
    definition = table_definition()
    types = {a["AttributeName"]: a["AttributeType"] for a in definition["AttributeDefinitions"]}
    schema = TableItem._get_schema()
    model_types = {a["AttributeName"]: a["AttributeType"] for a in schema["attribute_definitions"]}
    assert model_types == types, "key attributes (names and types) differ"
    assert {(k["AttributeName"], k["KeyType"]) for k in schema["key_schema"]} == {
        (k["AttributeName"], k["KeyType"]) for k in definition["KeySchema"]
    }
    template_gsis = _template_indexes(definition)
    model_gsis = {index["index_name"]: index for index in schema["global_secondary_indexes"]}
    assert set(model_gsis) == set(template_gsis)
    for name, index in model_gsis.items():
        in_template = template_gsis[name]
        assert index["key_schema"] == in_template["KeySchema"], name
        assert index["projection"]["ProjectionType"] == in_template["Projection"]["ProjectionType"], name
        assert sorted(index["projection"].get("NonKeyAttributes", [])) == sorted(
            in_template["Projection"].get("NonKeyAttributes", [])
        ), name
    assert not definition.get("LocalSecondaryIndexes")


def test_every_model_shares_the_root_keys_and_declares_nothing_else_as_a_key() -> None:
    root_keys = {name for pair in TableItem.INDEX_KEYS.values() for name in pair}
    for model in _all_models():
        for attribute in model.get_attributes().values():
            if attribute.is_hash_key or attribute.is_range_key:
                assert attribute.attr_name in ("PK", "SK"), model
        names = {a.attr_name for a in model.get_attributes().values()}
        assert root_keys <= names, model
        assert (
            model._get_schema()["global_secondary_indexes"]
            == TableItem._get_schema()["global_secondary_indexes"]
        )


def test_projected_attributes_exist_on_the_models_that_use_the_index() -> None:
    from backend.models.base import GSI4_PROJECTED
    from backend.models.user import UserModel

    names = {a.attr_name for a in UserModel.get_attributes().values()}
    assert set(GSI4_PROJECTED) <= names


def test_ttl_attribute_is_the_one_the_models_and_powertools_use() -> None:
    from pynamodb.attributes import TTLAttribute

    assert ttl_attribute() == keys.TTL_ATTRIBUTE == "expiresAt"
    for model in _all_models():
        for attribute in model.get_attributes().values():
            if isinstance(attribute, TTLAttribute):
                assert attribute.attr_name == keys.TTL_ATTRIBUTE, model


def test_discriminators_are_unique_and_every_item_type_is_registered() -> None:
    attribute = TableItem.get_attributes()["item_type"]
    stored = [attribute.get_discriminator(m) for m in _all_models() if m is not TableItem]
    assert None not in stored
    assert len(stored) == len(set(stored))
