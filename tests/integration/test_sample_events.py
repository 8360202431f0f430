"""Every sample event in events/ runs through its function with `python -m local invoke`, the
Docker-free `sam local invoke`, against the running local cloud's emulator."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from local.template import resources_of_type
from tests.integration.conftest import ROOT, LocalCloud

pytestmark = pytest.mark.integration

FUNCTION_BY_DIR = {
    Path(res["Properties"]["CodeUri"]).name: name
    for name, res in resources_of_type("AWS::Serverless::Function").items()
}
EVENTS = sorted((ROOT / "events").rglob("*.json"))


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def test_every_function_has_a_sample_event() -> None:
    assert {path.parent.name for path in EVENTS} == set(FUNCTION_BY_DIR)


#: Renders `${ACCESS_TOKEN}`-style placeholders of sample events (another change adds it).
PLACEHOLDER_RENDERER = ROOT / "local" / "sample_identity.py"


@pytest.mark.parametrize("event_path", EVENTS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_sample_event_runs(local_cloud: LocalCloud, event_path: Path) -> None:
    if "${" in event_path.read_text() and not PLACEHOLDER_RENDERER.exists():
        pytest.skip(
            "the event holds a ${...} token placeholder and local/sample_identity.py, which renders "
            "them, is not here yet"
        )
    function = FUNCTION_BY_DIR[event_path.parent.name]
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "local",
            "invoke",
            function,
            "--event",
            str(event_path),
            "--endpoint-url",
            local_cloud.base_url,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    event = json.loads(event_path.read_text())
    if "requestContext" in event:  # API Gateway HTTP API
        assert result["statusCode"] < 500
        if result["statusCode"] != 204:  # No Content (a sign-out) has no body
            body = json.loads(result["body"])
            assert "data" in body or {"error", "code", "requestId"} <= set(body)
        assert result["headers"]["x-content-type-options"] == "nosniff"
    elif event.get("Records") and event["Records"][0].get("eventSource") == "aws:s3":
        # an upload the emulator does not hold: gone (processed already), nothing else happens
        assert [r["status"] for r in result["results"]] == ["ignored"] * len(event["Records"])
    elif "Records" in event:  # SQS batch: only the undecodable record fails
        poison = {r["messageId"] for r in event["Records"] if not _is_json(r["body"])}
        assert {f["itemIdentifier"] for f in result["batchItemFailures"]} == poison
    else:  # a schedule's Input
        assert result["task"] == event["task"]
