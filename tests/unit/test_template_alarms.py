"""The translated template's alarms and dashboard (docs/operations.md): every dead-letter queue, every
queue a function reads, every function and the API have their alarms, all of them notify the alarm
topic, and the dashboard's widgets name resources that exist.

The template is read as SAM translates it (tests/support/sam.py): what CloudFormation would create,
so a function added later without its alarms fails here.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.support.sam import translate, translated

ROOT = Path(__file__).resolve().parents[2]
_SUB_REFERENCE = re.compile(r"\$\{([A-Za-z0-9:]+)(?:\.([A-Za-z]+))?\}")


def of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def alarms(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {k: v["Properties"] for k, v in of_type(template, "AWS::CloudWatch::Alarm").items()}


def watched(alarm: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(namespace, metric, dimensions) of every metric an alarm reads, plain or in metric math."""
    found = []
    if "MetricName" in alarm:
        dimensions = {d["Name"]: d["Value"] for d in alarm.get("Dimensions", [])}
        found.append((alarm["Namespace"], alarm["MetricName"], dimensions))
    for query in alarm.get("Metrics", []):
        if "MetricStat" in query:
            metric = query["MetricStat"]["Metric"]
            dimensions = {d["Name"]: d["Value"] for d in metric.get("Dimensions", [])}
            found.append((metric["Namespace"], metric["MetricName"], dimensions))
    return found


def alarmed(template: dict[str, Any], namespace: str, metric: str, dimension: str) -> dict[Any, list[str]]:
    """The dimension values (as the template writes them: {"Ref": ...}, {"Fn::GetAtt": ...}) that
    have an alarm on ``namespace``/``metric``, each with the alarms' logical ids."""
    result: dict[Any, list[str]] = {}
    for logical_id, alarm in alarms(template).items():
        for ns, name, dimensions in watched(alarm):
            if (ns, name) == (namespace, metric) and dimension in dimensions:
                result.setdefault(json.dumps(dimensions[dimension], sort_keys=True), []).append(logical_id)
    return result


def ref(logical_id: str) -> str:
    return json.dumps({"Ref": logical_id}, sort_keys=True)


def queue_name(logical_id: str) -> str:
    return json.dumps({"Fn::GetAtt": [logical_id, "QueueName"]}, sort_keys=True)


def dlqs(template: dict[str, Any]) -> set[str]:
    """Every queue some redrive policy or function dead-letters to."""
    targets = set()
    for resource in template["Resources"].values():
        props = resource.get("Properties", {})
        for arn in (props.get("RedrivePolicy", {}).get("deadLetterTargetArn"),
                    props.get("DeadLetterConfig", {}).get("TargetArn")):  # fmt: skip
            if isinstance(arn, dict) and "Fn::GetAtt" in arn:
                targets.add(arn["Fn::GetAtt"][0])
    return targets


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return translated()


def test_every_dead_letter_queue_alarms_on_a_visible_message(template: dict[str, Any]) -> None:
    queues = dlqs(template)
    assert queues >= {"EmailDLQ", "OrderDLQ", "MaintenanceDLQ", "EmailEventsDLQ", "ScheduledDLQ"}
    covered = alarmed(template, "AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName")
    for queue in queues:
        (alarm,) = covered[queue_name(queue)]
        props = alarms(template)[alarm]
        assert (props["Threshold"], props["ComparisonOperator"]) == (0, "GreaterThanThreshold")
        assert (props["Period"], props["EvaluationPeriods"]) == (60, 1)


def test_every_queue_a_function_reads_alarms_on_the_age_of_its_oldest_message(
    template: dict[str, Any],
) -> None:
    sources = {
        m["Properties"]["EventSourceArn"]["Fn::GetAtt"][0]
        for m in of_type(template, "AWS::Lambda::EventSourceMapping").values()
    }
    assert sources >= {"EmailQueue", "OrderQueue", "MaintenanceQueue", "EmailEventsQueue"}
    covered = alarmed(template, "AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName")
    assert set(covered) == {queue_name(q) for q in sources}
    # the order queue pages before the sweeper re-enqueues a PENDING order (600 s)
    (order_alarm,) = covered[queue_name("OrderQueue")]
    assert alarms(template)[order_alarm]["Threshold"] < 600


@pytest.mark.parametrize("metric", ["Errors", "Throttles"])
def test_every_function_alarms_on_errors_and_throttles(template: dict[str, Any], metric: str) -> None:
    functions = set(of_type(template, "AWS::Lambda::Function"))
    assert len(functions) >= 7
    covered = alarmed(template, "AWS/Lambda", metric, "FunctionName")
    assert set(covered) == {ref(f) for f in functions}


