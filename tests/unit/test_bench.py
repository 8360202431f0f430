"""`make bench` (scripts/bench/): recordings, generated baselines, verdicts, the report.

The expensive parts (a real sam build, rounds of cold starts, the load test) run in `make bench`
itself; these tests drive the same code on a tiny function against the embedded emulator.
"""

from __future__ import annotations

import sysconfig
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from local.emulator import Emulator
from local.template import table_definition
from scripts.bench import contenders as gen
from scripts.bench.build import DeployedSizes
from scripts.bench.load import LoadResult, RouteResult, _request_of
from scripts.bench.measure import Contender, Session, cold_sample, record
from scripts.bench.report import ColdRow, MemoryRow, RequestRow, Results, WarmRow
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
