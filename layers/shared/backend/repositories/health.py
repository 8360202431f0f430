"""Reachability probe for the table: one GetItem on a key nothing else uses.

A data-plane read (not DescribeTable) so it needs no extra permission and is not throttled by
the control-plane limits.
"""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError

from backend import aws
from backend.observability import logger
from backend.settings import get_settings

PROBE_KEY = {"PK": {"S": "HEALTH#PROBE"}, "SK": {"S": "HEALTH#PROBE"}}


def table_reachable() -> bool:
    try:
        aws.dynamodb().get_item(
            TableName=get_settings().table_name, Key=PROBE_KEY, ProjectionExpression="PK"
        )
    except (BotoCoreError, ClientError) as exc:
        logger.warning("table unreachable", extra={"error": type(exc).__name__})
        return False
    return True
