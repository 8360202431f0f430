"""Every response the API tests get, checked against the OpenAPI document of the app that sent it.

``Api.call`` (tests/support/identity.py) runs :func:`check` on each response, so the whole API test
suite doubles as a contract test: a status the operation does not declare, a body its schema
refuses (a field sent that is undeclared where the schema forbids extras, a required field omitted,
``null`` where the schema says a string, a timestamp that is no RFC 3339 date-time), a header a
client relies on (``backend.http.docs.CONTRACT_HEADERS``) sent and not declared for that status, or
a declared required header missing: each fails the test that made the request, naming the
operation and the difference.

Requests to a path the document does not have (the tests of unknown routes) are not checked: on
AWS, API Gateway answers those before any function.
"""

from __future__ import annotations

import json
import re
import sys
import weakref
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

from backend.http.docs import CONTRACT_HEADERS

_FORMATS = FormatChecker(formats=("date-time", "email"))


@dataclass(frozen=True)
class _Operation:
    method: str
    template: str
    operation: dict[str, Any]


class Document:
    """One app's OpenAPI document, with its path templates as patterns."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.components = document.get("components") or {}
        # Literal paths before templated ones (`/api/me/sessions` before `/api/me/{x}`).
        self._templates = sorted(
            ((template, _pattern(template)) for template in document.get("paths", {})),
            key=lambda pair: (pair[0].count("{"), -len(pair[0])),
        )

    def operation(self, method: str, path: str) -> _Operation | None:
        for template, pattern in self._templates:
            if pattern.fullmatch(path):
                operation = self.document["paths"][template].get(method.lower())
                if operation is not None:
                    return _Operation(method.upper(), template, operation)
        return None

    def resolve(self, value: dict[str, Any]) -> dict[str, Any]:
        ref = value.get("$ref")
        if not ref:
            return value
        section, name = ref.removeprefix("#/components/").split("/", 1)
        resolved: dict[str, Any] = self.components[section][name]
        return resolved

    def validator(self, schema: dict[str, Any]) -> Draft202012Validator:
        # `#/components/...` references resolve against this root, which carries the components.
        return Draft202012Validator({**schema, "components": self.components}, format_checker=_FORMATS)


def _pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]+\})", template)
    return re.compile("".join("[^/]+" if part.startswith("{") else re.escape(part) for part in parts))


def check(
    document: Document,
    method: str,
    path: str,
    *,
    status: int,
    headers: dict[str, str],
    body_text: str,
    cookies: list[str],
) -> None:
    """AssertionError unless the response is one the document declares for the operation."""
    found = document.operation(method, path)
    if found is None:
        return
    where = f"{found.method} {found.template} → {status}"
    responses = found.operation.get("responses", {})
    declared = responses.get(str(status)) or responses.get("default")
    assert declared is not None, f"{where}: status not declared (declared: {sorted(responses)})"
    declared_headers = {
        name.lower(): document.resolve(value) for name, value in (declared.get("headers") or {}).items()
    }
    sent = {name.lower(): value for name, value in headers.items()}
    if cookies:
        sent["set-cookie"] = cookies[0]
    for name in sorted(set(sent) & set(CONTRACT_HEADERS)):
        assert name in declared_headers, f"{where}: sends {CONTRACT_HEADERS[name]}, which is not declared"
        _check_header(document, where, CONTRACT_HEADERS[name], sent[name], declared_headers[name])
    for name, header in declared_headers.items():
        if header.get("required"):
            assert name in sent, f"{where}: declared header {name} is required and was not sent"
    content = declared.get("content") or {}
    if not body_text:
        return
    assert content, f"{where}: sends a body, and the document declares none"
    media = headers.get("content-type", "").split(";", 1)[0].strip()
    assert media in content, f"{where}: sends {media!r}, the document declares {sorted(content)}"
    schema = content[media].get("schema")
    if media != "application/json" or not schema:
        return
    body = json.loads(body_text)
    problems = sorted(document.validator(schema).iter_errors(body), key=lambda error: list(error.path))
    assert not problems, f"{where}: the body does not match its schema:\n" + "\n".join(
        f"  at {'/'.join(map(str, problem.path)) or '(root)'}: {problem.message[:300]}"
        for problem in problems[:5]
    )


def _check_header(document: Document, where: str, name: str, value: str, header: dict[str, Any]) -> None:
    schema = header.get("schema") or {}
    typed: Any = value
    if schema.get("type") == "integer":
        assert value.isdigit(), f"{where}: {name}: {value!r} is not an integer"
        typed = int(value)
    problems = list(document.validator(schema).iter_errors(typed))
    assert not problems, f"{where}: {name}: {value!r}: {problems[0].message}"


#: The document of each app (a new process in a test imports new apps: no stale document is used).
_DOCUMENTS: weakref.WeakKeyDictionary[Any, Document] = weakref.WeakKeyDictionary()


def document_for(handler: Any) -> Document | None:
    """The document of the API function whose module exports ``handler`` (None for another one)."""
    for name, module in list(sys.modules.items()):
        if (
            name.startswith("functions.")
            and name.endswith(".app")
            and getattr(module, "handler", None) is handler
        ):
            app = getattr(module, "app", None)
            if app is None or not hasattr(app, "openapi"):
                return None
            if app not in _DOCUMENTS:
                _DOCUMENTS[app] = Document(app.openapi())
            return _DOCUMENTS[app]
    return None
