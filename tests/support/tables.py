"""Create the app table in moto from template.yaml's AppTable, so tests and template cannot drift."""

from __future__ import annotations

import os
from typing import Any

from local.template import table_definition, ttl_attribute


def create_app_table(client: Any, name: str | None = None) -> str:
    """CreateTable (keys, GSIs) and TTL exactly as template.yaml declares them; returns the name."""
    name = name or os.environ["TABLE_NAME"]
    client.create_table(TableName=name, **table_definition())
    ttl = ttl_attribute()
    if ttl:
        client.update_time_to_live(
            TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl}
        )
    return name
