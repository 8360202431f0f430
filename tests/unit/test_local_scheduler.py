"""EventBridge rate()/cron() expressions and the scheduler's clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from local.console import Console
from local.functions import ScheduleEvent
from local.scheduler import Cron, Rate, ScheduleError, Scheduler, UnsupportedSchedule, parse_schedule

START = datetime(2026, 1, 1, 0, 0, tzinfo=UTC)  # a Thursday


@pytest.mark.parametrize(
    ("expression", "seconds"),
    [
        ("rate(1 minute)", 60),
        ("rate(5 minutes)", 300),
        ("rate(1 hour)", 3600),
        ("rate(12 hours)", 43200),
        ("rate(1 day)", 86400),
        ("rate(7 days)", 604800),
    ],
)
def test_rate_expressions(expression: str, seconds: int) -> None:
    assert parse_schedule(expression) == Rate(seconds)


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("rate(1 minutes)", "singular"),
        ("rate(5 minute)", "plural"),
        ("rate(0 minutes)", "positive"),
        ("rate(2 weeks)", "minute"),
        ("rate(minutes)", "expected rate"),
        ("every 5 minutes", "neither"),
    ],
)
def test_invalid_rate_expressions(expression: str, message: str) -> None:
    with pytest.raises(ScheduleError, match=message):
        parse_schedule(expression)


def next_fires(expression: str, count: int = 3, start: datetime = START) -> list[datetime]:
    timing = parse_schedule(expression)
    fires: list[datetime] = []
    moment: datetime | None = timing.first_after(start)
    while moment is not None and len(fires) < count:
        fires.append(moment)
        moment = timing.next_after(moment)
    return fires


def at(day: int, hour: int = 0, minute: int = 0, month: int = 1, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("cron(0/15 * * * ? *)", [at(1, 0, 15), at(1, 0, 30), at(1, 0, 45)]),
        ("cron(0 10 * * ? *)", [at(1, 10), at(2, 10), at(3, 10)]),
        # day-of-week 1-7 is SUN-SAT in AWS: 2 is Monday (Jan 5, 12, 19)
        ("cron(0 8 ? * 2 *)", [at(5, 8), at(12, 8), at(19, 8)]),
        ("cron(0 8 ? * MON-FRI *)", [at(1, 8), at(2, 8), at(5, 8)]),
        ("cron(0 8 ? * 2-3 *)", [at(5, 8), at(6, 8), at(12, 8)]),
        ("cron(0 9 ? * 6#1 *)", [at(2, 9), at(6, 9, month=2), at(6, 9, month=3)]),  # first Friday
        ("cron(0 0 L * ? *)", [at(31), at(28, month=2), at(31, month=3)]),
        ("cron(0 0 ? * 6L *)", [at(30), at(27, month=2), at(27, month=3)]),  # last Friday
        ("cron(0 12 1 1 ? 2027-2028)", [at(1, 12, year=2027), at(1, 12, year=2028)]),
    ],
)
def test_cron_next_fire_times(expression: str, expected: list[datetime]) -> None:
    assert next_fires(expression, count=len(expected) + 1)[: len(expected)] == expected


def test_cron_years_in_the_past_never_fire() -> None:
    assert next_fires("cron(0 0 1 1 ? 2020)") == []


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("cron(0 10 * * *)", "6 fields"),
        ("cron(0 10 * * * *)", "exactly one"),
        ("cron(0 10 ? * ? *)", "exactly one"),
        ("cron(0 10 ? * 8 *)", "not 1-7"),
        ("cron(0 10 ? * FUNDAY *)", "unknown day"),
        ("cron(61 10 * * ? *)", "cron"),
        ("cron(0 10 * * ? 1900)", "invalid year"),
    ],
)
def test_invalid_cron_expressions(expression: str, message: str) -> None:
    with pytest.raises(ScheduleError, match=message):
        parse_schedule(expression)


def test_unsupported_cron_features_say_so() -> None:
    with pytest.raises(UnsupportedSchedule, match="LW"):
        parse_schedule("cron(0 0 LW * ? *)")
    assert isinstance(parse_schedule("cron(0 0 15W * ? *)"), Cron)


class FakeClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def schedule(
    event: str, expression: str, *, enabled: bool = True, input_json: str | None = None
) -> ScheduleEvent:
    return ScheduleEvent(
        function="Fn",
        event=event,
        expression=expression,
        input=input_json,
        rule_name=f"rule-{event}",
        rule_arn=f"arn:aws:events:us-east-1:123456789012:rule/rule-{event}",
        enabled=enabled,
    )


def test_scheduler_fires_due_schedules_on_time() -> None:
    clock = FakeClock(START)
    fired: list[str] = []

    def fire(event: ScheduleEvent) -> Any:
        fired.append(event.event)
        return None

    scheduler = Scheduler(
        [
            schedule("Every", "rate(1 minute)"),
            schedule("Hourly", "cron(0 * * * ? *)"),
            schedule("Off", "rate(1 minute)", enabled=False),
            schedule("Broken", "rate(1 minutes)"),
        ],
        fire,
        Console(),
        clock=clock,
    )
    listing = {item["event"]: item for item in scheduler.listing()}
    assert listing["Every"]["nextFire"] == "2026-01-01T00:01:00Z"
    assert listing["Hourly"]["nextFire"] == "2026-01-01T01:00:00Z"
    assert listing["Off"]["nextFire"] is None
    assert listing["Off"]["enabled"] is False
    assert "singular" in listing["Broken"]["error"]

    assert scheduler.due(START + timedelta(seconds=59)) == []
    assert [e.event.event for e in scheduler.due(START + timedelta(seconds=60))] == ["Every"]
    # sleeping through several periods fires once and moves on
    due = scheduler.due(START + timedelta(minutes=60, seconds=30))
    assert sorted(e.event.event for e in due) == ["Every", "Hourly"]
    listing = {item["event"]: item for item in scheduler.listing()}
    assert listing["Every"]["nextFire"] == "2026-01-01T01:01:00Z"
    assert listing["Every"]["fired"] == 2

    assert listing["Every"]["firedOnSchedule"] == 2

    scheduler.fire_now("Fn", "Off")  # on demand works for disabled schedules too
    assert fired == ["Off"]
    listing = {item["event"]: item for item in scheduler.listing()}
    assert listing["Off"]["fired"] == 1
    assert listing["Off"]["firedOnSchedule"] == 0
