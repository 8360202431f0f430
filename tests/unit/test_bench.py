"""`make bench` (scripts/bench/): recordings, generated baselines, verdicts, the report.

The expensive parts (a real sam build, rounds of cold starts, the load test) run in `make bench`
itself; these tests drive the same code on a tiny function against the embedded emulator.
"""

from __future__ import annotations

import dataclasses
import json
import sysconfig
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from local.emulator import Emulator
from local.template import table_definition
from scripts.bench import contenders as gen
from scripts.bench import cost, jobs
from scripts.bench.build import DeployedSizes
from scripts.bench.load import LoadResult, RouteResult, _request_of
from scripts.bench.measure import Contender, Session, cold_sample, record, record_once
from scripts.bench.report import ColdRow, MemoryRow, RequestRow, Results, WarmRow, WorkerRow
from scripts.bench.requests import expected_for, same_operations

SITE_PACKAGES = Path(sysconfig.get_paths()["purelib"])

FUNCTION = """
import json
import boto3
from fastapi import FastAPI
from mangum import Mangum

app = FastAPI()


@app.get("/api/things/{thing_id}")
def get_thing(thing_id: str) -> dict:
    boto3.client("dynamodb").get_item(TableName="bench-test", Key={"PK": {"S": thing_id}, "SK": {"S": "X"}})
    return {"data": thing_id}


handler = Mangum(app, lifespan="off")
"""


def http_event(method: str, path: str) -> dict[str, Any]:
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"host": "example.com"},
        "requestContext": {
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "203.0.113.9"},
            "requestId": "req",
            "routeKey": "$default",
            "stage": "$default",
        },
        "body": None,
        "isBase64Encoded": False,
    }


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    emulator = Emulator()
    emulator.start()
    emulator.clients().dynamodb().create_table(TableName="bench-test", **table_definition())
    yield emulator
    emulator.stop()