def test_every_api_function_alarms_on_its_p99_duration(template: dict[str, Any]) -> None:
    api_functions = {
        f
        for f, resource in of_type(template, "AWS::Lambda::Function").items()
        if resource["Properties"]["Environment"]["Variables"].get("CORS_ALLOWED_ORIGINS") is not None
    }
    # every function behind the API (a new one too: it must get its alarm in template.yaml)
    assert api_functions >= {
        "AuthFunction",
        "UsersFunction",
        "ProductsFunction",
        "ContentFunction",
        "OrdersFunction",
    }
    covered = alarmed(template, "AWS/Lambda", "Duration", "FunctionName")
    assert set(covered) == {ref(f) for f in api_functions}
    for alarm_ids in covered.values():
        (alarm_id,) = alarm_ids
        assert alarms(template)[alarm_id]["ExtendedStatistic"] == "p99"


def test_the_api_alarms_on_its_5xx_rate_and_p99_latency(template: dict[str, Any]) -> None:
    (api,) = of_type(template, "AWS::ApiGatewayV2::Api")
    (rate,) = alarmed(template, "AWS/ApiGateway", "5xx", "ApiId")[ref(api)]
    assert alarmed(template, "AWS/ApiGateway", "Count", "ApiId")[ref(api)] == [rate]
    expression = next(q["Expression"] for q in alarms(template)[rate]["Metrics"] if "Expression" in q)
    assert expression == "IF(requests >= 20, 100 * errors / requests, 0)"
    assert alarms(template)[rate]["Threshold"] == 1
    (latency,) = alarmed(template, "AWS/ApiGateway", "Latency", "ApiId")[ref(api)]
    assert alarms(template)[latency]["ExtendedStatistic"] == "p99"


def test_the_table_alarms_on_throttles_of_every_index_and_on_system_errors(template: dict[str, Any]) -> None:
    (table,) = of_type(template, "AWS::DynamoDB::Table")
    indexes = {i["IndexName"] for i in template["Resources"][table]["Properties"]["GlobalSecondaryIndexes"]}
    for metric in ("ReadThrottleEvents", "WriteThrottleEvents"):
        seen = {
            dimensions.get("GlobalSecondaryIndexName", "table")
            for alarm in alarms(template).values()
            for ns, name, dimensions in watched(alarm)
            if (ns, name) == ("AWS/DynamoDB", metric) and dimensions["TableName"] == {"Ref": table}
        }
        assert seen == indexes | {"table"}, metric
    operations = {
        dimensions["Operation"]
        for alarm in alarms(template).values()
        for ns, name, dimensions in watched(alarm)
        if (ns, name) == ("AWS/DynamoDB", "SystemErrors")
    }
    assert {
        "GetItem",
        "PutItem",
        "UpdateItem",
        "DeleteItem",
        "Query",
        "BatchGetItem",
        "TransactWriteItems",
    } <= operations


def test_account_concurrency_and_ses_reputation_alarm_below_the_limits(template: dict[str, Any]) -> None:
    by_metric = {name: alarm for alarm in alarms(template).values() for _, name, _ in watched(alarm)}
    assert by_metric["ConcurrentExecutions"]["Threshold"] == {"Ref": "ConcurrencyAlarmThreshold"}
    assert template["Parameters"]["ConcurrencyAlarmThreshold"]["Default"] == 800
    # SES reviews an account from a 5% bounce / 0.1% complaint rate and may pause it at 10% / 0.5%
    assert by_metric["Reputation.BounceRate"]["Threshold"] == 0.05
    assert by_metric["Reputation.ComplaintRate"]["Threshold"] == 0.001


def test_every_alarm_notifies_the_alarm_topic_and_the_email_is_optional(template: dict[str, Any]) -> None:
    for logical_id, alarm in alarms(template).items():
        assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}], logical_id
        assert alarm["OKActions"] == [{"Ref": "AlarmTopic"}], logical_id
        assert alarm["TreatMissingData"] == "notBreaching", logical_id
        assert "docs/operations.md#" in alarm["AlarmDescription"], logical_id
    subscription = template["Resources"]["AlarmEmailSubscription"]
    assert subscription["Condition"] == "HasAlarmEmail"
    assert subscription["Properties"] == {
        "TopicArn": {"Ref": "AlarmTopic"},
        "Protocol": "email",
        "Endpoint": {"Ref": "AlarmEmail"},
    }
    assert template["Parameters"]["AlarmEmail"]["Default"] == ""
    assert template["Conditions"]["HasAlarmEmail"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmEmail"}, ""]}]
    }


