"""Configuration exists where it is read: template.yaml against the settings models.

- every environment variable a function's code reads is set for it (Globals + its Environment), and
  no settings variable is set for a function whose code does not read it;
- every key of the SSM document (RuntimeConfigParameter) is a field of ``RuntimeConfig``, and every
  field the document leaves out has a default that the docs state;
- exactly the functions with ``CONFIG_PARAMETER_NAME`` may read SSM.

The variables come from the models' fields (their aliases are the variable names), never from a
list here, and which of them each kind of function reads comes from its settings model
(``backend.settings.KINDS``: each kind is composed of the parts it reads).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import BaseModel

from backend.cache.settings import CacheSettings
from backend.config import RuntimeConfig
from backend.observability import XRAY_SDK_TRACING_ENV
from backend.settings import KINDS, Settings
from local.template import ROOT, load_template

#: The settings models a function loads, by a short prefix ("cache.url").
MODELS: dict[str, type[BaseModel]] = {"": Settings, "cache.": CacheSettings}

#: Fields the read cache's users read (``CachedReads`` in a kind): where Redis is, its password, and
#: whether it is a cluster-mode endpoint.
CACHE_CONNECTION = {"cache.url", "cache.auth_secret_name", "cache.cluster_mode"}


def reads(kind: str) -> set[str]:
    """The fields a kind of function reads: its settings model's, and the cache's when it has the
    ``CachedReads`` part."""
    model = KINDS[kind]
    return set(model.model_fields) | (CACHE_CONNECTION if model.reads_cache else set())


#: Fields the template leaves unset on purpose, with why: their default is what is deployed.
DEFAULTED: dict[str, str] = {
    "region": "Lambda sets AWS_REGION",
    "max_body_bytes": "the API's body limit: 1 MiB unless a deploy wants another",
    "parameters_max_age_seconds": "how long SSM/Secrets Manager values are cached: 300 s",
    "cache.ttl_seconds": "tuning of the read cache (docs/caching.md)",
    "cache.timeout_ms": "tuning of the read cache",
    "cache.max_entries": "tuning of the read cache",
    "cache.max_bytes": "tuning of the read cache",
    "cache.stamp_max_age_ms": "tuning of the read cache",
    "cache.settle_ms": "tuning of the read cache",
    "cache.key_prefix": "derived from the table name",
    "cache.idempotency": "idempotency records stay in the table (durable) unless a deploy chooses Redis",
}
#: (service, field) a function's code does read but the template does not set, and why that is
#: accepted for now. Each entry must stay true: the test fails once the variable is set.
NOT_SET_YET: dict[tuple[str, str], str] = {
    # empty: every function that writes what the read cache shows (users, orders, worker, products,
    # content) is given the cache the readers use (issue 18)
}
#: Variables read from the environment outside the settings models (backend.observability).
READ_DIRECTLY = {XRAY_SDK_TRACING_ENV, "POWERTOOLS_METRICS_NAMESPACE"}

#: The one SSM read besides the runtime config: the Sentry DSN's SecureString, when reporting is on.
SENTRY_DSN_GRANT = "ReadTheSentryDsn"

SSM_SAM_POLICIES = {"SSMParameterReadPolicy", "SSMParameterWithSlashPrefixReadPolicy"}


# ----------------------------------------------------------------------------- template access
@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template()


def fields() -> dict[str, Any]:
    """The pydantic FieldInfo of every field of every settings model, by name ("cache.url")."""
    return {
        prefix + name: info for prefix, model in MODELS.items() for name, info in model.model_fields.items()
    }


def alias(field: str) -> str:
    info = fields()[field]
    return str(info.alias or field.rsplit(".", 1)[-1].upper())


def required() -> set[str]:
    return {name for name, info in fields().items() if info.is_required()}


def functions(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == "AWS::Serverless::Function"}


def environment(template: dict[str, Any], logical_id: str) -> dict[str, Any]:
    """What the function gets: Globals' variables, overridden by its own (SAM merges the maps)."""
    globals_ = template.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
    own = functions(template)[logical_id]["Properties"].get("Environment", {}).get("Variables", {})
    return {**globals_, **own}


def service(template: dict[str, Any], logical_id: str) -> str:
    return str(environment(template, logical_id)["POWERTOOLS_SERVICE_NAME"])


def needed(kind: str) -> set[str]:
    """The variables a function of this kind reads, by their settings fields' aliases."""
    return {alias(f) for f in reads(kind) - set(DEFAULTED)} - {
        alias(f) for (k, f) in NOT_SET_YET if k == kind
    }


def _statements(value: Any) -> Iterator[dict[str, Any]]:
    """Every IAM statement in a policy structure (either branch of an ``Fn::If`` included)."""
    if isinstance(value, list):
        for item in value:
            yield from _statements(item)
    elif isinstance(value, dict):
        if "Action" in value and "Effect" in value:
            yield value
            return
        for item in value.values():
            yield from _statements(item)


