"""Index the orders written before the per-user status listing (``GET /api/orders?status=``).

    AWS_PROFILE=... python scripts/backfill_order_status_index.py --stage prod

Run once after deploying the release that added the listing (docs/data-model.md, "A user's orders
by status"). It calls ``OrdersRepository.backfill_status_index``: every order is read once through
the admins' listing (GSI3 Queries, never a Scan), and each order without its GSI4 entry is rewritten
with it and counted in its owner's per-status counter, in one transaction conditioned on the version
read. It is safe while the API serves and safe to run again (it then indexes nothing). It needs your
AWS credentials to allow dynamodb:Query (table and index) and dynamodb:TransactWriteItems on that
table, and cloudformation:DescribeStacks. It prints how many orders it indexed.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def table_of_stack(stack_name: str, region: str) -> str:
    import boto3

    stacks = boto3.client("cloudformation", region_name=region).describe_stacks(StackName=stack_name)[
        "Stacks"
    ]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}
    return outputs["TableName"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--stage", choices=["dev", "prod"], required=True)
    parser.add_argument("--region", default=os.environ.get("AWS_REGION", "us-east-1"))
    parser.add_argument(
        "--table", help="the table name (default: the TableName output of app-backend-<stage>)"
    )
    args = parser.parse_args(argv)

    os.environ["TABLE_NAME"] = args.table or table_of_stack(f"app-backend-{args.stage}", args.region)
    os.environ["AWS_REGION"] = args.region
    os.environ["APP_STAGE"] = args.stage
    sys.path.insert(0, str(ROOT / "layers" / "shared"))
    from backend.repositories.orders import OrdersRepository

    # the backfill pages no listing for a client: its cursors are never issued, any key will do
    indexed = OrdersRepository(b"backfill-cursors-are-never-issued").backfill_status_index()
    print(f"indexed {indexed} orders")
    return 0


if __name__ == "__main__":
    sys.exit(main())
