# mypy: ignore-errors
# (Untyped on purpose: annotations would need `typing`, which this process must not import before
# the contender does.)
"""What runs inside every measured process: a fresh interpreter standing for one Lambda sandbox.

    python -S -I scripts/bench/child.py '<json config>'

Standard library only, and nothing is imported before the handler module that the contender would
not import itself, so every contender pays for exactly its own imports. ``sys.path`` is set from
the config (the function's code, the layer, the runtime's SDK), as Lambda sets it. The function's
own stdout (Powertools writes its logs there) goes to /dev/null; replies go to the original stdout
as one JSON document per line.

Modes (``config["mode"]``):

- ``cold``: import the handler's module, serve ``event`` once, reply ``{"status"}``, exit at once
  (no interpreter finalization: a Lambda sandbox is not torn down after its first response). The
  parent times the whole process: interpreter start, imports, first request.
- ``record``: hook botocore before the import (so it costs nothing to measure), then serve each of
  ``events`` twice; reply with the AWS requests of the import + first invocation ("cold") and of
  the second ("warm"), the status and error code of each, and the route the app matched. Each
  DynamoDB request also carries the items its response returned (``items``: what the read units
  are computed from). With ``"once": true`` each event is served once, in order, in the same
  process (the worker's jobs: a job served again is a redelivery, not the same cost).
- ``serve``: import and serve ``events[0]`` once, reply ``{"status"}``, then answer commands read
  from stdin: ``{"time": n, "event": i}`` serves event i n times and replies the durations (wall
  and CPU, ms); ``{"time": 0, "events": [...]}`` serves each of those events once instead (jobs
  whose ids must not repeat); with ``config["log"]`` (a file the function's stdout goes to) the
  reply also carries the bytes the function logged during those requests; ``{"cycle": n}`` serves n events round-robin and replies the statuses seen so far,
  the number of requests served and the peak RSS.
"""

import json
import os
import sys
import time

CONFIG = json.loads(sys.argv[1])
REPLIES = os.fdopen(os.dup(1), "w")
_devnull = os.open(CONFIG.get("log") or os.devnull, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
os.dup2(_devnull, 1)  # the function's stdout (its logs) is not the protocol
sys.path[:0] = CONFIG["path"]


class Context:
    function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "bench")
    function_version = "$LATEST"
    memory_limit_in_mb = 512
    aws_request_id = "bench-request"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"
    log_group_name = "/aws/lambda/bench"
    log_stream_name = "bench"

    def get_remaining_time_in_millis(self):
        return 10_000


def reply(message):
    REPLIES.write(json.dumps(message) + "\n")
    REPLIES.flush()


def load_handler():
    module_name, _, attribute = CONFIG.get("handler", "app.handler").rpartition(".")
    module = __import__(module_name)
    return module, getattr(module, attribute)


def outcome(response):
    """(status, error code) of an API Gateway response; of an SQS batch response (the worker), 200
    when no record failed, else 207 with the number of failed records as the code."""
    if isinstance(response, dict) and "batchItemFailures" in response:
        failed = len(response["batchItemFailures"])
        return (207, f"{failed} failed") if failed else (200, None)
    status = int(response.get("statusCode", 0)) if isinstance(response, dict) else 0
    code = None
    try:
        body = json.loads(response.get("body") or "null")
        if isinstance(body, dict):
            code = body.get("code")
    except (AttributeError, TypeError, ValueError):
        pass
    return status, code


def cold():
    _module, handler = load_handler()
    status, code = outcome(handler(CONFIG["event"], Context()))
    reply({"status": status, "code": code})
    # A Lambda cold start ends with the first response; the sandbox is not torn down after it. So
    # the process ends here, without the interpreter's finalization (module teardown and a last full
    # garbage collection, whose cost grows with everything the contender loaded): no contender is
    # charged for it.
    os._exit(0)


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, bytes):
        import base64

        return {"__bytes__": base64.b64encode(value).decode("ascii")}
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return {"__repr__": repr(value), "__type__": type(value).__name__}


