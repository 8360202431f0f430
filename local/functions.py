"""The template's functions as the local cloud runs them: code, handler, environment and events.

SAM's Globals.Function rules apply: plain values are overridden by the function, maps (the
environment) are merged, lists (layers) are added after the global ones.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from local.intrinsics import IntrinsicError
from local.s3_events import S3Subscription, subscription
from local.stack import Stack

FUNCTION_TYPES = ("AWS::Serverless::Function",)


class FunctionConfigError(ValueError):
    """A function that cannot run locally as configured (names the function)."""


@dataclass(frozen=True)
class HttpRoute:
    """One HttpApi event: `METHOD path` (or `$default`) → function."""

    function: str
    event: str
    method: str
    path: str
    timeout_ms: int = 30_000

    @property
    def route_key(self) -> str:
        return "$default" if self.path == "$default" else f"{self.method} {self.path}"


@dataclass(frozen=True)
class SqsSubscription:
    """One SQS event (an event source mapping)."""

    function: str
    event: str
    queue_arn: str
    batch_size: int
    batching_window: float
    report_batch_item_failures: bool
    enabled: bool = True
    #: ScalingConfig.MaximumConcurrency (2-1000), or None. The local poller runs one batch at a time
    #: per event source mapping, which is within any such cap.
    maximum_concurrency: int | None = None


@dataclass(frozen=True)
class ScheduleEvent:
    """One Schedule event (an EventBridge rule with this function as target)."""

    function: str
    event: str
    expression: str
    input: str | None
    rule_name: str
    rule_arn: str
    enabled: bool = True
    description: str = ""


@dataclass
class FunctionSpec:
    logical_id: str
    function_name: str
    arn: str
    code_dir: Path
    handler: str
    runtime: str
    timeout: int
    memory_size: int
    environment: dict[str, str]
    layer_dirs: list[Path]
    http_routes: list[HttpRoute] = field(default_factory=list)
    sqs: list[SqsSubscription] = field(default_factory=list)
    schedules: list[ScheduleEvent] = field(default_factory=list)
    s3: list[S3Subscription] = field(default_factory=list)
    #: The DeadLetterQueue's SQS queue ARN (asynchronous invocations that failed every attempt).
    dead_letter_arn: str | None = None
    #: EventInvokeConfig.MaximumRetryAttempts: retries of a failed asynchronous invocation (0 to 2).
    async_retries: int = 2
    warnings: list[str] = field(default_factory=list)

    @property
    def python_path(self) -> list[Path]:
        """What Lambda puts first on sys.path: the code (/var/task), then the layers (/opt/python)."""
        return [self.code_dir, *self.layer_dirs]


def load_functions(stack: Stack) -> dict[str, FunctionSpec]:
    """Every (condition-active) Python function of the stack, resolved."""
    globals_ = (stack.template.get("Globals") or {}).get("Function") or {}
    functions: dict[str, FunctionSpec] = {}
    for logical_id, resource in stack.of_type(*FUNCTION_TYPES).items():
        props = resource.get("Properties") or {}
        try:
            spec = _function(stack, logical_id, globals_, props)
        except IntrinsicError as exc:
            raise FunctionConfigError(f"{logical_id}: {exc}") from None
        if spec is not None:
            functions[logical_id] = spec
    return functions


def _function(
    stack: Stack, logical_id: str, globals_: dict[str, Any], props: dict[str, Any]
) -> FunctionSpec | None:
    def setting(name: str, default: Any = None) -> Any:
        if name in props:
            return stack.resolve(props[name])
        if name in globals_:
            return stack.resolve(globals_[name])
        return default

    warnings: list[str] = []
    runtime = str(setting("Runtime", ""))
    if setting("PackageType", "Zip") != "Zip" or "InlineCode" in props or not runtime.startswith("python"):
        return None
    expected = f"python{sys.version_info.major}.{sys.version_info.minor}"
    if runtime != expected:
        warnings.append(f"runtime {runtime} runs here on {expected}")
    code_uri = setting("CodeUri")
    if not isinstance(code_uri, str):
        raise FunctionConfigError(f"{logical_id}: CodeUri must be a local directory, got {code_uri!r}")
    name = str(stack.attribute(logical_id, None))

    env_vars: dict[str, Any] = {}
    for source in (globals_, props):
        variables = ((source.get("Environment") or {}).get("Variables")) or {}
        for key, raw in variables.items():
            env_vars[key] = raw
    environment: dict[str, str] = {}
    for key, raw in env_vars.items():
        try:
            value = stack.resolve(raw)
        except IntrinsicError as exc:
            raise FunctionConfigError(f"{logical_id}: environment variable {key}: {exc}") from None
        if value is not None:
            environment[key] = _env_text(value)

    layer_dirs: list[Path] = []
    for entry in [*(globals_.get("Layers") or []), *(props.get("Layers") or [])]:
        layer = _chosen(stack, entry)
        if layer is None:  # `!If [Condition, !Ref Layer, !Ref AWS::NoValue]` with the condition off
            continue
        layer_dir = _layer_dir(stack, layer)
        if layer_dir is None:
            warnings.append(f"layer {stack.resolve(layer)} is not in the template: not available locally")
        elif layer_dir not in layer_dirs:
            layer_dirs.append(layer_dir)

    spec = FunctionSpec(
        logical_id=logical_id,
        function_name=name,
        arn=str(stack.attribute(logical_id, "Arn")),
        code_dir=(stack.root / code_uri).resolve(),
        handler=str(setting("Handler", "app.handler")),
        runtime=runtime,
        timeout=int(setting("Timeout", 3)),
        memory_size=int(setting("MemorySize", 128)),
        environment=environment,
        layer_dirs=layer_dirs,
        dead_letter_arn=_dead_letter_arn(stack, logical_id, setting("DeadLetterQueue"), warnings),
        async_retries=int((setting("EventInvokeConfig") or {}).get("MaximumRetryAttempts", 2)),
        warnings=warnings,
    )
    for event_name, event in (props.get("Events") or {}).items():
        _add_event(stack, spec, str(event_name), event)
    return spec


def _dead_letter_arn(stack: Stack, logical_id: str, config: Any, warnings: list[str]) -> str | None:
    """The SQS queue of a function's ``DeadLetterQueue`` (an SNS one is not emulated: a warning)."""
    if not isinstance(config, dict) or not config.get("TargetArn"):
        return None
    if str(config.get("Type", "SQS")).upper() != "SQS":
        warnings.append("an SNS DeadLetterQueue is not emulated: failed asynchronous events are dropped")
        return None
    try:
        return str(stack.resolve(config["TargetArn"]))
    except IntrinsicError as exc:
        raise FunctionConfigError(f"{logical_id}: DeadLetterQueue.TargetArn: {exc}") from None


