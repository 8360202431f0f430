"""`python -m local invoke-env`: the `sam local invoke --env-vars` file for a running local cloud.

Docker is not here, so `sam local invoke` cannot run; what it would put in each container can be
checked without it. A local cloud runs in this process; the command writes its files from that
cloud's /_local/health, and the tests check them against template.yaml read independently, against
the environment the local cloud gives its own function processes, and against SAM CLI's own code
that turns `--env-vars` / `--container-env-vars` files into a container's environment.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from local import cli
from local.cloud import CloudOptions, LocalCloud
from local.console import Console
from local.emulator import FAKE_CREDENTIALS
from local.invoke_env import MACHINE_ONLY, attached_stack, build
from local.template import ROOT, TEMPLATE_PATH, load_template

DOCKER_HOST = "host.docker.internal"
REGION = "us-east-1"
ENDPOINT_VARIABLES = (
    "AWS_ENDPOINT_URL",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
)


@pytest.fixture(scope="module")
def cloud() -> Iterator[LocalCloud]:
    running = LocalCloud(
        CloudOptions(template=TEMPLATE_PATH, port=0, seed=False, reload=False),
        Console(io.StringIO(), timestamps=False),
    )
    running.start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def files(
    cloud: LocalCloud, tmp_path_factory: pytest.TempPathFactory
) -> tuple[dict[str, Any], dict[str, Any]]:
    """What `python -m local invoke-env` writes for that cloud: (--env-vars, --container-env-vars)."""
    out = tmp_path_factory.mktemp("invoke-env")
    port = urlsplit(cloud.gateway_url).port
    code = cli.main(
        [
            "invoke-env",
            "--port",
            str(port),
            "--out",
            str(out / "env.json"),
            "--container-out",
            str(out / "container-env.json"),
        ]
    )
    assert code == 0
    return (
        json.loads((out / "env.json").read_text(encoding="utf-8")),
        json.loads((out / "container-env.json").read_text(encoding="utf-8")),
    )


def in_container(cloud: LocalCloud, value: str, host: str = DOCKER_HOST) -> str:
    """`value` as a container must see it: the emulator at `host`, same port."""
    emulator = urlsplit(cloud.emulator.endpoint_url)
    return value.replace(f"http://{emulator.netloc}", f"http://{host}:{emulator.port}")


def template_functions() -> dict[str, dict[str, Any]]:
    """Logical id → the raw variables template.yaml gives it: Globals, then its own (SAM's merge)."""
    template = load_template(TEMPLATE_PATH)
    globals_ = ((template.get("Globals") or {}).get("Function") or {}).get("Environment") or {}
    functions = {}
    for name, resource in (template.get("Resources") or {}).items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        own = ((resource.get("Properties") or {}).get("Environment") or {}).get("Variables") or {}
        functions[name] = {**(globals_.get("Variables") or {}), **own}
    assert functions, "template.yaml has no functions"
    return functions


def ref_value(cloud: LocalCloud, name: str) -> str:
    """`!Ref name` for the running cloud: a parameter's value, or a resource's (queue URLs as a
    container reaches them)."""
    assert cloud.stack is not None
    if name in (cloud.stack.template.get("Parameters") or {}):
        value = cloud.stack.parameters[name]
        return ",".join(map(str, value)) if isinstance(value, list) else str(value)
    return in_container(cloud, str(cloud.health()["resources"][name]["ref"]))


def expected_value(cloud: LocalCloud, raw: Any) -> str | None:
    """The value of the template expression `raw` for the running cloud (None: not evaluated here)."""
    if isinstance(raw, (str, int, float)):  # bool is an int
        return str(raw).lower() if isinstance(raw, bool) else str(raw)
    if isinstance(raw, dict) and set(raw) == {"Ref"}:
        return ref_value(cloud, str(raw["Ref"]))
    if isinstance(raw, dict) and set(raw) == {"Fn::Join"}:
        separator, items = raw["Fn::Join"]
        parts = [expected_value(cloud, item) for item in (items if isinstance(items, list) else [items])]
        return None if None in parts else separator.join(str(part) for part in parts)
    return None


def test_every_function_of_the_template_is_in_the_file(files: tuple[dict[str, Any], dict[str, Any]]) -> None:
    env_vars, _ = files
    assert set(env_vars) == set(template_functions())
    assert all(isinstance(variables, dict) and variables for variables in env_vars.values())


def test_every_variable_the_template_gives_a_function_is_there_resolved(
    cloud: LocalCloud, files: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    env_vars, _ = files
    for function, variables in template_functions().items():
        written = env_vars[function]
        assert set(variables) <= set(written), (function, set(variables) - set(written))
        for key, raw in variables.items():
            value = written[key]
            assert isinstance(value, str), (function, key, value)
            for leftover in (
                "${",
                "Ref",
                "Fn::",
                "{'",
                "127.0.0.1:" + str(urlsplit(cloud.emulator.endpoint_url).port),
            ):
                assert leftover not in value, (function, key, value)
            expected = expected_value(cloud, raw)
            if expected is None:  # an intrinsic this test does not evaluate: resolved to something
                assert value, (function, key)
            else:
                assert value == expected, (function, key)


def test_each_function_gets_the_local_clouds_endpoint_credentials_and_region(
    cloud: LocalCloud, files: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    env_vars, container = files
    emulator_port = urlsplit(cloud.emulator.endpoint_url).port
    endpoint = {
        "AWS_ENDPOINT_URL": f"http://{DOCKER_HOST}:{emulator_port}",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        **FAKE_CREDENTIALS,
    }
    assert set(endpoint) == set(ENDPOINT_VARIABLES)
    for function, written in env_vars.items():
        assert {key: written.get(key) for key in endpoint} == endpoint, function
    # the same for every function, declared by none: the file for --container-env-vars
    assert {key: container.get(key) for key in endpoint} == endpoint
    declared = {key for variables in template_functions().values() for key in variables}
    assert not set(container) & declared


def test_the_values_are_what_the_local_cloud_gives_its_own_function_processes(
    cloud: LocalCloud, files: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    env_vars, _ = files
    assert set(env_vars) == set(cloud.pools)
    for function, pool in cloud.pools.items():
        processes = pool._env  # the environment every instance of the function starts with
        written = env_vars[function]
        dropped = set(processes) - set(written)
        assert all(key in MACHINE_ONLY or key.startswith("AWS_LAMBDA_") for key in dropped), (
            function,
            dropped,
        )
        assert not dropped & set(cloud.functions[function].environment), function
        assert set(written) <= set(processes), (function, set(written) - set(processes))
        assert written == {key: in_container(cloud, processes[key]) for key in written}, function


def test_endpoint_host_and_a_loopback_cache_are_rewritten_for_containers(cloud: LocalCloud) -> None:
    health = cloud.health()
    parameters = {
        key: ",".join(map(str, value)) if isinstance(value, list) else str(value)
        for key, value in health["parameters"].items()
    }
    stack = attached_stack(TEMPLATE_PATH, {**parameters, "CacheUrl": "redis://127.0.0.1:6379/0"}, health)
    files = build(stack, cloud.emulator.endpoint_url, endpoint_host="172.17.0.1")
    products = files.functions["ProductsFunction"]
    assert products["CACHE_URL"] == "redis://172.17.0.1:6379/0"
    assert products["AWS_ENDPOINT_URL"] == in_container(cloud, cloud.emulator.endpoint_url, "172.17.0.1")
    # browser-facing addresses stay as they are
    assert products["CORS_ALLOWED_ORIGINS"] == parameters["CorsAllowedOrigins"]
    assert files.functions["WorkerFunction"]["WEB_APP_URL"] == parameters["WebAppUrl"]


def test_the_command_says_when_no_local_cloud_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        free_port = sock.getsockname()[1]
    code = cli.main(["invoke-env", "--port", str(free_port), "--out", str(tmp_path / "env.json")])
    assert code == 1
    assert "no local cloud answers" in capsys.readouterr().err
    assert not (tmp_path / "env.json").exists()


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # samtranslator's validator, not ours
def test_sam_cli_puts_these_values_in_each_container(
    files: tuple[dict[str, Any], dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """SAM CLI's own code (no Docker needed for this part): the environment of each function's
    container for `sam local invoke -n env.json --container-env-vars container-env.json -d PORT`."""
    from samcli.commands.local.lib.debug_context import DebugContext
    from samcli.commands.local.lib.local_lambda import LocalLambdaRunner
    from samcli.lib.providers.sam_function_provider import SamFunctionProvider
    from samcli.lib.providers.sam_stack_provider import SamLocalStackProvider
    from samcli.local.docker.lambda_container import LambdaContainer

    env_vars, container = files
    # whatever credentials the shell has, the container must get the emulator's
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIA-of-the-shell")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret-of-the-shell")
    stacks, _ = SamLocalStackProvider.get_stacks(str(TEMPLATE_PATH))
    provider = SamFunctionProvider(stacks)
    runner = LocalLambdaRunner(
        local_runtime=None,  # never started: only the environment is computed
        function_provider=provider,
        cwd=str(ROOT),
        real_path=str(ROOT),
        aws_region=REGION,
        env_vars_values=env_vars,
    )
    declared = template_functions()
    functions = {function.name: function for function in provider.get_all()}
    assert set(functions) == set(declared)
    for name, function in functions.items():
        from_env_vars = runner._make_env_vars(function).resolve()
        # every variable the template declares takes the file's value ...
        assert {key: from_env_vars[key] for key in declared[name]} == {
            key: env_vars[name][key] for key in declared[name]
        }, name
        # ... and only those: SAM drops the file's other variables, hence --container-env-vars
        assert "AWS_ENDPOINT_URL" not in from_env_vars, name
        _, extra = LambdaContainer._get_debug_settings(
            function.runtime, DebugContext(debug_ports=(5858,), container_env_vars=container)
        )
        in_the_container = {**from_env_vars, **extra}  # what LambdaContainer gives Docker
        assert {key: in_the_container.get(key) for key in env_vars[name]} == env_vars[name], name
