"""What it costs: the bench's measured figures priced with AWS's public price list (issue #20).

Everything here is arithmetic on what `make bench` measured in the same run (durations, the AWS
requests each route and job made, the items DynamoDB returned, the bytes the functions logged) and
on the prices below, so `make bench-record` regenerates the table in docs/benchmarks.md ("Cost")
and docs/operations.md ("Cost model") quotes it. What is assumed rather than measured is a named
constant here, and the report says so next to each number.

Prices: US East (N. Virginia), read on ``PRICES_READ_ON`` from the pages named in each ``Price``
(AWS renders some of its rate tables client-side; where a page's text did not show the rate, a
third-party copy that quotes the page was used to confirm it, named in ``confirmed``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from scripts.bench.contenders import AwsCall

PRICES_READ_ON = "2026-12-07"


@dataclass(frozen=True)
class Price:
    usd: float
    unit: str
    source: str
    confirmed: str = ""


PRICES: dict[str, Price] = {
    "lambda_request": Price(0.20 / 1e6, "request (arm64 and x86)", "https://aws.amazon.com/lambda/pricing/"),
    "lambda_gb_second": Price(
        0.0000133334,
        "GB-second, arm64, first 7.5 billion GB-s a month",
        "https://aws.amazon.com/lambda/pricing/",
        "https://cloudchipr.com/blog/aws-lambda-pricing",
    ),
    "snapstart_cache_gb_second": Price(
        0.0000015046,
        "GB-second of each cached snapshot (Python, .NET), at least 3 hours",
        "https://aws.amazon.com/lambda/pricing/ (SnapStart)",
        "https://awsnegotiations.com/blog/lambda-snapstart-cost-impact/",
    ),
    "snapstart_restore_gb": Price(
        0.0001397998,
        "GB restored (memory size), per restore",
        "https://aws.amazon.com/lambda/pricing/ (SnapStart)",
        "https://awsnegotiations.com/blog/lambda-snapstart-cost-impact/",
    ),
    "http_api_request": Price(
        1.00 / 1e6,
        "HTTP API request (first 300 million a month; each 512 KB is a request)",
        "https://aws.amazon.com/api-gateway/pricing/",
        "https://www.apigatewaycost.com/aws",
    ),
    "dynamodb_wru": Price(
        0.625 / 1e6,
        "write request unit, on-demand, Standard table class",
        "https://aws.amazon.com/dynamodb/pricing/on-demand/",
        "https://airbyte.com/data-engineering-resources/dynamodb-pricing",
    ),
    "dynamodb_rru": Price(
        0.125 / 1e6,
        "read request unit, on-demand, Standard table class",
        "https://aws.amazon.com/dynamodb/pricing/on-demand/",
        "https://airbyte.com/data-engineering-resources/dynamodb-pricing",
    ),
    "sqs_request": Price(
        0.40 / 1e6,
        "standard queue request (each 64 KB chunk; first million a month free)",
        "https://aws.amazon.com/sqs/pricing/",
    ),
    "ses_email": Price(0.10 / 1000, "email sent", "https://aws.amazon.com/ses/pricing/"),
    "logs_ingested_gb": Price(
        0.50, "GB of logs ingested (Standard class)", "https://aws.amazon.com/cloudwatch/pricing/"
    ),
    "metric_month": Price(
        0.30,
        "custom metric a month (first 10,000; EMF metrics included)",
        "https://aws.amazon.com/cloudwatch/pricing/",
    ),
    "alarm_metric_month": Price(
        0.10, "metric of a standard-resolution alarm a month", "https://aws.amazon.com/cloudwatch/pricing/"
    ),
    "dashboard_month": Price(
        3.00, "dashboard a month (the first 3 are free)", "https://aws.amazon.com/cloudwatch/pricing/"
    ),
    "xray_trace": Price(
        5.00 / 1e6, "trace recorded (first 100,000 a month free)", "https://aws.amazon.com/xray/pricing/"
    ),
}

# ------------------------------------------------------------------ assumptions (not measured)

#: The share of invocations that start a new execution environment. Not measurable on one machine:
#: it depends on traffic shape. 1%: a steady load keeps environments for minutes to hours (well
#: under 1% cold), but deploys (every one replaces every environment), scale-ups in bursts and quiet
#: hours (an environment idles out after minutes) raise it; the report shows 0.1% and 10% too.
COLD_SHARE = 0.01
COLD_SHARES_SHOWN = (0.001, 0.01, 0.10)
#: Lambda's own lines per invocation (START, END, REPORT; on the API functions in prod, the
#: INIT_REPORT/RESTORE_REPORT of a cold one is in the cold share's noise): about 330 bytes in AWS.
PLATFORM_LOG_BYTES = 330
#: The HTTP API's access-log line (template.yaml AccessLogSettings.Format, 10 fields, filled):
#: about 330 bytes.
ACCESS_LOG_BYTES = 330
#: X-Ray: Tracing: Active on every function, sampled by the default rule (the first request each
#: second, then 5%): at sustained traffic about 5% of requests are traced.
XRAY_SAMPLED = 0.05
#: Update and delete requests do not say how large the item is: assumed within 1 KB (one unit).
UNKNOWN_ITEM_BYTES = 1024
#: The SQS requests of one job's own message: its SendMessage, and the event source mapping's
#: ReceiveMessage and DeleteMessageBatch, each shared by the records of a batch. (A message a job
#: sends, such as order.process enqueueing the confirmation, is the next job's SendMessage.)
SQS_REQUESTS_PER_BATCH = 2  # receive + delete
#: The idle polling of the event source mappings (long polls of 20 s, several pollers per queue):
#: about 2.6 million empty receives a month over the four queues, whatever the traffic.
IDLE_POLLS_A_MONTH = 2_600_000
SECONDS_A_MONTH = 730 * 3600  # AWS's month

#: Items the indexes project (GSI1-3 ALL, GSI4 INCLUDE) by their sort key: an update or a delete
#: rewrites their entries too, which the request does not show (docs/operations.md, GSI write
#: amplification; layers/shared/backend/models/keys.py).
INDEXED_ITEMS: dict[str, int] = {"USER": 4, "ORDER": 3, "PRODUCT": 3, "POST": 3}
GSI_KEYS: dict[str, tuple[str, str]] = {f"GSI{n}": (f"GSI{n}PK", f"GSI{n}SK") for n in range(1, 5)}

# ------------------------------------------------------------------ DynamoDB request units


def item_size(item: Mapping[str, Any]) -> int:
    """An item's size as DynamoDB bills it: attribute names plus values (typed, as the low-level
    API carries them: {"S": ...}, {"N": ...})."""
    return sum(len(name.encode()) + _value_size(value) for name, value in item.items())


def _number_size(value: Any) -> int:
    digits = str(Decimal(str(value)).normalize()).lstrip("-").replace(".", "").lstrip("0") or "0"
    return (len(digits) + 1) // 2 + 1


def _binary_size(value: Any) -> int:
    return len(value) if isinstance(value, bytes | bytearray) else len(str(value))


_SIZES: dict[str, Any] = {
    "S": lambda v: len(str(v).encode()),
    "N": _number_size,
    "B": _binary_size,
    "BOOL": lambda _v: 1,
    "NULL": lambda _v: 1,
    "SS": lambda v: sum(len(str(x).encode()) for x in v),
    "NS": lambda v: sum(_number_size(x) for x in v),
    "BS": lambda v: sum(_binary_size(x) for x in v),
    "L": lambda v: 3 + sum(1 + _value_size(x) for x in v),
    "M": lambda v: 3 + sum(len(k.encode()) + 1 + _value_size(x) for k, x in v.items()),
}


def _value_size(value: Any) -> int:
    """A typed value's size (DynamoDB's rules: strings and binaries their length, numbers about a
    byte per two digits, lists and maps 3 bytes plus one per element)."""
    if not isinstance(value, Mapping) or len(value) != 1:
        return len(str(value).encode())
    ((kind, inner),) = value.items()
    size: int = _SIZES.get(kind, lambda v: len(str(v).encode()))(inner)
    return size


@dataclass(frozen=True)
class Units:
    rru: float = 0.0
    wru: float = 0.0

    def __add__(self, other: Units) -> Units:
        return Units(self.rru + other.rru, self.wru + other.wru)

    def scaled(self, factor: float) -> Units:
        return Units(self.rru * factor, self.wru * factor)

    @property
    def usd(self) -> float:
        return self.rru * PRICES["dynamodb_rru"].usd + self.wru * PRICES["dynamodb_wru"].usd


def _read_units(size: int, *, consistent: bool) -> float:
    return max(1, math.ceil(size / 4096)) * (1.0 if consistent else 0.5)


def _write_units(size: int) -> float:
    return float(max(1, math.ceil(size / 1024)))


def _sort_key(key: Mapping[str, Any] | None) -> str:
    value = (key or {}).get("SK")
    return str(value.get("S", "")) if isinstance(value, Mapping) else ""


def _index_writes_of_put(item: Mapping[str, Any]) -> float:
    """Each index whose partition key the item has gets an entry (1 unit per KB of it)."""
    size = item_size(item)
    return sum(_write_units(size) for pk, _sk in GSI_KEYS.values() if pk in item)


def _index_writes_of_update(params: Mapping[str, Any]) -> float:
    """An update rewrites the entries of the indexes its item is in (by its sort key); one whose
    expression sets an index key also deletes the old entry (one more unit each)."""
    indexed = INDEXED_ITEMS.get(_sort_key(params.get("Key")), 0)
    names = set((params.get("ExpressionAttributeNames") or {}).values())
    expression = str(params.get("UpdateExpression") or "")
    moved = sum(
        1
        for pk, sk in GSI_KEYS.values()
        if pk in names or sk in names or pk in expression or sk in expression
    )
    return float(max(indexed, moved) + moved)


def _write_action(operation: str, params: Mapping[str, Any]) -> tuple[float, float]:
    """(table units, index units) of one write, outside a transaction."""
    if operation in ("PutItem", "Put"):
        item = params.get("Item") or {}
        return _write_units(item_size(item)), _index_writes_of_put(item)
    if operation in ("UpdateItem", "Update"):
        return _write_units(UNKNOWN_ITEM_BYTES), _index_writes_of_update(params)
    if operation in ("DeleteItem", "Delete"):
        return _write_units(UNKNOWN_ITEM_BYTES), float(INDEXED_ITEMS.get(_sort_key(params.get("Key")), 0))
    if operation == "ConditionCheck":
        return 1.0, 0.0
    raise ValueError(f"not a write: {operation}")


def units_of(call: AwsCall) -> Units:
    """The request units one DynamoDB request consumes, from what it asked and what it returned.

    Reads: 1 unit per 4 KB strongly consistent, 0.5 eventually (a Query rounds its whole result,
    a BatchGetItem and a GetItem each item; a key that finds nothing still costs the minimum);
    transactional reads 2. Writes: 1 unit per KB (2 in a transaction), plus each index entry
    written (not doubled). Updates and deletes assume items within 1 KB (UNKNOWN_ITEM_BYTES). A put
    that replaces an item counts the index entries it leaves, not an old entry deleted because an
    index key changed (the request does not show the old item): one unit low per moved key.
    Control-plane requests (DescribeTable...) are not billed as request units: 0.
    """
    if call.service != "dynamodb":
        return Units()
    params: Mapping[str, Any] = call.params or {}
    if call.operation in ("GetItem", "Query", "BatchGetItem", "TransactGetItems"):
        return Units(rru=_reads(call.operation, params, [item_size(item) for item in call.items]))
    return Units(wru=_writes(call.operation, params))


def _reads(operation: str, params: Mapping[str, Any], sizes: list[int]) -> float:
    if operation in ("GetItem", "Query"):
        return _read_units(sum(sizes), consistent=bool(params.get("ConsistentRead")))
    if operation == "BatchGetItem":
        tables = (params.get("RequestItems") or {}).values()
        requested = sum(len(t.get("Keys") or []) for t in tables)
        consistent = any(t.get("ConsistentRead") for t in tables)
        found = sum(_read_units(size, consistent=consistent) for size in sizes)
        return found + max(0, requested - len(sizes)) * _read_units(0, consistent=consistent)
    count = len(params.get("TransactItems") or [])  # TransactGetItems
    return sum(2 * _read_units(size, consistent=True) for size in sizes) + 2.0 * max(0, count - len(sizes))


def _writes(operation: str, params: Mapping[str, Any]) -> float:
    total = 0.0
    if operation in ("PutItem", "UpdateItem", "DeleteItem"):
        total = sum(_write_action(operation, params))
    elif operation == "BatchWriteItem":
        for requests in (params.get("RequestItems") or {}).values():
            for request in requests:
                if "PutRequest" in request:
                    total += sum(_write_action("PutItem", request["PutRequest"]))
                else:
                    total += sum(_write_action("DeleteItem", request.get("DeleteRequest") or {}))
    elif operation == "TransactWriteItems":
        for action in params.get("TransactItems") or []:
            ((kind, body),) = action.items()
            table, index = _write_action(kind, body)
            total += 2 * table + index
    return total


def units_of_calls(calls: Iterable[AwsCall]) -> Units:
    total = Units()
    for call in calls:
        total += units_of(call)
    return total


def count(calls: Iterable[AwsCall], label: str) -> int:
    return sum(1 for call in calls if call.label == label)


# ------------------------------------------------------------------ Lambda


def billed_ms(warm_ms: float, cold_ms: float, cold_share: float) -> float:
    """Mean billed duration of an invocation: Lambda rounds each up to the millisecond; a cold one
    (on-demand, no SnapStart) is billed its init too (since 2025-08-01), here the measured import +
    first request."""
    return (1 - cold_share) * math.ceil(warm_ms) + cold_share * math.ceil(cold_ms)


def lambda_usd(memory_mb: int, ms: float) -> float:
    """Request + duration of one invocation of ``ms`` billed milliseconds."""
    return PRICES["lambda_request"].usd + memory_mb / 1024 * ms / 1000 * PRICES["lambda_gb_second"].usd


def logs_usd(bytes_: float) -> float:
    return bytes_ / 1e9 * PRICES["logs_ingested_gb"].usd


def snapstart_restore_usd(memory_mb: int) -> float:
    return memory_mb / 1024 * PRICES["snapstart_restore_gb"].usd


def snapstart_cache_usd_a_month(memory_mb: int) -> float:
    return memory_mb / 1024 * SECONDS_A_MONTH * PRICES["snapstart_cache_gb_second"].usd


# ------------------------------------------------------------------ the tables

MILLION = 1_000_000


@dataclass(frozen=True)
class ApiFigures:
    """What the bench measured for one API function's typical request (its first sample event)."""

    function: str
    route: str
    memory_mb: int
    warm_ms: float  # in-process wall median of the warm request
    cold_ms: float  # wall median of a fresh process: import + first request
    warm_calls: Sequence[AwsCall]  # the warm request's AWS requests
    log_bytes: float  # what the function logged per warm request (measured)
    snapstart: bool = True  # in prod


