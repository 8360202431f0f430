"""Command line: `python -m local [serve] ...`, `python -m local invoke ...`, `python -m local fire ...`,
`python -m local send ...`, `python -m local redrive ...`, `python -m local invoke-env ...` (``COMMANDS``
lists them, and the help too)."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from local.async_invoke import DEFAULT_DELAYS
from local.cache_probe import choose_cache
from local.cloud import CloudOptions, LocalCloud
from local.console import Console
from local.emulator import AwsClients, Emulator
from local.faults import FAULTS_ENV, FaultSpec, FaultSpecError
from local.functions import FUNCTION_TYPES, FunctionConfigError, load_functions
from local.gateway import PortInUseError
from local.instances import FunctionPool, instance_environment
from local.intrinsics import IntrinsicError, parse_parameter_overrides
from local.invoke_env import (
    DEFAULT_CONTAINER_OUT,
    DEFAULT_ENDPOINT_HOST,
    DEFAULT_OUT,
    attached_stack,
    write_json,
)
from local.invoke_env import build as build_invoke_env
from local.mailbox import Mailbox
from local.provision import ProvisioningError, provision
from local.sample_identity import SampleIdentityError, prepare_event
from local.stack import Stack, TemplateError
from local.template import TEMPLATE_PATH

_CONFIG_ERRORS = (
    IntrinsicError,
    ProvisioningError,
    FunctionConfigError,
    TemplateError,
    SampleIdentityError,
    ValueError,
)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--template", type=Path, help="the SAM template (default: the project's template.yaml)"
    )
    parser.add_argument(
        "--parameter-overrides",
        nargs="+",
        action="extend",
        default=[],
        metavar="Key=Value",
        help='template parameters, e.g. Stage=prod "HousekeepingSchedule=rate(1 minute)"',
    )


DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 3000
#: The variable `make` passes as PORT=: it is also every command's default port, so a shell that ran
#: `PORT=3001 make dev` reaches that cloud with `PORT=3001 python -m local send ...` (or `export PORT`).
PORT_ENV = "PORT"


def _port_option(parser: argparse.ArgumentParser, help_text: str) -> None:
    """``--port``, defaulting to ``$PORT`` when set (argparse converts it, so a bad one is an error)."""
    from_env = os.environ.get(PORT_ENV, "").strip()
    default = f"{from_env}, from ${PORT_ENV}" if from_env else f"{DEFAULT_PORT}, or ${PORT_ENV} when set"
    parser.add_argument(
        "--port", type=int, default=from_env or DEFAULT_PORT, help=f"{help_text} (default {default})"
    )


def _running_cloud_address(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--host",
        default=DEFAULT_HOST,
        help="gateway address of the running local cloud (default %(default)s)",
    )
    _port_option(parser, "gateway port of the running local cloud")


def _commands_epilog() -> str:
    width = max(len(name) for name in COMMANDS)
    lines = [f"  {name:<{width}}  {command.summary}" for name, command in COMMANDS.items()]
    return (
        "commands:\n"
        + "\n".join(lines)
        + "\n\n`python -m local COMMAND --help` describes one; without a command, `serve` runs."
    )


def _serve_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m local [serve]",
        description="Run the template locally: AWS emulator, HTTP API gateway, SQS delivery, schedules.",
        epilog=_commands_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--host", default=DEFAULT_HOST, help="address of the gateway (default %(default)s)")
    _port_option(parser, "port of the gateway")
    _common(parser)
    parser.add_argument(
        "--max-instances", type=int, default=4, help="concurrent instances per function (default 4)"
    )
    parser.add_argument(
        "--sqs-visibility-override",
        type=int,
        metavar="SECONDS",
        help="use this VisibilityTimeout for every queue instead of the template's (fast retries in tests)",
    )
    parser.add_argument(
        "--async-retry-delays",
        type=_delays,
        default=DEFAULT_DELAYS,
        metavar="SECONDS,SECONDS",
        help="wait between the attempts of a failed S3 event or scheduled invocation before its "
        "DeadLetterQueue (default 1,2; AWS waits 60 and 120 s)",
    )
    parser.add_argument(
        "--no-reload", action="store_true", help="keep instances when function or layer code changes"
    )
    parser.add_argument(
        "--faults",
        default=os.environ.get(FAULTS_ENV, ""),
        metavar="SPEC",
        help="DynamoDB faults the functions meet, e.g. conflict:0.2,throttle:0.1,index-lag:500ms "
        f"(default ${FAULTS_ENV}; docs/local-cloud.md)",
    )
    parser.add_argument(
        "--no-seed",
        action="store_true",
        help="do not create the local admin, the demo accounts and the sample catalog at start-up",
    )
    return parser


def _invoke_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m local invoke",
        description="Run one function once with an event (like `sam local invoke`, without Docker). "
        "The response goes to stdout, logs to stderr; the exit code is 1 if the handler failed.",
    )
    parser.add_argument("function", help="the function's logical id, e.g. WorkerFunction")
    parser.add_argument("--event", "-e", help="event JSON file ('-' for stdin); default {}")
    parser.add_argument(
        "--endpoint-url",
        help="use a running local cloud (its gateway URL) or emulator instead of starting a fresh emulator",
    )
    _common(parser)
    return parser


def _fire_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m local fire",
        description="Fire a Schedule event of the running local cloud now.",
    )
    parser.add_argument("function", help="the function's logical id, e.g. ScheduledFunction")
    parser.add_argument("event", help="the Schedule event's name, e.g. DlqMonitor")
    _running_cloud_address(parser)
    return parser


def _send_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m local send",
        description="Send one message to a queue of the running local cloud (its subscribers get it).",
    )
    parser.add_argument("queue", help="the queue's logical id, e.g. EmailQueue")
    parser.add_argument(
        "body",
        help="the message body, or @FILE to read it from a file ('@-' for stdin); a sample SQS event "
        "file (events/worker/*.json) sends each of its records' bodies",
    )
    _running_cloud_address(parser)
    return parser


def _delays(text: str) -> tuple[float, ...]:
    try:
        delays = tuple(float(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"not seconds: {text!r} (e.g. 1,2)") from None
    if not delays or any(delay < 0 for delay in delays):
        raise argparse.ArgumentTypeError(f"not seconds: {text!r} (e.g. 1,2)")
    return delays


def _drain_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m local drain",
        description="Wait until queues of the running local cloud are empty: no message waiting, delayed "
        "or in flight (their subscribers have processed and deleted every one). Exits 1 on --timeout.",
    )
    parser.add_argument(
        "queues", nargs="+", metavar="QUEUE", help="queue logical ids, e.g. OrderQueue EmailQueue"
    )
    parser.add_argument(
        "--timeout", type=float, default=30.0, help="seconds to wait at most (default %(default)s)"
    )
    _running_cloud_address(parser)
    return parser


def _redrive_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m local redrive",
        description="Move the messages of a dead-letter queue back to the queue they failed in: on the "
        "running local cloud (receive, send, delete), or with --aws on the deployed stack (SQS's "
        "StartMessageMoveTask). See docs/runbook.md.",
    )
    parser.add_argument("queue", help="the dead-letter queue's logical id, e.g. OrderDLQ")
    parser.add_argument(
        "--to", metavar="QUEUE", help="the destination queue's logical id (default: the DLQ's source queue)"
    )
    parser.add_argument("--max", type=int, metavar="N", help="move at most N messages (local only)")
    _running_cloud_address(parser)
    parser.add_argument(
        "--aws",
        action="store_true",
        help="redrive the deployed queue with your AWS credentials (names from the template and "
        "--parameter-overrides, e.g. Stage=prod)",
    )
    parser.add_argument("--region", help="AWS region with --aws (default: your AWS configuration's)")
    parser.add_argument(
        "--per-second",
        type=int,
        metavar="N",
        help="with --aws: MaxNumberOfMessagesPerSecond of the move task",
    )
    parser.add_argument("--wait", action="store_true", help="with --aws: wait until the move task finishes")
    _common(parser)
    return parser


def _invoke_env_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m local invoke-env",
        description="Write the --env-vars file of `sam local invoke` / `sam local start-api` for the "
        "running local cloud: every function's variables (the template's, resolved against that cloud's "
        "resources and parameters, plus its endpoint, credentials and region), the emulator addressed as "
        "a Docker container reaches it. SAM takes from --env-vars only the variables the template "
        "declares, so the others (the endpoint, credentials, region) also go to a --container-env-vars "
        "file (which SAM reads in debug mode, with --debug-port).",
    )
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help="the --env-vars file to write (default %(default)s)"
    )
    parser.add_argument(
        "--container-out",
        type=Path,
        default=DEFAULT_CONTAINER_OUT,
        help="the --container-env-vars file to write (default %(default)s)",
    )
    parser.add_argument(
        "--endpoint-host",
        default=DEFAULT_ENDPOINT_HOST,
        help="the host name containers reach this machine at (default %(default)s)",
    )
    _running_cloud_address(parser)
    _common(parser)
    return parser


@dataclass(frozen=True)
class Command:
    summary: str
    parser: Callable[[], argparse.ArgumentParser]
    run: Callable[[argparse.Namespace], int]


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    name = args[0] if args and args[0] in COMMANDS else "serve"
    if args and args[0] == name:
        args = args[1:]
    command = COMMANDS[name]
    try:
        return command.run(command.parser().parse_args(args))
    except _CONFIG_ERRORS as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def serve(args: argparse.Namespace) -> int:
    template = (args.template or TEMPLATE_PATH).resolve()
    overrides = parse_parameter_overrides(args.parameter_overrides)
    cache = choose_cache(template, overrides)
    try:
        faults = FaultSpec.parse(args.faults)
    except FaultSpecError as exc:
        print(f"error: --faults: {exc}", file=sys.stderr)
        return 2
    options = CloudOptions(
        template=template,
        host=args.host,
        port=args.port,
        parameter_overrides=overrides,
        max_instances=args.max_instances,
        sqs_visibility_override=args.sqs_visibility_override,
        async_retry_delays=args.async_retry_delays,
        reload=not args.no_reload,
        seed=not args.no_seed,
        faults=faults,
    )
    stop = threading.Event()

    def request_stop(signum: int, frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    cloud = LocalCloud(options)
    try:
        cloud.start()
    except PortInUseError as exc:
        print(f"error: {exc}: is a local cloud already running? Choose another with --port.", file=sys.stderr)
        return 1
    if cache is not None:
        cloud.console.line("cache", f"read cache: {cache}")
    if faults.active:
        cloud.console.line("faults", f"DynamoDB faults for the functions: {faults}")
    while not stop.wait(0.5):
        pass
    cloud.console.line("", "stopping the local cloud…")
    cloud.stop()
    cloud.console.line("", "stopped")
    return 0


def _running_cloud(url: str) -> dict[str, Any] | None:
    """The health document of the local cloud at `url`, or None if it is not one (a bare emulator)."""
    if not url.startswith(("http://", "https://")):
        return None  # urlopen would also read file: and other schemes
    try:
        health_url = f"{url.rstrip('/')}/_local/health"
        with urllib.request.urlopen(health_url, timeout=5) as response:  # noqa: S310  # nosec B310  # http(s) only, checked above
            health = json.load(response)
    except (urllib.error.URLError, ValueError, OSError):
        return None
    return health if isinstance(health, dict) and "endpointUrl" in health else None


def _gateway_cloud(args: argparse.Namespace) -> dict[str, Any] | None:
    """The health document of the local cloud at ``--host``/``--port``; None, said on stderr, if none."""
    base = f"http://{args.host}:{args.port}"
    running = _running_cloud(base)
    if running is None:
        print(f"error: no local cloud answers on {base}; start one with `make dev`", file=sys.stderr)
    return running


def _parameter_text(value: Any) -> str:
    return ",".join(str(item) for item in value) if isinstance(value, list) else str(value)


def invoke(args: argparse.Namespace) -> int:
    console = Console(sys.stderr)
    if args.event in (None, ""):
        event: Any = {}
    elif args.event == "-":
        event = json.load(sys.stdin)
    else:
        event = json.loads(Path(args.event).read_text(encoding="utf-8"))
    overrides = parse_parameter_overrides(args.parameter_overrides)
    running = _running_cloud(args.endpoint_url) if args.endpoint_url else None
    if running is not None:  # the running cloud's parameter values, unless overridden here
        overrides = {**{k: _parameter_text(v) for k, v in running.get("parameters", {}).items()}, **overrides}
    template = args.template or (
        Path(running["template"]) if running and running.get("template") else TEMPLATE_PATH
    )
    stack = Stack.from_file(template, overrides)
    declared = stack.of_type(*FUNCTION_TYPES)
    if args.function not in declared:
        print(
            f"error: no function {args.function!r}; the template has: {', '.join(declared)}", file=sys.stderr
        )
        return 1
    emulator: Emulator | None = None
    mailbox = Mailbox()
    if args.endpoint_url:
        endpoint = str(running["endpointUrl"]) if running is not None else args.endpoint_url
        provision(stack, AwsClients(endpoint), mode="ensure")
    else:
        emulator = Emulator()
        emulator.start()
        endpoint = emulator.endpoint_url
        provision(stack, emulator.clients())
        mailbox.watch()
    try:
        functions = load_functions(stack)
        spec = functions.get(args.function)
        if spec is None:
            print(
                f"error: no function {args.function!r}; the template has: {', '.join(functions)}",
                file=sys.stderr,
            )
            return 1
        # ${ACCESS_TOKEN} and the like: sample accounts in the emulator, tokens signed with its key.
        event = prepare_event(event, endpoint, spec.environment)
        pool = FunctionPool(
            spec, instance_environment(spec, endpoint, region=stack.region), console, max_instances=1
        )
        try:
            outcome = pool.invoke(event)
        finally:
            pool.shutdown()
        print(json.dumps(outcome.result if outcome.ok else outcome.error))
        if emulator is not None:
            for mail in mailbox.messages():
                console.line(
                    "mail", f"SES accepted {mail.subject!r} from {mail.source} to {', '.join(mail.to)}"
                )
        return 0 if outcome.ok else 1
    finally:
        if emulator is not None:
            emulator.stop()


def invoke_env(args: argparse.Namespace) -> int:
    running = _gateway_cloud(args)
    if running is None:
        return 1
    # the running cloud's parameter values (its resources were named with them), unless overridden here
    overrides = {
        **{k: _parameter_text(v) for k, v in running.get("parameters", {}).items()},
        **parse_parameter_overrides(args.parameter_overrides),
    }
    template = args.template or (Path(running["template"]) if running.get("template") else TEMPLATE_PATH)
    stack = attached_stack(template, overrides, running)
    files = build_invoke_env(stack, str(running["endpointUrl"]), endpoint_host=args.endpoint_host)
    write_json(args.out, files.functions)
    write_json(args.container_out, files.container)
    print(
        f"{args.out}: {len(files.functions)} functions ({', '.join(files.functions)}); "
        f"{args.container_out}: {', '.join(files.container)}; emulator at {files.endpoint_url} "
        "(valid while this local cloud runs)"
    )
    return 0


def fire(args: argparse.Namespace) -> int:
    base = f"http://{args.host}:{args.port}"
    url = f"{base}/_local/schedules/{quote(args.function, safe='')}/{quote(args.event, safe='')}/fire"
    request = urllib.request.Request(url, data=b"", method="POST")  # noqa: S310 - loopback URL we build
    try:
        with urllib.request.urlopen(request, timeout=900) as response:  # noqa: S310  # nosec B310  # http:// URL built from --host/--port
            body = json.load(response)
    except urllib.error.HTTPError as exc:
        detail = json.loads(exc.read() or b"{}")
        known = ", ".join(str(item.get("schedule")) for item in detail.get("details") or []) or "none"
        print(f"error: {detail.get('error', exc)} (schedules: {known})", file=sys.stderr)
        return 1
    except (urllib.error.URLError, OSError) as exc:
        print(f"error: no local cloud answers on {base} ({exc}); start one with `make dev`", file=sys.stderr)
        return 1
    print(json.dumps(body, indent=2))
    return 0 if body.get("ok") else 1


def _running_queues(
    args: argparse.Namespace, *names: str | None
) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The running cloud and its queues by logical id, once each of ``names`` (None: not given) is
    one of them; otherwise the error is printed and None returned."""
    running = _gateway_cloud(args)
    if running is None:
        return None
    queues = {name: res for name, res in running["resources"].items() if res["type"] == "AWS::SQS::Queue"}
    for name in names:
        if name is not None and name not in queues:
            print(f"error: no queue {name!r}; the template has: {', '.join(queues)}", file=sys.stderr)
            return None
    return running, queues


