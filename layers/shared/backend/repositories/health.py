"""Reachability probe for the table: one GetItem on a key nothing else uses.

A data-plane read (not DescribeTable) so it needs no extra permission and is not throttled by
the control-plane limits. It goes through the models' shared connection, so a function that also
uses repositories builds one DynamoDB client, not two.
"""

from __future__ import annotations

from pynamodb.exceptions import PynamoDBException

from backend.models import keys
from backend.models.base import TableItem
from backend.observability import logger


def table_reachable() -> bool:
    try:
        TableItem._get_connection().get_item(
            keys.HEALTH_PROBE_PK, range_key=keys.HEALTH_PROBE_PK, attributes_to_get=["PK"]
        )
    except PynamoDBException as exc:
        cause = exc.cause if exc.cause is not None else exc
        logger.warning("table unreachable", extra={"error": type(cause).__name__})
        return False
    return True
