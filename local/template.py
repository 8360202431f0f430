"""Read template.yaml (CloudFormation YAML with short-form intrinsics) into plain Python data.

Everything local (the local cloud, the tests) provisions from this one reader, so the template stays
the single source of truth.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_PATH = ROOT / "template.yaml"

_SHORT_TAGS = (
    "Ref",
    "Sub",
    "GetAtt",
    "Join",
    "If",
    "Equals",
    "Not",
    "And",
    "Or",
    "Select",
    "Split",
    "FindInMap",
    "GetAZs",
    "ImportValue",
    "Base64",
    "Condition",
    "Cidr",
)


class _CfnLoader(yaml.SafeLoader):
    """SafeLoader that turns `!Tag value` into `{"Fn::Tag": value}` (and `!Ref x` into `{"Ref": x}`)."""


def _make_constructor(tag: str) -> Any:
    key = "Ref" if tag in ("Ref", "Condition") else f"Fn::{tag}"

    def construct(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
        value: Any
        if isinstance(node, yaml.ScalarNode):
            value = loader.construct_scalar(node)
            if tag == "GetAtt" and isinstance(value, str):
                value = value.split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
        return {key: value}

    return construct


for _tag in _SHORT_TAGS:
    _CfnLoader.add_constructor(f"!{_tag}", _make_constructor(_tag))


def load_template(path: Path | str = TEMPLATE_PATH) -> dict[str, Any]:
    """Parse a CloudFormation/SAM template file into dicts and lists (intrinsics in long form)."""
    with open(path, encoding="utf-8") as fh:
        data = yaml.load(fh, Loader=_CfnLoader)  # noqa: S506  # nosec B506  # a SafeLoader subclass (adds short tags only)
    if not isinstance(data, dict) or "Resources" not in data:
        raise ValueError(f"{path} is not a CloudFormation template (no Resources)")
    return data


@cache
def template() -> dict[str, Any]:
    """The project's template.yaml, parsed once."""
    return load_template()


def resources_of_type(resource_type: str, tpl: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    """Logical id → resource, for every resource of one type."""
    tpl = tpl if tpl is not None else template()
    return {name: res for name, res in tpl["Resources"].items() if res.get("Type") == resource_type}


def table_definition(logical_id: str = "AppTable", tpl: dict[str, Any] | None = None) -> dict[str, Any]:
    """Keyword arguments for DynamoDB CreateTable, taken from the template's table resource.

    The table name is left out (it is usually an intrinsic); callers pass their own `TableName`.
    """
    tpl = tpl if tpl is not None else template()
    props = tpl["Resources"][logical_id]["Properties"]
    kwargs: dict[str, Any] = {
        "AttributeDefinitions": props["AttributeDefinitions"],
        "KeySchema": props["KeySchema"],
        "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
    }
    if props.get("GlobalSecondaryIndexes"):
        kwargs["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
    if props.get("LocalSecondaryIndexes"):
        kwargs["LocalSecondaryIndexes"] = props["LocalSecondaryIndexes"]
    return kwargs


def ttl_attribute(logical_id: str = "AppTable", tpl: dict[str, Any] | None = None) -> str | None:
    """The table's TTL attribute name, if TTL is enabled in the template."""
    tpl = tpl if tpl is not None else template()
    spec = tpl["Resources"][logical_id]["Properties"].get("TimeToLiveSpecification") or {}
    return spec.get("AttributeName") if spec.get("Enabled") else None