def send(args: argparse.Namespace) -> int:
    found = _running_queues(args, args.queue)
    if found is None:
        return 1
    running, queues = found
    if args.body == "@-":
        body = sys.stdin.read()
    elif args.body.startswith("@"):
        body = Path(args.body[1:]).read_text(encoding="utf-8")
    else:
        body = args.body
    sqs = AwsClients(str(running["endpointUrl"])).sqs()
    for message in _message_bodies(body):
        sent = sqs.send_message(QueueUrl=str(queues[args.queue]["ref"]), MessageBody=message)
        print(json.dumps({"queue": args.queue, "messageId": sent["MessageId"]}))
    return 0


#: How long the queues must stay empty to count as drained: a job that enqueues a follow-up (an
#: order's confirmation email) does so before its own message is deleted.
_DRAIN_SETTLE_SECONDS = 0.5


def drain(args: argparse.Namespace) -> int:
    found = _running_queues(args, *args.queues)
    if found is None:
        return 1
    running, queues = found
    sqs: Any = AwsClients(str(running["endpointUrl"])).sqs()  # the attribute names below, untyped
    names = (
        "ApproximateNumberOfMessages",
        "ApproximateNumberOfMessagesNotVisible",
        "ApproximateNumberOfMessagesDelayed",
    )

    def pending() -> dict[str, int]:
        counts: dict[str, int] = {}
        for name in args.queues:
            reply = sqs.get_queue_attributes(QueueUrl=str(queues[name]["ref"]), AttributeNames=list(names))
            counts[name] = sum(int(reply["Attributes"].get(key, 0)) for key in names)
        return counts

    started = time.monotonic()
    empty_since: float | None = None
    while True:
        now = time.monotonic()
        left = {name: count for name, count in pending().items() if count}
        if left:
            empty_since = None
        elif empty_since is None:
            empty_since = now
        elif now - empty_since >= _DRAIN_SETTLE_SECONDS:
            print(json.dumps({"drained": args.queues, "seconds": round(now - started, 1)}))
            return 0
        if now - started > args.timeout:
            print(f"error: not drained after {args.timeout:g} s: {json.dumps(left)}", file=sys.stderr)
            return 1
        time.sleep(0.1)


