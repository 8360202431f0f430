"""The local CLI's help, the Makefile's help, and the redrive command's moves (moto in-process)."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import boto3
import pytest

from local import cli, redrive
from local.template import ROOT


def test_help_lists_every_command_and_the_port_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PORT", raising=False)
    done = subprocess.run(
        [sys.executable, "-m", "local", "--help"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert set(cli.COMMANDS) == {"serve", "invoke", "invoke-env", "fire", "send", "drain", "redrive"}
    for name in cli.COMMANDS:
        assert f"\n  {name} " in done.stdout, name
    assert "port of the gateway (default 3000, or $PORT when set)" in " ".join(done.stdout.split())
    for command in ("fire", "send", "drain", "redrive", "invoke-env"):
        text = " ".join(cli.COMMANDS[command].parser().format_help().split())
        assert "(default 3000, or $PORT when set)" in text, command


def test_every_command_takes_its_port_from_PORT(monkeypatch: pytest.MonkeyPatch) -> None:
    """`PORT=3001 make dev` in one shell, `PORT=3001 python -m local send ...` in another: the same cloud."""
    monkeypatch.setenv("PORT", "3123")
    args = {
        "fire": ["F", "E"],
        "send": ["Q", "{}"],
        "drain": ["Q"],
        "redrive": ["Q"],
        "invoke-env": [],
        "serve": [],
    }
    for command, rest in args.items():
        parser = cli.COMMANDS[command].parser()
        assert parser.parse_args(rest).port == 3123, command
        assert parser.parse_args([*rest, "--port", "3001"]).port == 3001, command
        assert "(default 3123, from $PORT)" in " ".join(parser.format_help().split()), command
    monkeypatch.setenv("PORT", "nope")
    with pytest.raises(SystemExit):
        cli.COMMANDS["send"].parser().parse_args(["Q", "{}"])


def test_make_help_shows_the_real_port() -> None:
    done = subprocess.run(
        ["make", "--no-print-directory", "help", "PORT=3123"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "http://127.0.0.1:3123" in done.stdout
    assert "$(PORT)" not in done.stdout
    assert "make redrive" in done.stdout


@pytest.fixture
def queues(aws: None) -> tuple[Any, str, str]:
    sqs = boto3.client("sqs")
    dlq = sqs.create_queue(QueueName="jobs-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    source = sqs.create_queue(
        QueueName="jobs",
        Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "2"})},
    )["QueueUrl"]
    return sqs, source, dlq


def test_redrive_moves_every_message_back_to_its_source_queue(queues: tuple[Any, str, str]) -> None:
    sqs, source, dlq = queues
    for index in range(13):
        sqs.send_message(
            QueueUrl=dlq,
            MessageBody=json.dumps({"n": index}),
            MessageAttributes={"type": {"DataType": "String", "StringValue": "order.process"}},
        )
    assert redrive.source_queue_of(sqs, dlq) == source
    assert redrive.move_messages(sqs, dlq, source, limit=3).moved == 3
    assert redrive.move_messages(sqs, dlq, source).moved == 10
    bodies, types = [], set()
    while messages := sqs.receive_message(
        QueueUrl=source, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
    ).get("Messages", []):
        for message in messages:
            bodies.append(json.loads(message["Body"])["n"])
            types.add(message["MessageAttributes"]["type"]["StringValue"])
            sqs.delete_message(QueueUrl=source, ReceiptHandle=message["ReceiptHandle"])
    assert sorted(bodies) == list(range(13))
    assert types == {"order.process"}
    assert sqs.receive_message(QueueUrl=dlq).get("Messages", []) == []


def test_redrive_needs_a_destination_when_the_dlq_has_none(aws: None) -> None:
    sqs = boto3.client("sqs")
    lonely = sqs.create_queue(QueueName="lonely-dlq")["QueueUrl"]
    with pytest.raises(ValueError, match="--to"):
        redrive.source_queue_of(sqs, lonely)


class FakeSqs:
    """SQS's message-move task API (moto has none)."""

    def __init__(self) -> None:
        self.started: list[dict[str, Any]] = []
        self.polls = 0

    def get_queue_url(self, QueueName: str) -> dict[str, str]:
        return {"QueueUrl": f"https://sqs.eu-west-1.amazonaws.com/111122223333/{QueueName}"}

    def get_queue_attributes(self, QueueUrl: str, AttributeNames: list[str]) -> dict[str, Any]:
        name = QueueUrl.rsplit("/", 1)[1]
        return {"Attributes": {"QueueArn": f"arn:aws:sqs:eu-west-1:111122223333:{name}"}}

    def start_message_move_task(self, **request: Any) -> dict[str, str]:
        self.started.append(request)
        return {"TaskHandle": "handle-1"}

    def list_message_move_tasks(self, **_: Any) -> dict[str, Any]:
        self.polls += 1
        status = "RUNNING" if self.polls < 2 else "COMPLETED"
        return {"Results": [{"Status": status, "ApproximateNumberOfMessagesMoved": 7}]}


def test_redrive_against_aws_starts_a_message_move_task(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = FakeSqs()
    monkeypatch.setattr(cli, "_aws_sqs", lambda region: fake)
    monkeypatch.setattr(redrive.time, "sleep", lambda _: None)
    code = cli.main(["redrive", "OrderDLQ", "--aws", "--wait", "--parameter-overrides", "Stage=prod"])
    assert code == 0
    assert fake.started == [{"SourceArn": "arn:aws:sqs:eu-west-1:111122223333:app-backend-order-dlq-prod"}]
    out = json.loads(capsys.readouterr().out)
    assert out == {
        "queue": "OrderDLQ",
        "source": "arn:aws:sqs:eu-west-1:111122223333:app-backend-order-dlq-prod",
        "taskHandle": "handle-1",
        "status": "COMPLETED",
        "moved": 7,
        "failureReason": None,
    }


def test_drain_waits_until_nothing_is_waiting_or_in_flight(
    queues: tuple[Any, str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import threading
    from types import SimpleNamespace

    sqs, source, _ = queues
    running = {"endpointUrl": "unused", "resources": {"Jobs": {"type": "AWS::SQS::Queue", "ref": source}}}
    monkeypatch.setattr(cli, "_gateway_cloud", lambda args: running)
    monkeypatch.setattr(cli, "AwsClients", lambda url: SimpleNamespace(sqs=lambda: sqs))
    monkeypatch.setattr(cli, "_DRAIN_SETTLE_SECONDS", 0.05)
    parse = cli.COMMANDS["drain"].parser().parse_args
    assert cli.drain(parse(["Jobs"])) == 0
    sqs.send_message(QueueUrl=source, MessageBody="job")
    message = sqs.receive_message(QueueUrl=source, VisibilityTimeout=60)["Messages"][0]  # in flight
    assert cli.drain(parse(["Jobs", "--timeout", "0.3"])) == 1
    assert 'not drained after 0.3 s: {"Jobs": 1}' in capsys.readouterr().err
    done = threading.Timer(
        0.3, lambda: sqs.delete_message(QueueUrl=source, ReceiptHandle=message["ReceiptHandle"])
    )
    done.start()
    assert cli.drain(parse(["Jobs", "--timeout", "10"])) == 0  # the consumer finished meanwhile
    done.join()
    assert '"drained": ["Jobs"]' in capsys.readouterr().out
    assert cli.drain(parse(["Nope"])) == 1
    assert "no queue 'Nope'" in capsys.readouterr().err