def record():
    from botocore.client import BaseClient

    calls = []
    original = BaseClient._make_api_call

    def make_api_call(self, operation_name, api_params):
        call = {
            "service": self.meta.service_model.service_name,
            "operation": operation_name,
            "params": _jsonable(api_params),
        }
        calls.append(call)
        response = original(self, operation_name, api_params)
        if call["service"] == "dynamodb":
            call["items"] = _jsonable(returned_items(response))
        return response

    BaseClient._make_api_call = make_api_call
    module, handler = load_handler()
    routes = probe_routes(getattr(module, "app", None))
    results = []
    if CONFIG.get("once"):
        for event in CONFIG["events"]:
            status, code = outcome(handler(json.loads(json.dumps(event)), Context()))
            results.append({"status": status, "code": code, "calls": list(calls)})
            calls.clear()
        reply({"events": results})
        return
    for event in CONFIG["events"]:
        runs = []
        for _ in range(2):
            if routes is not None:
                routes.clear()
            status, code = outcome(handler(json.loads(json.dumps(event)), Context()))
            runs.append({"status": status, "code": code, "calls": list(calls)})
            calls.clear()
        results.append({"cold": runs[0], "warm": runs[1], "route": route_key(event, routes)})
    reply({"events": results})


def returned_items(response):
    """The items a DynamoDB response returned (GetItem, Query, BatchGetItem, TransactGetItems)."""
    items = []
    if isinstance(response.get("Item"), dict):
        items.append(response["Item"])
    items += response.get("Items") or []
    responses = response.get("Responses")
    if isinstance(responses, dict):  # BatchGetItem: table -> items
        for table_items in responses.values():
            items += table_items
    elif isinstance(responses, list):  # TransactGetItems: [{"Item": ...}]
        items += [r["Item"] for r in responses if isinstance(r, dict) and r.get("Item")]
    return items


def probe_routes(app):
    """Record the path template of the route the app serves each request with (the route its router
    put in the ASGI scope), through an outermost middleware added before the first request."""
    if app is None or not hasattr(app, "add_middleware"):
        return None  # not a Starlette app: no routing to ask
    seen = []

    class RouteProbe:
        def __init__(self, inner):
            self.inner = inner

        async def __call__(self, scope, receive, send):
            try:
                await self.inner(scope, receive, send)
            finally:
                route = scope.get("route")
                seen.append(getattr(route, "path", None))

    app.add_middleware(RouteProbe)
    return seen


def route_key(event, seen):
    """``METHOD /path/{template}``; None when no route of the app served it (404, 405); the raw
    path when the module has no Starlette app to ask."""
    http = (event.get("requestContext") or {}).get("http") or {}
    path = event.get("rawPath") or http.get("path") or "/"
    template = path if seen is None else (seen[-1] if seen else None)
    return None if template is None else f"{http.get('method', 'GET')} {template}"


def rss_kb(field="VmHWM"):
    """The process's peak (VmHWM) or current (VmRSS) resident set since it started this program,
    from /proc: ru_maxrss survives exec on Linux and would report the parent's resident set at fork."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def logged_bytes():
    """What the function wrote to its stdout so far (0 when it goes to /dev/null)."""
    sys.stdout.flush()
    return os.fstat(1).st_size if CONFIG.get("log") else 0


def serve():
    _module, handler = load_handler()
    events = [json.dumps(event) for event in CONFIG["events"]]
    status, code = outcome(handler(json.loads(events[0]), Context()))
    reply({"status": status, "code": code})
    served = 1
    statuses = {str(status): 1}
    for line in sys.stdin:
        command = json.loads(line)
        if "time" in command:
            texts = [json.dumps(e) for e in command["events"]] if command.get("events") else None
            count = len(texts) if texts else command["time"]
            text = events[command.get("event", 0)]
            durations, cpu = [], []
            logged = logged_bytes()
            for index in range(count):
                # a fresh event per request, outside the timed part
                event = json.loads(texts[index] if texts else text)
                started, started_cpu = time.perf_counter(), time.process_time()
                response = handler(event, Context())
                durations.append((time.perf_counter() - started) * 1000)
                cpu.append((time.process_time() - started_cpu) * 1000)
                status = str(outcome(response)[0])
                statuses[status] = statuses.get(status, 0) + 1
            served += count
            reply({"ms": durations, "cpu_ms": cpu, "log_bytes": logged_bytes() - logged})
        elif "cycle" in command:
            for index in range(command["cycle"]):
                status, _code = outcome(handler(json.loads(events[index % len(events)]), Context()))
                statuses[str(status)] = statuses.get(str(status), 0) + 1
            served += command["cycle"]
            reply({"statuses": statuses, "served": served, "maxrss_kb": rss_kb(), "rss_kb": rss_kb("VmRSS")})
        else:
            reply({"error": f"unknown command {command}"})


{"cold": cold, "record": record, "serve": serve}[CONFIG["mode"]]()
