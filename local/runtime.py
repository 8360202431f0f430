"""The Lambda runtime of one function instance: runs in the instance's own process.

Started by `local.instances` as `python -P -u local/runtime.py`, with the function's environment
(`_HANDLER` names the handler, `PYTHONPATH` holds the code and the layers). Standard library only,
and it imports nothing from the local cloud, so the function sees a clean interpreter as on Lambda.

Protocol, one JSON document per line:
- the instance's stdin carries requests: `{"type": "invoke", "requestId", "event", "deadlineMs",
  "invokedFunctionArn", "traceId"}` or `{"type": "openapi"}`;
- the instance's original stdout carries replies: first `{"type": "ready", "initMs"}` (or
  `{"type": "init_error", "error"}`), then one `{"type": "result", "ok", "result" | "error"}` per
  request. The function's own stdout is redirected to stderr, which the parent forwards to the
  console, so nothing the function prints can corrupt the protocol.
"""

from __future__ import annotations

import decimal
import importlib
import json
import os
import signal
import sys
import time
import traceback
from typing import IO, Any


class CognitoIdentity:
    cognito_identity_id: str | None = None
    cognito_identity_pool_id: str | None = None


class LambdaContext:
    """The context object the Python runtime passes to handlers (same attributes)."""

    def __init__(self, request_id: str, deadline_ms: int, invoked_function_arn: str) -> None:
        self.aws_request_id = request_id
        self.invoked_function_arn = invoked_function_arn
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        # The Python runtime reads this from the environment, so it is a string there too.
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self.identity = CognitoIdentity()
        self.client_context = None
        self.tenant_id = None
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self._deadline_ms - int(time.time() * 1000))

    def log(self, message: str) -> None:
        sys.stdout.write(message)
        sys.stdout.flush()


def _json_default(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _error(exc: BaseException, error_type: str | None = None) -> dict[str, Any]:
    return {
        "errorMessage": str(exc),
        "errorType": error_type or type(exc).__name__,
        "stackTrace": traceback.format_tb(exc.__traceback__),
    }


def _log_error(error: dict[str, Any], exc: BaseException) -> None:
    lines = traceback.format_exception(exc)
    sys.stderr.write(f"[ERROR] {error['errorType']}: {error['errorMessage']}\n{''.join(lines)}")
    sys.stderr.flush()


def _max_memory_mb() -> int | None:
    try:
        import resource
    except ImportError:  # Windows
        return None
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


class Runtime:
    def __init__(self, replies: IO[str]) -> None:
        self.replies = replies
        self.module: Any = None
        self.handler: Any = None

    def send(self, message: dict[str, Any]) -> None:
        try:
            line = json.dumps(message, default=_json_default, separators=(",", ":"))
        except (TypeError, ValueError) as exc:
            error = {
                "errorMessage": f"Unable to marshal response: {exc}",
                "errorType": "Runtime.MarshalError",
            }
            line = json.dumps({"type": message["type"], "ok": False, "error": error})
        self.replies.write(line + "\n")
        self.replies.flush()

    def init(self) -> bool:
        started = time.perf_counter()
        module_name, _, function_name = os.environ.get("_HANDLER", "app.handler").rpartition(".")
        try:
            self.module = importlib.import_module(module_name.replace("/", "."))
        except Exception as exc:  # noqa: BLE001 - any import failure is Runtime.ImportModuleError
            error = _error(exc, "Runtime.ImportModuleError")
            error["errorMessage"] = f"Unable to import module '{module_name}': {exc}"
            _log_error(error, exc)
            self.send({"type": "init_error", "error": error})
            return False
        self.handler = getattr(self.module, function_name, None)
        if not callable(self.handler):
            error = {
                "errorMessage": f"Handler '{function_name}' missing on module '{module_name}'",
                "errorType": "Runtime.HandlerNotFound",
            }
            sys.stderr.write(f"[ERROR] {error['errorType']}: {error['errorMessage']}\n")
            self.send({"type": "init_error", "error": error})
            return False
        self.send({"type": "ready", "initMs": round((time.perf_counter() - started) * 1000, 1)})
        return True

    def invoke(self, request: dict[str, Any]) -> None:
        context = LambdaContext(
            request["requestId"], int(request["deadlineMs"]), request["invokedFunctionArn"]
        )
        os.environ["_X_AMZN_TRACE_ID"] = str(request.get("traceId", ""))
        try:
            result = self.handler(request["event"], context)
        except Exception as exc:  # noqa: BLE001 - the runtime reports every handler error
            error = _error(exc)
            error["requestId"] = request["requestId"]
            _log_error(error, exc)
            self.send({"type": "result", "ok": False, "error": error, "maxMemoryMb": _max_memory_mb()})
            return
        self.send({"type": "result", "ok": True, "result": result, "maxMemoryMb": _max_memory_mb()})

    def openapi(self) -> None:
        app = getattr(self.module, "app", None)
        openapi = getattr(app, "openapi", None)
        try:
            document = openapi() if callable(openapi) else None
        except Exception as exc:  # noqa: BLE001 - reported to the parent
            self.send({"type": "result", "ok": False, "error": _error(exc)})
            return
        self.send({"type": "result", "ok": True, "result": document})

    def serve(self, requests: IO[str]) -> None:
        for line in requests:
            if not line.strip():
                continue
            request = json.loads(line)
            if request.get("type") == "invoke":
                self.invoke(request)
            elif request.get("type") == "openapi":
                self.openapi()
            else:
                self.send({"type": "result", "ok": False, "error": {"errorMessage": "unknown request"}})


def _record_aws_requests() -> None:
    """With AWS_REQUEST_LOG_DIR set (the test suite sets it), log this function's AWS requests.

    The recorder (local/request_recorder.py, standard library only) is loaded by path, so the
    function's interpreter imports nothing else of the local cloud; tests/contract reads the log.
    """
    directory = os.environ.get("AWS_REQUEST_LOG_DIR")
    if not directory:
        return
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "_request_recorder", os.path.join(os.path.dirname(os.path.abspath(__file__)), "request_recorder.py")
    )
    if spec is None or spec.loader is None:
        raise RuntimeError("local/request_recorder.py is missing")
    recorder = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = recorder
    spec.loader.exec_module(recorder)
    recorder.install(directory, recorder.service_name_of_process, "local-cloud")


def main() -> int:
    # Ctrl-C is for the local cloud, which stops instances itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _record_aws_requests()
    replies = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # the function's stdout joins stderr: forwarded to the console, never the protocol
    requests = sys.stdin
    sys.stdin = open(os.devnull, encoding="utf-8")  # noqa: SIM115 - lives as long as the process
    runtime = Runtime(replies)
    if not runtime.init():
        return 1
    runtime.serve(requests)
    return 0


if __name__ == "__main__":
    sys.exit(main())