def _chosen(stack: Stack, layer: Any) -> Any:
    """A Layers entry with its ``Fn::If`` decided (the branch the condition picks, unresolved, so a
    ``Ref`` to a layer stays a ``Ref``); None where the branch is ``AWS::NoValue``."""
    while isinstance(layer, dict) and set(layer) == {"Fn::If"}:
        condition, then, otherwise = layer["Fn::If"]
        layer = then if stack.resolver.condition(str(condition)) else otherwise
    if layer == {"Ref": "AWS::NoValue"}:
        return None
    return layer


def _layer_dir(stack: Stack, layer: Any) -> Path | None:
    if not (isinstance(layer, dict) and set(layer) == {"Ref"}):
        return None
    resource = stack.resources.get(str(layer["Ref"]))
    if resource is None or resource.get("Type") not in (
        "AWS::Serverless::LayerVersion",
        "AWS::Lambda::LayerVersion",
    ):
        return None
    content = stack.prop(str(layer["Ref"]), "ContentUri")
    if not isinstance(content, str):
        return None
    directory = (stack.root / content).resolve()
    # A packaged layer keeps Python code under python/ (Lambda's /opt/python); a source layer that
    # SAM builds keeps it at the top.
    return directory / "python" if (directory / "python").is_dir() else directory


def _add_event(stack: Stack, spec: FunctionSpec, name: str, event: dict[str, Any]) -> None:
    etype = event.get("Type")
    props = stack.resolve(event.get("Properties") or {})
    if etype == "HttpApi":
        if str(props.get("PayloadFormatVersion", "2.0")) != "2.0":
            spec.warnings.append(f"event {name}: only payload format 2.0 is emulated")
        if props.get("Auth"):
            spec.warnings.append(f"event {name}: route authorizers are not emulated")
        path = props.get("Path")
        method = str(props.get("Method", "ANY")).upper()
        if method == "X-AMAZON-APIGATEWAY-ANY-METHOD":
            method = "ANY"
        spec.http_routes.append(
            HttpRoute(
                function=spec.logical_id,
                event=name,
                method="ANY" if path is None else method,
                path="$default" if path is None else str(path),
                timeout_ms=int(props.get("TimeoutInMillis", 30_000)),
            )
        )
    elif etype == "SQS":
        if props.get("FilterCriteria"):
            spec.warnings.append(
                f"event {name}: FilterCriteria are not emulated (every message is delivered)"
            )
        scaling = props.get("ScalingConfig") or {}
        maximum = scaling.get("MaximumConcurrency") if isinstance(scaling, dict) else None
        if maximum is not None and not 2 <= int(maximum) <= 1000:
            raise FunctionConfigError(
                f"{spec.logical_id} event {name}: ScalingConfig.MaximumConcurrency must be 2-1000 "
                f"(AWS refuses {maximum})"
            )
        spec.sqs.append(
            SqsSubscription(
                function=spec.logical_id,
                event=name,
                queue_arn=str(props["Queue"]),
                batch_size=int(props.get("BatchSize", 10)),
                batching_window=float(props.get("MaximumBatchingWindowInSeconds", 0)),
                report_batch_item_failures="ReportBatchItemFailures"
                in (props.get("FunctionResponseTypes") or []),
                enabled=props.get("Enabled", True) not in (False, "false"),
                maximum_concurrency=None if maximum is None else int(maximum),
            )
        )
    elif etype == "Schedule":
        rule_name = str(props.get("Name") or stack.generated_name(f"{spec.logical_id}{name}"))
        enabled = (
            props.get("Enabled", True) not in (False, "false") and props.get("State", "ENABLED") != "DISABLED"
        )
        raw_input = props.get("Input")
        spec.schedules.append(
            ScheduleEvent(
                function=spec.logical_id,
                event=name,
                expression=str(props["Schedule"]),
                input=None if raw_input is None else str(raw_input),
                rule_name=rule_name,
                rule_arn=stack.arn("events", f"rule/{rule_name}"),
                enabled=enabled,
                description=str(props.get("Description", "")),
            )
        )
    elif etype == "S3":
        # Bucket is a Ref to a bucket of the template: its name once provisioned (local/provision.py)
        spec.s3.append(subscription(spec.logical_id, name, props))
    else:
        spec.warnings.append(f"event {name} of type {etype} is not emulated")


def _env_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    raise IntrinsicError(f"environment values must be strings, got {value!r}")