@dataclass(frozen=True)
class ApiCost:
    figures: ApiFigures
    cold_share: float
    billed_ms: float
    lambda_usd: float  # per million: requests + duration (dev: cold inits billed)
    lambda_prod_usd: (
        float  # per million with SnapStart: cold starts are restores (warm duration + restore charge)
    )
    dynamodb: Units  # per request
    api_usd: float
    logs_usd: float
    xray_usd: float

    @property
    def dynamodb_usd(self) -> float:
        return self.dynamodb.usd * MILLION

    @property
    def total(self) -> float:
        return self.lambda_usd + self.dynamodb_usd + self.api_usd + self.logs_usd + self.xray_usd

    @property
    def total_prod(self) -> float:
        return self.lambda_prod_usd + self.dynamodb_usd + self.api_usd + self.logs_usd + self.xray_usd

    @property
    def cold_part(self) -> float:
        """The share of the duration bill that is cold starts (dev)."""
        warm = (1 - self.cold_share) * math.ceil(self.figures.warm_ms)
        return 1 - warm / self.billed_ms if self.billed_ms else 0.0


def api_cost(figures: ApiFigures, cold_share: float = COLD_SHARE) -> ApiCost:
    ms = billed_ms(figures.warm_ms, figures.cold_ms, cold_share)
    prod_ms = math.ceil(figures.warm_ms)
    restore = cold_share * snapstart_restore_usd(figures.memory_mb) if figures.snapstart else 0.0
    log_bytes = figures.log_bytes + PLATFORM_LOG_BYTES + ACCESS_LOG_BYTES
    return ApiCost(
        figures,
        cold_share,
        ms,
        lambda_usd(figures.memory_mb, ms) * MILLION,
        (lambda_usd(figures.memory_mb, prod_ms) + restore) * MILLION
        if figures.snapstart
        else lambda_usd(figures.memory_mb, ms) * MILLION,
        units_of_calls(figures.warm_calls),
        PRICES["http_api_request"].usd * MILLION,
        logs_usd(log_bytes) * MILLION,
        XRAY_SAMPLED * PRICES["xray_trace"].usd * MILLION,
    )