def test_every_alarm_is_documented_in_the_runbook(template: dict[str, Any]) -> None:
    text = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    anchors = set(re.findall(r'<a id="([a-z0-9-]+)"></a>', text))
    for logical_id, alarm in alarms(template).items():
        anchor = alarm["AlarmDescription"].split("docs/operations.md#", 1)[1].rstrip(".")
        assert anchor in anchors, (logical_id, anchor)


# ----------------------------------------------------------------------------- the dashboard
def dashboard_body(template: dict[str, Any]) -> tuple[dict[str, Any], list[tuple[str, str | None]]]:
    """The dashboard's body JSON (every ${...} replaced by a placeholder) and what it references."""
    (dashboard,) = of_type(template, "AWS::CloudWatch::Dashboard").values()
    source = dashboard["Properties"]["DashboardBody"]["Fn::Sub"]
    assert isinstance(source, str)
    references = [(m[1], m[2] or None) for m in _SUB_REFERENCE.finditer(source)]
    return json.loads(_SUB_REFERENCE.sub("placeholder", source)), references


def test_the_dashboard_references_only_resources_that_exist(template: dict[str, Any]) -> None:
    body, references = dashboard_body(template)
    assert references
    for logical_id, attribute in references:
        if logical_id.startswith("AWS::") or logical_id in template["Parameters"]:
            continue
        assert logical_id in template["Resources"], logical_id
        if attribute is not None:
            assert attribute == "QueueName"
            assert template["Resources"][logical_id]["Type"] == "AWS::SQS::Queue"
    named = {logical_id for logical_id, _ in references}
    functions = set(of_type(template, "AWS::Lambda::Function"))
    queues = set(of_type(template, "AWS::SQS::Queue"))
    assert functions <= named, functions - named
    assert queues <= named, queues - named
    assert {"HttpApi", "AppTable"} <= named
    assert all(widget["type"] in {"metric", "text"} for widget in body["widgets"])


def test_the_dashboard_shows_what_an_operator_looks_at_first(template: dict[str, Any]) -> None:
    body, _ = dashboard_body(template)
    metrics = {
        widget["properties"]["title"]: json.dumps(widget["properties"]["metrics"])
        for widget in body["widgets"]
        if widget["type"] == "metric"
    }
    wanted = {
        "API requests and errors (per minute)": ['"Count"', '"5xx"'],
        "Duration p99 per function (ms)": ['"Duration"', '"p99"'],
        "Queue depth (visible messages)": ['"ApproximateNumberOfMessagesVisible"'],
        "Age of the oldest message (s)": ['"ApproximateAgeOfOldestMessage"'],
        "Dead-letter queue depth": ['"ApproximateNumberOfMessagesVisible"'],
        "DynamoDB consumed capacity (units per minute)": [
            '"ConsumedReadCapacityUnits"',
            '"ConsumedWriteCapacityUnits"',
        ],
        "DynamoDB throttles and system errors": ['"ReadThrottleEvents"', "SystemErrors"],
        "Read cache hit ratio (%)": ['"CacheHits"', '"CacheMisses"', '"CacheUnavailable"'],
        "Orders per minute": ['"OrdersPlaced"'],
    }
    for title, needles in wanted.items():
        for needle in needles:
            assert needle in metrics[title], (title, needle)
    # the business metrics it shows are the ones the code emits (CacheUnavailable: backend.cache's own)
    from backend import observability

    emitted = {
        value for name, value in vars(observability).items() if name.isupper() and isinstance(value, str)
    }
    shown = set()
    for widget in body["widgets"]:
        namespace, name = None, None
        for row in widget["properties"].get("metrics", []):
            if isinstance(row[0], dict):
                shown.update(
                    re.findall(r'\{AppBackend,[a-z_,]+\} MetricName="([A-Za-z]+)"', row[0]["expression"])
                )
                continue
            if row[0] == "...":
                continue
            namespace = namespace if row[0] == "." else row[0]
            name = name if row[1] == "." else row[1]
            if namespace == "AppBackend":
                shown.add(name)
    assert {"OrdersPlaced", "CacheHits", "JobsProcessed", "RateLimited", "SignUps"} <= shown
    assert shown - {"CacheUnavailable"} <= emitted, shown - emitted


def test_prod_gets_the_same_alarms() -> None:
    dev, prod = translated(), translate({"Stage": "prod", "AlarmEmail": "oncall@example.com"})
    assert set(alarms(dev)) == set(alarms(prod))
    assert "AlarmEmailSubscription" in prod["Resources"]
