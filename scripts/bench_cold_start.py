"""Cold-start benchmark: each API function as deployed vs a bare boto3 hello-world handler.

    python scripts/bench_cold_start.py [--rounds 7]        (make bench)

The functions are built as `make build` builds them (same pinned requirements, runtime SDK
stripped, unchecked-hash bytecode), but for this machine's CPU, since arm64 code cannot run here.
What one sample is, for every contender alike: a fresh interpreter (`-S -I`: no site-packages,
no user environment) whose sys.path is what Lambda gives a function (its code directory, then
/opt/python of its layers, then the runtime's boto3/botocore), with bytecode writing disabled (the
code directory is read-only on Lambda), that imports the handler module and serves one event. The
parent times the whole process, so interpreter start-up counts for every contender.

The table the health check reads is served by an in-process moto server on loopback, so the
first request does a real GetItem over HTTP without leaving the machine.

Contenders are measured interleaved, round after round, and the medians are compared in the same
run, so the ratios hold on a noisy, shared machine where absolute times do not. The budget
(DESIGN.md): at most 2.5x the bare boto3 handler.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import logging
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BUDGET = 2.5
# What the Lambda Python runtime provides besides the standard library.
RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six")

HELLO = """import json

import boto3  # what a bare boto3 hello-world handler imports


def handler(event, context):
    return {"statusCode": 200, "body": json.dumps({"hello": "world"})}
"""

FASTAPI_HELLO = """from fastapi import FastAPI
from mangum import Mangum

app = FastAPI()


@app.get("/api/health")
def health():
    return {"data": "ok"}


handler = Mangum(app, lifespan="off")
"""
CALIBRATION = "FastAPI+Mangum hello"

CHILD = """
import json, sys, time
sys.path[:0] = json.loads(sys.argv[1])
class Context:
    function_name = "bench"; memory_limit_in_mb = 512; aws_request_id = "bench"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"
    def get_remaining_time_in_millis(self): return 10000
import app
response = app.handler(json.loads(sys.argv[2]), Context())
assert response["statusCode"] < 500, response
"""


def runtime_dir(tmp: Path) -> Path:
    """A folder standing for the runtime's own packages: links to the venv's SDK."""
    target = tmp / "runtime"
    target.mkdir()
    for name in RUNTIME_PACKAGES:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            raise SystemExit(f"error: {name} is not installed in this environment")
        source = Path(spec.origin)
        source = source.parent if source.name == "__init__.py" else source
        (target / source.name).symlink_to(source)
    return target


def host_build(tmp: Path) -> dict[str, tuple[Path, list[Path], dict[str, Any]]]:
    """The API functions and the shared layer as `make build` ships them, for this machine's CPU.

    `make build` targets arm64, which cannot run here, so the same requirements are installed for
    the host and the same post-processing (runtime SDK stripped, unchecked-hash bytecode) is
    applied. Returns logical id -> (code dir, layer dirs, first sample event).
    """
    sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]
    from postbuild import Artifact, compile_tree, strip_runtime_sdk  # type: ignore[import-not-found]

    from local.template import template

    layer_root = tmp / "SharedLayer"
    layer = layer_root / "python"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--quiet",
            "--target",
            str(layer),
            "-r",
            str(ROOT / "layers/shared/requirements.txt"),
        ],
        check=True,
    )
    shutil.copytree(
        ROOT / "layers/shared/backend", layer / "backend", ignore=shutil.ignore_patterns("__pycache__")
    )
    strip_runtime_sdk(Artifact("SharedLayer", "layer", layer_root))
    compile_tree(layer_root, "/opt")
    functions = {}
    for name, resource in template()["Resources"].items():
        props = resource.get("Properties", {})
        events = props.get("Events", {})
        if resource["Type"] != "AWS::Serverless::Function" or not any(
            e["Type"] == "HttpApi" for e in events.values()
        ):
            continue
        code = tmp / name
        shutil.copytree(ROOT / props["CodeUri"], code, ignore=shutil.ignore_patterns("__pycache__"))
        compile_tree(code, "/var/task")
        samples = sorted((ROOT / "events" / Path(props["CodeUri"]).name).glob("*.json"))
        if not samples:
            raise SystemExit(f"error: no sample event for {name} in events/")
        functions[name] = (code, [layer], json.loads(samples[0].read_text()))
    return functions


def sample(path: list[Path], event: dict[str, Any], env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-S", "-I", "-c", CHILD, json.dumps([str(p) for p in path]), json.dumps(event)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"error: a sample failed:\n{done.stderr[-3000:]}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()

    from moto.moto_server.threaded_moto_server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per emulator request
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONDONTWRITEBYTECODE": "1",
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",  # moto's fake credentials
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_LAMBDA_FUNCTION_NAME": "bench",
        "TABLE_NAME": "bench-table",
        "POWERTOOLS_SERVICE_NAME": "bench",
        "POWERTOOLS_METRICS_NAMESPACE": "Bench",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "APP_VERSION": "bench",
    }
    try:
        import boto3

        from local.template import table_definition

        boto3.client(
            "dynamodb",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",  # noqa: S106 - moto's fake credentials
        ).create_table(TableName="bench-table", **table_definition())
        with tempfile.TemporaryDirectory() as tmp_name:
            tmp = Path(tmp_name)
            functions = host_build(tmp)
            runtime = runtime_dir(tmp)
            hello = tmp / "hello"
            hello.mkdir()
            (hello / "app.py").write_text(HELLO)
            fastapi_hello = tmp / "fastapi_hello"
            fastapi_hello.mkdir()
            (fastapi_hello / "app.py").write_text(FASTAPI_HELLO)
            health_event = json.loads((ROOT / "events/auth/health.json").read_text())
            contenders: dict[str, tuple[list[Path], dict[str, Any]]] = {
                "boto3 hello (baseline)": ([hello, runtime], {}),
                # the floor any FastAPI function stands on (same layer, same runtime): not judged
                CALIBRATION: ([fastapi_hello, tmp / "SharedLayer" / "python", runtime], health_event),
            }
            for name, (code, layers, event) in functions.items():
                contenders[name] = ([code, *layers, runtime], event)
            times: dict[str, list[float]] = {name: [] for name in contenders}
            for path, event in contenders.values():  # warm the OS file cache, untimed
                sample(path, event, env)
            for _ in range(args.rounds):
                for name, (path, event) in contenders.items():
                    times[name].append(sample(path, event, env))
    finally:
        server.stop()

    baseline = statistics.median(times["boto3 hello (baseline)"])
    print(
        f"cold start (fresh process, import + first request), median of {args.rounds} rounds; budget {BUDGET}x"
    )
    print(f"  {'contender':<24} {'median ms':>10} {'ratio':>7}")
    over = []
    for name, samples in times.items():
        median = statistics.median(samples)
        ratio = median / baseline
        judged = name not in ("boto3 hello (baseline)", CALIBRATION)
        flag = "  over budget" if judged and ratio > BUDGET else ""
        if flag:
            over.append(name)
        print(f"  {name:<24} {median * 1000:>10.0f} {ratio:>6.2f}x{flag}")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
