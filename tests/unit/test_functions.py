"""Every function in template.yaml imports, exposes its handler, and the health route works."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from fastapi import FastAPI

from local.template import ROOT, resources_of_type
from tests.support.apigw import FakeContext, http_event, json_body
from tests.support.ddb import count_requests

FUNCTIONS = resources_of_type("AWS::Serverless::Function")
API_FUNCTIONS = {
    name
    for name, res in FUNCTIONS.items()
    if any(e["Type"] == "HttpApi" for e in res["Properties"]["Events"].values())
}


def load_function(logical_id: str) -> ModuleType:
    props = FUNCTIONS[logical_id]["Properties"]
    module_name, _, _ = props["Handler"].rpartition(".")
    path = Path(ROOT, props["CodeUri"], f"{module_name}.py")
    spec = importlib.util.spec_from_file_location(f"function_{logical_id}", path)
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("logical_id", sorted(FUNCTIONS))
def test_function_exposes_its_handler(logical_id: str) -> None:
    props = FUNCTIONS[logical_id]["Properties"]
    module = load_function(logical_id)
    assert callable(getattr(module, props["Handler"].rpartition(".")[2]))
    if logical_id in API_FUNCTIONS:
        assert isinstance(module.app, FastAPI)


def test_health_reports_version_when_table_is_reachable(table: Any) -> None:
    module = load_function("AuthFunction")
    module.handler(http_event("GET", "/api/health"), FakeContext())  # warm: clients built
    with count_requests() as requests:
        response = module.handler(http_event("GET", "/api/health"), FakeContext())
    assert requests.by_operation() == {"GetItem": 1}  # one round trip, nothing else
    assert response["statusCode"] == 200
    data = json_body(response)["data"]
    assert data["status"] == "ok"
    assert data["checks"] == {"table": "ok"}
    assert data["version"]


def test_health_is_503_envelope_when_table_is_missing(aws: None) -> None:
    module = load_function("AuthFunction")
    response = module.handler(http_event("GET", "/api/health"), FakeContext())
    assert response["statusCode"] == 503
    body = json_body(response)
    assert body["code"] == "SERVICE_UNAVAILABLE"
    assert body["details"] == [{"check": "table", "status": "unreachable"}]
    assert response["headers"]["retry-after"]