@dataclass(frozen=True)
class JobFigures:
    """What the bench measured for one kind of job, delivered one per invocation or in batches."""

    job_type: str
    records: int  # per invocation: 1 or the batch size
    memory_mb: int
    invocation_ms: float  # warm wall median of one invocation
    cold_ms: float  # a fresh process: import + a one-record invocation
    calls_per_job: Sequence[AwsCall]  # the AWS requests of the invocation(s), per job (warm)
    jobs_recorded: int  # how many jobs ``calls_per_job`` covers (the requests are divided by it)
    log_bytes_per_invocation: float


@dataclass(frozen=True)
class JobCost:
    figures: JobFigures
    cold_share: float
    ms_per_job: float
    lambda_usd: float  # per million jobs
    sqs_usd: float
    ses_usd: float
    dynamodb: Units  # per job
    logs_usd: float
    xray_usd: float
    emails_per_job: float

    @property
    def dynamodb_usd(self) -> float:
        return self.dynamodb.usd * MILLION

    @property
    def total(self) -> float:
        return (
            self.lambda_usd + self.sqs_usd + self.ses_usd + self.dynamodb_usd + self.logs_usd + self.xray_usd
        )


def job_cost(figures: JobFigures, cold_share: float = COLD_SHARE) -> JobCost:
    """Per million jobs. The worker has no SnapStart: a cold invocation is billed its init (the
    measured cold one-record invocation, plus the rest of the batch at the warm rate)."""
    per_record = figures.invocation_ms / figures.records
    cold_invocation = figures.cold_ms + per_record * (figures.records - 1)
    ms = billed_ms(figures.invocation_ms, cold_invocation, cold_share)
    invocations = MILLION / figures.records
    calls = figures.calls_per_job
    jobs = max(1, figures.jobs_recorded)
    emails = (
        count(calls, "ses.SendEmail") + count(calls, "ses.SendRawEmail") + count(calls, "sesv2.SendEmail")
    )
    # the job's own message: its send, plus its share of the mapping's receive and delete
    sqs_requests = 1 + SQS_REQUESTS_PER_BATCH / figures.records
    log_bytes = figures.log_bytes_per_invocation + PLATFORM_LOG_BYTES
    return JobCost(
        figures,
        cold_share,
        ms / figures.records,
        lambda_usd(figures.memory_mb, ms) * invocations,
        sqs_requests * PRICES["sqs_request"].usd * MILLION,
        emails / jobs * PRICES["ses_email"].usd * MILLION,
        units_of_calls(calls).scaled(1 / jobs),
        logs_usd(log_bytes) * invocations,
        XRAY_SAMPLED * PRICES["xray_trace"].usd * invocations,
        emails / jobs,
    )