def reads_ssm(template: dict[str, Any], logical_id: str) -> bool:
    """Whether the function's permissions (SAM policy templates, inline statements, or the role it
    names with ``Role: !GetAtt <Role>.Arn``) allow reading an SSM parameter."""
    props = functions(template)[logical_id]["Properties"]
    own = props.get("Policies") or []
    if any(isinstance(policy, dict) and SSM_SAM_POLICIES & set(policy) for policy in own):
        return True
    policies: list[Any] = [own]
    role = props.get("Role")
    if isinstance(role, dict) and "Fn::GetAtt" in role:
        target = role["Fn::GetAtt"]
        role_id = target.split(".", 1)[0] if isinstance(target, str) else target[0]
        policies.append(template["Resources"][role_id]["Properties"].get("Policies") or [])
    for statement in _statements(policies):
        if statement.get("Sid") == SENTRY_DSN_GRANT:
            continue  # the error reporting's DSN, under SentryEnabled (tests/unit/test_template_sentry.py)
        actions = statement["Action"]
        for action in [actions] if isinstance(actions, str) else actions:
            name = str(action).lower()
            if name in ("*", "ssm:*") or name.startswith("ssm:getparameter"):
                return statement["Effect"] == "Allow"
    return False


def ssm_document(template: dict[str, Any]) -> dict[str, Any]:
    value = template["Resources"]["RuntimeConfigParameter"]["Properties"]["Value"]
    assert isinstance(value, str), "the SSM document must be a literal JSON string"
    document: dict[str, Any] = json.loads(value)
    return document


# ----------------------------------------------------------------------------- the mapping itself
def test_every_settings_field_is_read_by_some_function_or_deliberately_defaulted() -> None:
    used = set().union(*(reads(kind) for kind in KINDS))
    every = set(fields())
    unknown = (used | set(DEFAULTED) | {f for _, f in NOT_SET_YET}) - every
    assert not unknown, f"not fields of the settings models (renamed?): {sorted(unknown)}"
    unclassified = every - used - set(DEFAULTED) - required()
    assert not unclassified, (
        f"add these to a kind (backend.settings.KINDS) or say why they stay unset: {unclassified}"
    )
    for field in DEFAULTED:
        assert not fields()[field].is_required(), f"{field} has no default, so it cannot stay unset"


def test_every_function_has_a_kind(template: dict[str, Any]) -> None:
    kinds = {logical_id: service(template, logical_id) for logical_id in functions(template)}
    assert set(kinds.values()) == set(KINDS), kinds


# ----------------------------------------------------------------------------- environment
def test_every_variable_a_function_reads_is_set_for_it(template: dict[str, Any]) -> None:
    for logical_id in functions(template):
        env = environment(template, logical_id)
        missing = needed(service(template, logical_id)) - set(env)
        assert not missing, f"{logical_id} reads {sorted(missing)}, which the template does not set"
        assert not READ_DIRECTLY - set(env), f"{logical_id}: {sorted(READ_DIRECTLY - set(env))}"


def test_no_function_gets_a_setting_it_does_not_read(template: dict[str, Any]) -> None:
    settings_variables = {alias(f) for f in fields()}
    for logical_id in functions(template):
        kind = service(template, logical_id)
        given = set(environment(template, logical_id)) & settings_variables
        unread = given - needed(kind)
        assert not unread, f"{logical_id} ({kind}) is given {sorted(unread)} but never reads them"


def test_what_is_not_set_yet_is_still_not_set(template: dict[str, Any]) -> None:
    kinds = {service(template, logical_id): logical_id for logical_id in functions(template)}
    for (kind, field), reason in NOT_SET_YET.items():
        assert field in fields(), field
        env = environment(template, kinds[kind])
        assert alias(field) not in env, (
            f"{kind} has {alias(field)} now: remove it from NOT_SET_YET ({reason})"
        )


# ----------------------------------------------------------------------------- the SSM document
def test_every_key_of_the_ssm_document_is_a_runtime_config_field(template: dict[str, Any]) -> None:
    document = ssm_document(template)
    aliases = {info.alias or name: name for name, info in RuntimeConfig.model_fields.items()}
    unknown = set(document) - set(aliases)
    assert not unknown, f"read by nothing (RuntimeConfig ignores unknown keys): {sorted(unknown)}"
    config = RuntimeConfig.model_validate(document)  # and every value is valid
    for key, value in document.items():
        assert getattr(config, aliases[key]) == value, key


def test_every_runtime_config_field_is_set_by_the_document_or_has_a_documented_default(
    template: dict[str, Any],
) -> None:
    document = ssm_document(template)
    docs = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    for name, info in RuntimeConfig.model_fields.items():
        key = info.alias or name
        if key in document:
            continue
        assert not info.is_required(), f"{key} is neither in the SSM document nor has a default"
        assert f"`{key}`" in docs, (
            f"{key} keeps its default ({info.default}): docs/architecture.md must say so"
        )


# ----------------------------------------------------------------------------- who reads SSM
def test_only_the_functions_that_read_the_config_get_its_name_and_the_permission(
    template: dict[str, Any],
) -> None:
    variable = alias("config_parameter_name")
    readers = {k for k in functions(template) if variable in environment(template, k)}
    assert readers, "no function reads the runtime config"
    for logical_id in functions(template):
        env = environment(template, logical_id)
        if logical_id in readers:
            assert env[variable] == {"Ref": "RuntimeConfigParameter"}, logical_id
        assert reads_ssm(template, logical_id) == (logical_id in readers), (
            f"{logical_id}: {variable} {'set' if logical_id in readers else 'not set'}, "
            f"SSM permission {'granted' if reads_ssm(template, logical_id) else 'missing'}"
        )
    own = [
        k
        for k, f in functions(template).items()
        if variable in f["Properties"].get("Environment", {}).get("Variables", {})
    ]
    assert sorted(own) == sorted(readers), "CONFIG_PARAMETER_NAME belongs in the readers' own Environment"
    assert variable not in template.get("Globals", {}).get("Function", {}).get("Environment", {}).get(
        "Variables", {}
    )
