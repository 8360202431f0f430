"""Operation ids: each operation's is its route function's name in camelCase, unique across the
merged document the local cloud serves (generated clients name their functions after them)."""

from __future__ import annotations

import importlib
import re
from typing import Any

import pytest

from local.emulator import AwsClients
from local.functions import load_functions
from local.openapi import merge_openapi
from local.provision import provision
from local.routes import Router
from local.stack import Stack
from local.template import TEMPLATE_PATH

CAMEL_CASE = re.compile(r"^[a-z][a-z0-9]*(?:[A-Z][a-z0-9]*)*$")
METHODS = ("get", "put", "post", "delete", "patch", "options", "head", "trace")


@pytest.fixture
def merged(aws: None) -> dict[str, Any]:
    """The merged document as the local cloud makes it (local.cloud.LocalCloud.openapi), in-process:
    every API function's app, kept to the operations template.yaml routes to that function."""
    stack = Stack.from_file(TEMPLATE_PATH, {})
    provision(stack, AwsClients(None), visibility_timeout=2)
    functions = {name: spec for name, spec in load_functions(stack).items() if spec.http_routes}
    router = Router(route for spec in functions.values() for route in spec.http_routes)
    documents = {
        name: importlib.import_module(f"functions.{spec.code_dir.name}.app").app.openapi()
        for name, spec in functions.items()
    }
    assert len(documents) >= 5
    return merge_openapi(documents, router, title="API")


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def test_every_operation_id_of_the_merged_document_is_unique_and_camel_case(merged: dict[str, Any]) -> None:
    operations = _operations(merged)
    assert len(operations) > 40
    ids = [operation["operationId"] for _, _, operation in operations]
    duplicates = sorted({name for name in ids if ids.count(name) > 1})
    assert duplicates == [], f"operation ids used twice: {duplicates}"
    not_camel = [
        (method, path, operation["operationId"])
        for method, path, operation in operations
        if not CAMEL_CASE.match(operation["operationId"])
    ]
    assert not_camel == []


def test_an_operation_id_is_its_route_functions_name_in_camel_case(merged: dict[str, Any]) -> None:
    """Stable: moving a route (its path, its method) does not rename the generated client's function."""
    ids = {(method, path): operation["operationId"] for method, path, operation in _operations(merged)}
    assert ids[("post", "/api/orders")] == "placeOrder"
    assert ids[("get", "/api/products/{productId}")] == "getProduct"
    assert ids[("post", "/api/auth/sign-up")] == "signUp"
    assert ids[("get", "/api/categories/by-slug/{slug}")] == "getCategory"
