"""The local cloud reads the SQS events' ScalingConfig (MaximumConcurrency) and honours it."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from local.emulator import AwsClients
from local.functions import FunctionConfigError, load_functions
from local.provision import provision
from local.stack import Stack
from local.template import TEMPLATE_PATH, load_template


def provisioned(template: dict[str, Any] | None = None) -> Stack:
    stack = Stack(template or load_template(), TEMPLATE_PATH.parent)
    provision(stack, AwsClients(None), visibility_timeout=2)
    return stack


def test_the_email_event_source_is_capped_and_the_poller_stays_within_the_cap(aws: None) -> None:
    worker = load_functions(provisioned())["WorkerFunction"]
    declared = load_template()["Resources"]["WorkerFunction"]["Properties"]["Events"]
    caps = {s.event: s.maximum_concurrency for s in worker.sqs}
    assert caps == {
        name: (event["Properties"].get("ScalingConfig") or {}).get("MaximumConcurrency")
        for name, event in declared.items()
        if event["Type"] == "SQS"
    }
    cap = caps["EmailJobs"]
    assert cap is not None
    assert cap >= 2
    # one poller per event source mapping, each delivering one batch at a time (local/sqs_poller.py):
    # at most one concurrent invocation per mapping, within any MaximumConcurrency (>= 2)


@pytest.mark.parametrize("value", [1, 1001])
def test_a_maximum_concurrency_aws_refuses_is_refused(aws: None, value: int) -> None:
    template = copy.deepcopy(load_template())
    event = template["Resources"]["WorkerFunction"]["Properties"]["Events"]["EmailJobs"]
    event["Properties"]["ScalingConfig"] = {"MaximumConcurrency": value}
    with pytest.raises(FunctionConfigError, match="MaximumConcurrency must be 2-1000"):
        load_functions(provisioned(template))
