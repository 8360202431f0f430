"""Powertools idempotency shares the table under the reserved ``IDEMPOTENCY#<service>`` partition."""

from __future__ import annotations

from typing import Any

from backend.models import keys


class _Context:
    """The part of a Lambda context that Powertools idempotency reads."""

    function_name = "orders"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


def test_powertools_records_live_in_the_reserved_partition_and_expire(db: Any, users: Any) -> None:
    from aws_lambda_powertools.utilities.idempotency import (
        DynamoDBPersistenceLayer,
        IdempotencyConfig,
        idempotent_function,
    )

    persistence = DynamoDBPersistenceLayer(
        table_name="app-backend-test",
        key_attr="PK",
        sort_key_attr="SK",
        static_pk_value=keys.idempotency_pk("orders"),
        expiry_attr=keys.TTL_ATTRIBUTE,
        boto3_client=db,
    )
    calls = []
    config = IdempotencyConfig()
    config.register_lambda_context(_Context())

    @idempotent_function(data_keyword_argument="payload", persistence_store=persistence, config=config)
    def place(payload: dict[str, Any]) -> dict[str, Any]:
        calls.append(payload)
        return {"ok": True}

    assert place(payload={"cart": 1}) == place(payload={"cart": 1})
    assert len(calls) == 1
    items = db.query(
        TableName="app-backend-test",
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": "IDEMPOTENCY#orders"}},
    )["Items"]
    assert len(items) == 1
    assert keys.TTL_ATTRIBUTE in items[0]
    assert "type" not in items[0]  # not one of our item types: no repository ever reads it
    assert users.get(users.create(email="a@example.com", password_hash="h").id).email == "a@example.com"