@dataclass
class FixedCosts:
    """What a month costs whatever the traffic (prod)."""

    snapstart_functions: dict[str, int] = field(default_factory=dict)  # function -> memory MB
    alarm_metrics: int = 0
    dashboards: int = 1
    custom_metrics: int = 0  # assumed (see docs/operations.md, Business metrics)

    @property
    def snapstart_cache(self) -> float:
        return sum(snapstart_cache_usd_a_month(mb) for mb in self.snapstart_functions.values())

    @property
    def alarms(self) -> float:
        return self.alarm_metrics * PRICES["alarm_metric_month"].usd

    @property
    def metrics(self) -> float:
        return self.custom_metrics * PRICES["metric_month"].usd

    @property
    def idle_polls(self) -> float:
        return IDLE_POLLS_A_MONTH * PRICES["sqs_request"].usd

    @property
    def dashboard(self) -> float:
        return max(0, self.dashboards - 3) * PRICES["dashboard_month"].usd


def alarm_metrics(template: Mapping[str, Any]) -> int:
    """Metrics the template's alarms are billed for: one per single-metric alarm, one per metric a
    metric-math alarm reads (expressions are free)."""
    total = 0
    for resource in (template.get("Resources") or {}).values():
        if not isinstance(resource, Mapping) or resource.get("Type") != "AWS::CloudWatch::Alarm":
            continue
        props = resource.get("Properties") or {}
        metrics = props.get("Metrics")
        total += sum(1 for m in metrics if isinstance(m, Mapping) and "MetricStat" in m) if metrics else 1
    return total


def money(value: float) -> str:
    """$0.0012, $0.045, $1.23, $123: enough digits to add up."""
    if value == 0:
        return "$0"
    if abs(value) < 0.01:
        return f"${value:.4f}"
    if abs(value) < 1:
        return f"${value:.3f}"
    return f"${value:,.2f}"
