"""Create the first admin of a deployed stage (or promote an existing account to ADMIN).

    AWS_PROFILE=... python scripts/create_admin.py --stage prod --email ops@example.com --name "Ops"
    (prompts for the password; or pipe it: --password-stdin)

It writes through the same service code as the API (argon2id hash, unique email guard, counters),
straight to the stage's table, whose name it reads from the CloudFormation stack's outputs. It needs
your AWS credentials to allow dynamodb:TransactWriteItems/GetItem/Query on that table and
cloudformation:DescribeStacks. Nothing is logged but the new user's id.
"""

from __future__ import annotations

import argparse
import getpass
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
    parser.add_argument("--email", required=True)
    parser.add_argument("--name", required=True)
    parser.add_argument("--region", default=os.environ.get("AWS_REGION", "us-east-1"))
    parser.add_argument(
        "--table", help="the table name (default: the TableName output of app-backend-<stage>)"
    )
    parser.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    args = parser.parse_args(argv)

    password = sys.stdin.readline().rstrip("\n") if args.password_stdin else getpass.getpass("Password: ")
    os.environ["TABLE_NAME"] = args.table or table_of_stack(f"app-backend-{args.stage}", args.region)
    os.environ["AWS_REGION"] = args.region
    os.environ["APP_STAGE"] = args.stage
    sys.path.insert(0, str(ROOT / "layers" / "shared"))
    from backend.errors import AppError
    from backend.services import users as users_service
    from backend.wiring import get_container

    try:
        user, created = users_service.ensure_admin(
            get_container().users_deps, email=args.email, name=args.name, password=password
        )
    except AppError as exc:
        print(f"error: {exc.message} {exc.details or ''}", file=sys.stderr)
        return 1
    print(f"{'created' if created else 'promoted existing account'}: admin {user.id}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
