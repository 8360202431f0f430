"""The ``dynamodb_faults`` fixture: DynamoDB faults for the clients of this process (unit tests).

Same vocabulary as the local cloud's ``LOCAL_FAULTS`` / ``--faults`` (local.faults)::

    def test_x(dynamodb_faults):
        faults = dynamodb_faults("conflict:1")   # every write meets a transaction conflict
        ...
        assert faults.counts["TransactionConflictException"] == 5

Faults stop at the end of the test; calling the fixture again replaces the spec.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack

import pytest

from local.faults import Faults, FaultSpec, in_process


def _key_schema(_table: str) -> tuple[str, str | None]:
    return ("PK", "SK")  # the app table's (tests/support/tables.py creates it from template.yaml)


@pytest.fixture
def dynamodb_faults() -> Iterator[Callable[[str], Faults]]:
    faults = Faults(key_schema=_key_schema)
    with ExitStack() as stack:
        installed = False

        def inject(spec: str) -> Faults:
            nonlocal installed
            faults.configure(FaultSpec.parse(spec))
            if not installed:
                stack.enter_context(in_process(faults))
                installed = True
            return faults

        yield inject
