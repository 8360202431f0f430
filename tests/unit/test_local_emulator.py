"""The embedded emulator keeps DynamoDB's per-request isolation under concurrent clients.

A property test of the local cloud (races must resolve as in DynamoDB); the lock that guarantees it
is `local.emulator.SerializedDynamoDB`, added after unserialized moto showed several winners in
the data-layer race tests (see `serializable_moto` in tests/support/ddb.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from botocore.exceptions import ClientError

from local.emulator import Emulator
from local.template import table_definition


def _raise(exc: Exception) -> bool:
    raise exc


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    emulator = Emulator()
    emulator.start()
    yield emulator
    emulator.stop()


def test_concurrent_conditional_puts_have_exactly_one_winner(emulator: Emulator) -> None:
    ddb = emulator.clients().dynamodb()
    ddb.create_table(TableName="race", **table_definition())

    def claim(attempt: int, contender: int) -> bool:
        try:
            ddb.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": "race",
                            "Item": {
                                "PK": {"S": f"UNIQUE#EMAIL#{attempt}"},
                                "SK": {"S": "UNIQUE"},
                                "owner": {"N": str(contender)},
                            },
                            "ConditionExpression": "attribute_not_exists(PK)",
                        }
                    },
                    {
                        "Put": {
                            "TableName": "race",
                            "Item": {"PK": {"S": f"USER#{attempt}-{contender}"}, "SK": {"S": "USER"}},
                        }
                    },
                ]
            )
        except ClientError as exc:
            return exc.response["Error"]["Code"] != "TransactionCanceledException" and _raise(exc)
        return True

    with ThreadPoolExecutor(max_workers=8) as pool:
        for attempt in range(5):
            wins = list(pool.map(lambda contender, a=attempt: claim(a, contender), range(8)))
            assert wins.count(True) == 1, f"attempt {attempt}: {wins.count(True)} winners"
    users = ddb.query(
        TableName="race",
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": "UNIQUE#EMAIL#0"}},
    )
    assert users["Count"] == 1