def contender(emulator: Emulator, folder: Path, label: str = "fn") -> Contender:
    env = {
        "AWS_ENDPOINT_URL": emulator.endpoint_url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",  # the emulator's
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    return Contender(label, "function", [folder, SITE_PACKAGES], env, http_event("GET", "/api/things/a1"))


def write(folder: Path, source: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "app.py").write_text(source)
    return folder


def test_recording_gives_the_requests_route_and_status(emulator: Emulator, tmp_path: Path) -> None:
    function = contender(emulator, write(tmp_path / "fn", FUNCTION))
    events = [("a.json", http_event("GET", "/api/things/a1")), ("b.json", http_event("GET", "/api/nope"))]
    found, missing = record(function, events)
    assert found.route == "GET /api/things/{thing_id}"
    assert (found.cold.status, found.warm.status) == (200, 200)
    assert [c.label for c in found.cold.calls] == ["dynamodb.GetItem"]
    assert found.cold.calls[0].params == {
        "TableName": "bench-test",
        "Key": {"PK": {"S": "a1"}, "SK": {"S": "X"}},
    }
    assert missing.route is None
    assert missing.cold.status == 404
    assert missing.cold.calls == []


def test_baselines_replay_exactly_the_recorded_requests(emulator: Emulator, tmp_path: Path) -> None:
    function = contender(emulator, write(tmp_path / "fn", FUNCTION))
    (recorded,) = record(function, [("a.json", http_event("GET", "/api/things/a1"))])
    calls = recorded.cold.calls
    for name, source in (
        ("b0", gen.b0_source(calls, "test")),
        ("b1", gen.b1_source(calls, "test")),
        ("resolver", gen.resolver_source(calls, "GET", "/api/things/a1")),
    ):
        baseline = contender(emulator, write(tmp_path / name, source), name)
        (replayed,) = record(baseline, [("a.json", http_event("GET", "/api/things/a1"))])
        assert replayed.cold.status == 200, name
        assert replayed.cold.calls == calls, name  # same service, operation and parameters
        assert cold_sample(baseline).status == 200


def test_baselines_without_requests_import_no_sdk() -> None:
    assert "import boto3" not in gen.b1_source([], "none")
    assert "import boto3" in gen.b0_source([], "none")  # a bare boto3 handler imports boto3


def test_a_session_times_warm_requests_and_reports_rss(emulator: Emulator, tmp_path: Path) -> None:
    function = contender(emulator, write(tmp_path / "fn", FUNCTION))
    session = Session(function, [function.event])
    try:
        assert session.first_status == 200
        wall, cpu = session.time(5)
        assert len(wall) == len(cpu) == 5
        assert all(ms > 0 for ms in wall)
        statuses, served, peak_kb, rss_kb = session.cycle(4)
        assert (statuses, served) == ({"200": 10}, 10)
        assert 10_000 < rss_kb <= peak_kb < 500_000  # this process's own, not the parent's
    finally:
        session.close()


def test_summary_counts_repeated_requests() -> None:
    call = gen.AwsCall("dynamodb", "GetItem", {})
    assert gen.summary([]) == "none"
    assert (
        gen.summary([call, call, gen.AwsCall("ssm", "GetParameter", {})])
        == "dynamodb.GetItem x2, ssm.GetParameter"
    )


def test_requests_are_compared_with_the_declared_minimum() -> None:
    health = expected_for("GET /api/health")
    assert health is not None
    assert (health.first, health.repeat) == (("GetItem",), ("GetItem",))
    assert expected_for("GET /api/unknown") is None
    search = expected_for("GET /api/users", "users/search-users.json")
    listing = expected_for("GET /api/users", "users/list-users.json")
    assert search is not None
    assert listing is not None
    assert search.first != listing.first
    assert same_operations(["Query", "GetItem"], ["GetItem", "Query"])
    assert not same_operations(["GetItem", "GetItem"], ["GetItem"])


def results(**changes: Any) -> Results:
    base = Results(
        datetime(2026, 12, 1, tzinfo=UTC),
        60.0,
        9,
        False,
        DeployedSizes({"SharedLayer": 23_000_000}, {}, 10, []),
    )
    base.cold = [
        ColdRow(
            "AuthFunction",
            "auth/00-health.json",
            "GET /api/health",
            200,
            "dynamodb.GetItem",
            700,
            690,
            "B0",
            300,
            290,
            "B1",
            660,
            650,
        )
    ]
    base.warm = [
        WarmRow("AuthFunction", "GET /api/health", "dynamodb.GetItem", 5.0, 2.5, "B1", 5.0, 2.5, 1.1, 100)
    ]
    base.memory = [MemoryRow("AuthFunction", 1000, {"200": 1000}, 60_000)]
    base.requests = [
        RequestRow(
            "AuthFunction", "auth/00-health.json", "GET /api/health", 200, ["GetItem"], ["GetItem"], []
        )
    ]
    base.load = LoadResult(30.0, 4, 2, {"GET /api/health": RouteResult("GET /api/health", [50.0] * 100)})
    for key, value in changes.items():
        setattr(base, key, value)
    return base


def test_every_row_within_budget_says_so() -> None:
    report = results()
    assert report.over_budget() == []
    text = report.markdown()
    assert "**Every row is within budget.**" in text
    for section in (
        "## Cold start",
        "## Layer size",
        "## Warm path",
        "## Memory",
        "## DynamoDB requests per route",
        "## Load",
    ):
        assert section in text
    assert "machine:" in text
    assert "date: 2026-12-01" in text


def test_over_budget_rows_are_named_plainly() -> None:
    report = results(
        sizes=DeployedSizes({"SharedLayer": 26_500_000}, {}, 10, []),
        memory=[MemoryRow("AuthFunction", 1000, {"200": 1000}, 150_000)],
        requests=[
            RequestRow(
                "AuthFunction", "auth/00-health.json", "GET /api/health", 200, ["GetItem"], ["Scan"], []
            ),
            RequestRow(
                "UsersFunction", "users/x.json", "GET /api/nowhere", 200, ["GetItem"], ["GetItem"], []
            ),
            RequestRow(
                "AuthFunction",
                "auth/00-health.json",
                "GET /api/health",
                200,
                ["GetItem", "GetItem"],
                ["GetItem"],
                [],
            ),
        ],
        load=LoadResult(30.0, 4, 2, {"GET /api/health": RouteResult("GET /api/health", [50.0], errors=2)}),
    )
    report.cold[0].cpu_ms = 800  # 1.23x B1
    over = report.over_budget()
    assert any(line.startswith("cold start: AuthFunction") for line in over)
    assert any("layer size: SharedLayer is 26.5 MB" in line for line in over)
    assert any(line.startswith("memory: AuthFunction") for line in over)
    assert any("issued 1 Scan" in line for line in over)
    assert any("GET /api/nowhere has no declared minimum" in line for line in over)
    assert any(line.startswith("load: 2 error(s)") for line in over)
    assert any(
        "made GetItem, GetItem / GetItem again; the minimum is GetItem / GetItem again" in line
        for line in over
    )
    assert "**over budget**" in report.markdown()


def test_load_requests_are_built_from_sample_events() -> None:
    event = http_event("GET", "/api/things/a b")
    event["rawQueryString"] = "page=2"
    event["headers"]["authorization"] = "Bearer t"
    event["cookies"] = ["a=1", "b=2"]
    method, path, headers, body = _request_of(event)
    assert (method, path, body) == ("GET", "/api/things/a%20b?page=2", b"")
    assert headers == {"authorization": "Bearer t", "cookie": "a=1; b=2"}


# ------------------------------------------------------------------ the worker's jobs, the cost (issue #20)


def test_a_recording_carries_the_items_dynamodb_returned(emulator: Emulator, tmp_path: Path) -> None:
    emulator.clients().dynamodb().put_item(
        TableName="bench-test", Item={"PK": {"S": "a1"}, "SK": {"S": "X"}, "name": {"S": "mug"}}
    )
    function = contender(emulator, write(tmp_path / "fn", FUNCTION))
    (recorded,) = record(function, [("a.json", http_event("GET", "/api/things/a1"))])
    assert recorded.cold.calls[0].items == ({"PK": {"S": "a1"}, "SK": {"S": "X"}, "name": {"S": "mug"}},)
    assert cost.units_of(recorded.cold.calls[0]) == cost.Units(rru=0.5)


WORKER = """
import json
import sys


def handler(event, context):
    for record in event["Records"]:
        print(json.dumps({"job": json.loads(record["body"])["jobId"]}))
    failed = [{"itemIdentifier": r["messageId"]} for r in event["Records"] if "poison" in r["body"]]
    return {"batchItemFailures": failed}
"""


def test_worker_jobs_are_served_once_each_timed_and_their_logs_counted(
    emulator: Emulator, tmp_path: Path
) -> None:
    source = jobs.JobSource(jobs.EMAIL, "arn:aws:sqs:us-east-1:123456789012:app-backend-email-test")
    worker = dataclasses.replace(contender(emulator, write(tmp_path / "w", WORKER)), event=source.event())
    runs = record_once(worker, [source.event(), source.event(3)])
    assert [r.status for r in runs] == [200, 200]
    poison = jobs.sqs_event([{"type": "email.send", "jobId": "poison"}], source.queue_arn)
    assert record_once(worker, [poison])[0].code == "1 failed"
    session = Session(worker, [source.event()], log=tmp_path / "worker.log")
    try:
        wall, cpu, logged = session.time_events([source.event(), source.event(10)])
        assert len(wall) == len(cpu) == 2
        assert logged == sum(len(json.dumps({"job": f"bench-welcome-{n:06d}"})) + 1 for n in range(5, 16))
    finally:
        session.close()


def test_job_sources_never_repeat_a_job_and_run_out_of_orders_loudly() -> None:
    source = jobs.JobSource(jobs.ORDER_PROCESS, "arn:aws:sqs:us-east-1:123456789012:q", ["o1", "o2", "o3"])
    single, pair = source.event(), source.event(2)
    bodies = [json.loads(r["body"]) for r in [*single["Records"], *pair["Records"]]]
    assert [b["orderId"] for b in bodies] == ["o1", "o2", "o3"]
    assert len({r["messageId"] for r in [*single["Records"], *pair["Records"]]}) == 3
    assert pair["Records"][0]["eventSourceARN"] == "arn:aws:sqs:us-east-1:123456789012:q"
    assert pair["Records"][0]["messageAttributes"]["type"]["stringValue"] == "order.process"
    with pytest.raises(RuntimeError, match="out of seeded orders"):
        source.event()
    assert jobs.job_body(jobs.ORDER_CONFIRMATION, "o9")["jobId"] == "order-confirmation-o9"
    assert jobs.orders_needed(rounds=9, singles=60, batches=20) == 2 + 10 + 10 + 1 + 60 + 200


def test_item_sizes_follow_dynamodbs_rules() -> None:
    assert cost.item_size({"PK": {"S": "USER#1"}}) == 2 + 6
    assert cost.item_size({"n": {"N": "12345"}}) == 1 + 4  # 5 digits: 3 bytes + 1
    assert cost.item_size({"n": {"N": "-0.50"}}) == 1 + 2
    assert cost.item_size({"ok": {"BOOL": True}, "x": {"NULL": True}}) == 3 + 2
    assert cost.item_size({"m": {"M": {"a": {"S": "xy"}}}}) == 1 + 3 + 1 + 1 + 2
    assert cost.item_size({"l": {"L": [{"S": "a"}, {"S": "bc"}]}}) == 1 + 3 + 2 + 3


def call(operation: str, params: dict[str, Any], *items: dict[str, Any]) -> gen.AwsCall:
    return gen.AwsCall("dynamodb", operation, params, tuple(items))


def test_read_units_by_size_consistency_and_transactions() -> None:
    small = {"PK": {"S": "x"}}
    big = {"PK": {"S": "x" * 5000}}  # 5 KB: two 4 KB units
    assert cost.units_of(call("GetItem", {}, small)).rru == 0.5
    assert cost.units_of(call("GetItem", {"ConsistentRead": True}, big)).rru == 2
    assert cost.units_of(call("GetItem", {"ConsistentRead": True})).rru == 1  # found nothing: the minimum
    assert cost.units_of(call("Query", {}, small, small, small)).rru == 0.5  # rounded over the result
    batch = {"RequestItems": {"t": {"Keys": [{}, {}, {}], "ConsistentRead": True}}}
    assert cost.units_of(call("BatchGetItem", batch, small, big)).rru == 1 + 2 + 1  # each item, one missing
    assert cost.units_of(call("TransactGetItems", {"TransactItems": [{}, {}]}, small)).rru == 4
    assert cost.units_of(gen.AwsCall("ses", "SendEmail", {})) == cost.Units()


def test_write_units_double_in_transactions_and_count_index_entries() -> None:
    plain = {"PK": {"S": "IDEMPOTENCY#1"}, "SK": {"S": "X"}}
    indexed = {"PK": {"S": "ORDER#1"}, "SK": {"S": "ORDER"}, "GSI1PK": {"S": "a"}, "GSI2PK": {"S": "b"}}
    assert cost.units_of(call("PutItem", {"Item": plain})).wru == 1
    assert cost.units_of(call("PutItem", {"Item": {"PK": {"S": "x" * 1500}}})).wru == 2
    assert cost.units_of(call("PutItem", {"Item": indexed})).wru == 1 + 2
    # an update of an indexed item rewrites its entries; one that moves an index key deletes the old one
    assert cost.units_of(call("UpdateItem", {"Key": plain, "UpdateExpression": "SET a = :a"})).wru == 1
    order = {"Key": {"PK": {"S": "ORDER#1"}, "SK": {"S": "ORDER"}}}
    assert cost.units_of(call("UpdateItem", {**order, "UpdateExpression": "SET #s = :s"})).wru == 1 + 3
    moved = {**order, "UpdateExpression": "SET #k = :k", "ExpressionAttributeNames": {"#k": "GSI2PK"}}
    assert cost.units_of(call("UpdateItem", moved)).wru == 1 + 3 + 1
    assert cost.units_of(call("DeleteItem", {"Key": plain})).wru == 1
    transaction = {
        "TransactItems": [{"Put": {"Item": indexed}}, {"Update": order | {"UpdateExpression": "ADD n :one"}}]
    }
    assert cost.units_of(call("TransactWriteItems", transaction)).wru == (2 + 2) + (2 + 3)
    assert cost.units_of_calls([call("PutItem", {"Item": plain})] * 3) == cost.Units(wru=3)


def test_lambda_arithmetic_rounds_each_invocation_and_bills_cold_inits() -> None:
    assert cost.billed_ms(0.4, 500, 0.0) == 1  # rounded up to the millisecond
    assert cost.billed_ms(2.2, 600.2, 0.01) == pytest.approx(0.99 * 3 + 0.01 * 601)
    # 512 MB for 1 s: half a GB-second
    assert cost.lambda_usd(512, 1000) == pytest.approx(0.2e-6 + 0.5 * 0.0000133334)
    assert cost.logs_usd(1e9) == 0.50
    assert cost.snapstart_restore_usd(512) == pytest.approx(0.5 * 0.0001397998)
    assert cost.snapstart_cache_usd_a_month(512) == pytest.approx(0.5 * 730 * 3600 * 0.0000015046)


def test_api_cost_per_million_adds_its_parts() -> None:
    figures = cost.ApiFigures(
        "AuthFunction", "GET /api/health", 512, 3.2, 600, [call("GetItem", {})], log_bytes=340, snapstart=True
    )
    c = cost.api_cost(figures, 0.01)
    assert c.billed_ms == pytest.approx(0.99 * 4 + 0.01 * 600)
    assert c.lambda_usd == pytest.approx((0.2e-6 + 0.5 * c.billed_ms / 1000 * 0.0000133334) * 1e6)
    assert c.lambda_prod_usd == pytest.approx(
        (0.2e-6 + 0.5 * 4 / 1000 * 0.0000133334 + 0.01 * 0.5 * 0.0001397998) * 1e6
    )
    assert c.dynamodb_usd == pytest.approx(0.5 * 0.125)
    assert c.api_usd == 1.0
    assert c.logs_usd == pytest.approx((340 + 330 + 330) / 1e9 * 0.5 * 1e6)
    assert c.xray_usd == pytest.approx(0.25)
    assert c.total == pytest.approx(c.lambda_usd + c.dynamodb_usd + 1.0 + c.logs_usd + 0.25)
    assert 0 < c.cold_part < 1


def test_job_cost_shares_the_invocation_and_the_queue_requests_over_a_batch() -> None:
    calls = [call("PutItem", {"Item": {"PK": {"S": "I"}}}), gen.AwsCall("ses", "SendEmail", {})] * 10
    batch = cost.JobFigures("email.send", 10, 512, 50.0, 400.0, calls, 10, 2000)
    single = cost.JobFigures("email.send", 1, 512, 6.0, 400.0, calls[:2], 1, 200)
    b, s = cost.job_cost(batch, 0.0), cost.job_cost(single, 0.0)
    assert b.sqs_usd == pytest.approx((1 + 2 / 10) * 0.40)
    assert s.sqs_usd == pytest.approx(3 * 0.40)
    assert b.ses_usd == s.ses_usd == pytest.approx(100.0)
    assert b.emails_per_job == 1
    assert b.dynamodb == s.dynamodb == cost.Units(wru=1)
    assert b.ms_per_job == 5.0
    assert b.lambda_usd == pytest.approx(1e5 * (0.2e-6 + 0.5 * 0.050 * 0.0000133334))
    assert b.logs_usd == pytest.approx(1e5 * (2000 + 330) / 1e9 * 0.5)
    # a cold batch: the cold one-record invocation and the other nine records at the warm rate
    assert cost.job_cost(batch, 1.0).ms_per_job == pytest.approx((400 + 9 * 5) / 10)


def test_alarm_metrics_count_each_metric_a_math_alarm_reads() -> None:
    template = {
        "Resources": {
            "A": {"Type": "AWS::CloudWatch::Alarm", "Properties": {"MetricName": "Errors"}},
            "B": {
                "Type": "AWS::CloudWatch::Alarm",
                "Properties": {
                    "Metrics": [{"Id": "e", "Expression": "a/b"}, {"MetricStat": {}}, {"MetricStat": {}}]
                },
            },
            "C": {"Type": "AWS::SQS::Queue"},
        }
    }
    assert cost.alarm_metrics(template) == 3
    assert cost.FixedCosts(alarm_metrics=3).alarms == pytest.approx(0.30)
    assert cost.money(0.00123) == "$0.0012"
    assert cost.money(1234.5) == "$1,234.50"


def test_the_report_prices_the_run() -> None:
    report = results(memory_mb={"AuthFunction": 512}, snapstart={"AuthFunction"}, alarm_metrics=10)
    report.warm[0].warm_calls = [call("GetItem", {})]
    report.warm[0].log_bytes = 300
    report.worker = [
        WorkerRow(
            "email.send",
            "an email",
            512,
            400,
            350,
            6.0,
            3.0,
            50.0,
            25.0,
            10,
            60,
            20,
            600,
            5000,
            [],
            [gen.AwsCall("ses", "SendEmail", {})],
            [gen.AwsCall("ses", "SendEmail", {})] * 10,
        )
    ]
    text = report.markdown()
    assert "## Worker" in text
    assert "## Cost" in text
    assert "| AuthFunction | GET /api/health | 512 MB |" in text
    assert "| email.send | batches of 10 |" in text
    assert cost.PRICES_READ_ON in text


def test_recorded_seed_requests_round_trip_like_the_childs() -> None:
    params = {"TransactItems": [{"Put": {"Item": {"PK": {"S": "x"}, "blob": {"B": b"\x00\x01"}}}}]}
    encoded = jobs._encoded([{"service": "dynamodb", "operation": "TransactWriteItems", "params": params}])
    (decoded,) = [gen.AwsCall.of(c) for c in json.loads(json.dumps(encoded))]
    assert decoded.params == params
    assert cost.units_of(decoded) == cost.Units(wru=2)
