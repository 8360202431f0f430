"""A deploy that changes only the shared layer publishes new versions of every API function.

The API invokes each function through its `live` alias (AutoPublishAlias), which points at the
version SAM publishes when the version's hash changes. By default that hash covers code,
environment, memory and SnapStart, not layers, so a layer-only change (most changes: the app.py
files are thin) would leave the API on the old code. With AutoPublishAliasAllProperties on the
functions and PublishLambdaVersion on the layer, SAM hashes every property and the layer's too
(aws/serverless-application-model#3648, #3610; aws-sam-cli#7120). Parameter values are not
resolved in that hash (aws/serverless-application-model#3820): pinned below, see docs/deploy.md.
"""

from __future__ import annotations

from typing import Any

from tests.support.sam import translate


def versions(template: dict[str, Any]) -> dict[str, str]:
    """Function logical id → the logical id of the version its alias points at."""
    resources = template["Resources"]
    found = {}
    for alias in (r for r in resources.values() if r["Type"] == "AWS::Lambda::Alias"):
        version = alias["Properties"]["FunctionVersion"]["Fn::GetAtt"][0]
        found[alias["Properties"]["FunctionName"]["Ref"]] = version
        assert resources[version]["Type"] == "AWS::Lambda::Version"
    return found


def test_a_layer_only_change_moves_every_alias_to_a_new_version() -> None:
    before = versions(translate(layer_uri="s3://artifacts/layer-a.zip"))
    after = versions(translate(layer_uri="s3://artifacts/layer-b.zip"))
    assert set(before) == {
        "AuthFunction",
        "UsersFunction",
        "ProductsFunction",
        "ContentFunction",
        "OrdersFunction",
    }
    assert set(after) == set(before)
    unchanged = sorted(f for f in before if before[f] == after[f])
    assert not unchanged, f"a layer change would leave {unchanged} serving the old code"


def test_nothing_changed_publishes_nothing() -> None:
    assert versions(translate(layer_uri="s3://artifacts/layer-a.zip")) == versions(
        translate(layer_uri="s3://artifacts/layer-a.zip")
    )


def test_a_property_change_moves_the_version() -> None:
    def more_memory(template: dict[str, Any]) -> None:
        template["Globals"]["Function"]["MemorySize"] = 1024

    before, after = versions(translate()), versions(translate(mutate=more_memory))
    assert all(before[f] != after[f] for f in before)


def test_functions_without_an_alias_run_latest_and_every_function_uses_the_layer() -> None:
    template = translate()
    resources = template["Resources"]
    aliased = set(versions(template))
    for logical_id, resource in resources.items():
        if resource["Type"] != "AWS::Lambda::Function":
            continue
        layers = resource["Properties"]["Layers"]
        # the shared layer first, then sentry-sdk's only where error reporting is on (SentryEnabled);
        # only AvatarFunction adds one (Pillow), which the API functions never load
        shared, sentry, *own = layers
        extra = 1 if logical_id == "AvatarFunction" else 0
        assert [resources[layer["Ref"]]["Type"] for layer in [shared, *own]] == [
            "AWS::Lambda::LayerVersion"
        ] * (1 + extra), logical_id
        assert shared["Ref"].startswith("SharedLayer"), logical_id
        condition, on, off = sentry["Fn::If"]
        assert (condition, off) == ("SentryEnabled", {"Ref": "AWS::NoValue"}), logical_id
        assert on["Ref"].startswith("SentryLayer"), logical_id
        assert resources[on["Ref"]]["Condition"] == "SentryEnabled", logical_id
        if logical_id not in aliased:  # worker, scheduled, avatar (async events): $LATEST, new code on deploy
            assert logical_id in ("WorkerFunction", "ScheduledFunction", "AvatarFunction")
    mappings = [r for r in resources.values() if r["Type"] == "AWS::Lambda::EventSourceMapping"]
    assert mappings
    assert all(m["Properties"]["FunctionName"] == {"Ref": "WorkerFunction"} for m in mappings)  # unqualified


def test_a_parameter_only_change_does_not_move_the_version() -> None:
    """SAM hashes `{"Ref": "LogLevel"}`, not its value (serverless-application-model#3820).

    So `sam deploy --parameter-overrides LogLevel=DEBUG` alone updates $LATEST but leaves the API on
    the version it had. docs/deploy.md says to deploy such a change with a code or layer change,
    or to update the alias by hand. If SAM starts resolving parameters, this test fails: then drop
    that paragraph.
    """
    assert versions(translate()) == versions(translate({"LogLevel": "DEBUG"}))
    # turning error reporting on is such a change too (docs/operations.md, "Error reporting (Sentry)")
    assert versions(translate()) == versions(
        translate({"SentryDsnParameterName": "/app-backend/dev/sentry-dsn"})
    )