def _message_bodies(text: str) -> list[str]:
    """The bodies to send: each record's body when ``text`` is a sample SQS event (events/worker/...),
    else ``text`` itself."""
    try:
        document = json.loads(text)
    except ValueError:
        return [text]
    if isinstance(document, dict) and isinstance(document.get("Records"), list):
        bodies = [
            r["body"] for r in document["Records"] if isinstance(r, dict) and isinstance(r.get("body"), str)
        ]
        if bodies:
            return bodies
    return [text]


def redrive(args: argparse.Namespace) -> int:
    from local import redrive as moves

    if args.aws:
        return _redrive_aws(args)
    found = _running_queues(args, args.queue, args.to)
    if found is None:
        return 1
    running, queues = found
    sqs = AwsClients(str(running["endpointUrl"])).sqs()
    dlq_url = str(queues[args.queue]["ref"])
    destination = str(queues[args.to]["ref"]) if args.to else moves.source_queue_of(sqs, dlq_url)
    done = moves.move_messages(sqs, dlq_url, destination, limit=args.max)
    names = {str(res["ref"]): name for name, res in queues.items()}
    print(
        json.dumps(
            {"queue": args.queue, "destination": names.get(destination, destination), "moved": done.moved}
        )
    )
    return 0


def _redrive_aws(args: argparse.Namespace) -> int:
    from local import redrive as moves

    stack = Stack.from_file(
        args.template or TEMPLATE_PATH, parse_parameter_overrides(args.parameter_overrides)
    )
    names = {}
    for logical in (args.queue, args.to):
        if logical is None:
            continue
        name = stack.prop(logical, "QueueName") if logical in stack.of_type("AWS::SQS::Queue") else None
        if not isinstance(name, str):
            print(f"error: {logical!r} is not a queue with a QueueName in the template", file=sys.stderr)
            return 1
        names[logical] = name
    sqs = _aws_sqs(args.region)

    def arn(queue_name: str) -> str:
        url = sqs.get_queue_url(QueueName=queue_name)["QueueUrl"]
        return str(
            sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        )

    result = moves.start_move_task(
        sqs,
        arn(names[args.queue]),
        destination_arn=arn(names[args.to]) if args.to else None,
        per_second=args.per_second,
        wait=args.wait,
    )
    print(json.dumps({"queue": args.queue, **result}))
    return 0 if result.get("status", "COMPLETED") == "COMPLETED" else 1


def _aws_sqs(region: str | None) -> Any:
    """An SQS client with the caller's own AWS configuration (never the emulator's)."""
    import boto3

    return boto3.session.Session(region_name=region).client("sqs")


#: Every command, in the order the help lists them.
COMMANDS: dict[str, Command] = {
    "serve": Command("run the whole template locally (the default command)", _serve_parser, serve),
    "invoke": Command("run one function once with an event, like `sam local invoke`", _invoke_parser, invoke),
    "invoke-env": Command(
        "write the --env-vars file of `sam local invoke` for the running local cloud",
        _invoke_env_parser,
        invoke_env,
    ),
    "fire": Command("fire a schedule of the running local cloud now", _fire_parser, fire),
    "send": Command("put a message on a queue of the running local cloud", _send_parser, send),
    "drain": Command("wait until queues of the running local cloud are empty", _drain_parser, drain),
    "redrive": Command(
        "move a dead-letter queue's messages back to their queue (local cloud, or --aws)",
        _redrive_parser,
        redrive,
    ),
}
