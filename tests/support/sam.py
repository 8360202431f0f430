"""template.yaml as SAM's translator expands it (what CloudFormation deploys), for template tests.

    translated = translate()                      # default parameters
    translated = translate({"Stage": "prod"})
    translated = translate(mutate=lambda t: ...)  # change the SAM template before translating

The translator (samtranslator, installed with aws-sam-cli) runs offline: code and layer URIs are
set to S3 locations (it needs no local files then), and the managed-policy map it would fetch
from IAM is empty (the roles here name no managed policy by name). Parameter values are passed as a
deploy passes them; intrinsics that SAM leaves to CloudFormation stay in the output, to be
resolved by local/intrinsics.py.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any

from local.intrinsics import REGION
from local.template import load_template

CODE_URI = "s3://app-backend-artifacts/functions/{logical_id}.zip"
LAYER_URI = "s3://app-backend-artifacts/layers/{logical_id}.zip"


def sam_template() -> dict[str, Any]:
    """template.yaml parsed (a fresh copy: the translator mutates what it is given)."""
    return copy.deepcopy(_parsed())


@cache
def _parsed() -> dict[str, Any]:
    return load_template()


def translate(
    parameters: Mapping[str, str] | None = None,
    *,
    mutate: Callable[[dict[str, Any]], None] | None = None,
    code_uri: str = CODE_URI,
    layer_uri: str = LAYER_URI,
) -> dict[str, Any]:
    """The CloudFormation template SAM makes of template.yaml (``mutate`` edits the SAM template first)."""
    import boto3
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator

    template = sam_template()
    for logical_id, resource in template["Resources"].items():
        props = resource.setdefault("Properties", {})
        if resource["Type"] == "AWS::Serverless::Function":
            props["CodeUri"] = code_uri.format(logical_id=logical_id)
        elif resource["Type"] == "AWS::Serverless::LayerVersion":
            props["ContentUri"] = layer_uri.format(logical_id=logical_id)
    if mutate is not None:
        mutate(template)
    # as samtranslator.translator.transform.transform does, with the region given, not read from the environment
    translator = Translator(None, Parser(), boto_session=boto3.session.Session(region_name=REGION))
    translated: dict[str, Any] = translator.translate(
        template, parameter_values=dict(parameters or {}), get_managed_policy_map=lambda: {}
    )
    return translated


@cache
def translated() -> dict[str, Any]:
    """``translate()`` with default parameters, once per process (do not mutate the result)."""
    return translate()
